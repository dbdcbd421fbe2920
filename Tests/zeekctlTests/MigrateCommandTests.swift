import Foundation
import Testing

@testable import ZeekctlCLI

@Suite struct MigrateCommandTests {
    static let twoHosts = """
        [manager]
        type=manager
        host=10.5.0.1

        [proxy-1]
        type=proxy
        host=10.5.0.1

        [worker-1]
        type=worker
        host=10.5.0.2
        interface=eth0
        lb_method=af_packet
        lb_procs=2
        pin_cpus=3,4
        aux_scripts=tuning.zeek

        """

    @Test func nodeCfgBecomesHostFilesThatZeeksGeneratorTurnsIntoTheSameCluster() async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.twoHosts, to: "node.cfg", in: directory)
            let run = await runZeekctl(
                ["migrate", "node.cfg", "--to", "zeek-conf", "-o", "zeek"],
                currentDirectory: directory
            )
            #expect(run.status == .success)
            #expect(run.output.isEmpty)
            #expect(
                run.error.contains(
                    "node.cfg:9: warning: node 'worker-1-1': aux_scripts 'tuning.zeek' cannot be expressed"
                )
            )
            let files = try FileManager.default.contentsOfDirectory(atPath: directory + "/zeek").sorted()
            #expect(files == ["10-5-0-1.zeek.conf", "10-5-0-2.zeek.conf"])
            let layout = await runZeekctl(["layout", "zeek"], currentDirectory: directory)
            #expect(layout.status == .success)
            #expect(
                layout.output.contains(
                    "[\"10-5-0-2-worker-eth0-2\"] = [$node_type=Cluster::WORKER, $ip=hosts[\"10-5-0-2\"]$ip"
                )
            )
            #expect(layout.output.contains("\t[\"10-5-0-1\"] = [$ip=10.5.0.1],\n"))
            let back = await runZeekctl(["migrate", "zeek", "--to", "node-cfg"], currentDirectory: directory)
            #expect(back.status == .success)
            #expect(
                back.output.contains(
                    "[10-5-0-2-worker-eth0-2]\ntype=worker\nhost=10.5.0.2\ninterface=af_packet::eth0\npin_cpus=4\n"
                )
            )
        }
    }

    @Test func anInputWithErrorsWritesNothing() async throws {
        try await withTemporaryDirectory { directory in
            try write("[zeek]\nloggers = two\n", to: "zeek.conf", in: directory)
            let run = await runZeekctl(
                ["migrate", "zeek.conf", "--to", "node-cfg", "-o", "out"],
                currentDirectory: directory
            )
            #expect(run.status == .failure)
            #expect(run.error == "zeek.conf:2: error: invalid loggers value: 'two'\n")
            #expect(!FileManager.default.fileExists(atPath: directory + "/out"))
        }
    }

    /// A Zeek 9 folder and the layout Zeek's generator writes for it work wherever a layout does.
    @Test func dispatchRunsOnAZeekConfFolderAndOnItsGeneratedLayout() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory + "/cluster", withIntermediateDirectories: true)
            try write("manager = 1\nloggers = 1\naddress = 10.0.0.1\n", to: "cluster/mgr.zeek.conf", in: directory)
            try write("[interface eth0]\ninterface = eth0\nworkers = 2\n", to: "cluster/wkr.zeek.conf", in: directory)
            let layout = await runZeekctl(
                ["layout", "cluster", "-o", "cluster-layout.zeek"],
                currentDirectory: directory
            )
            #expect(layout.status == .success)
            for input in ["cluster", "cluster-layout.zeek"] {
                let run = await runZeekctl(
                    ["dispatch", "get_id_value", "Cluster::node", "--layout", input],
                    currentDirectory: directory
                )
                #expect(run.status == .success, "\(run.error)")
                for node in ["manager", "mgr-logger-1", "wkr-worker-eth0-1", "wkr-worker-eth0-2"] {
                    #expect(run.output.contains("\"\(node)\""), "\(input): \(run.output)")
                }
            }
        }
    }
}

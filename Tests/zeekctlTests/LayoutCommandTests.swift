import Foundation
import Testing

@testable import ZeekctlCLI

@Suite struct LayoutCommandTests {
    @Test func writesZeekControlsLayoutToStandardOutput() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let run = await runZeekctl(["layout", "node.cfg"], currentDirectory: directory)
            #expect(run.status == .success)
            #expect(run.output == clusterLayoutText)
            #expect(run.error.isEmpty)
        }
    }

    @Test func zeekctlCfgSetAndVersionChangeTheText() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try write("# options\nZeekPort = 47760\nMetricsPort = 0\n", to: "zeekctl.cfg", in: directory)
            let run = await runZeekctl(
                [
                    "layout", "node.cfg", "--zeekctl-cfg", "zeekctl.cfg", "--set", "UseWebSocket=0", "--set",
                    "ClusterBackend=Broker",
                ],
                currentDirectory: directory
            )
            #expect(run.status == .success)
            #expect(
                run.output == """
                    # Automatically generated. Do not edit.
                    redef Cluster::manager_is_logger = F;
                    redef Cluster::nodes = {
                    \t["control"] = [$node_type=Cluster::CONTROL, $ip=127.0.0.1, $p=47760/tcp],
                    \t["manager"] = [$node_type=Cluster::MANAGER, $ip=127.0.0.1, $p=47761/tcp],
                    \t["logger-1"] = [$node_type=Cluster::LOGGER, $ip=127.0.0.1, $p=47762/tcp],
                    \t["proxy-1"] = [$node_type=Cluster::PROXY, $ip=127.0.0.1, $p=47763/tcp, $manager="manager"],
                    \t["worker-1-1"] = [$node_type=Cluster::WORKER, $ip=127.0.0.1, $p=47764/tcp, $manager="manager"],
                    \t["worker-1-2"] = [$node_type=Cluster::WORKER, $ip=127.0.0.1, $p=47765/tcp, $manager="manager"],
                    };

                    """
            )
            let old = await runZeekctl(["layout", "node.cfg", "--zeek-version", "6.0"], currentDirectory: directory)
            #expect(
                old.output.contains("\t[\"logger-1\"] = [$node_type=Cluster::LOGGER, $ip=127.0.0.1, $p=27761/tcp],\n")
            )
            #expect(old.output.contains("$interface=\"eth0\", $manager=\"manager\"],\n"))
        }
    }

    @Test func writesToAnOutputFile() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let run = await runZeekctl(["layout", "node.cfg", "-o", "out.zeek"], currentDirectory: directory)
            #expect(run.status == .success)
            #expect(run.output.isEmpty)
            let written = try String(contentsOfFile: directory + "/out.zeek", encoding: .utf8)
            #expect(written == clusterLayoutText)
        }
    }

    @Test func invalidInputPrintsIssuesAndWritesNothing() async throws {
        try await withTemporaryDirectory { directory in
            try write("[manager]\ntype=manager\nhost=127.0.0.1\n", to: "node.cfg", in: directory)
            let run = await runZeekctl(["layout", "node.cfg", "-o", "out.zeek"], currentDirectory: directory)
            #expect(run.status == .failure)
            #expect(run.error == "node.cfg: error: no proxy defined in node config\n")
            #expect(!FileManager.default.fileExists(atPath: directory + "/out.zeek"))
        }
    }

    @Test func usageMistakesExit64() async {
        let version = await runZeekctl(["layout", "node.cfg", "--zeek-version", "4.2"])
        #expect(version.status == .usage)
        #expect(version.error == "error: invalid value '4.2' for '--zeek-version' (expected X.Y, 5.0 or later)\n")
        let set = await runZeekctl(["layout", "node.cfg", "--set", "ZeekPort"])
        #expect(set.status == .usage)
        #expect(set.error == "error: invalid value 'ZeekPort' for '--set' (expected OPTION=VALUE)\n")
        let two = await runZeekctl(["layout", "a.cfg", "b.cfg"])
        #expect(two.status == .usage)
    }
}

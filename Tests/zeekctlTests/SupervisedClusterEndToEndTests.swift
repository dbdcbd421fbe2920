import ClusterKit
import Foundation
import Testing
import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl cluster start` as Zeek's `boot.zeek`: a supervisor with the controller and a local agent as children;
/// either killed with SIGKILL is revived, the nodes run on, and `cluster status` answers again within 5 s.
@Suite(.timeLimit(.minutes(2))) struct SupervisedClusterEndToEndTests {

    /// The node pids of `cluster status --format json`, by name, once every node runs; `nil` until the limit.
    static func runningPIDs(_ port: Int, nodes: Int, within limit: Duration) async throws -> [String: Int]? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while clock.now < deadline {
            let run = try await BinaryRunner.run(
                ["cluster", "status", "--controller", "127.0.0.1:\(port)", "--format", "json"]
            )
            if run.status == 0, let document = try? JSONValue.parse(run.output),
                let members = document["nodes"]?.objectMembers, members.count == nodes
            {
                var pids: [String: Int] = [:]
                for member in members where member.value["state"] == .string("RUNNING") {
                    if case .integer(let pid)? = member.value["pid"] { pids[member.key] = Int(pid) }
                }
                if pids.count == nodes { return pids }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test func aKilledControllerOrAgentIsRevivedAndTheNodesRunOn() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let port = try await ClusterEndToEndTests.freePort()
            let start = try await BinaryRunner.run(
                [
                    "cluster", "start", "--listen", "127.0.0.1:\(port)", "--state-dir", directory + "/state",
                    "--max-event-queue-size", "7",
                ],
                currentDirectory: directory
            )
            try #require(start.status == 0, "\(start.output)\(start.error)")
            let supervisor = try #require(ClusterEndToEndTests.controllerPID(start.output))
            defer { if LocalCluster.processExists(supervisor) { kill(pid_t(supervisor), SIGTERM) } }
            let before = try #require(try await Self.runningPIDs(port, nodes: 5, within: .seconds(10)))

            for child in ["controller --agents remote", "agent --name"] {
                let victim = try #require(
                    LocalCluster.childProcess(of: supervisor, commandContaining: child),
                    "no \(child) process"
                )
                kill(pid_t(victim), SIGKILL)
                let clock = ContinuousClock()
                let killedAt = clock.now
                let after = try await Self.runningPIDs(port, nodes: 5, within: .seconds(5))
                #expect(after == before, "after killing \(child): \(String(describing: after))")
                #expect(clock.now - killedAt < .seconds(5))
                // Revived by the supervisor with a new pid, and the nodes still answer.
                let revived = try #require(
                    LocalCluster.childProcess(of: supervisor, commandContaining: child),
                    "\(child) not revived"
                )
                #expect(revived != victim)
                let values = try await BinaryRunner.run(
                    ["dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(port)"]
                )
                #expect(values.status == 0, "\(values.output)\(values.error)")
            }

            // A second cluster on the same port fails at once and leaves this one alone.
            let second = try await BinaryRunner.run(
                ["cluster", "start", "--listen", "127.0.0.1:\(port)", "--state-dir", directory + "/second"],
                currentDirectory: directory
            )
            #expect(second.status == 1)
            #expect(second.error.contains("address already in use"), "\(second.error)")
            #expect(try await Self.runningPIDs(port, nodes: 5, within: .seconds(5)) == before)

            let agent = try #require(LocalCluster.childProcess(of: supervisor, commandContaining: "agent --name"))
            let controller = try #require(
                LocalCluster.childProcess(of: supervisor, commandContaining: "controller --agents remote")
            )
            // The revived controller still has the queue size `cluster start` was given.
            let command = try String(contentsOfFile: "/proc/\(controller)/cmdline", encoding: .utf8)
            #expect(command.split(separator: "\0").suffix(2) == ["--max-event-queue-size", "7"], "\(command)")
            let stop = try await BinaryRunner.run(["cluster", "stop", "--controller", "127.0.0.1:\(port)"])
            #expect(stop.status == 0, "\(stop.error)")
            #expect(stop.output == "stopped the controller and 5 node processes\n")
            for pid in Array(before.values) + [agent, controller, supervisor] {
                #expect(!LocalCluster.processExists(pid), "pid \(pid) left")
            }
        }
    }
}

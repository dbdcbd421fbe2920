import ClusterKit
import Foundation
import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// The `supervised` suite: `zeekctl cluster start` as a supervisor of the controller and a local agent.
///
/// `clusterkit-bench supervised [--nodes N] [--rounds N] [--zeekctl PATH]` starts N node processes (default 10), then,
/// round after round (default 3), kills the controller and then the agent with SIGKILL and measures the time until
/// `cluster status` lists every node running again with the pids it had before (none restarted); then stops the
/// cluster. Revivals follow Zeek's back-off (1 s, 1 s, 1 s, 2 s, ... from the last start), so later rounds wait longer
/// unless a round comes more than 30 s after the last start.
enum SupervisedBenchmark {
    static func run(arguments: [String]) async throws {
        let nodeCount = Int(value(of: "--nodes", in: arguments) ?? "") ?? 10
        let rounds = Int(value(of: "--rounds", in: arguments) ?? "") ?? 3
        let cluster = try await BenchCluster(arguments: arguments, name: "supervised-bench", nodeCount: nodeCount)
        defer { cluster.remove() }

        print("supervised: \(nodeCount) node processes, the controller and the agent killed with SIGKILL")
        let clock = ContinuousClock()
        let startedAt = clock.now
        let started = try await cluster.start()
        print(
            "  start until every node said hello: \(Measure.format(Measure.seconds(clock.now - startedAt) * 1000)) ms"
        )
        do {
            let before = try await pids(started.url, nodeCount: nodeCount, limit: .seconds(30))
            var times: [String: [Double]] = [:]
            for _ in 0..<rounds {
                for child in ["controller --agents remote", "agent --name"] {
                    guard let victim = LocalCluster.childProcess(of: started.pid, commandContaining: child) else {
                        throw ControllerBenchmarkError("no '\(child)' child of the supervisor")
                    }
                    kill(pid_t(victim), SIGKILL)
                    let killedAt = clock.now
                    let after = try await pids(started.url, nodeCount: nodeCount, limit: .seconds(60))
                    let elapsed = clock.now - killedAt
                    guard after == before else { throw ControllerBenchmarkError("nodes were restarted: \(after)") }
                    times[child, default: []].append(Measure.seconds(elapsed) * 1000)
                }
            }
            for (child, label) in [("controller --agents remote", "controller"), ("agent --name", "agent")] {
                let sorted = (times[child] ?? []).sorted()
                print(
                    "  SIGKILL of the \(label) until status lists every node (same pids): median "
                        + "\(Measure.format(Measure.median(sorted))) ms, min \(Measure.format(sorted.first ?? 0)) ms, "
                        + "max \(Measure.format(sorted.last ?? 0)) ms (\(sorted.count) rounds)"
                )
            }
        } catch {
            _ = try? await LocalCluster.stop(controller: started.url)
            throw error
        }
        let stopAt = clock.now
        let stopped = try await LocalCluster.stop(controller: started.url)
        print(
            "  stop until no process is left: \(Measure.format(Measure.seconds(clock.now - stopAt) * 1000)) ms "
                + "(\(stopped.pids.count) processes)"
        )
    }

    /// The running nodes' pids once `cluster status` lists all of them running.
    static func pids(_ url: String, nodeCount: Int, limit: Duration) async throws -> [String: Int] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        var last = "no answer"
        while clock.now < deadline {
            do {
                let statuses = try await LocalCluster.status(controller: url, timeout: .seconds(5))
                if statuses.count == nodeCount, statuses.allSatisfy({ $0.state == .running && $0.pid != nil }) {
                    return Dictionary(uniqueKeysWithValues: statuses.map { ($0.node, $0.pid ?? 0) })
                }
                last = statuses.map { "\($0.node) \($0.state) \($0.pid.map(String.init) ?? "-")" }
                    .joined(separator: ", ")
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ControllerBenchmarkError("the nodes were not all running within \(limit); last status: \(last)")
    }

}

import ClusterKit
import Foundation
import Testing

@testable import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// The readiness report of `zeekctl controller --ready-fd N`, which `zeekctl cluster start` reads instead of the
/// controller's output.
@Suite(.timeLimit(.minutes(1))) struct ControllerReadinessTests {
    static let deployment = ControllerReadiness.Deployment(
        id: "c1",
        nodeCount: 5,
        instances: ["agent-a", "agent-b"],
        failures: [.init(subject: "worker-1", error: "exited with status 3"), .init(subject: "proxy-1", error: "x\ny")]
    )

    @Test func aReadyReportReadsBackAsWritten() throws {
        let report = ControllerReadiness(
            .ready(url: "ws://127.0.0.1:2149/v1/messages/json", deployment: Self.deployment)
        )
        #expect(!report.json.contains("\n"))
        #expect(try ControllerReadiness(parsing: report.json) == report)
        let empty = ControllerReadiness(.ready(url: "ws://[::1]:1/v1/messages/json", deployment: nil))
        #expect(try ControllerReadiness(parsing: empty.json) == empty)
        let failed = ControllerReadiness(.failed("node.cfg:3: error: bad\nerror: not starting"))
        #expect(try ControllerReadiness(parsing: failed.json) == failed)
    }

    @Test func theDeploymentReadsAsTheControllerPrintsIt() {
        #expect(
            Self.deployment.report == """
                deployed configuration c1: 5 nodes on agent-a, agent-b, 2 failed
                  worker-1: exited with status 3
                  proxy-1: x
                y

                """
        )
        let one = ControllerReadiness.Deployment(id: "c2", nodeCount: 1, instances: ["agent-h"], failures: [])
        #expect(one.summary == "deployed configuration c2: 1 node on agent-h")
    }

    @Test(arguments: [
        ("", "readiness report is not JSON"),
        ("[1]", "readiness report has neither 'url' nor 'error'"),
        (#"{"url": "ws://h:1", "deployment": {"id": "x"}}"#, "readiness report has a malformed 'deployment'"),
        (
            #"{"url": "ws://h:1", "deployment": {"id": "x", "nodes": 1, "instances": [], "failures": [{"subject": 1}]}}"#,
            "readiness report has a malformed failure"
        ),
    ])
    func aMalformedReportIsAnErrorThatSaysWhat(text: String, problem: String) {
        let error = #expect(throws: ReadinessError.self) { try ControllerReadiness(parsing: text) }
        #expect(error?.description.hasPrefix(problem) == true, "\(String(describing: error))")
    }

    /// The wait status of a child, polled without blocking a thread of the pool (at most 30 s, then it is killed).
    static func exitStatus(of pid: pid_t) async throws -> Int32 {
        var status: Int32 = 0
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                Issue.record("process \(pid) did not exit within 30 seconds")
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return status
    }

    /// Reads what the built `zeekctl controller` reports on descriptor 3 (a pipe), as `cluster start` does.
    static func readiness(of arguments: [String], in directory: String) async throws -> (ControllerReadiness, pid_t) {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let log = try LocalFile.openForAppending(directory + "/controller.log")
        defer { close(log) }
        let pid = try LocalCluster.spawnDetached(
            ZeekctlBinary.path,
            ["controller"] + arguments + ["--ready-fd", "3"],
            environment: ProcessInfo.processInfo.environment,
            output: log,
            ready: ends[1]
        )
        close(ends[1])
        // Until the controller closes its end (it reports once, then closes), without blocking a thread of the pool.
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline {
            let count = chunk.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += chunk[0..<count]
                continue
            }
            if count == 0 { break }
            if errno == EINTR { continue }
            guard errno == EAGAIN else { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        return (try ControllerReadiness(parsing: String(decoding: bytes, as: UTF8.self)), pid)
    }

    @Test func aControllerThatCannotStartSaysWhyOnTheReadinessDescriptor() async throws {
        try await withTemporaryDirectory { directory in
            try write(preloadingNodeCfg, to: "node.cfg", in: directory)
            let (readiness, pid) = try await Self.readiness(
                of: ["--listen", "127.0.0.1:0", "--layout", directory + "/node.cfg"],
                in: directory
            )
            let status = try await Self.exitStatus(of: pid)
            #expect(status >> 8 & 0xFF == 1)
            #expect(
                readiness.outcome
                    == .failed(
                        "\(directory)/node.cfg:9: error: node 'worker-1' env key 'LD_PRELOAD' is reserved\n"
                            + "error: \(directory)/node.cfg: not starting: the configuration has errors"
                    )
            )
        }
    }

    @Test func aReadyControllerReportsItsURLAndDeployment() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let (readiness, pid) = try await Self.readiness(
                of: ["--listen", "127.0.0.1:0", "--layout", directory + "/node.cfg"],
                in: directory
            )
            guard case .ready(let url, let deployment) = readiness.outcome else {
                Issue.record("not ready: \(readiness)")
                kill(pid, SIGKILL)
                _ = try await Self.exitStatus(of: pid)
                return
            }
            #expect(url.hasPrefix("ws://127.0.0.1:") && url.hasSuffix("/v1/messages/json"))
            #expect(deployment?.nodeCount == 5)
            #expect(deployment?.failures == [])
            // It answers at that URL.
            let run = try await BinaryRunner.run(["cluster", "status", "--controller", url])
            #expect(run.status == 0, "\(run.error)")
            kill(pid, SIGTERM)
            #expect(try await Self.exitStatus(of: pid) == 0)
        }
    }
}

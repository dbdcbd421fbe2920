import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Nodes, and their own children, die with their supervisor process.
///
/// The test runs this test binary again as a helper process that supervises two nodes, then kills the helper with
/// SIGKILL. One node's process and the other node's child (a grandchild of the helper, which the parent-death signal
/// does not reach; the group watchdog kills it) hold a FIFO open for writing. A "watcher" node of the test's own
/// supervisor reads the FIFO and sees end-of-file once both are gone (no polling, zombies do not matter).
@Suite struct ProcessSupervisorParentDeathTests {
    typealias Harness = SupervisorHarness

    /// Set in the helper process: the FIFO its node writes to.
    static let fifoKey = "CK_TEST_DEATH_FIFO"
    /// Set in the helper process: a directory for its supervisor's files.
    static let runtimeKey = "CK_TEST_DEATH_RUNTIME"

    #if os(Linux)
    @Test(.enabled(if: ProcessInfo.processInfo.environment[fifoKey] == nil))
    func nodesDieWhenTheirSupervisorProcessIsKilled() async throws {
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let command: ProcessSupervisor.CommandProvider = { node in
            guard node.name == "helper" else {
                return .init(executable: "/bin/sh", arguments: ["-c", node.env[Harness.scriptKey] ?? ""])
            }
            return .init(
                executable: testBinary,
                arguments: ["--testing-library", "swift-testing", "--filter", "helperSupervisesAGrandchild"]
            )
        }
        try await Harness.withSupervisor(command: command) { harness in
            let fifo = harness.directory + "/fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            let watcher = Harness.node("watcher", #"cat "$FIFO"; echo eof-seen"#) { $0.env["FIFO"] = fifo }
            let helper = Supervisor.NodeConfig(
                name: "helper",
                env: [Self.fifoKey: fifo, Self.runtimeKey: harness.directory + "/helper"]
            )
            #expect(harness.supervisor.create(watcher) == "")
            #expect(harness.supervisor.create(helper) == "")
            let helperPID = try await harness.waitForStatus(of: "helper")
            // Both writers run and hold the FIFO open.
            try await harness.waitForLine("direct-up", from: "watcher")
            try await harness.waitForLine("grandchild-up", from: "watcher")
            #expect(!harness.output.value.contains { $0.message == "eof-seen" })

            kill(helperPID, SIGKILL)
            try await harness.waitForEvent("the helper's death") {
                $0 == .prematureExit(node: "helper", pid: Int(helperPID), termination: .signaled(signal: SIGKILL))
            }
            try await harness.waitForLine("eof-seen", from: "watcher")
        }
    }
    #endif

    /// The helper process's part (runs only there): supervise two nodes that write to the FIFO, then wait to be
    /// killed (60 seconds at most).
    @Test(.enabled(if: ProcessInfo.processInfo.environment[fifoKey] != nil))
    func helperSupervisesAGrandchild() async throws {
        let environment = ProcessInfo.processInfo.environment
        let fifo = try #require(environment[Self.fifoKey])
        let runtime = try #require(environment[Self.runtimeKey])
        let supervisor = ProcessSupervisor(
            configuration: .init(runtimeDirectory: runtime, environment: ["PATH": "/usr/bin:/bin"]),
            command: { node in .init(executable: "/bin/sh", arguments: ["-c", node.env["SCRIPT"] ?? ""]) }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await supervisor.run() }
            let direct = Supervisor.NodeConfig(
                name: "direct",
                stdoutFile: fifo,
                env: ["SCRIPT": "echo direct-up; exec sleep 1000"]
            )
            let parent = Supervisor.NodeConfig(
                name: "parent",
                env: ["FIFO": fifo, "SCRIPT": #"{ echo grandchild-up; exec sleep 1000; } > "$FIFO" & exec sleep 1000"#]
            )
            #expect(supervisor.create(direct) == "")
            #expect(supervisor.create(parent) == "")
            try? await Task.sleep(for: .seconds(60))
            try await supervisor.shutdown(timeout: .seconds(30))
            try await group.next()
        }
    }
}

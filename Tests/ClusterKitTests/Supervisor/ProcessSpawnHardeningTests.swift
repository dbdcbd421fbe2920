import Foundation
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// Signals around fork and output files that are symbolic links (detached programs: zeekctlTests'
/// `LocalClusterSpawnTests`).
@Suite struct ProcessSpawnHardeningTests {
    typealias Harness = SupervisorHarness

    /// Waits (polling `waitpid(WNOHANG)`, at most 10 s of real time, reached only when a test fails) for a child
    /// to exit and returns its wait status; kills it at the limit.
    static func waitForExit(_ pid: pid_t) async throws -> Int32 {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if clock.now >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw WaitTimeout(description: "process \(pid) did not exit within 10 seconds")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return status
    }

    @Test func aSignalSentBeforeTheChildResetsItsHandlersIsDeliveredWithItsDefaultAction() async throws {
        // A handler in this process, as `zeekctl controller` has one for SIGTERM. Before the fix the child ran it
        // (inherited through fork) for a signal that arrived before its reset, and so the signal was lost.
        _ = signal(SIGUSR2) { _ in }
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let request = SpawnRequest(
            key: .init(serial: 1, generation: 0),
            node: "n",
            executable: "/bin/sleep",
            arguments: ["sleep", "30"],
            environment: ["PATH=/usr/bin:/bin"]
        )
        // Dispatch's worker threads (this test's) block asynchronous signals, and a child inherits that mask,
        // which hides the problem: fork from a thread that does not block the signal, as a main thread would.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, SIGUSR2)
        var previous = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &unblocked, &previous)
        var gate: Int32 = -1
        let (pid, error) = ProcessMonitor.fork(request, stdoutFD: null, stderrFD: null, gate: &gate)
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        try #require(pid > 0, "fork failed: \(error)")
        // The child cannot get past its gate (nor run its program) before the gate is closed below.
        kill(pid, SIGUSR2)
        close(gate)
        let status = try await Self.waitForExit(pid)
        #expect(status & 0x7F == SIGUSR2, "wait status \(status)")
    }

    @Test func aNodeConfigurationThatIsNotARegularFileIsRefusedInsteadOfReadForEver() throws {
        let error = try #require(throws: SupervisorError.self) {
            try Supervisor.supervisedNodeConfig(environment: [Supervisor.nodeConfigurationEnvironmentKey: "/dev/zero"])
        }
        #expect(error.code == .invalidNodeConfiguration)
        #expect(error.description == "cannot read node configuration '/dev/zero': /dev/zero: not a regular file")
    }

    @Test func anOutputFileThatIsASymbolicLinkIsNotFollowed() async throws {
        try await Harness.withSupervisor { harness in
            let directory = harness.runtime + "/node"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "victim\n".write(toFile: harness.directory + "/victim", atomically: false, encoding: .utf8)
            #expect(symlink(harness.directory + "/victim", directory + "/stdout.log") == 0)
            let config = Harness.node("w", "echo written-through") {
                $0.directory = directory
                $0.stdoutFile = "stdout.log"
            }
            #expect(harness.supervisor.create(config) == "")
            try await harness.waitForLine(
                "node 'w' failed to create stdout file stdout.log: Too many levels of symbolic links",
                from: "w"
            )
            try await harness.waitForEvent("exit status 1") {
                if case .prematureExit("w", _, .exited(status: 1)) = $0 { return true }
                return false
            }
            #expect(try String(contentsOfFile: harness.directory + "/victim", encoding: .utf8) == "victim\n")
        }
    }
}

import ClusterKit
import Foundation
import Testing

@testable import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl cluster start` runs its controller detached: what the detached program inherits, and what a program
/// that cannot be started gives.
@Suite struct LocalClusterSpawnTests {
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
                Issue.record("process \(pid) did not exit within 10 seconds")
                return status
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return status
    }

    @Test func aDetachedProgramGetsOnlyStandardDescriptorsDefaultSignalsAndItsOwnSession() async throws {
        try await withTemporaryDirectory { directory in
            // Descriptors without close-on-exec in this process must not reach the program.
            let leaked = open("/dev/null", O_RDONLY)
            let high = fcntl(leaked, F_DUPFD, 100)
            defer {
                close(leaked)
                close(high)
            }
            let log = try LocalFile.openForAppending(directory + "/controller.log")
            // Builtins only until the masks are read: dash blocks every signal around its own forks.
            let script = #"""
                while read -r line; do case $line in SigBlk*|SigIgn*) echo "$line";; esac; done < /proc/$$/status
                n=0; while [ $n -lt 1024 ]; do [ -e /proc/$$/fd/$n ] && echo "fd $n"; n=$((n+1)); done
                [ "$(cut -d' ' -f6 /proc/$$/stat)" = "$$" ] && echo session-leader
                read line || echo stdin-empty
                """#
            let pid = try LocalCluster.spawnDetached(
                "/bin/sh",
                ["-c", script],
                environment: ["PATH": "/usr/bin:/bin"],
                output: log
            )
            close(log)
            let status = try await Self.waitForExit(pid)
            #expect(status == 0)
            let output = try String(contentsOfFile: directory + "/controller.log", encoding: .utf8)
            #expect(
                output == """
                    SigBlk:\t0000000000000000
                    SigIgn:\t0000000000000000
                    fd 0
                    fd 1
                    fd 2
                    session-leader
                    stdin-empty

                    """
            )
        }
    }

    @Test func aDetachedProgramThatCannotBeExecutedIsAnError() {
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let error = #expect(throws: LocalCluster.Failure.self) {
            try LocalCluster.spawnDetached("/nonexistent/zeekctl", [], environment: [:], output: null)
        }
        #expect(error?.code == .spawnFailed)
        #expect(error?.message == "/nonexistent/zeekctl: cannot start: No such file or directory")
    }

}

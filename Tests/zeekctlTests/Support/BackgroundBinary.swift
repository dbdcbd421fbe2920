import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `zeekctl` (or other) process that runs in the background while a test talks to it, started with
/// `posix_spawn` (never Foundation's `Process`), its output going to files.
///
/// ``waitForExit(timeout:)`` polls `waitpid(WNOHANG)` from an async loop; a process not yet reaped when the
/// object goes away gets SIGKILL and is reaped.
final class BackgroundBinary: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// How the process ended, and what it wrote.
    struct Exit: Sendable {
        var status: Int32
        var output: String
        var error: String
    }

    let pid: pid_t
    private let outputPath: String
    private let errorPath: String
    private let isReaped = Guarded(false)

    /// Starts `executable` with `arguments` and exactly `environment`.
    init(
        _ arguments: [String],
        executable: String = ZeekctlBinary.path,
        environment: [String: String] = ["PATH": "/usr/bin:/bin"]
    ) throws {
        let scratch = FileManager.default.temporaryDirectory.path
        outputPath = scratch + "/.zeekctl-bg-stdout-\(UUID().uuidString)"
        errorPath = scratch + "/.zeekctl-bg-stderr-\(UUID().uuidString)"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw Failure(description: "posix_spawn failed: \(spawned)") }
        self.pid = pid
    }

    deinit {
        if !isReaped.withLock({ $0 }) {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        unlink(outputPath)
        unlink(errorPath)
    }

    /// Sends a signal.
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// What the process wrote to standard error so far.
    var errorText: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Waits at most `timeout` for the process to exit (then kills it and throws).
    func waitForExit(timeout: Duration = .seconds(20)) async throws -> Exit {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if clock.now >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                isReaped.withLock { $0 = true }
                throw Failure(description: "process \(pid) did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        isReaped.withLock { $0 = true }
        let exitStatus: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Exit(
            status: exitStatus,
            output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
            error: errorText
        )
    }
}

/// Whether a process id names no process at all any more (exited and reaped).
func processIsGone(_ pid: Int) -> Bool {
    kill(pid_t(pid), 0) == -1 && errno == ESRCH
}

/// Runs `body`, throwing if it takes longer than `limit`: a bound on a wait, never an assertion about time.
func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw BackgroundBinary.Failure(description: "\(what): nothing within \(limit)")
        }
        return value
    }
}

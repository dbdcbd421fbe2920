import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process (such as `zeekctl controller`) whose standard output is read line by line.
///
/// Test support only. Like `BinaryRunner` it shares nothing with Foundation's `Process` (which can miss exits
/// when several children run at once): it spawns with `posix_spawn`, reads standard output from a pipe on
/// a dedicated thread into an `AsyncStream` of lines, sends standard error to a file, and polls
/// `waitpid(WNOHANG)` for the exit. Tests wait for real output, never for time to pass; every wait has a
/// limit.
final class ChildProcess: Sendable {
    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t
    let lines: AsyncStream<String>
    private let errorPath: String
    private let exitStatus = Guarded<Int32?>(nil)
    private let seen = SeenLines()

    /// Starts `executable` with `arguments` (and `environment`, default this process's).
    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        errorPath = FileManager.default.temporaryDirectory.path + "/.child-\(UUID().uuidString).err"
        var pipeDescriptors: [Int32] = [0, 0]
        guard pipe(&pipeDescriptors) == 0 else { throw SpawnError(description: "pipe failed: \(errno)") }
        // Not inherited by other children (dup2 onto 1 clears the flag for this one).
        for descriptor in pipeDescriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeDescriptors[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipeDescriptors[0])
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let words = [executable] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let variables = environment ?? ProcessInfo.processInfo.environment
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        close(pipeDescriptors[1])
        guard spawned == 0 else {
            close(pipeDescriptors[0])
            throw SpawnError(description: "posix_spawn \(executable) failed: \(spawned)")
        }
        self.pid = pid
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream
        let reader = pipeDescriptors[0]
        let seen = self.seen
        let thread = Thread {
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(reader, &chunk, chunk.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                buffer += chunk[0..<count]
                while let newline = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[..<newline], as: UTF8.self)
                    seen.lines.withLock { $0.append(line) }
                    continuation.yield(line)
                    buffer.removeSubrange(...newline)
                }
            }
            if !buffer.isEmpty { continuation.yield(String(decoding: buffer, as: UTF8.self)) }
            close(reader)
            continuation.finish()
        }
        thread.start()
    }

    /// The exit status once the process has exited (128 + signal when killed), else `nil`; reaps it.
    var exited: Int32? {
        exitStatus.withLock { known in
            if let known { return known }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
            let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            known = code
            return code
        }
    }

    /// Every line read so far.
    var output: [String] { seen.lines.withLock { $0 } }

    /// The first line (from now on) that satisfies `matching`, or `nil` when the output ends or `timeout`
    /// passes first.
    func firstLine(
        timeout: Duration = .seconds(30),
        where matching: @escaping @Sendable (String) -> Bool
    ) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                for await line in self.lines where matching(line) { return line }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }

    /// What the process wrote to standard error so far.
    var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Waits (bounded) for the process to exit; its status, or `nil` when it is still running at the limit.
    func waitForExit(timeout: Duration = .seconds(15)) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if let status = exited { return status }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return exited
    }

    /// Sends `signal` (default SIGTERM) and waits (bounded) for the process to exit; returns its status, or
    /// `nil` if it had to be killed.
    @discardableResult
    func terminate(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async -> Int32? {
        if exited == nil { kill(pid, signal) }
        if let status = await waitForExit(timeout: timeout) { return status }
        kill(pid, SIGKILL)
        _ = await waitForExit(timeout: .seconds(5))
        return nil
    }

    deinit {
        if exited == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        unlink(errorPath)
    }
}

/// The lines a child wrote, shared with its reader thread.
private final class SeenLines: Sendable {
    let lines = Guarded<[String]>([])
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `zeekctl` with `posix_spawn`, its output going to files instead of pipes.
///
/// Foundation's `Process` can miss a child's exit or a pipe's end of file when several processes are
/// started at once in one test process (the skeleton's `ZeekctlBinary` test then never finishes). This
/// runner shares nothing with Foundation's process machinery: it spawns with `posix_spawn`, redirects
/// standard output and error to files in the test's temporary directory, and polls `waitpid(WNOHANG)`
/// from an async loop (never blocking a concurrency thread), with a deadline.
enum BinaryRunner {
    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    static func run(
        _ arguments: [String],
        executable program: String = ZeekctlBinary.path,
        currentDirectory: String? = nil,
        environment: [String: String]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, output: String, error: String) {
        let directory = currentDirectory ?? FileManager.default.currentDirectoryPath
        let scratch = FileManager.default.temporaryDirectory.path
        let outputPath = scratch + "/.zeekctl-stdout-\(UUID().uuidString)"
        let errorPath = scratch + "/.zeekctl-stderr-\(UUID().uuidString)"
        defer {
            unlink(outputPath)
            unlink(errorPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // `sh` changes into the directory and then becomes zeekctl (Glibc does not export addchdir_np).
        let executable = "/bin/sh"
        let words = [executable, "-c", "cd \"$0\" && exec \"$@\"", directory, program] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { variables in
            variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for pointer in envp ?? [] { free(pointer) } }
        var pid: pid_t = 0
        let spawned =
            envp.map { envp in posix_spawn(&pid, executable, &actions, nil, argv, envp) }
            ?? posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw SpawnError(description: "posix_spawn failed: \(spawned)") }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if clock.now >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw SpawnError(description: "\(program) \(arguments) did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let exitStatus: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let output = try String(contentsOfFile: outputPath, encoding: .utf8)
        let error = try String(contentsOfFile: errorPath, encoding: .utf8)
        return (exitStatus, output, error)
    }
}

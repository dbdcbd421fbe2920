import Foundation

/// The built `zeekctl` binary next to the test bundle, and a way to run it as a child process.
enum ZeekctlBinary {
    /// The path of the binary `swift build` produced for this test run.
    static var path: String {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("zeekctl").path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("zeekctl").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("zeekctl").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The result of one run.
    struct Run: Sendable {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs the binary with arguments, waiting at most `timeout` for it to exit (then kills it).
    ///
    /// Output goes to temporary files that are read after the process exits, so nothing can block on a
    /// pipe.
    static func run(
        _ arguments: [String],
        executable: String? = nil,
        currentDirectory: String? = nil,
        environment: [String: String]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "zeekctl-run-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputURL = directory.appendingPathComponent("stdout")
        let errorURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let outputHandle = try FileHandle(forWritingTo: outputURL)
        let errorHandle = try FileHandle(forWritingTo: errorURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? path)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        if let environment { process.environment = environment }
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        try process.run()
        try? outputHandle.close()
        try? errorHandle.close()
        let status = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await status in exited.stream { return status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            for await result in group {
                if let result { return result }
                if process.isRunning { process.terminate() }
            }
            return Int32(-1)
        }
        let output = (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
        let error = (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
        return Run(status: status, output: output, error: error)
    }
}

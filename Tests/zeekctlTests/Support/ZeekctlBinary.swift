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
    static func run(
        _ arguments: [String],
        currentDirectory: String? = nil,
        environment: [String: String]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        if let environment { process.environment = environment }
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        try process.run()
        async let output = outputPipe.fileHandleForReading.readToEndAsync()
        async let error = errorPipe.fileHandleForReading.readToEndAsync()
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
        return Run(status: status, output: await output, error: await error)
    }
}

extension FileHandle {
    /// Reads everything until end of file without blocking a concurrency thread for long.
    func readToEndAsync() async -> String {
        var data = Data()
        for await chunk in chunks() { data.append(chunk) }
        return String(decoding: data, as: UTF8.self)
    }

    private func chunks() -> AsyncStream<Data> {
        AsyncStream { continuation in
            readabilityHandler = { handle in
                let chunk = handle.availableData
                if chunk.isEmpty {
                    handle.readabilityHandler = nil
                    continuation.finish()
                } else {
                    continuation.yield(chunk)
                }
            }
        }
    }
}

import Foundation
import Synchronization

/// A long-running child process whose standard output is read line by line (for `zeekctl controller`).
///
/// Test support only: a dedicated reader thread turns the pipe into an `AsyncStream` of lines, so tests
/// wait for real output, never for time to pass.
final class ChildProcess: Sendable {
    private let process: Process
    let lines: AsyncStream<String>
    private let errorFile: URL
    private let exited: AsyncStream<Int32>

    /// Starts `executable` with `arguments`.
    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream
        let reader = output.fileHandleForReading
        let thread = Thread {
            var buffer = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 0x0A) {
                    continuation.yield(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
            }
            if !buffer.isEmpty { continuation.yield(String(decoding: buffer, as: UTF8.self)) }
            continuation.finish()
        }
        let (exitStream, exitContinuation) = AsyncStream<Int32>.makeStream(bufferingPolicy: .bufferingNewest(1))
        exited = exitStream
        process.terminationHandler = { finished in
            exitContinuation.yield(finished.terminationStatus)
            exitContinuation.finish()
        }
        self.process = process
        try process.run()
        try? output.fileHandleForWriting.close()
        thread.start()
    }

    var processIdentifier: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// The first line that satisfies `matching`, or `nil` when the output ends or `timeout` passes first.
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
    var errorOutput: String { (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "" }

    /// Sends `signal` (default SIGTERM) and waits (bounded) for the process to exit; returns its status, or
    /// `nil` if it had to be killed.
    @discardableResult
    func terminate(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async -> Int32? {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let status = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await status in self.exited { return status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
        if status == nil, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        return status
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: errorFile)
    }
}

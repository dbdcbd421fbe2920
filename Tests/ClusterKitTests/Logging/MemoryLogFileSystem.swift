import ClusterKitModel
import ClusterKitRuntime

/// Log files in memory, with failures on demand: what the log writer tests write to.
final class MemoryLogFileSystem: LogFileSystem {
    private struct State {
        var files: [String: [UInt8]] = [:]
        var opens: [String: Int] = [:]
        var writes = 0
        var refusedOpens: Set<String> = []
        var failingWrites = false
    }

    private let state = Guarded(State())

    /// Makes opening `path` fail (as a missing directory does).
    func refuseOpening(_ path: String) { state.withLock { _ = $0.refusedOpens.insert(path) } }

    /// Makes every write fail (as a full disk does), or succeed again.
    func setFailingWrites(_ failing: Bool) { state.withLock { $0.failingWrites = failing } }

    /// A file's contents as text.
    func text(_ path: String) -> String? {
        state.withLock { $0.files[path] }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// A file's bytes.
    func bytes(_ path: String) -> [UInt8]? { state.withLock { $0.files[path] } }

    /// How often a file was opened.
    func opens(_ path: String) -> Int { state.withLock { $0.opens[path] ?? 0 } }

    /// How many writes reached any file.
    var writes: Int { state.withLock { $0.writes } }

    /// The files written, sorted.
    var paths: [String] { state.withLock { $0.files.keys.sorted() } }

    func openForAppending(_ path: String) throws(ZeekLogError) -> any LogFileHandle {
        let refused = state.withLock { state in
            if state.refusedOpens.contains(path) { return true }
            state.opens[path, default: 0] += 1
            if state.files[path] == nil { state.files[path] = [] }
            return false
        }
        if refused { throw ZeekLogError(.cannotOpen, path: path, "cannot open: No such file or directory") }
        return Handle(path: path, fileSystem: self)
    }

    fileprivate func append(_ bytes: [UInt8], to path: String) throws(ZeekLogError) {
        let failing = state.withLock { state in
            if state.failingWrites { return true }
            state.files[path, default: []] += bytes
            state.writes += 1
            return false
        }
        if failing { throw ZeekLogError(.cannotWrite, path: path, "cannot write: No space left on device") }
    }

    private struct Handle: LogFileHandle {
        let path: String
        let fileSystem: MemoryLogFileSystem

        func write(_ bytes: [UInt8]) throws(ZeekLogError) { try fileSystem.append(bytes, to: path) }

        func close() {}
    }
}

/// Errors reported by a log, in order.
final class ReportedErrors: Sendable {
    private let errors = Guarded<[ZeekLogError]>([])

    /// The sink to hand to a writer or directory.
    var sink: @Sendable (ZeekLogError) -> Void { { error in self.errors.withLock { $0.append(error) } } }

    /// Everything reported so far.
    var all: [ZeekLogError] { errors.withLock { $0 } }
}

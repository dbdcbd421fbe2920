import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where ``ZeekLogWriter``s put their bytes: the local file system, or memory in tests.
package protocol LogFileSystem: Sendable {
    /// Opens a log file for appending, creating it when missing.
    ///
    /// - Parameter path: The file.
    /// - Returns: The open file.
    /// - Throws: ``ZeekLogError`` (`cannotOpen`).
    func openForAppending(_ path: String) throws(ZeekLogError) -> any LogFileHandle
}

/// An open log file.
package protocol LogFileHandle: Sendable {
    /// Writes all of `bytes`.
    ///
    /// - Parameter bytes: The bytes.
    /// - Throws: ``ZeekLogError`` (`cannotWrite`).
    func write(_ bytes: [UInt8]) throws(ZeekLogError)
    /// Closes the file.
    func close()
}

/// The local file system: files opened as ``LocalFile/openForAppending(_:)`` opens them (mode 0600 when
/// created, `O_APPEND`, no symbolic link followed, a regular file of this user only).
package struct LocalLogFileSystem: LogFileSystem {
    /// Creates the file system.
    package init() {}

    /// Opens a log file for appending.
    ///
    /// - Parameter path: The file.
    /// - Returns: The open file.
    /// - Throws: ``ZeekLogError`` (`cannotOpen`).
    package func openForAppending(_ path: String) throws(ZeekLogError) -> any LogFileHandle {
        do {
            return LocalLogFile(descriptor: try LocalFile.openForAppending(path), path: path)
        } catch {
            throw ZeekLogError(.cannotOpen, path: path, error.message)
        }
    }
}

/// An open local log file.
private struct LocalLogFile: LogFileHandle {
    let descriptor: Int32
    let path: String

    func write(_ bytes: [UInt8]) throws(ZeekLogError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                posixWrite(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = strerror(errno).map { String(cString: $0) } ?? "error \(errno)"
                throw ZeekLogError(.cannotWrite, path: path, "cannot write: \(reason)")
            }
            offset += written
        }
    }

    func close() {
        posixClose(descriptor)
    }
}

/// `write(2)`, under a name the log file's own `write` does not hide.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// `close(2)`, under a name the log file's own `close` does not hide.
private func posixClose(_ descriptor: Int32) {
    _ = close(descriptor)
}

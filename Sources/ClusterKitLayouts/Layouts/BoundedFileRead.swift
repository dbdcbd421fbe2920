import ClusterKitModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a regular file with a size limit: the reading behind ``FileSystemLayoutReader``.
enum BoundedFileRead {
    /// The bytes of the regular file at `path` (symbolic links followed), at most `maximumSize` of them.
    ///
    /// - Parameters:
    ///   - path: The path.
    ///   - maximumSize: The largest size accepted, in bytes.
    /// - Returns: The bytes.
    /// - Throws: ``LayoutLoadError`` naming `path`: unreadable, not a regular file, or larger than the limit.
    static func regularFile(_ path: String, maximumSize: Int) throws(LayoutLoadError) -> [UInt8] {
        // Non-blocking: opening a FIFO without a writer would otherwise wait for one.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard descriptor >= 0 else { throw LayoutLoadError.unreadable(path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw LayoutLoadError.unreadable(path) }
        let type = status.st_mode & mode_t(S_IFMT)
        guard type == mode_t(S_IFREG) else { throw LayoutLoadError.notRegular(path, kind: kind(of: type)) }
        let limit = max(0, maximumSize)
        guard status.st_size <= limit else { throw LayoutLoadError.tooLarge(path, limit: limit) }
        // One byte more than the limit tells a file that grew past it while being read.
        var bytes = [UInt8](repeating: 0, count: min(Int(status.st_size), limit) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard count <= limit else { throw LayoutLoadError.tooLarge(path, limit: limit) }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit + 1 - bytes.count)))
            }
            let result = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress.map { $0 + count }, buffer.count - count)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw LayoutLoadError.unreadable(path)
            }
            if result == 0 { break }
            count += result
        }
        guard count <= limit else { throw LayoutLoadError.tooLarge(path, limit: limit) }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// What a file of type `type` (the `S_IFMT` bits of `st_mode`) is, for messages.
    static func kind(of type: mode_t) -> String {
        switch type {
        case mode_t(S_IFDIR): "a directory"
        case mode_t(S_IFCHR): "a character device"
        case mode_t(S_IFBLK): "a block device"
        case mode_t(S_IFIFO): "a FIFO"
        case mode_t(S_IFSOCK): "a socket"
        default: "not a file"
        }
    }

    /// What `path` names after following symbolic links.
    static func kind(ofPath path: String) -> LayoutPathKind {
        var status = stat()
        guard stat(path, &status) == 0 else { return .other }
        switch status.st_mode & mode_t(S_IFMT) {
        case mode_t(S_IFREG): return .regularFile
        case mode_t(S_IFDIR): return .directory
        default: return .other
        }
    }

    /// The names in the folder `path` (without `.` and `..`), at most `maximumCount` of them.
    static func fileNames(inDirectory path: String, maximumCount: Int) throws(LayoutLoadError) -> [String] {
        guard let directory = opendir(path) else { throw LayoutLoadError.unreadable(path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            guard names.count < maximumCount else { throw LayoutLoadError.tooManyEntries(path, limit: maximumCount) }
            names.append(name)
        }
        return names
    }
}

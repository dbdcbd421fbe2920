#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing local files without being misled by what someone else put in their place.
///
/// Writes that replace a whole file are atomic: the contents go to a new temporary file in the same directory
/// (created exclusively, `O_NOFOLLOW`, close-on-exec), which is then renamed over the target. A symbolic link
/// planted at the target is replaced, never written through, and a failure leaves the old file as it was. Reads
/// take regular files only, up to a size limit, so that `/dev/zero` or a FIFO cannot make a reader run for ever.
package enum LocalFile {
    /// The largest file ``readRegularFile(_:maximumSize:)`` reads by default: 16 MiB.
    package static let defaultMaximumReadSize = 16 << 20

    /// Writes `contents` to `path` atomically: a temporary file in the same directory, renamed over `path`.
    ///
    /// The temporary file is named `.<name>.<random>.tmp` and opened with
    /// `O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC`; it is removed again when anything fails. The new file is
    /// created with `permissions` less the process's umask (the old file's mode and owner are not kept). The data is not
    /// synced to disk.
    ///
    /// - Parameters:
    ///   - contents: The whole new contents.
    ///   - path: The file to replace or create.
    ///   - permissions: The new file's permission bits before the umask; default `0o600`.
    /// - Throws: ``LocalFileError``: `cannotCreate` when the temporary file cannot be created, `cannotWrite`
    ///   when writing or renaming fails (for example because `path` is a directory).
    package static func writeAtomically(
        _ contents: [UInt8],
        to path: String,
        permissions: Int = 0o600
    ) throws(LocalFileError) {
        let (directory, name) = split(path)
        guard !name.isEmpty else { throw LocalFileError(.notARegularFile, path: path, "not a file name") }
        // Short enough for NAME_MAX whatever the target's name.
        let temporary = directory + "/." + name.prefix(100) + "." + UniqueID.make() + ".tmp"
        let mode = mode_t(truncatingIfNeeded: permissions & 0o7777)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw .system(.cannotCreate, path: path, "cannot create a temporary file in \(directory)", errno: errno)
        }
        var failure: Int32 = 0
        var offset = 0
        while offset < contents.count {
            let written = contents.withUnsafeBytes { bytes in
                write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            offset += written
        }
        if close(descriptor) != 0, failure == 0, errno != EINTR { failure = errno }
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        guard failure != 0 else { return }
        unlink(temporary)
        throw .system(.cannotWrite, path: path, "cannot write", errno: failure)
    }

    /// Reads a whole regular file of at most `maximumSize` bytes.
    ///
    /// The file is opened non-blocking (so that opening a FIFO does not wait for a writer) and checked with
    /// `fstat` to be a regular file; symbolic links are followed.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - maximumSize: The limit in bytes; default ``defaultMaximumReadSize``.
    /// - Returns: The contents.
    /// - Throws: ``LocalFileError``: `cannotRead`, `notARegularFile`, `tooLarge`.
    package static func readRegularFile(
        _ path: String,
        maximumSize: Int = defaultMaximumReadSize
    ) throws(LocalFileError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(.cannotRead, path: path, "cannot read", errno: errno) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw .system(.cannotRead, path: path, "cannot read", errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw LocalFileError(.notARegularFile, path: path, "not a regular file")
        }
        let tooLarge = LocalFileError(.tooLarge, path: path, "larger than the limit of \(maximumSize) bytes")
        guard Int(info.st_size) <= maximumSize else { throw tooLarge }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(.cannotRead, path: path, "cannot read", errno: errno)
            }
            if count == 0 { return contents }
            // The file may have grown since fstat.
            guard contents.count + count <= maximumSize else { throw tooLarge }
            contents += chunk[0..<count]
        }
    }

    /// Opens (creating it with mode 0600 when missing) a file for appending, refusing a symbolic link, something
    /// other than a regular file, and a file of another user.
    ///
    /// The file is opened with `O_RDWR|O_CREAT|O_APPEND|O_NOFOLLOW|O_CLOEXEC` (readable too, so that the caller
    /// can follow what is written to it with `pread`).
    ///
    /// - Parameter path: The file.
    /// - Returns: The open descriptor; the caller closes it.
    /// - Throws: ``LocalFileError``: `symbolicLink`, `cannotCreate`, `notARegularFile`, `notOwned`.
    package static func openForAppending(_ path: String) throws(LocalFileError) -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == ELOOP {
                throw LocalFileError(.symbolicLink, path: path, "is a symbolic link (not followed)")
            }
            throw .system(.cannotCreate, path: path, "cannot open", errno: errno)
        }
        var info = stat()
        let problem: LocalFileError?
        if fstat(descriptor, &info) != 0 {
            problem = .system(.cannotCreate, path: path, "cannot open", errno: errno)
        } else if info.st_mode & S_IFMT != S_IFREG {
            problem = LocalFileError(.notARegularFile, path: path, "not a regular file")
        } else if info.st_uid != geteuid() {
            problem = LocalFileError(
                .notOwned,
                path: path,
                "belongs to uid \(info.st_uid), not to this user (uid \(geteuid()))"
            )
        } else {
            problem = nil
        }
        if let problem {
            close(descriptor)
            throw problem
        }
        return descriptor
    }

    /// The directory (`.` for a bare name, `/` at the root) and the last component of a path.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return (directory, String(path[path.index(after: slash)...]))
    }
}

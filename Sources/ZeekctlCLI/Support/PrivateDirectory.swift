package import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory for state that only this user can change: a fresh one with an unpredictable name, or a given one
/// that has been checked.
///
/// ``makeTemporary(prefix:environment:)`` creates `PREFIX` plus six random characters (`mkdtemp`, mode 0700) under
/// the first of `$XDG_RUNTIME_DIR` (only when it is a directory of this user that nobody else can write),
/// `$TMPDIR` and `/tmp` where that works. ``init(checking:)`` takes a given path: a missing directory is created
/// (with missing parents) with mode 0700; an existing one must be a real directory (not a symbolic link), belong
/// to this user and not be writable by its group or by everyone. Files inside are written with
/// ``LocalFile/writeAtomically(_:to:permissions:)`` (mode 0600) and opened with ``LocalFile/openForAppending(_:)``.
package struct PrivateDirectory: Sendable, Hashable {
    /// The directory's path, as given or created (without a trailing slash).
    package let path: String

    /// Uses `path` as a private directory, creating it (and missing parents) with mode 0700 when it is missing.
    ///
    /// - Parameter path: The directory.
    /// - Throws: ``LocalFileError``: `cannotCreate`, `symbolicLink`, `notADirectory`, `notOwned`,
    ///   `writableByOthers`.
    package init(checking path: String) throws(LocalFileError) {
        var trimmed = path
        // "dir/" would follow a symbolic link named dir.
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard !trimmed.isEmpty else { throw LocalFileError(.notADirectory, path: path, "empty directory name") }
        var descriptor = Self.openDirectory(trimmed)
        var created = false
        if descriptor < 0, errno == ENOENT {
            try Self.createDirectories(trimmed)
            created = true
            descriptor = Self.openDirectory(trimmed)
        }
        guard descriptor >= 0 else {
            let number = errno
            var info = stat()
            if lstat(trimmed, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
                throw LocalFileError(.symbolicLink, path: trimmed, "is a symbolic link; give the directory itself")
            }
            if number == ENOTDIR {
                throw LocalFileError(.notADirectory, path: trimmed, "not a directory")
            }
            throw .system(.cannotCreate, path: trimmed, "cannot open", errno: number)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw .system(.cannotCreate, path: trimmed, "cannot open", errno: errno)
        }
        guard info.st_uid == geteuid() else {
            throw LocalFileError(
                .notOwned,
                path: trimmed,
                "belongs to uid \(info.st_uid), not to this user (uid \(geteuid()))"
            )
        }
        if created {
            // mkdir's mode went through the umask.
            fchmod(descriptor, 0o700)
        } else if info.st_mode & 0o022 != 0 {
            throw LocalFileError(
                .writableByOthers,
                path: trimmed,
                "is writable by its group or by everyone (mode 0\(String(info.st_mode & 0o7777, radix: 8))); "
                    + "use a directory only you can write"
            )
        }
        self.path = trimmed
    }

    private init(created path: String) {
        self.path = path
    }

    /// Creates a fresh private directory (mode 0700, unpredictable name) for temporary state.
    ///
    /// - Parameters:
    ///   - prefix: The start of the directory's name, such as `zeekctl-cluster-`.
    ///   - environment: The environment variables (`XDG_RUNTIME_DIR`, `TMPDIR`).
    /// - Returns: The directory.
    /// - Throws: ``LocalFileError`` (`cannotCreate`) when no base directory works; it names the last one tried.
    package static func makeTemporary(
        prefix: String,
        environment: [String: String]
    ) throws(LocalFileError) -> PrivateDirectory {
        var failure = LocalFileError(.cannotCreate, path: "/tmp", "no directory for temporary state")
        for base in temporaryBases(environment: environment) {
            var template = Array(((base == "/" ? "" : base) + "/" + prefix + "XXXXXX").utf8CString)
            let created = template.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress.flatMap { mkdtemp($0) } != nil
            }
            guard created else {
                failure = .system(.cannotCreate, path: base, "cannot create a directory", errno: errno)
                continue
            }
            return PrivateDirectory(
                created: String(decoding: template.dropLast().map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)
            )
        }
        throw failure
    }

    /// Where ``makeTemporary(prefix:environment:)`` tries to create directories, in order: `$XDG_RUNTIME_DIR` when
    /// it is an absolute path to a directory of this user that nobody else can write, `$TMPDIR` when absolute,
    /// then `/tmp`.
    ///
    /// - Parameter environment: The environment variables.
    /// - Returns: The candidate base directories, without trailing slashes and without repeats.
    package static func temporaryBases(environment: [String: String]) -> [String] {
        func normalized(_ text: String?) -> String? {
            guard var text, text.hasPrefix("/") else { return nil }
            while text.count > 1, text.hasSuffix("/") { text.removeLast() }
            return text
        }
        var bases: [String] = []
        if let runtime = normalized(environment["XDG_RUNTIME_DIR"]) {
            var info = stat()
            if stat(runtime, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid(),
                info.st_mode & 0o022 == 0
            {
                bases.append(runtime)
            }
        }
        if let temporary = normalized(environment["TMPDIR"]), !bases.contains(temporary) { bases.append(temporary) }
        if !bases.contains("/tmp") { bases.append("/tmp") }
        return bases
    }

    /// The path of `name` inside the directory.
    ///
    /// - Parameter name: A file name.
    /// - Returns: `PATH/NAME`.
    package func file(_ name: String) -> String {
        path == "/" ? "/" + name : path + "/" + name
    }

    /// Writes a whole file inside the directory atomically, with mode 0600 (see
    /// ``LocalFile/writeAtomically(_:to:permissions:)``).
    ///
    /// - Parameters:
    ///   - contents: The file's contents.
    ///   - name: The file's name.
    /// - Returns: The file's path.
    /// - Throws: ``LocalFileError``.
    @discardableResult
    package func write(_ contents: [UInt8], toFile name: String) throws(LocalFileError) -> String {
        let target = file(name)
        try LocalFile.writeAtomically(contents, to: target, permissions: 0o600)
        return target
    }

    /// Removes the directory and everything in it (symbolic links inside are removed, not followed); errors are
    /// ignored.
    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func openDirectory(_ path: String) -> Int32 {
        open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    }

    /// Creates `path` and its missing parents with mode 0700; the last component must be new.
    private static func createDirectories(_ path: String) throws(LocalFileError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            if mkdir(prefix, 0o700) == 0 { continue }
            let number = errno
            guard number == EEXIST, index < components.count - 1 else {
                throw .system(.cannotCreate, path: path, "cannot create", errno: number)
            }
        }
    }
}

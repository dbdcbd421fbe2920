import ClusterKitModel

/// The files operators keep a cluster layout in.
public enum LayoutFormat: String, Sendable, Hashable, CaseIterable {
    /// ZeekControl's `node.cfg`.
    case nodeCfg = "node-cfg"
    /// A `cluster-layout.zeek` (or Bro's `cluster-layout.bro`) script.
    case layout
    /// A Management framework configuration in `zeek-client`'s INI form.
    case ini
    /// Zeek 9's `zeek.conf` (one host), or a folder of `<host>.zeek.conf` files (several hosts).
    case zeekConf = "zeek-conf"

    /// The format a file name implies: `*.cfg` is node.cfg, `*.zeek` and `*.bro` are layout scripts,
    /// `*.ini` is Management INI, `*.conf` is zeek.conf (case-insensitive); `nil` for anything else.
    ///
    /// - Parameter fileName: The file name or path.
    public init?(fileName: String) {
        let name = fileName.split(separator: "/").last.map(String.init)?.lowercased() ?? ""
        if name.hasSuffix(".cfg") {
            self = .nodeCfg
        } else if name.hasSuffix(".zeek") || name.hasSuffix(".bro") {
            self = .layout
        } else if name.hasSuffix(".ini") {
            self = .ini
        } else if name.hasSuffix(".conf") {
            self = .zeekConf
        } else {
            return nil
        }
    }
}

extension LayoutFormat {
    /// The format `zeekctl layout` generates from: zeek.conf for a folder or a `*.conf` file, node.cfg for
    /// anything else.
    ///
    /// - Parameters:
    ///   - path: The input path.
    ///   - reader: How the path is looked at.
    /// - Returns: ``zeekConf`` or ``nodeCfg``.
    public static func generated(path: String, reader: any LayoutFileReader) -> LayoutFormat {
        if LayoutFormat(fileName: path) == .zeekConf || reader.kind(ofPath: path) == .directory { return .zeekConf }
        return .nodeCfg
    }
}

/// Reads the text of input files; injected so that ClusterKit itself touches no file system.
public protocol LayoutFileReader: Sendable {
    /// The text of a file.
    ///
    /// - Parameter path: The path, as the caller gives it.
    /// - Returns: The file's text (UTF-8).
    /// - Throws: Any error when the file cannot be read.
    func text(ofFile path: String) throws -> String

    /// The text of a file of at most `maximumSize` bytes.
    ///
    /// The default implementation reads the whole file with ``text(ofFile:)`` and then checks its size;
    /// readers of untrusted paths should stop reading at the limit instead (as ``FileSystemLayoutReader``
    /// does).
    ///
    /// - Parameters:
    ///   - path: The path, as the caller gives it.
    ///   - maximumSize: The largest size accepted, in bytes.
    /// - Returns: The file's text (UTF-8).
    /// - Throws: ``LayoutLoadError`` with ``LayoutLoadError/Code/fileTooLarge`` when the file is larger, or
    ///   any error when the file cannot be read.
    func text(ofFile path: String, maximumSize: Int) throws -> String

    /// What a path names (symbolic links followed).
    ///
    /// The default implementation answers ``LayoutPathKind/regularFile``, for readers without folders.
    ///
    /// - Parameter path: The path.
    /// - Returns: Its kind.
    func kind(ofPath path: String) -> LayoutPathKind

    /// The names of the entries of a folder (without `.` and `..`), in no particular order.
    ///
    /// The default implementation throws, for readers without folders.
    ///
    /// - Parameters:
    ///   - path: The folder.
    ///   - maximumCount: The most names returned; a folder with more is an error.
    /// - Returns: The names.
    /// - Throws: ``LayoutLoadError`` when the folder cannot be read or has more than `maximumCount` entries.
    func fileNames(inDirectory path: String, maximumCount: Int) throws -> [String]
}

/// What a path names, for inputs that may be a file or a folder (Zeek 9's folders of host files).
public enum LayoutPathKind: String, Sendable, Hashable {
    /// A regular file.
    case regularFile
    /// A folder.
    case directory
    /// Nothing, or something else (a device, a FIFO, a socket).
    case other
}

extension LayoutFileReader {
    /// Reads the whole file with ``text(ofFile:)``, then checks its size.
    ///
    /// - Parameters:
    ///   - path: The path.
    ///   - maximumSize: The largest size accepted, in bytes.
    /// - Returns: The file's text.
    /// - Throws: ``LayoutLoadError`` when the file is larger than `maximumSize`, or what ``text(ofFile:)`` throws.
    public func text(ofFile path: String, maximumSize: Int) throws -> String {
        let text = try text(ofFile: path)
        guard text.utf8.count <= maximumSize else { throw LayoutLoadError.tooLarge(path, limit: maximumSize) }
        return text
    }

    /// Answers ``LayoutPathKind/regularFile``.
    ///
    /// - Parameter path: The path.
    /// - Returns: ``LayoutPathKind/regularFile``.
    public func kind(ofPath path: String) -> LayoutPathKind { .regularFile }

    /// Throws: this reader has no folders.
    ///
    /// - Parameters:
    ///   - path: The folder.
    ///   - maximumCount: The most names returned.
    /// - Returns: Nothing.
    /// - Throws: ``LayoutLoadError`` always.
    public func fileNames(inDirectory path: String, maximumCount: Int) throws -> [String] {
        throw LayoutLoadError.unreadable(path)
    }
}

/// Reads files from the file system, refusing what is not a regular file (after following symbolic links)
/// and stopping at a size limit, so that a path such as `/dev/zero` or a FIFO cannot make it read for ever.
///
/// Relative paths are relative to the process's current directory, so callers pass absolute paths.
public struct FileSystemLayoutReader: LayoutFileReader, Sendable, Hashable {
    /// The largest file ``text(ofFile:)`` reads, in bytes; default ``LayoutLimits/maximumFileSize`` of
    /// ``LayoutLimits/standard`` (4 MiB).
    public var maximumFileSize: Int

    /// Creates the reader.
    ///
    /// - Parameter maximumFileSize: The largest file ``text(ofFile:)`` reads, in bytes; default 4 MiB.
    public init(maximumFileSize: Int = LayoutLimits.standard.maximumFileSize) {
        self.maximumFileSize = maximumFileSize
    }

    /// Reads a regular file of at most ``maximumFileSize`` bytes.
    ///
    /// - Parameter path: The path.
    /// - Returns: The text; invalid UTF-8 is replaced.
    /// - Throws: ``LayoutLoadError``: ``LayoutLoadError/Code/unreadableFile``,
    ///   ``LayoutLoadError/Code/notRegularFile`` or ``LayoutLoadError/Code/fileTooLarge``.
    public func text(ofFile path: String) throws -> String {
        try text(ofFile: path, maximumSize: maximumFileSize)
    }

    /// Reads a regular file of at most `maximumSize` bytes, never more than `maximumSize + 1` bytes.
    ///
    /// The file is opened without blocking (a FIFO with no writer does not hang the open), checked with
    /// `fstat` on the open descriptor (no race with a path swapped in between), and read in a bounded loop
    /// (a file that grows while it is read is still cut off at the limit).
    ///
    /// - Parameters:
    ///   - path: The path.
    ///   - maximumSize: The largest size accepted, in bytes.
    /// - Returns: The text; invalid UTF-8 is replaced.
    /// - Throws: ``LayoutLoadError``: ``LayoutLoadError/Code/unreadableFile``,
    ///   ``LayoutLoadError/Code/notRegularFile`` or ``LayoutLoadError/Code/fileTooLarge``.
    public func text(ofFile path: String, maximumSize: Int) throws -> String {
        let bytes = try BoundedFileRead.regularFile(path, maximumSize: maximumSize)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What the path names, after following symbolic links.
    ///
    /// - Parameter path: The path.
    /// - Returns: Its kind; ``LayoutPathKind/other`` when it does not exist.
    public func kind(ofPath path: String) -> LayoutPathKind { BoundedFileRead.kind(ofPath: path) }

    /// The names in a folder, reading at most `maximumCount` + 1 entries.
    ///
    /// - Parameters:
    ///   - path: The folder.
    ///   - maximumCount: The most names returned.
    /// - Returns: The names.
    /// - Throws: ``LayoutLoadError`` when the folder cannot be read or has more than `maximumCount` entries.
    public func fileNames(inDirectory path: String, maximumCount: Int) throws -> [String] {
        try BoundedFileRead.fileNames(inDirectory: path, maximumCount: maximumCount)
    }
}

/// A reader answering from a dictionary of paths and texts, for tests.
public struct InMemoryLayoutReader: LayoutFileReader, Sendable, Hashable {
    /// The files.
    public var files: [String: String]

    /// Creates a reader.
    ///
    /// - Parameter files: The text of each path.
    public init(_ files: [String: String]) {
        self.files = files
    }

    /// The text of a known path.
    ///
    /// - Parameter path: The path.
    /// - Returns: The text.
    /// - Throws: ``LayoutLoadError`` when the path is unknown.
    public func text(ofFile path: String) throws -> String {
        guard let text = files[path] else {
            throw LayoutLoadError.unreadable(path)
        }
        return text
    }

    /// A known path is a file; a path that some known paths are in (`PATH/NAME`) is a folder.
    ///
    /// - Parameter path: The path.
    /// - Returns: Its kind.
    public func kind(ofPath path: String) -> LayoutPathKind {
        if files[path] != nil { return .regularFile }
        let prefix = path.hasSuffix("/") ? path : path + "/"
        return files.keys.contains { $0.hasPrefix(prefix) } ? .directory : .other
    }

    /// The names directly in a folder.
    ///
    /// - Parameters:
    ///   - path: The folder.
    ///   - maximumCount: The most names returned.
    /// - Returns: The names (a deeper path gives the name of its first folder).
    /// - Throws: ``LayoutLoadError`` when there are more than `maximumCount`.
    public func fileNames(inDirectory path: String, maximumCount: Int) throws -> [String] {
        let prefix = path.hasSuffix("/") ? path : path + "/"
        let names = Set(
            files.keys.filter { $0.hasPrefix(prefix) }.compactMap {
                $0.dropFirst(prefix.count).split(separator: "/").first.map(String.init)
            }
        )
        guard names.count <= maximumCount else { throw LayoutLoadError.tooManyEntries(path, limit: maximumCount) }
        return Array(names)
    }
}

/// An error thrown when an input cannot be loaded at all (as opposed to loading with issues).
public struct LayoutLoadError: Error, Sendable, Hashable {
    /// The kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// The file cannot be read.
        case unreadableFile
        /// The path names something other than a regular file (a directory, a device, a FIFO, a socket).
        case notRegularFile
        /// The file is larger than the limit (``LayoutLimits/maximumFileSize``).
        case fileTooLarge
        /// The format is not given and the file name does not tell it.
        case unknownFormat
    }

    /// The kind of problem.
    public var code: Code
    /// A one-line text for people.
    public var message: String
    /// The path involved.
    public var path: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: The text.
    ///   - path: The path.
    public init(_ code: Code, _ message: String, path: String) {
        self.code = code
        self.message = message
        self.path = path
    }
}

extension LayoutLoadError {
    /// The error for a file larger than `limit` bytes.
    static func tooLarge(_ path: String, limit: Int) -> LayoutLoadError {
        LayoutLoadError(
            .fileTooLarge,
            "cannot read file: \(path): larger than the limit of \(limit) bytes",
            path: path
        )
    }

    /// The error for a path that is not a regular file; `kind` says what it is.
    static func notRegular(_ path: String, kind: String) -> LayoutLoadError {
        LayoutLoadError(.notRegularFile, "cannot read file: \(path): not a regular file (\(kind))", path: path)
    }

    /// The error for a folder with more than `limit` entries.
    static func tooManyEntries(_ path: String, limit: Int) -> LayoutLoadError {
        LayoutLoadError(.unreadableFile, "cannot read folder: \(path): more than \(limit) entries", path: path)
    }

    /// The error for a file that cannot be opened or read.
    static func unreadable(_ path: String) -> LayoutLoadError {
        LayoutLoadError(.unreadableFile, "cannot read file: \(path)", path: path)
    }

    /// The same error naming `name` instead of the path it was read from.
    func naming(_ name: String) -> LayoutLoadError {
        let prefix = "cannot read file: " + path
        guard name != path, message.hasPrefix(prefix) else { return self }
        var renamed = self
        renamed.message = "cannot read file: " + name + message.dropFirst(prefix.count)
        renamed.path = name
        return renamed
    }
}

extension LayoutLoadError: CustomStringConvertible {
    /// The message.
    public var description: String { message }
}

import struct Foundation.Data
import struct Foundation.URL

/// The three files operators keep a cluster layout in.
public enum LayoutFormat: String, Sendable, Hashable, CaseIterable {
    /// ZeekControl's `node.cfg`.
    case nodeCfg = "node-cfg"
    /// A `cluster-layout.zeek` (or Bro's `cluster-layout.bro`) script.
    case layout
    /// A Management framework configuration in `zeek-client`'s INI form.
    case ini

    /// The format a file name implies: `*.cfg` is node.cfg, `*.zeek` and `*.bro` are layout scripts,
    /// `*.ini` is Management INI (case-insensitive); `nil` for anything else.
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
        } else {
            return nil
        }
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
}

/// Reads files with Foundation; relative paths are relative to the process's current directory, so
/// callers pass absolute paths.
public struct FileSystemLayoutReader: LayoutFileReader, Sendable, Hashable {
    /// Creates the reader.
    public init() {}

    /// Reads a file.
    ///
    /// - Parameter path: The path.
    /// - Returns: The text; invalid UTF-8 is replaced.
    /// - Throws: Foundation's error when the file cannot be read.
    public func text(ofFile path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return String(decoding: data, as: UTF8.self)
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
            throw LayoutLoadError(.unreadableFile, "cannot read file: \(path)", path: path)
        }
        return text
    }
}

/// An error thrown when an input cannot be loaded at all (as opposed to loading with issues).
public struct LayoutLoadError: Error, Sendable, Hashable {
    /// The kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// The file cannot be read.
        case unreadableFile
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

extension LayoutLoadError: CustomStringConvertible {
    /// The message.
    public var description: String { message }
}

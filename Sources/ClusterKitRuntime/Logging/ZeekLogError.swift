import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Why a log file could not be written: reported once per file (``LogDirectory``), after which the file's lines
/// are dropped.
public struct ZeekLogError: Error, Sendable, Hashable {
    /// The broad kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// The file could not be created or opened (a missing or unwritable directory, a symbolic link in its
        /// place, a file of another user).
        case cannotOpen
        /// Writing failed (such as a full disk).
        case cannotWrite
    }

    /// The broad kind of problem, for programs to branch on.
    public var code: Code
    /// The log file.
    public var path: String
    /// A short text for people, such as `cannot write: No space left on device`.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - path: The log file.
    ///   - message: The text for people.
    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }
}

extension ZeekLogError: CustomStringConvertible {
    /// The file followed by the message, as in `logs/cluster.log: cannot write: No space left on device`.
    public var description: String { "\(path): \(message)" }
}

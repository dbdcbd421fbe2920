/// One problem found in a cluster layout: how bad it is, what kind it is, what it says, and where it is.
///
/// Readers and ``LayoutValidator`` return issues as values, all at once; nothing stops at the first one.
/// The message names the node and the key where there is one, in ZeekControl's, `zeek-client`'s or the
/// Management controller's words where those tools have a message for the problem.
public struct ValidationIssue: Sendable, Hashable {
    /// How serious an issue is.
    public enum Severity: String, Sendable, Hashable, Comparable, CaseIterable {
        /// The layout works, but probably not as meant.
        case warning
        /// The layout is rejected (by ZeekControl, `zeek-client`, the controller or Zeek) or cannot work.
        case error

        /// Orders warnings before errors.
        ///
        /// - Parameters:
        ///   - lhs: A severity.
        ///   - rhs: Another severity.
        /// - Returns: Whether `lhs` is the milder.
        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .warning && rhs == .error }
    }

    /// How serious the issue is.
    public var severity: Severity
    /// The kind of issue, stable across releases, for programs to branch on.
    public var code: Code
    /// The text for people, naming the node and the key where there is one.
    public var message: String
    /// Where the issue is: the file, and the line when one applies.
    public var location: SourceLocation
    /// The node the issue is about, when there is one.
    public var node: String?
    /// The key (node.cfg or INI key, or record field) the issue is about, when there is one.
    public var key: String?

    /// Creates an issue.
    ///
    /// - Parameters:
    ///   - severity: How serious it is.
    ///   - code: The kind of issue.
    ///   - message: The text for people.
    ///   - location: The file and line.
    ///   - node: The node it is about.
    ///   - key: The key it is about.
    public init(
        _ severity: Severity,
        _ code: Code,
        _ message: String,
        at location: SourceLocation,
        node: String? = nil,
        key: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.node = node
        self.key = key
    }

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of issue.
    ///   - message: The text for people.
    ///   - location: The file and line.
    ///   - node: The node it is about.
    ///   - key: The key it is about.
    /// - Returns: The issue.
    public static func error(
        _ code: Code,
        _ message: String,
        at location: SourceLocation,
        node: String? = nil,
        key: String? = nil
    ) -> ValidationIssue {
        ValidationIssue(.error, code, message, at: location, node: node, key: key)
    }

    /// Creates a warning.
    ///
    /// - Parameters:
    ///   - code: The kind of issue.
    ///   - message: The text for people.
    ///   - location: The file and line.
    ///   - node: The node it is about.
    ///   - key: The key it is about.
    /// - Returns: The issue.
    public static func warning(
        _ code: Code,
        _ message: String,
        at location: SourceLocation,
        node: String? = nil,
        key: String? = nil
    ) -> ValidationIssue {
        ValidationIssue(.warning, code, message, at: location, node: node, key: key)
    }
}

extension ValidationIssue: CustomStringConvertible {
    /// One compiler-style line: `node.cfg:12: error: unknown node type 'wrker' given for node 'worker-3'`.
    ///
    /// Control characters in the file name or the message are written as escapes (`\n`, `\u{1f}`), so the text of
    /// a hostile file cannot break the line or drive a terminal: configparser continues a value on any following
    /// line that starts with whitespace, which to Python includes `\u{1c}` to `\u{1f}`, so a value quoted in a
    /// message can hold a line break. ``message`` keeps the text as it is.
    public var description: String {
        "\(location.description.escapingControlCharacters): \(severity.rawValue): \(message.escapingControlCharacters)"
    }
}

extension Sequence where Element == ValidationIssue {
    /// A Boolean value indicating whether any issue is an error.
    public var containsErrors: Bool { contains { $0.severity == .error } }

    /// The number of errors.
    public var errorCount: Int { reduce(0) { $0 + ($1.severity == .error ? 1 : 0) } }

    /// The number of warnings.
    public var warningCount: Int { reduce(0) { $0 + ($1.severity == .warning ? 1 : 0) } }
}

public import ClusterKitModel

/// The options of a `zeekctl.cfg` file as written: `Option = value` lines and `#` comments.
///
/// This is the file form: every option kept, names lower-cased as ZeekControl stores them, each with its
/// line. ``ZeekctlSettings/resolved(from:version:)`` turns it into the settings the generator uses.
public struct ZeekctlCfg: Sendable, Hashable {
    /// One `Option = value` line.
    public struct Option: Sendable, Hashable {
        /// The option's name, lower-cased (`zeekport`, `cluster_backend_zeromq.use_curve_encryption`).
        public var name: String
        /// The value, without surrounding white space.
        public var value: String
        /// Where it was given.
        public var location: SourceLocation

        /// Creates an option.
        ///
        /// - Parameters:
        ///   - name: The name (lower-cased here).
        ///   - value: The value.
        ///   - location: Where it was given.
        public init(name: String, value: String, location: SourceLocation) {
            self.name = name.lowercased()
            self.value = value
            self.location = location
        }
    }

    /// The options in order; a later one with the same name wins.
    public var options: [Option]
    /// Lines that are not options.
    public var issues: [ValidationIssue]

    /// Creates a set of options.
    ///
    /// - Parameter options: The options in order.
    public init(options: [Option] = []) {
        self.options = options
        self.issues = []
    }

    /// Reads zeekctl.cfg text as ZeekControl's `_read_config` does: lines are stripped, empty lines and
    /// lines starting with `#` skipped, the rest split at the first `=`.
    ///
    /// - Parameters:
    ///   - text: The text.
    ///   - file: The file name for locations.
    /// - Returns: The options and any malformed lines as issues.
    public static func parse(_ text: String, file: String) -> ZeekctlCfg {
        var cfg = ZeekctlCfg()
        for (offset, rawLine) in TextLines.split(text).enumerated() {
            let line = TextLines.strip(rawLine)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let location = SourceLocation(file: file, line: offset + 1)
            guard let equals = line.firstIndex(of: "=") else {
                cfg.issues.append(.error(.zeekctlSyntaxError, "zeekctl config syntax error: \(line)", at: location))
                continue
            }
            let name = String(TextLines.strip(line[..<equals]))
            let value = String(TextLines.strip(line[line.index(after: equals)...]))
            cfg.options.append(Option(name: name, value: value, location: location))
        }
        return cfg
    }

    /// Parses one `Option=value` assignment, as given on a command line.
    ///
    /// - Parameters:
    ///   - assignment: The text.
    ///   - source: A name for the location, such as `--set`.
    /// - Returns: The option, or `nil` when there is no `=` or no name.
    public static func option(_ assignment: String, source: String) -> Option? {
        guard let equals = assignment.firstIndex(of: "=") else { return nil }
        let name = TextLines.strip(Substring(assignment[..<equals]))
        guard !name.isEmpty else { return nil }
        let value = TextLines.strip(Substring(assignment[assignment.index(after: equals)...]))
        return Option(name: String(name), value: String(value), location: SourceLocation(file: source))
    }

    /// The last value given for an option, with its location.
    ///
    /// - Parameter name: The option's name, in any case.
    /// - Returns: The option, or `nil`.
    public func last(_ name: String) -> Option? {
        let key = name.lowercased()
        return options.last { $0.name == key }
    }
}

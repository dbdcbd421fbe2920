public import ClusterKitModel

/// A ZeekControl `node.cfg` as read by Python's configparser, before ZeekControl's checks and expansion.
///
/// Each `[section]` is one node (`[DEFAULT]` is merged into every section). Keys are lower-cased and `.`
/// becomes `_` (`lb.procs` is `lb_procs`). Keys ZeekControl does not know are dropped with a warning, as
/// ZeekControl does. Syntax that makes ZeekControl crash with a Python traceback (a repeated section or
/// key, a bare `%`, a line without `=`) becomes an ordinary located error.
public struct NodeCfg: Sendable, Hashable {
    /// One `[section]`: a node as written, before expansion.
    public struct Section: Sendable, Hashable {
        /// The node name, as written between the brackets.
        public var name: String
        /// The line of the `[name]` header.
        public var line: Int
        /// The recognised keys in `items()` order, with their interpolated values (`[DEFAULT]` merged in).
        public var fields: [Field]
        /// Problems found in this section while reading (unknown keys, bad interpolation), in order.
        public var issues: [ValidationIssue]

        /// The value of a key, or `""` when unset (ZeekControl's default for every key).
        ///
        /// - Parameter key: The key.
        public subscript(key: String) -> String { value(of: key) ?? "" }

        /// The value of a key, or `nil` when the key is not given.
        ///
        /// - Parameter key: The key.
        /// - Returns: The value.
        public func value(of key: String) -> String? { fields.first { $0.key == key }?.value }

        /// The line a key is on (for keys from `[DEFAULT]`, the line in `[DEFAULT]`), or `nil`.
        ///
        /// - Parameter key: The key.
        /// - Returns: The line.
        public func line(of key: String) -> Int? { fields.first { $0.key == key }?.line }
    }

    /// One recognised key of a section.
    public struct Field: Sendable, Hashable {
        /// The key, lower-cased, `.` replaced by `_`.
        public var key: String
        /// The interpolated value.
        public var value: String
        /// The line the key is on.
        public var line: Int
    }

    /// The file name used in locations.
    public var file: String
    /// The node sections in file order.
    public var sections: [Section]
    /// Syntax problems of the whole file, in line order.
    public var issues: [ValidationIssue]

    /// The keys ZeekControl 2.6 knows (`Node._keys`) plus those of its bundled plugins.
    public static let recognizedKeys: Set<String> = Set([
        "type", "host", "interface", "aux_scripts", "zeekbase", "ether", "zone_id", "lb_procs", "lb_method",
        "lb_interfaces", "pin_cpus", "env_vars", "count",
    ]).union(pluginKeys)

    /// The keys registered by ZeekControl's bundled plugins (`af_packet_*` and the test plugin's key).
    public static let pluginKeys: [String] = [
        "af_packet_block_size", "af_packet_block_timeout", "af_packet_buffer_size",
        "af_packet_checksum_validation_mode", "af_packet_enable_defrag", "af_packet_enable_fanout",
        "af_packet_enable_hw_timestamping", "af_packet_fanout_id", "af_packet_fanout_mode", "af_packet_link_type",
        "test_mykey",
    ]

    enum KeyKind: Sendable {
        case used
        case unused
    }

    /// Every recognised key and whether ZeekControl uses it (one lookup per key while reading).
    static let keyKinds: [String: KeyKind] = Dictionary(
        uniqueKeysWithValues: recognizedKeys.map { ($0, unusedKeys[$0] == nil ? KeyKind.used : .unused) }
    )

    /// Keys ZeekControl accepts but does not use.
    static let unusedKeys: [String: String] = [
        "zone_id": "unused since Bro 2.6", "zeekbase": "unused", "ether": "unused",
        "count": "always replaced by ZeekControl's own count",
    ]

    /// Reads node.cfg text.
    ///
    /// - Parameters:
    ///   - text: The text.
    ///   - file: The file name for locations.
    ///   - limits: The bounds on interpolation (``LayoutLimits/maximumInterpolatedValueSize``,
    ///     ``LayoutLimits/maximumInterpolatedTotalSize``); a value past them is an error and empty.
    /// - Returns: The sections and every reading problem.
    public static func parse(_ text: String, file: String, limits: LayoutLimits = .standard) -> NodeCfg {
        var document = ConfigParserDocument(parsing: text, file: file, allowsNoValue: false, limits: limits)
        var sections: [Section] = []
        sections.reserveCapacity(document.sections.count)
        var reportedDefaultProblems: Set<Int> = []
        let rawSections = document.sections
        for raw in rawSections {
            var section = Section(name: raw.name, line: raw.line, fields: [], issues: [])
            let (items, problems) = document.items(of: raw)
            for problem in problems {
                // A problem in [DEFAULT] is reported once, not once per node.
                if problem.node == nil, let line = problem.location.line {
                    guard reportedDefaultProblems.insert(line).inserted else { continue }
                }
                section.issues.append(problem)
            }
            for item in items {
                let key =
                    item.key.utf8.contains(UInt8(ascii: ".")) ? item.key.replacingOccurrences(".", with: "_") : item.key
                guard let kind = keyKinds[key] else {
                    let location = SourceLocation(file: file, line: item.line)
                    section.issues.append(
                        .warning(
                            .unknownKey,
                            "ignoring unrecognized node config option '\(key)' given for node '\(raw.name)'",
                            at: location,
                            node: raw.name,
                            key: key
                        )
                    )
                    continue
                }
                if kind == .unused, let why = unusedKeys[key], !(item.value ?? "").isEmpty {
                    let location = SourceLocation(file: file, line: item.line)
                    section.issues.append(
                        .warning(
                            .unusedKey,
                            "node config option '\(key)' given for node '\(raw.name)' is accepted but \(why)",
                            at: location,
                            node: raw.name,
                            key: key
                        )
                    )
                }
                section.fields.append(Field(key: key, value: item.value ?? "", line: item.line))
            }
            sections.append(section)
        }
        return NodeCfg(file: file, sections: sections, issues: document.issues)
    }
}

extension String {
    /// The string with every `target` replaced by `replacement` (no Foundation needed).
    func replacingOccurrences(_ target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}

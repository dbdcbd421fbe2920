public import ClusterKitModel

/// A Zeek 9 `zeek.conf` as read line by line by Zeek's `zeek-cluster-layout-generator` and
/// `zeek-systemd-generator` (their shared parser), before any key is interpreted.
///
/// The grammar (the generator's, see `Docs/zeek9.md`): the text is split at LF and each line loses its
/// trailing blanks; empty lines and lines whose first character is `#` are ignored; `[NAME]` starts a
/// section; a line starting with `_`, a digit or `a`-`z` that holds `=` is an option `key = value`; a line
/// starting with a blank continues the current option with one more value; anything else is an invalid line.
/// A repeated key in one section and a repeated section name are errors; reading stops at a repeated
/// section, as in Zeek. Interpretation of the keys is ``ZeekConfHost``'s.
public struct ZeekConf: Sendable, Hashable {
    /// One value of an option: the text after `=`, or one continuation line.
    public struct Value: Sendable, Hashable {
        /// The value, without leading and trailing blanks.
        public var text: String
        /// The 1-based line it is on.
        public var line: Int
    }

    /// One `key = value` option with its continuation lines.
    public struct Option: Sendable, Hashable {
        /// The key as written (trimmed; not lower-cased).
        public var key: String
        /// The 1-based line of `key = value`.
        public var line: Int
        /// The value after `=`, then one value per continuation line.
        public var values: [Value]

        /// The key lower-cased (ASCII only), as the generator compares it.
        public var normalizedKey: String { key.asciiLowercased }
        /// The first value (the text after `=`).
        public var value: String { values.first?.text ?? "" }
    }

    /// One section: the options before the first header (unnamed), or a `[NAME]` section.
    public struct Section: Sendable, Hashable {
        /// The name between the brackets, unchanged; `nil` for the unnamed section.
        public var name: String?
        /// The 1-based line of the header; `nil` for the unnamed section.
        public var line: Int?
        /// The options in file order.
        public var options: [Option]
    }

    /// The file name used in locations.
    public var file: String
    /// The sections kept (named ones, and the unnamed one when it has options), in file order.
    public var sections: [Section]
    /// The line errors (`invalid line`, `unexpected continuation line`, `duplicate option`,
    /// `duplicate section`), in line order; when there are any, the generator checks nothing else.
    public var issues: [ValidationIssue]

    /// Reads zeek.conf text.
    ///
    /// - Parameters:
    ///   - text: The text.
    ///   - file: The file name for locations.
    /// - Returns: The sections and every line error.
    public static func parse(_ text: String, file: String) -> ZeekConf {
        var sections: [Section] = []
        var issues: [ValidationIssue] = []
        var current = Section(name: nil, line: nil, options: [])
        var keys: Set<String> = []
        var currentOption: Int?
        var closedNames: Set<String> = []
        func suffix() -> String { current.name.map { " in section '\($0)'" } ?? "" }
        func close() {
            if current.name != nil || !current.options.isEmpty {
                sections.append(current)
                if let name = current.name { closedNames.insert(name) }
            }
        }
        var lineNumber = 0
        var reading = true
        let bytes = Array(text.utf8)
        var start = 0
        while reading && start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            defer { start = end + 1 }
            if end == bytes.count && start == bytes.count { break }
            var last = end
            while last > start && isBlank(bytes[last - 1]) { last -= 1 }
            let line = bytes[start..<last]
            guard let first = line.first, first != UInt8(ascii: "#") else { continue }
            if first == UInt8(ascii: "["), line.count >= 3, line.last == UInt8(ascii: "]") {
                let name = String(decoding: line.dropFirst().dropLast(), as: UTF8.self)
                close()
                if closedNames.contains(name) {
                    issues.append(
                        .error(
                            .duplicateSection,
                            "duplicate section '\(name)'",
                            at: SourceLocation(file: file, line: lineNumber)
                        )
                    )
                    reading = false
                    current = Section(name: nil, line: nil, options: [])
                    break
                }
                current = Section(name: name, line: lineNumber, options: [])
                keys = []
                currentOption = nil
                continue
            }
            let location = SourceLocation(file: file, line: lineNumber)
            if isOptionStart(first), let equals = line.firstIndex(of: UInt8(ascii: "=")) {
                let key = String(decoding: trimmed(line[line.startIndex..<equals]), as: UTF8.self)
                let value = String(decoding: trimmed(line[(equals + 1)...]), as: UTF8.self)
                guard keys.insert(key).inserted else {
                    issues.append(
                        .error(.duplicateKey, "duplicate option '\(key)'" + suffix(), at: location, key: key)
                    )
                    continue
                }
                current.options.append(
                    Option(key: key, line: lineNumber, values: [Value(text: value, line: lineNumber)])
                )
                currentOption = current.options.count - 1
                continue
            }
            let text = String(decoding: line, as: UTF8.self)
            if isBlank(first) {
                guard let currentOption else {
                    issues.append(
                        .error(.syntaxError, "unexpected continuation line '\(text)'" + suffix(), at: location)
                    )
                    continue
                }
                let value = String(decoding: trimmed(line), as: UTF8.self)
                current.options[currentOption].values.append(Value(text: value, line: lineNumber))
                continue
            }
            issues.append(.error(.syntaxError, "invalid line '\(text)'" + suffix(), at: location))
        }
        if reading { close() }
        return ZeekConf(file: file, sections: sections, issues: issues)
    }

    /// The blanks of the generator: space, tab, CR, LF, vertical tab and form feed.
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A || byte == 0x0B || byte == 0x0C
    }

    private static func isOptionStart(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isBlank(first) { slice = slice.dropFirst() }
        while let last = slice.last, isBlank(last) { slice = slice.dropLast() }
        return slice
    }
}

extension String {
    /// The string with ASCII `A`-`Z` lower-cased and every other character unchanged.
    var asciiLowercased: String {
        guard utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else { return self }
        return String(
            decoding: utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 },
            as: UTF8.self
        )
    }
}

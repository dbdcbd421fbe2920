import ClusterKitModel

/// An INI file read as Python's `configparser.ConfigParser` reads it (strict mode, `BasicInterpolation`),
/// with the line of every section and key, and every problem as an issue instead of an exception.
///
/// Both node.cfg (ZeekControl) and the Management INI (`zeek-client`, with `allow_no_value=True`) are read
/// this way. The rules: `#` and `;` start comment lines (also indented); inline comments stay in values;
/// keys are lower-cased; `=` or `:` separates key and value; lines indented deeper than their key continue
/// its value; empty lines inside a value are kept, trailing ones dropped; `[DEFAULT]` holds keys every
/// section inherits; `%(name)s` and `%%` are interpolated when values are read.
///
/// Interpolation is bounded: references nest at most ``LayoutLimits/maximumInterpolationDepth`` (10) deep,
/// as in Python, and the text it makes is counted against ``LayoutLimits/maximumInterpolatedValueSize`` per
/// value and ``LayoutLimits/maximumInterpolatedTotalSize`` per document, so that a chain of keys that each
/// repeat the one before cannot expand to gigabytes.
struct ConfigParserDocument: Sendable {
    /// One key of a section.
    struct Entry: Sendable {
        /// The key, lower-cased as configparser's `optionxform` does.
        var key: String
        /// The raw (uninterpolated) value; `nil` for a key without value (allowed only with `allowsNoValue`).
        var value: String?
        /// The line the key is on.
        var line: Int
    }

    /// One `[section]`.
    struct Section: Sendable {
        /// The name as written between the brackets.
        var name: String
        /// The line of the header (0 for an implicit `DEFAULT`).
        var line: Int
        /// The keys in file order.
        var entries: [Entry] = []
        /// Positions of the keys in `entries`, kept only for large sections (small ones are scanned, which
        /// is faster than hashing for the few short keys a section has).
        var positions: [String: Int] = [:]

        static let indexThreshold = 16

        func entry(_ key: String) -> Entry? {
            if entries.count > Self.indexThreshold { return positions[key].map { entries[$0] } }
            return entries.first { $0.key == key }
        }

        func position(_ key: String) -> Int? {
            if entries.count > Self.indexThreshold { return positions[key] }
            return entries.firstIndex { $0.key == key }
        }

        mutating func add(_ entry: Entry) {
            entries.append(entry)
            if entries.count == Self.indexThreshold + 1 {
                for (index, existing) in entries.enumerated() where positions[existing.key] == nil {
                    positions[existing.key] = index
                }
            } else if entries.count > Self.indexThreshold {
                positions[entry.key] = entries.count - 1
            }
        }
    }

    /// The file name used in issues.
    var file: String
    /// The `[DEFAULT]` section (empty when the file has none).
    var defaults: Section
    /// The other sections in file order.
    var sections: [Section] = []
    /// Problems found while reading (syntax only; interpolation problems come from ``items(of:)``).
    var issues: [ValidationIssue] = []
    /// The bounds on interpolation.
    let limits: LayoutLimits
    /// The interpolation budget left for the rest of the document, in bytes.
    private(set) var interpolationBudgetLeft: Int

    /// The section named `name`, if any.
    func section(named name: String) -> Section? { sections.first { $0.name == name } }

    /// Reads INI text.
    ///
    /// - Parameters:
    ///   - text: The file's text.
    ///   - file: The file name for issues.
    ///   - allowsNoValue: Whether a key without `=`/`:` is a key without value (Management INI) rather than
    ///     a syntax error (node.cfg).
    ///   - limits: The bounds on interpolation.
    init(parsing text: String, file: String, allowsNoValue: Bool, limits: LayoutLimits = .standard) {
        self.file = file
        self.limits = limits
        interpolationBudgetLeft = max(0, limits.maximumInterpolatedTotalSize)
        defaults = Section(name: "DEFAULT", line: 0)
        let bytes = Array(text.utf8)
        var sectionPositions: [String: Int] = [:]
        // nil: before any header; -1: DEFAULT; -2: a duplicate section being skipped; else an index.
        var current: Int?
        var currentKey: String?
        // The value being read: its first line, and any further lines (continuations and empty lines).
        var currentValue: String?
        var moreParts: [String] = []
        var indentLevel = 0
        var reportedMissingHeader = false

        func location(_ line: Int) -> SourceLocation { SourceLocation(file: file, line: line) }
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

        var lineNumber = 0
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != 0x0A && bytes[lineEnd] != 0x0D { lineEnd += 1 }
            var next = lineEnd
            if next < bytes.count {
                next += (bytes[next] == 0x0D && next + 1 < bytes.count && bytes[next + 1] == 0x0A) ? 2 : 1
            }
            lineNumber += 1
            defer { lineStart = next }
            let (first, indent) = ByteText.firstNonSpace(bytes, lineStart, lineEnd)
            let last = ByteText.endOfNonSpace(bytes, first, lineEnd)
            if first < last && (bytes[first] == UInt8(ascii: "#") || bytes[first] == UInt8(ascii: ";")) { continue }
            if first >= last {
                // An empty line belongs to the value being read, if that value is not "no value".
                if currentKey != nil, current != nil, currentValue != nil { moreParts.append("") }
                continue
            }
            if let key = currentKey, current != nil, indent > indentLevel {
                if currentValue != nil {
                    moreParts.append(string(first..<last))
                } else {
                    issues.append(
                        .error(
                            .syntaxError,
                            "continuation line for key '\(key)', which has no value",
                            at: location(lineNumber),
                            key: key
                        )
                    )
                }
                continue
            }
            // Flush the value of the key before.
            if let key = currentKey { flush(key, into: current, value: currentValue, more: moreParts) }
            currentKey = nil
            currentValue = nil
            moreParts.removeAll(keepingCapacity: true)
            indentLevel = indent
            if bytes[first] == UInt8(ascii: "["),
                let close = ByteText.lastIndex(of: UInt8(ascii: "]"), bytes, first, last),
                close > first + 1
            {
                let header = string(first + 1..<close)
                if header == "DEFAULT" {
                    current = -1
                } else if let existing = sectionPositions[header] {
                    issues.append(
                        .error(
                            .duplicateSection,
                            "section '\(header)' already exists (first defined on line \(sections[existing].line))",
                            at: location(lineNumber),
                            node: header
                        )
                    )
                    current = -2
                } else {
                    sectionPositions[header] = sections.count
                    sections.append(Section(name: header, line: lineNumber))
                    current = sections.count - 1
                }
                continue
            }
            guard let section = current else {
                if !reportedMissingHeader {
                    issues.append(
                        .error(
                            .missingSectionHeader,
                            "file contains no section headers: '\(string(first..<last))' comes before any '[section]' line",
                            at: location(lineNumber)
                        )
                    )
                    reportedMissingHeader = true
                }
                continue
            }
            var delimiter = first
            while delimiter < last && bytes[delimiter] != UInt8(ascii: "=") && bytes[delimiter] != UInt8(ascii: ":") {
                delimiter += 1
            }
            let nameEnd = ByteText.endOfNonSpace(bytes, first, delimiter)
            var value: String?
            if delimiter < last {
                let (valueStart, _) = ByteText.firstNonSpace(bytes, delimiter + 1, last)
                value = string(valueStart..<last)
            } else if !allowsNoValue {
                issues.append(
                    .error(
                        .syntaxError,
                        "line '\(string(first..<last))' is not a '[section]' header, a 'key = value' line or a comment",
                        at: location(lineNumber),
                        node: sectionName(section)
                    )
                )
                continue
            }
            guard first < nameEnd else {
                issues.append(
                    .error(
                        .syntaxError,
                        "line '\(string(first..<last))' has no key before '\(string(first..<first + 1))'",
                        at: location(lineNumber),
                        node: sectionName(section)
                    )
                )
                continue
            }
            let key = ByteText.lowercased(bytes, first, nameEnd)
            if let existing = existingEntry(key, in: section) {
                let owner = sectionName(section).map { " in section '\($0)'" } ?? ""
                issues.append(
                    .error(
                        .duplicateKey,
                        "key '\(key)'\(owner) already given on line \(existing.line)",
                        at: location(lineNumber),
                        node: section >= 0 ? sections[section].name : nil,
                        key: key
                    )
                )
                continue
            }
            if section == -2 { continue }
            let entry = Entry(key: key, value: nil, line: lineNumber)
            if section == -1 {
                defaults.add(entry)
            } else {
                sections[section].add(entry)
            }
            currentKey = key
            currentValue = value
        }
        if let key = currentKey { flush(key, into: current, value: currentValue, more: moreParts) }
    }

    private func sectionName(_ index: Int) -> String? {
        switch index {
        case -1: "DEFAULT"
        case -2: nil
        default: sections[index].name
        }
    }

    private func existingEntry(_ key: String, in index: Int) -> Entry? {
        switch index {
        case -1: defaults.entry(key)
        case -2: nil
        default: sections[index].entry(key)
        }
    }

    /// Joins the lines read for a key and stores the value (trailing empty lines dropped).
    private mutating func flush(_ key: String, into index: Int?, value: String?, more: [String]) {
        guard let index, let value else { return }
        var joined = value
        if !more.isEmpty {
            joined = ([value] + more).joined(separator: "\n")
            while let last = joined.unicodeScalars.last, TextLines.isSpace(last) { joined.unicodeScalars.removeLast() }
        }
        switch index {
        case -1:
            if let position = defaults.position(key) { defaults.entries[position].value = joined }
        case -2: break
        default:
            if let position = sections[index].position(key) { sections[index].entries[position].value = joined }
        }
    }
}

// MARK: - Reading values

extension ConfigParserDocument {
    /// A key's value as configparser's `items()` or `get()` returns it.
    struct Item: Sendable {
        /// The key.
        var key: String
        /// The interpolated value; `nil` for a key without value (or when interpolation failed).
        var value: String?
        /// Where the key is defined (its own section or `[DEFAULT]`).
        var line: Int
        /// A Boolean value indicating whether the key comes from `[DEFAULT]`.
        var isDefault: Bool
    }

    /// The keys of a section with `[DEFAULT]` merged in, in configparser's `items()` order (default keys
    /// first, then the section's own), values interpolated; interpolation problems become issues.
    mutating func items(of section: Section) -> (items: [Item], issues: [ValidationIssue]) {
        var items: [Item] = []
        items.reserveCapacity(defaults.entries.count + section.entries.count)
        for entry in defaults.entries {
            if let own = section.entry(entry.key) {
                items.append(Item(key: own.key, value: own.value, line: own.line, isDefault: false))
            } else {
                items.append(Item(key: entry.key, value: entry.value, line: entry.line, isDefault: true))
            }
        }
        for entry in section.entries where defaults.entries.isEmpty || defaults.entry(entry.key) == nil {
            items.append(Item(key: entry.key, value: entry.value, line: entry.line, isDefault: false))
        }
        var issues: [ValidationIssue] = []
        for position in items.indices {
            guard let raw = items[position].value, raw.utf8.contains(UInt8(ascii: "%")) else { continue }
            switch interpolateValue(raw, in: section) {
            case .success(let value):
                items[position].value = value
            case .failure(let problem):
                items[position].value = nil
                let owner = items[position].isDefault ? "DEFAULT" : section.name
                issues.append(
                    .error(
                        problem.code,
                        problem.message(key: items[position].key, section: owner),
                        at: SourceLocation(file: file, line: items[position].line),
                        node: items[position].isDefault ? nil : section.name,
                        key: items[position].key
                    )
                )
            }
        }
        return (items, issues)
    }

    /// Why a value could not be interpolated.
    struct InterpolationProblem: Error, Sendable {
        /// What is wrong: a bad `%`, nesting too deep, or text too long.
        var text: String
        /// ``ValidationIssue/Code/badInterpolation`` or ``ValidationIssue/Code/interpolationTooLarge``.
        var code: ValidationIssue.Code = .badInterpolation

        /// The issue's message for `key` of `section`.
        func message(key: String, section: String) -> String {
            switch code {
            case .interpolationTooLarge: "value of key '\(key)' in section '\(section)': \(text)"
            default: "bad '%' in value of key '\(key)' in section '\(section)': \(text) (write a literal '%' as '%%')"
            }
        }
    }

    /// Interpolates one value within the per-value and the document's budgets, and charges what it used to
    /// the document.
    private mutating func interpolateValue(_ value: String, in section: Section) -> Result<String, InterpolationProblem>
    {
        let perValue = max(0, limits.maximumInterpolatedValueSize)
        let totalIsTighter = interpolationBudgetLeft < perValue
        let budget = min(perValue, interpolationBudgetLeft)
        var left = budget
        let result = interpolate(value, in: section, depth: 1, budget: &left)
        interpolationBudgetLeft -= budget - left
        guard case .failure(var problem) = result, problem.code == .interpolationTooLarge else { return result }
        problem.text =
            totalIsTighter
            ? "interpolation would make more than \(limits.maximumInterpolatedTotalSize) bytes in this file "
                + "(LayoutLimits.maximumInterpolatedTotalSize)"
            : "interpolation would make it longer than \(perValue) bytes (LayoutLimits.maximumInterpolatedValueSize)"
        return .failure(problem)
    }

    /// configparser's `BasicInterpolation` of one value.
    ///
    /// `budget` is what the text made may still cost: every byte appended costs one, every `%(name)s`
    /// resolved costs its own length. Running out is an ``ValidationIssue/Code/interpolationTooLarge``
    /// problem, so the work is bounded whatever the references repeat.
    private func interpolate(
        _ value: String,
        in section: Section,
        depth: Int,
        budget: inout Int
    ) -> Result<String, InterpolationProblem> {
        let maximumDepth = LayoutLimits.maximumInterpolationDepth
        guard depth <= maximumDepth else {
            return .failure(InterpolationProblem(text: "references nest more than \(maximumDepth) deep (a loop?)"))
        }
        let tooLarge = InterpolationProblem(text: "", code: .interpolationTooLarge)
        func charge(_ cost: Int, _ budget: inout Int) -> Bool {
            guard cost <= budget else { return false }
            budget -= cost
            return true
        }
        var output = ""
        var rest = Substring(value)
        while !rest.isEmpty {
            guard let percent = rest.firstIndex(of: "%") else {
                guard charge(rest.utf8.count, &budget) else { return .failure(tooLarge) }
                output += rest
                break
            }
            guard charge(rest[..<percent].utf8.count, &budget) else { return .failure(tooLarge) }
            output += rest[..<percent]
            rest = rest[percent...]
            let next = rest.dropFirst().first
            if next == "%" {
                guard charge(1, &budget) else { return .failure(tooLarge) }
                output += "%"
                rest = rest.dropFirst(2)
            } else if next == "(" {
                let body = rest.dropFirst(2)
                guard let close = body.firstIndex(of: ")"), close > body.startIndex,
                    body[body.index(after: close)...].first == "s"
                else {
                    return .failure(InterpolationProblem(text: "bad reference '\(rest)'"))
                }
                let name = body[..<close].lowercased()
                guard charge(body[..<close].utf8.count + 4, &budget) else { return .failure(tooLarge) }
                rest = body[body.index(close, offsetBy: 2)...]
                let referenced = section.entry(name) ?? defaults.entry(name)
                guard let referenced else {
                    return .failure(InterpolationProblem(text: "'%(\(name))s' names no key of the section"))
                }
                let text = referenced.value ?? ""
                if text.utf8.contains(UInt8(ascii: "%")) {
                    switch interpolate(text, in: section, depth: depth + 1, budget: &budget) {
                    case .success(let value): output += value
                    case .failure(let problem): return .failure(problem)
                    }
                } else {
                    guard charge(text.utf8.count, &budget) else { return .failure(tooLarge) }
                    output += text
                }
            } else {
                return .failure(InterpolationProblem(text: "'%' must be followed by '%' or '(', found '\(rest)'"))
            }
        }
        return .success(output)
    }

    /// One key's value as `get(section, key, fallback=None)` returns it: `nil` when absent or without value.
    mutating func value(
        _ key: String,
        in section: Section
    ) -> (value: String?, line: Int?, problem: InterpolationProblem?) {
        guard let entry = section.entry(key) ?? defaults.entry(key) else { return (nil, nil, nil) }
        guard let raw = entry.value else { return (nil, entry.line, nil) }
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return (raw, entry.line, nil) }
        switch interpolateValue(raw, in: section) {
        case .success(let value): return (value, entry.line, nil)
        case .failure(let problem): return (nil, entry.line, problem)
        }
    }
}

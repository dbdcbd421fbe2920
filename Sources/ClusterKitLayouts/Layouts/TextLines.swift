import ClusterKitModel

/// Helpers for reading text line by line, with Python's notion of white space.
enum TextLines {
    /// The lines of `text`, split at `\n`, `\r\n` and `\r` (Python's universal newlines), without the breaks.
    ///
    /// A final line break does not start another line.
    static func split(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        var index = start
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                lines.append(Substring(text[start..<index]))
                var next = utf8.index(after: index)
                if byte == UInt8(ascii: "\r"), next != utf8.endIndex, utf8[next] == UInt8(ascii: "\n") {
                    next = utf8.index(after: next)
                }
                start = next
                index = next
            } else {
                index = utf8.index(after: index)
            }
        }
        if start != utf8.endIndex { lines.append(Substring(text[start..<utf8.endIndex])) }
        return lines
    }

    /// A Boolean value indicating whether a scalar is white space for Python's `str.strip()` and `str.split()`.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20, 0x09...0x0D, 0x1C...0x1F: true
        case 0x00...0x7F: false
        default: scalar.properties.isWhitespace
        }
    }

    /// `text` without leading and trailing white space, as Python's `str.strip()`.
    static func strip(_ text: Substring) -> Substring {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return text[text.endIndex...] }
        let last = scalars.lastIndex(where: { !isSpace($0) }) ?? first
        return Substring(scalars[first...last])
    }

    /// `text` without leading white space.
    static func stripLeading(_ text: Substring) -> Substring {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return text[text.endIndex...] }
        return Substring(scalars[first...])
    }

    /// `text` without trailing white space.
    static func stripTrailing(_ text: Substring) -> Substring {
        let scalars = text.unicodeScalars
        guard let last = scalars.lastIndex(where: { !isSpace($0) }) else {
            return text[text.startIndex..<text.startIndex]
        }
        return Substring(scalars[...last])
    }

    /// The number of scalars before the first non-space one (Python's indent level for configparser).
    static func indent(_ text: Substring) -> Int {
        var count = 0
        for scalar in text.unicodeScalars {
            if !isSpace(scalar) { return count }
            count += 1
        }
        return 0
    }

    /// Python's `str.split()` without arguments: runs of white space separate fields, none are empty.
    static func splitOnSpace(_ text: Substring) -> [Substring] {
        var fields: [Substring] = []
        var start: Substring.UnicodeScalarView.Index?
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index != scalars.endIndex {
            if isSpace(scalars[index]) {
                if let begin = start { fields.append(Substring(scalars[begin..<index])) }
                start = nil
            } else if start == nil {
                start = index
            }
            index = scalars.index(after: index)
        }
        if let begin = start { fields.append(Substring(scalars[begin..<scalars.endIndex])) }
        return fields
    }

    /// Python's `int(text)` for base 10: optional white space, an optional sign, ASCII digits with single
    /// underscores between them; `nil` when Python would raise `ValueError` or the value does not fit `Int`.
    static func pythonInt(_ text: Substring) -> Int? {
        guard let (value, overflow) = pythonIntParts(text), !overflow else { return nil }
        return value
    }

    /// Python's `int(text)` as ``pythonInt(_:)`` reads it, with values beyond `Int` clamped to its range.
    ///
    /// A value above `Int.max` becomes `Int.max` (below `Int.min`, `Int.min`) instead of `nil`, for range
    /// checks that must report a huge number as out of range rather than as not a number. `nil` only when
    /// Python would raise `ValueError`.
    static func pythonIntClamped(_ text: Substring) -> Int? {
        pythonIntParts(text)?.value
    }

    /// The value (clamped to `Int`'s range) and whether it overflowed, or `nil` for text Python rejects.
    private static func pythonIntParts(_ text: Substring) -> (value: Int, overflow: Bool)? {
        let stripped = strip(text)
        var bytes = stripped.utf8[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        guard let first = bytes.first, first != UInt8(ascii: "_") else { return nil }
        var value = 0
        var overflow = false
        var previousUnderscore = false
        for byte in bytes {
            if byte == UInt8(ascii: "_") {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            previousUnderscore = false
            guard !overflow else { continue }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 {
                overflow = true
            } else {
                value = sum
            }
        }
        if previousUnderscore { return nil }
        if overflow { return (negative ? .min : .max, true) }
        return (negative ? -value : value, false)
    }
}

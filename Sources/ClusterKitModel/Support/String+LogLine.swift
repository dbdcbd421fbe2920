extension String {
    /// The string with every control character written as a visible escape, so that text chosen by a
    /// client (a request id, a topic, a node name) cannot break a log line or drive a terminal.
    ///
    /// `\n`, `\r`, `\t` and NUL become `\n`, `\r`, `\t` and `\0`; every other control character (Unicode
    /// category Cc: C0, DEL and C1), and the line and paragraph separators U+2028 and U+2029, becomes
    /// `\u{…}` with its hexadecimal code, as in `\u{1b}`. Everything else, backslashes included, is kept.
    package var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: Self.needsEscape) else { return self }
        var escaped = ""
        escaped.reserveCapacity(utf8.count + 8)
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "\0": escaped += "\\0"
            default:
                if Self.needsEscape(scalar) {
                    escaped += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }
}

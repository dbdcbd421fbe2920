extension JSONValue {
    /// How JSON text is written: spacing, key order, and the number and string conventions of the program
    /// whose output is matched.
    public struct Style: Sendable, Hashable {
        enum Flavour: Sendable, Hashable {
            /// Zeek's `to_json` (RapidJSON): compact, raw UTF-8, reals like `1.5`, `1.0`, `1e-7`.
            case zeek
            /// Python's `json.dumps`: `ensure_ascii`, reals like `repr()`.
            case python
        }

        let flavour: Flavour
        /// Spaces per level; `nil` writes one line.
        public var indent: Int?
        /// A Boolean value indicating whether object keys are written in sorted order.
        public var sortsKeys: Bool

        /// Zeek's `to_json()` text: compact, members in order, raw UTF-8.
        public static let zeek = Style(flavour: .zeek, indent: nil, sortsKeys: false)

        /// Python's `json.dumps(value, sort_keys=sortKeys, indent=indent)`, as `zeek-client` prints.
        ///
        /// Without an indent, items are separated by `", "` and keys by `": "`; non-ASCII characters are
        /// escaped as `\uXXXX`.
        ///
        /// - Parameters:
        ///   - indent: Spaces per level, or `nil` for one line.
        ///   - sortKeys: Whether object keys are sorted.
        /// - Returns: The style.
        public static func python(indent: Int? = nil, sortKeys: Bool = false) -> Style {
            Style(flavour: .python, indent: indent, sortsKeys: sortKeys)
        }
    }

    /// The JSON text of this value in a style.
    ///
    /// - Parameter style: Spacing and conventions; default ``Style/zeek``.
    /// - Returns: The text.
    public func text(style: Style = .zeek) -> String {
        var writer = JSONTextWriter(style: style)
        writer.write(self, level: 0)
        return String(decoding: writer.output, as: UTF8.self)
    }
}

/// Writes ``JSONValue`` trees as text.
struct JSONTextWriter {
    let style: JSONValue.Style
    var output: [UInt8] = []

    init(style: JSONValue.Style) {
        self.style = style
        output.reserveCapacity(256)
    }

    mutating func write(_ value: JSONValue, level: Int) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .integer(let number): append(String(number))
        case .unsignedInteger(let number): append(String(number))
        case .double(let number):
            switch style.flavour {
            case .zeek: append(RealText.rapidJSON(number))
            case .python: append(RealText.pythonRepr(number))
            }
        case .string(let text): writeString(text)
        case .array(let elements):
            guard !elements.isEmpty else { return append("[]") }
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { writeItemSeparator() }
                writeNewline(level: level + 1)
                write(element, level: level + 1)
            }
            writeNewline(level: level)
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else { return append("{}") }
            let ordered =
                style.sortsKeys ? members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } : members
            output.append(UInt8(ascii: "{"))
            for (position, member) in ordered.enumerated() {
                if position > 0 { writeItemSeparator() }
                writeNewline(level: level + 1)
                writeString(member.key)
                output.append(UInt8(ascii: ":"))
                if style.flavour == .python { output.append(UInt8(ascii: " ")) }
                write(member.value, level: level + 1)
            }
            writeNewline(level: level)
            output.append(UInt8(ascii: "}"))
        }
    }

    private mutating func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }

    private mutating func writeItemSeparator() {
        output.append(UInt8(ascii: ","))
        if style.flavour == .python && style.indent == nil { output.append(UInt8(ascii: " ")) }
    }

    private mutating func writeNewline(level: Int) {
        guard let indent = style.indent else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
    }

    private static let hexLower: [UInt8] = Array("0123456789abcdef".utf8)
    private static let hexUpper: [UInt8] = Array("0123456789ABCDEF".utf8)

    private mutating func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        switch style.flavour {
        case .zeek:
            for byte in text.utf8 { writeEscaped(byte, hex: Self.hexUpper) }
        case .python:
            for unit in text.utf16 {
                if unit < 0x80 {
                    writeEscaped(UInt8(unit), hex: Self.hexLower)
                } else {
                    writeUnicodeEscape(unit, hex: Self.hexLower)
                }
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ byte: UInt8, hex: [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        case 0..<0x20: writeUnicodeEscape(UInt16(byte), hex: hex)
        default: output.append(byte)
        }
    }

    private mutating func writeUnicodeEscape(_ unit: UInt16, hex: [UInt8]) {
        output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) {
            output.append(hex[Int((unit >> UInt16(shift)) & 0xF)])
        }
    }
}

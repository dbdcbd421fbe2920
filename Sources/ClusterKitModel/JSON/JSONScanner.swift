/// A forward-only reader of JSON tokens over UTF-8 bytes.
///
/// The scanner is the shared lexical layer under ``JSONValue`` and the Broker JSON v1 decoder. It never
/// allocates except for the strings it returns, and reports every problem as a ``JSONError`` carrying the
/// byte offset. Callers keep the bytes alive for the scanner's lifetime (it holds an unsafe buffer).
///
/// Leniency, on purpose: inside strings it accepts the `\v` escape and raw control bytes, because Broker
/// writes both (PROTOCOL.md §2.2); everything else follows RFC 8259.
struct JSONScanner {
    /// The input bytes.
    let bytes: UnsafeBufferPointer<UInt8>
    /// The offset of the next unread byte.
    var index: Int
    /// Whether string contents must be checked for valid UTF-8 (false when the input came from a `String`).
    let validatesUTF8: Bool

    init(bytes: UnsafeBufferPointer<UInt8>, validatesUTF8: Bool) {
        self.bytes = bytes
        self.index = 0
        self.validatesUTF8 = validatesUTF8
    }

    /// A number token: where it is and what it looks like.
    struct Number {
        var start: Int
        var end: Int
        var isNegative: Bool
        var isInteger: Bool
        /// The magnitude, when `isInteger` and it fits in 64 bits.
        var magnitude: UInt64?
    }

    var isAtEnd: Bool { index >= bytes.count }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// The next byte after whitespace, without consuming it, or `nil` at the end.
    @inline(__always)
    mutating func peekToken() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    /// Consumes `byte` after whitespace or throws, naming what was expected.
    @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: @autoclosure () -> String) throws(JSONError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { throw unexpected(expected: what()) }
        index += 1
    }

    /// Consumes `byte` after whitespace if it is next.
    @inline(__always)
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return true
        }
        return false
    }

    /// An error for the byte at the current position.
    func unexpected(expected: String) -> JSONError {
        guard index < bytes.count else {
            return JSONError(.invalidJSON, "unexpected end of input, expected \(expected)", at: index)
        }
        return JSONError(
            .invalidJSON,
            "unexpected \(Self.describe(byte: bytes[index])), expected \(expected)",
            at: index
        )
    }

    static func describe(byte: UInt8) -> String {
        switch byte {
        case 0x20...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
        default: "byte 0x\(String(byte, radix: 16, uppercase: true))"
        }
    }

    /// The JSON type name of the value starting at the next token, for error messages.
    mutating func kindOfNextValue() -> String {
        switch peekToken() {
        case UInt8(ascii: "{"): "object"
        case UInt8(ascii: "["): "array"
        case UInt8(ascii: "\""): "string"
        case UInt8(ascii: "t"): hasLiteral("true") ? "boolean" : "invalid JSON"
        case UInt8(ascii: "f"): hasLiteral("false") ? "boolean" : "invalid JSON"
        case UInt8(ascii: "n"): hasLiteral("null") ? "null" : "invalid JSON"
        case UInt8(ascii: "-"), .some(UInt8(ascii: "0")...UInt8(ascii: "9")): "number"
        case nil: "end of input"
        default: "invalid JSON"
        }
    }

    // MARK: - Literals

    /// Whether `literal` starts at the current position.
    private func hasLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            return false
        }
        return true
    }

    /// Consumes `true` or `false`.
    mutating func parseBool() throws(JSONError) -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw unexpected(expected: "'true' or 'false'")
    }

    /// Consumes `null` or throws.
    mutating func parseNull() throws(JSONError) {
        skipWhitespace()
        guard matchLiteral("null") else { throw unexpected(expected: "'null'") }
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            return false
        }
        index += count
        return true
    }

    // MARK: - Strings

    /// The location of a string's contents, and whether it needs unescaping.
    struct RawString {
        /// The offset of the opening quote.
        var quote: Int
        /// The contents, between the quotes.
        var range: Range<Int>
        var hasEscapes: Bool
    }

    /// Consumes a string token and returns where its contents are, without decoding them.
    mutating func scanString() throws(JSONError) -> RawString {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw unexpected(expected: "a string")
        }
        let quote = index
        index += 1
        let start = index
        var hasEscapes = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let range = start..<index
                index += 1
                return RawString(quote: quote, range: range, hasEscapes: hasEscapes)
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index += 2
                continue
            }
            index += 1
        }
        throw JSONError(.invalidJSON, "unterminated string", at: quote)
    }

    /// Consumes a string token and returns its decoded text.
    mutating func parseString() throws(JSONError) -> String {
        let raw = try scanString()
        return try string(raw)
    }

    /// Whether a scanned string's raw contents equal `literal` (only valid for strings without escapes).
    @inline(__always)
    func rawString(_ raw: RawString, equals literal: StaticString) -> Bool {
        guard !raw.hasEscapes, raw.range.count == literal.utf8CodeUnitCount else { return false }
        let start = literal.utf8Start
        var offset = 0
        for position in raw.range {
            if bytes[position] != start[offset] { return false }
            offset += 1
        }
        return true
    }

    /// Decodes a scanned string's contents.
    func string(_ raw: RawString) throws(JSONError) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[raw.range])
        if !raw.hasEscapes {
            if validatesUTF8 {
                guard let text = String(validatingUTF8Bytes: slice) else {
                    throw JSONError(.invalidJSON, "string is not valid UTF-8", at: raw.quote)
                }
                return text
            }
            return String(decoding: slice, as: UTF8.self)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.range.count)
        var position = raw.range.lowerBound
        let end = raw.range.upperBound
        while position < end {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                decoded.append(byte)
                position += 1
                continue
            }
            guard position + 1 < end else {
                throw JSONError(.invalidJSON, "unterminated escape sequence", at: position)
            }
            let escaped = bytes[position + 1]
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escaped)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "v"): decoded.append(0x0B)  // Broker writes \v (not JSON); read it back.
            case UInt8(ascii: "u"):
                var scalarValue = try hexQuad(at: position + 2, end: end)
                var consumed = 6
                if (0xD800...0xDBFF).contains(scalarValue) {
                    guard position + 12 <= end, bytes[position + 6] == UInt8(ascii: "\\"),
                        bytes[position + 7] == UInt8(ascii: "u")
                    else {
                        throw JSONError(.invalidJSON, "unpaired UTF-16 surrogate in \\u escape", at: position)
                    }
                    let low = try hexQuad(at: position + 8, end: end)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw JSONError(.invalidJSON, "unpaired UTF-16 surrogate in \\u escape", at: position)
                    }
                    scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
                    consumed = 12
                } else if (0xDC00...0xDFFF).contains(scalarValue) {
                    throw JSONError(.invalidJSON, "unpaired UTF-16 surrogate in \\u escape", at: position)
                }
                guard let scalar = Unicode.Scalar(scalarValue) else {
                    throw JSONError(.invalidJSON, "invalid \\u escape", at: position)
                }
                if let encoded = UTF8.encode(scalar) { decoded.append(contentsOf: encoded) }
                position += consumed
                continue
            default:
                throw JSONError(.invalidJSON, "invalid escape '\\\(Self.printable(escaped))'", at: position)
            }
            position += 2
        }
        if validatesUTF8 {
            guard let text = String(validatingUTF8Bytes: decoded) else {
                throw JSONError(.invalidJSON, "string is not valid UTF-8", at: raw.quote)
            }
            return text
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    private static func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(Character(Unicode.Scalar(byte))) : "\\u{\(String(byte, radix: 16))}"
    }

    private func hexQuad(at position: Int, end: Int) throws(JSONError) -> UInt32 {
        guard position + 4 <= end else { throw JSONError(.invalidJSON, "truncated \\u escape", at: position - 2) }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[position + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONError(.invalidJSON, "invalid hex digit in \\u escape", at: position + offset)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    // MARK: - Numbers

    /// Consumes a number token following RFC 8259's grammar.
    mutating func scanNumber() throws(JSONError) -> Number {
        skipWhitespace()
        let start = index
        var isNegative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            isNegative = true
            index += 1
        }
        guard index < bytes.count, Self.isDigit(bytes[index]) else {
            index = start
            throw unexpected(expected: "a number")
        }
        var magnitude: UInt64? = 0
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, Self.isDigit(bytes[index]) {
                throw JSONError(.invalidJSON, "number has a leading zero", at: start)
            }
        } else {
            while index < bytes.count, Self.isDigit(bytes[index]) {
                let digit = UInt64(bytes[index] - UInt8(ascii: "0"))
                if let current = magnitude {
                    let (times, overflow1) = current.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times.addingReportingOverflow(digit)
                    magnitude = overflow1 || overflow2 ? nil : sum
                }
                index += 1
            }
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, Self.isDigit(bytes[index]) else {
                throw JSONError(.invalidJSON, "number has no digits after '.'", at: start)
            }
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, Self.isDigit(bytes[index]) else {
                throw JSONError(.invalidJSON, "number has no digits in its exponent", at: start)
            }
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        return Number(
            start: start,
            end: index,
            isNegative: isNegative,
            isInteger: isInteger,
            magnitude: isInteger ? magnitude : nil
        )
    }

    /// The text of a scanned number.
    func text(of number: Number) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[number.start..<number.end]), as: UTF8.self)
    }

    /// The value of a scanned number as a `Double` (JSON's grammar is a subset of Swift's).
    func double(of number: Number) -> Double {
        if number.isInteger, let magnitude = number.magnitude, magnitude < 1 << 53 {
            let value = Double(magnitude)
            return number.isNegative ? -value : value
        }
        return Double(text(of: number)) ?? .nan
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    // MARK: - Skipping

    /// Consumes one complete value of any type, checking that it is well-formed.
    mutating func skipValue(depth: Int, maximumDepth: Int) throws(JSONError) {
        switch peekToken() {
        case UInt8(ascii: "{"):
            guard depth < maximumDepth else { throw nestingTooDeep(maximumDepth) }
            index += 1
            if consume(UInt8(ascii: "}")) { return }
            repeat {
                _ = try scanString()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                try skipValue(depth: depth + 1, maximumDepth: maximumDepth)
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
        case UInt8(ascii: "["):
            guard depth < maximumDepth else { throw nestingTooDeep(maximumDepth) }
            index += 1
            if consume(UInt8(ascii: "]")) { return }
            repeat {
                try skipValue(depth: depth + 1, maximumDepth: maximumDepth)
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"), "',' or ']' in an array")
        case UInt8(ascii: "\""):
            let raw = try scanString()
            if validatesUTF8 || raw.hasEscapes { _ = try string(raw) }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try parseBool()
        case UInt8(ascii: "n"):
            try parseNull()
        default:
            _ = try scanNumber()
        }
    }

    func nestingTooDeep(_ maximumDepth: Int) -> JSONError {
        JSONError(.nestingTooDeep, "nesting deeper than the limit of \(maximumDepth) levels", at: index)
    }

    /// Throws unless only whitespace is left.
    mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        guard index >= bytes.count else {
            throw JSONError(.invalidJSON, "unexpected \(Self.describe(byte: bytes[index])) after the value", at: index)
        }
    }
}

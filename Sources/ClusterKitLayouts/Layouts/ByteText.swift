import ClusterKitModel

/// Fast helpers over UTF-8 bytes with Python's notion of white space (ASCII fast path, full Unicode
/// white space at the edges).
enum ByteText {
    /// The scalar starting at `index` and its length in bytes (a malformed byte counts as one scalar).
    static func scalar(_ bytes: [UInt8], _ index: Int, _ end: Int) -> (Unicode.Scalar, Int) {
        let lead = bytes[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        guard length > 1, index + length <= end else { return (Unicode.Scalar(0xFFFD) ?? " ", 1) }
        var value = UInt32(lead) & (0xFF >> (length + 1))
        for offset in 1..<length { value = value << 6 | UInt32(bytes[index + offset] & 0x3F) }
        return (Unicode.Scalar(value) ?? Unicode.Scalar(0xFFFD) ?? " ", length)
    }

    static func isASCIISpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) || (byte >= 0x1C && byte <= 0x1F)
    }

    /// The index of the first non-space byte in `start..<end` and the number of space scalars before it.
    static func firstNonSpace(_ bytes: [UInt8], _ start: Int, _ end: Int) -> (index: Int, indent: Int) {
        var index = start
        var indent = 0
        while index < end {
            let byte = bytes[index]
            if byte < 0x80 {
                guard isASCIISpace(byte) else { return (index, indent) }
                index += 1
            } else {
                let (scalar, length) = scalar(bytes, index, end)
                guard TextLines.isSpace(scalar) else { return (index, indent) }
                index += length
            }
            indent += 1
        }
        return (end, 0)
    }

    /// The end of `start..<end` without trailing white space.
    static func endOfNonSpace(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Int {
        var last = end
        while last > start {
            let byte = bytes[last - 1]
            if byte < 0x80 {
                guard isASCIISpace(byte) else { return last }
                last -= 1
            } else {
                var lead = last - 1
                while lead > start && bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
                let (scalar, _) = scalar(bytes, lead, last)
                guard TextLines.isSpace(scalar) else { return last }
                last = lead
            }
        }
        return start
    }

    /// The last index of `byte` in `start..<end`.
    static func lastIndex(of byte: UInt8, _ bytes: [UInt8], _ start: Int, _ end: Int) -> Int? {
        var index = end - 1
        while index >= start {
            if bytes[index] == byte { return index }
            index -= 1
        }
        return nil
    }

    /// The bytes as a lower-cased string (ASCII fast path, Unicode lower-casing otherwise).
    static func lowercased(_ bytes: [UInt8], _ start: Int, _ end: Int) -> String {
        var ascii = true
        var hasUpper = false
        for index in start..<end {
            let byte = bytes[index]
            if byte >= 0x80 { ascii = false }
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { hasUpper = true }
        }
        guard ascii else { return String(decoding: bytes[start..<end], as: UTF8.self).lowercased() }
        guard hasUpper else { return String(decoding: bytes[start..<end], as: UTF8.self) }
        return String(
            decoding: bytes[start..<end].map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 },
            as: UTF8.self
        )
    }
}

/// The escaping and number texts of Zeek's log writers, byte for byte (Zeek 8: `ODesc::AddBytes`,
/// `util::escape_utf8`, `threading::Formatter::Render(double)`, RapidJSON's string writer).
enum ZeekLogText {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Two lower-case hexadecimal digits, as Zeek's `bytetohex`.
    static func hex(_ byte: UInt8) -> String {
        String(decoding: [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    private static func appendHex(_ byte: UInt8, to out: inout [UInt8]) {
        out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
    }

    // MARK: - Numbers

    /// Seconds with exactly six decimals, rounded half away from zero, as Zeek's `Render(double)` writes
    /// `time` and `interval` values (`1796416860.123456`).
    static func fixedSixDecimals(attoseconds: Int128) -> String {
        let isNegative = attoseconds < 0
        let magnitude = isNegative ? -attoseconds : attoseconds
        let micro = (magnitude + 500_000_000_000) / 1_000_000_000_000
        let whole = micro / 1_000_000
        let fraction = String(micro % 1_000_000)
        let sign = isNegative && micro != 0 ? "-" : ""
        return sign + String(whole) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// The `Double` nearest to a time in seconds given in attoseconds.
    static func seconds(attoseconds: Int128) -> Double {
        let isNegative = attoseconds < 0
        let magnitude = isNegative ? -attoseconds : attoseconds
        let fraction = String(magnitude % 1_000_000_000_000_000_000)
        let text =
            (isNegative ? "-" : "") + String(magnitude / 1_000_000_000_000_000_000) + "."
            + String(repeating: "0", count: 18 - fraction.count) + fraction
        return Double(text) ?? 0
    }

    // MARK: - ASCII strings

    /// Appends a string value as Zeek's ASCII formatter writes it with Zeek's defaults (separator tab,
    /// `(empty)`, `-`, UTF-8 enabled).
    static func appendASCIIString(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        if bytes.isEmpty {
            out += Array("(empty)".utf8)
            return
        }
        var start = bytes.startIndex
        // A value equal to the unset or empty marker has its first byte escaped.
        if bytes.elementsEqual("-".utf8) || bytes.elementsEqual("(empty)".utf8) {
            appendHex(bytes[start], to: &out)
            start += 1
        }
        // `ODesc::AddBytes` with escaping on: runs between backslashes and separators go through
        // `escape_utf8` with every control escaped; a backslash is `\\`, a tab `\x09`.
        var runStart = start
        var index = start
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\t") {
                out += escapeUTF8(bytes[runStart..<index], escapingPrintableControls: true)
                if byte == UInt8(ascii: "\\") {
                    out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                } else {
                    appendHex(byte, to: &out)
                }
                runStart = index + 1
            }
            index += 1
        }
        out += escapeUTF8(bytes[runStart..<bytes.endIndex], escapingPrintableControls: true)
    }

    // MARK: - escape_utf8

    /// Zeek's `util::escape_utf8` with `ESCAPE_UNPRINTABLE_CONTROLS` (and `ESCAPE_PRINTABLE_CONTROLS` when
    /// `escapingPrintableControls`: `\b`, `\f`, `\n`, `\r`, `\t`).
    ///
    /// Printable ASCII stays. The first byte that is a control character, a C1 control, a private-use or
    /// U+FFF0–U+FFFF character, or not UTF-8 turns the whole result into its escaped form, in which every byte
    /// other than printable ASCII (and the printable controls, when kept) is `\xNN`, valid UTF-8 included.
    static func escapeUTF8(_ bytes: ArraySlice<UInt8>, escapingPrintableControls: Bool) -> [UInt8] {
        var plain: [UInt8] = []
        plain.reserveCapacity(bytes.count)
        var escaped: [UInt8] = []
        var isBad = false
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            let keptControl = !escapingPrintableControls && [0x08, 0x0C, 0x0A, 0x0D, 0x09].contains(byte)
            if (byte >= 32 && byte < 127) || keptControl {
                if !isBad { plain.append(byte) }
                escaped.append(byte)
                index += 1
                continue
            }
            if isBad {
                appendHex(byte, to: &escaped)
                index += 1
                continue
            }
            let size = sequenceLength(lead: byte)
            guard index + size <= bytes.endIndex, isAcceptable(bytes[index..<index + size]) else {
                isBad = true
                appendHex(byte, to: &escaped)
                index += 1
                continue
            }
            for offset in 0..<size { appendHex(bytes[index + offset], to: &escaped) }
            plain += bytes[index..<index + size]
            index += size
        }
        return isBad ? escaped : plain
    }

    /// The length of the UTF-8 sequence a byte starts, from Unicode's `trailingBytesForUTF8` table (1 for a
    /// stray continuation byte).
    private static func sequenceLength(lead: UInt8) -> Int {
        switch lead {
        case 0xC0...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF7: 4
        case 0xF8...0xFB: 5
        case 0xFC...0xFF: 6
        default: 1
        }
    }

    /// Zeek's `check_ok_utf8`: a legal sequence (`isLegalUTF8`, strict conversion) of a character that is no
    /// control, private-use (U+E000–U+F8FF) or special (U+FFF0–U+FFFF) character.
    private static func isAcceptable(_ sequence: ArraySlice<UInt8>) -> Bool {
        guard let lead = sequence.first else { return false }
        let trailing = sequence.dropFirst()
        var scalar: UInt32
        switch sequence.count {
        case 1:
            guard lead < 0x80 else { return false }
            scalar = UInt32(lead)
        case 2...4:
            guard lead >= 0xC2, lead <= 0xF4, trailing.allSatisfy({ $0 & 0xC0 == 0x80 }) else { return false }
            let second = sequence[sequence.startIndex + 1]
            switch lead {
            case 0xE0: guard second >= 0xA0 else { return false }
            case 0xED: guard second <= 0x9F else { return false }
            case 0xF0: guard second >= 0x90 else { return false }
            case 0xF4: guard second <= 0x8F else { return false }
            default: break
            }
            let leadBits: UInt8 = sequence.count == 2 ? 0x1F : (sequence.count == 3 ? 0x0F : 0x07)
            scalar = UInt32(lead & leadBits)
            for byte in trailing { scalar = scalar << 6 | UInt32(byte & 0x3F) }
        default:
            return false
        }
        switch scalar {
        case 0...0x1F, 0x7F, 0x80...0x9F, 0xE000...0xF8FF, 0xFFF0...0xFFFF: return false
        default: return true
        }
    }

    // MARK: - JSON strings

    /// Appends a JSON string as RapidJSON's `Writer::String` writes it: `"` and `\` escaped, `\b`, `\t`, `\n`,
    /// `\f`, `\r` as short escapes, other control characters as `\u00XX` (upper-case hex), everything else
    /// as it is.
    static func appendJSONString(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        let upperHex = Array("0123456789ABCDEF".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0..<0x20:
                out += Array("\\u00".utf8) + [upperHex[Int(byte >> 4)], upperHex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

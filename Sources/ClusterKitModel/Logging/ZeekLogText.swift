/// The escaping and number texts of Zeek's log writers, byte for byte (Zeek 8: `ODesc::AddBytes`,
/// `util::escape_utf8`, `threading::Formatter::Render(double)`, RapidJSON's string writer).
///
/// Every function appends to an output buffer; text that needs no escaping is copied as it is in one go.
enum ZeekLogText {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let upperHexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Two lower-case hexadecimal digits, as Zeek's `bytetohex`.
    static func hex(_ byte: UInt8) -> String {
        String(decoding: [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    private static func appendHex(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0F)])
    }

    // MARK: - Numbers

    /// Appends the decimal digits of a non-negative number, at least `width` of them.
    private static func appendDigits(_ value: UInt64, width: Int = 1, to out: inout [UInt8]) {
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0 || count < width
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    /// Appends seconds with exactly six decimals, rounded half away from zero, as Zeek's `Render(double)`
    /// writes `time` and `interval` values (`1796416860.123456`).
    static func appendFixedSixDecimals(nanoseconds: Int64, to out: inout [UInt8]) {
        let magnitude = nanoseconds.magnitude
        let micro = magnitude / 1_000 + (magnitude % 1_000 >= 500 ? 1 : 0)
        if nanoseconds < 0, micro != 0 { out.append(UInt8(ascii: "-")) }
        appendDigits(micro / 1_000_000, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(micro % 1_000_000, width: 6, to: &out)
    }

    /// The nanoseconds of a duration, clamped to the range of `Int64`.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, overflowAgain) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        guard !overflow, !overflowAgain else { return seconds < 0 ? .min : .max }
        return sum
    }

    /// A time in seconds as a `Double`, computed as Zeek computes its times (whole seconds plus the fraction).
    static func seconds(nanoseconds: Int64) -> Double {
        var (whole, fraction) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        if fraction < 0 {
            whole -= 1
            fraction += 1_000_000_000
        }
        return Double(whole) + Double(fraction) / 1e9
    }

    // MARK: - ASCII strings

    /// Appends a string value as Zeek's ASCII formatter writes it with Zeek's defaults (separator tab,
    /// `(empty)`, `-`, UTF-8 enabled).
    static func appendASCIIString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        if bytes.isEmpty {
            out += "(empty)".utf8
            return
        }
        var start = 0
        // A value equal to the unset or empty marker has its first byte escaped.
        if bytes.elementsEqual("-".utf8) || bytes.elementsEqual("(empty)".utf8) {
            appendHex(bytes[0], to: &out)
            start = 1
        }
        // `ODesc::AddBytes` with escaping on: runs between backslashes and separators go through
        // `escape_utf8` with every control escaped; a backslash is `\\`, a tab `\x09`.
        var runStart = start
        for index in start..<bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\t") else { continue }
            appendEscapedUTF8(bytes, runStart..<index, escapingPrintableControls: true, to: &out)
            if byte == UInt8(ascii: "\\") {
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "\\"))
            } else {
                appendHex(byte, to: &out)
            }
            runStart = index + 1
        }
        appendEscapedUTF8(bytes, runStart..<bytes.count, escapingPrintableControls: true, to: &out)
    }

    // MARK: - escape_utf8

    /// Appends Zeek's `util::escape_utf8` of `bytes[range]` with `ESCAPE_UNPRINTABLE_CONTROLS` (and
    /// `ESCAPE_PRINTABLE_CONTROLS` when `escapingPrintableControls`: `\b`, `\f`, `\n`, `\r`, `\t`).
    ///
    /// Printable ASCII stays. The first byte that is a control character, a C1 control, a private-use or
    /// U+FFF0–U+FFFF character, or not UTF-8 turns the whole result into its escaped form, in which every byte
    /// other than printable ASCII (and the printable controls, when kept) is `\xNN`, valid UTF-8 included.
    static func appendEscapedUTF8(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        escapingPrintableControls: Bool,
        to out: inout [UInt8]
    ) {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        if !needsEscape(slice, escapingPrintableControls: escapingPrintableControls) {
            out += slice
            return
        }
        var isBad = false
        var index = 0
        while index < slice.count {
            let byte = slice[index]
            if isPlain(byte, escapingPrintableControls: escapingPrintableControls) {
                out.append(byte)
                index += 1
                continue
            }
            if isBad {
                appendHex(byte, to: &out)
                index += 1
                continue
            }
            let size = sequenceLength(lead: byte)
            guard index + size <= slice.count, isAcceptable(slice, index, size) else {
                isBad = true
                appendHex(byte, to: &out)
                index += 1
                continue
            }
            for offset in 0..<size { appendHex(slice[index + offset], to: &out) }
            index += size
        }
    }

    private static func isPlain(_ byte: UInt8, escapingPrintableControls: Bool) -> Bool {
        if byte >= 32 && byte < 127 { return true }
        guard !escapingPrintableControls else { return false }
        return byte == 0x08 || byte == 0x0C || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Whether `escape_utf8` changes the text: it holds a byte that is not plain and is not part of an
    /// acceptable UTF-8 character.
    private static func needsEscape(_ bytes: UnsafeBufferPointer<UInt8>, escapingPrintableControls: Bool) -> Bool {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if isPlain(byte, escapingPrintableControls: escapingPrintableControls) {
                index += 1
                continue
            }
            let size = sequenceLength(lead: byte)
            guard index + size <= bytes.count, isAcceptable(bytes, index, size) else { return true }
            index += size
        }
        return false
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

    /// Zeek's `check_ok_utf8` of `bytes[start..<start + count]`: a legal sequence (`isLegalUTF8`, strict
    /// conversion) of a character that is no control, private-use (U+E000–U+F8FF) or special (U+FFF0–U+FFFF)
    /// character.
    private static func isAcceptable(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Bool {
        let lead = bytes[start]
        var scalar: UInt32
        switch count {
        case 1:
            guard lead < 0x80 else { return false }
            scalar = UInt32(lead)
        case 2...4:
            guard lead >= 0xC2, lead <= 0xF4 else { return false }
            for offset in 1..<count where bytes[start + offset] & 0xC0 != 0x80 { return false }
            let second = bytes[start + 1]
            switch lead {
            case 0xE0: guard second >= 0xA0 else { return false }
            case 0xED: guard second <= 0x9F else { return false }
            case 0xF0: guard second >= 0x90 else { return false }
            case 0xF4: guard second <= 0x8F else { return false }
            default: break
            }
            let leadBits: UInt8 = count == 2 ? 0x1F : (count == 3 ? 0x0F : 0x07)
            scalar = UInt32(lead & leadBits)
            for offset in 1..<count { scalar = scalar << 6 | UInt32(bytes[start + offset] & 0x3F) }
        default:
            return false
        }
        switch scalar {
        case 0...0x1F, 0x7F, 0x80...0x9F, 0xE000...0xF8FF, 0xFFF0...0xFFFF: return false
        default: return true
        }
    }

    // MARK: - JSON strings

    /// Appends a JSON string of Zeek's JSON writer: `escape_utf8` with `ESCAPE_UNPRINTABLE_CONTROLS`, then
    /// RapidJSON's `Writer::String`.
    static func appendJSONString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard needsEscape(bytes, escapingPrintableControls: false) else {
            appendRapidJSONString(bytes, to: &out)
            return
        }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(bytes.count + 16)
        appendEscapedUTF8(bytes, 0..<bytes.count, escapingPrintableControls: false, to: &escaped)
        escaped.withUnsafeBufferPointer { appendRapidJSONString($0, to: &out) }
    }

    /// Appends a JSON string as RapidJSON's `Writer::String` writes it: `"` and `\` escaped, `\b`, `\t`, `\n`,
    /// `\f`, `\r` as short escapes, other control characters as `\u00XX` (upper-case hex), everything else
    /// as it is.
    static func appendRapidJSONString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            out += UnsafeBufferPointer(rebasing: bytes[runStart..<index])
            runStart = index + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            default:
                out += "u00".utf8
                out.append(upperHexDigits[Int(byte >> 4)])
                out.append(upperHexDigits[Int(byte & 0x0F)])
            }
        }
        out += UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count])
        out.append(UInt8(ascii: "\""))
    }
}

/// Text forms of `Double` in the conventions of the programs ClusterKit must match byte for byte.
///
/// Every form starts from the shortest digit string that reads back to the same `Double` (the digits
/// Swift's `description` and Python's `repr` both produce) and differs only in layout.
enum RealText {
    /// The shortest round-trip digits of a finite value: `value = 0.DIGITS × 10^pointPosition`.
    struct Digits {
        var isNegative: Bool
        /// ASCII digits without leading or trailing zeros; `"0"` for zero.
        var digits: [UInt8]
        /// Where the decimal point goes, counted from the left of `digits`.
        var pointPosition: Int
    }

    /// The shortest digits of a finite value.
    static func digits(of value: Double) -> Digits {
        let text = value.description
        var isNegative = false
        var mantissa = Substring(text)
        var exponent = 0
        if mantissa.first == "-" {
            isNegative = true
            mantissa = mantissa.dropFirst()
        }
        if let marker = mantissa.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(mantissa[mantissa.index(after: marker)...]) ?? 0
            mantissa = mantissa[..<marker]
        }
        var digits: [UInt8] = []
        var pointPosition = 0
        var seenPoint = false
        for byte in mantissa.utf8 {
            if byte == UInt8(ascii: ".") {
                seenPoint = true
                continue
            }
            digits.append(byte)
            if !seenPoint { pointPosition += 1 }
        }
        pointPosition += exponent
        while digits.count > 1, digits.first == UInt8(ascii: "0") {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.count > 1, digits.last == UInt8(ascii: "0") {
            digits.removeLast()
        }
        if digits == [UInt8(ascii: "0")] { pointPosition = 1 }
        return Digits(isNegative: isNegative, digits: digits, pointPosition: pointPosition)
    }

    /// Broker JSON v1 as ClusterKit writes it: shortest round-trip text that always has a decimal point
    /// (`1.0`, `1.5`, `1.0e-07`), and Zeek's `nan`, `inf`, `-inf` for values JSON cannot carry.
    static func broker(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        let text = value.description
        guard !text.contains(".") else { return text }
        if let marker = text.firstIndex(of: "e") {
            return text[..<marker] + ".0" + text[marker...]
        }
        return text + ".0"
    }

    /// Python's `repr(float)` as `json.dumps` writes it (`1.0`, `1e-05`, `1e+16`, `NaN`, `Infinity`).
    static func pythonRepr(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity") }
        let parts = digits(of: value)
        let sign = parts.isNegative ? "-" : ""
        let decimalPoint = parts.pointPosition
        if decimalPoint <= -4 || decimalPoint > 16 {
            return sign + scientific(parts, exponentSign: true, minimumExponentDigits: 2)
        }
        return sign + fixed(parts)
    }

    /// RapidJSON's `Writer::Double`, which Zeek's `to_json` uses (`1.0`, `0.001234`, `1e-7`, `1e21`).
    static func rapidJSON(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        let parts = digits(of: value)
        let sign = parts.isNegative ? "-" : ""
        // RapidJSON's Prettify: positional from 1e-6 up to 1e21, scientific outside.
        if parts.pointPosition > -6 && parts.pointPosition <= 21 { return sign + fixed(parts) }
        return sign + scientific(parts, exponentSign: false, minimumExponentDigits: 1)
    }

    /// Plain positional notation with at least one digit after the point.
    private static func fixed(_ parts: Digits) -> String {
        var out = ""
        let digits = String(decoding: parts.digits, as: UTF8.self)
        let point = parts.pointPosition
        if point <= 0 {
            out = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= parts.digits.count {
            out = digits + String(repeating: "0", count: point - parts.digits.count) + ".0"
        } else {
            let split = digits.index(digits.startIndex, offsetBy: point)
            out = digits[..<split] + "." + digits[split...]
        }
        return out
    }

    /// `d.ddd` followed by an exponent.
    private static func scientific(_ parts: Digits, exponentSign: Bool, minimumExponentDigits: Int) -> String {
        let digits = String(decoding: parts.digits, as: UTF8.self)
        var out = String(digits.prefix(1))
        if digits.count > 1 { out += "." + digits.dropFirst() }
        let exponent = parts.pointPosition - 1
        out += "e"
        if exponent < 0 {
            out += "-"
        } else if exponentSign {
            out += "+"
        }
        let magnitude = String(abs(exponent))
        out += String(repeating: "0", count: max(0, minimumExponentDigits - magnitude.count)) + magnitude
        return out
    }
}

/// Identifiers in the style of Zeek's `unique_id("")`: random base-62 text.
package enum UniqueID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A fresh identifier: `prefix` followed by 96 random bits in base 62 (17 characters).
    package static func make(prefix: String = "") -> String {
        var generator = SystemRandomNumberGenerator()
        var high = UInt64(generator.next() as UInt32)
        var low: UInt64 = generator.next()
        var digits: [UInt8] = []
        digits.reserveCapacity(17)
        for _ in 0..<17 {
            // Divide the 96-bit number (high:32, low:64) by 62.
            let highQuotient = high / 62
            let remainderHigh = high % 62
            let (lowQuotient, remainder) = UInt64(62).dividingFullWidth((high: remainderHigh, low: low))
            high = highQuotient
            low = lowQuotient
            digits.append(alphabet[Int(remainder)])
        }
        return prefix + String(decoding: digits.reversed(), as: UTF8.self)
    }
}

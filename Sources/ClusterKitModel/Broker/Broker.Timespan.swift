extension Broker {
    /// A signed length of time in nanoseconds: Zeek's `interval`.
    ///
    /// Text is an integer and a unit. Writing picks the largest of `ns`, `us`, `ms`, `s` that loses nothing
    /// (`1500ms`, `60s`, `0s`); reading also takes `min` and `h`. Decimals and `d` are rejected, as Broker does.
    public struct Timespan: Sendable, Hashable, Comparable {
        /// The length in nanoseconds.
        public var nanoseconds: Int64

        /// Creates a timespan.
        ///
        /// - Parameter nanoseconds: The length in nanoseconds.
        public init(nanoseconds: Int64) {
            self.nanoseconds = nanoseconds
        }

        /// Creates a timespan from a `Duration`, truncated to whole nanoseconds and clamped to 64 bits.
        ///
        /// - Parameter duration: The length.
        public init(_ duration: Duration) {
            let (seconds, attoseconds) = duration.components
            let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
            if overflow || overflow2 {
                nanoseconds = seconds < 0 ? .min : .max
            } else {
                nanoseconds = sum
            }
        }

        /// The length as a `Duration`.
        public var duration: Duration { .nanoseconds(nanoseconds) }

        /// The length in seconds.
        public var seconds: Double { Double(nanoseconds) / 1e9 }

        /// Orders by length.
        ///
        /// - Parameters:
        ///   - lhs: A timespan.
        ///   - rhs: Another timespan.
        /// - Returns: Whether `lhs` is shorter.
        public static func < (lhs: Timespan, rhs: Timespan) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    }
}

extension Broker.Timespan: LosslessStringConvertible {
    /// Parses `<integer><unit>` with unit `ns`, `us`, `ms`, `s`, `min` or `h`; `nil` when malformed or out of range.
    ///
    /// - Parameter description: The text, such as `1500ms` or `-2h`.
    public init?(_ description: String) {
        var text = description
        guard let value = text.withUTF8({ Self.parse(UnsafeBufferPointer(rebasing: $0[...])) }) else { return nil }
        self = value
    }

    /// The integer with the largest lossless unit among `ns`, `us`, `ms`, `s`; zero is `0s`.
    public var description: String {
        guard nanoseconds != 0 else { return "0s" }
        for (unit, scale) in [("s", Int64(1_000_000_000)), ("ms", 1_000_000), ("us", 1000)]
        where nanoseconds % scale == 0 {
            return "\(nanoseconds / scale)\(unit)"
        }
        return "\(nanoseconds)ns"
    }

    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Broker.Timespan? {
        var position = 0
        var isNegative = false
        if position < text.count, text[position] == UInt8(ascii: "-") {
            isNegative = true
            position += 1
        }
        var magnitude: Int64 = 0
        let digitsStart = position
        while position < text.count, JSONScanner.isDigit(text[position]) {
            let (times, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(text[position] - UInt8(ascii: "0")))
            guard !overflow, !overflow2 else { return nil }
            magnitude = sum
            position += 1
        }
        guard position > digitsStart else { return nil }
        let unit = String(decoding: UnsafeBufferPointer(rebasing: text[position...]), as: UTF8.self)
        let scale: Int64
        switch unit {
        case "ns": scale = 1
        case "us": scale = 1000
        case "ms": scale = 1_000_000
        case "s": scale = 1_000_000_000
        case "min": scale = 60_000_000_000
        case "h": scale = 3_600_000_000_000
        default: return nil
        }
        let (value, overflow) = magnitude.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        return Broker.Timespan(nanoseconds: isNegative ? -value : value)
    }
}

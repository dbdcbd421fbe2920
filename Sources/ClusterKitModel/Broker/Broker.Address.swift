extension Broker {
    /// An IPv4 or IPv6 address, stored as Broker stores it: 128 bits, IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`).
    ///
    /// Text is canonical as Broker and Zeek print it: IPv4 as a dotted quad, IPv6 in lower case with the
    /// longest run of zero groups compressed, as glibc's `inet_ntop` writes it (`2001:db8::1`, `::1.2.3.4`).
    ///
    /// - Important: `Broker.Address("…")` with a string *literal* uses the literal initializer (SE-0213),
    ///   which traps on invalid text; parse run-time text with a non-literal argument, which returns `nil`.
    public struct Address: Sendable, Hashable, Comparable {
        /// The first 64 bits, in network order.
        public var high: UInt64
        /// The last 64 bits, in network order.
        public var low: UInt64

        /// Creates an address from its 128 bits.
        ///
        /// - Parameters:
        ///   - high: The first 64 bits, in network order.
        ///   - low: The last 64 bits, in network order.
        public init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }

        /// Creates an IPv4 address.
        ///
        /// - Parameter ipv4: The address as a 32-bit number in network order (`0x7F000001` is `127.0.0.1`).
        public init(ipv4: UInt32) {
            self.init(high: 0, low: 0xFFFF_0000_0000 | UInt64(ipv4))
        }

        /// `0.0.0.0`.
        public static let ipv4Unspecified = Address(ipv4: 0)
        /// `127.0.0.1`.
        public static let ipv4Loopback = Address(ipv4: 0x7F00_0001)
        /// `::`.
        public static let ipv6Unspecified = Address(high: 0, low: 0)
        /// `::1`.
        public static let ipv6Loopback = Address(high: 0, low: 1)

        /// A Boolean value indicating whether this is an IPv4 (IPv4-mapped) address.
        public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

        /// The IPv4 address as a 32-bit number, when this is IPv4.
        public var ipv4: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: low) : nil }

        /// A Boolean value indicating whether this is a loopback address (`127.0.0.0/8` or `::1`).
        public var isLoopback: Bool {
            if let ipv4 { return ipv4 >> 24 == 127 }
            return high == 0 && low == 1
        }

        /// The 16 groups of 8 bits, in network order.
        public var bytes: [UInt8] {
            (0..<16).map { position in
                let word = position < 8 ? high : low
                return UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * (position % 8)))
            }
        }

        /// The eight 16-bit groups, in network order.
        var words: [UInt16] {
            (0..<8).map { position in
                let word = position < 4 ? high : low
                return UInt16(truncatingIfNeeded: word >> UInt64(48 - 16 * (position % 4)))
            }
        }

        /// Compares by the 128 bits, as Broker does.
        ///
        /// - Parameters:
        ///   - lhs: An address.
        ///   - rhs: Another address.
        /// - Returns: Whether `lhs` sorts first.
        public static func < (lhs: Address, rhs: Address) -> Bool {
            (lhs.high, lhs.low) < (rhs.high, rhs.low)
        }
    }
}

// MARK: - Text

extension Broker.Address: LosslessStringConvertible {
    /// Parses IPv4 dotted-quad or IPv6 text (with `::` and an embedded IPv4 tail); `nil` when malformed.
    ///
    /// Zones (`%eth0`), brackets and IPv4 parts with leading zeros are rejected, as `inet_pton` does.
    ///
    /// - Parameter description: The text.
    public init?(_ description: String) {
        var text = description
        guard let parsed = text.withUTF8({ Self.parse(UnsafeBufferPointer(rebasing: $0[...])) }) else { return nil }
        self = parsed
    }

    /// The canonical text: dotted quad for IPv4, compressed lower-case IPv6 otherwise.
    public var description: String {
        if let ipv4 { return Self.dottedQuad(ipv4) }
        let words = self.words
        // The longest run of zero groups (at least two), the first one on a tie.
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for position in 0...8 {
            if position < 8 && words[position] == 0 {
                if runStart < 0 { runStart = position }
            } else if runStart >= 0 {
                let length = position - runStart
                if length > bestLength {
                    bestStart = runStart
                    bestLength = length
                }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var out = ""
        var position = 0
        while position < 8 {
            if bestStart >= 0 && position >= bestStart && position < bestStart + bestLength {
                if position == bestStart { out += ":" }
                position += 1
                continue
            }
            if position != 0 { out += ":" }
            // An IPv4-compatible address (`::a.b.c.d`) keeps its dotted tail, as inet_ntop writes it.
            if position == 6 && bestStart == 0 && bestLength == 6 {
                out += Self.dottedQuad(UInt32(truncatingIfNeeded: low))
                return out
            }
            out += String(words[position], radix: 16)
            position += 1
        }
        if bestStart >= 0 && bestStart + bestLength == 8 { out += ":" }
        return out
    }

    static func dottedQuad(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// Parses address text from UTF-8 bytes.
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Broker.Address? {
        if let ipv4 = parseIPv4(text) { return Broker.Address(ipv4: ipv4) }
        return parseIPv6(text)
    }

    static func parseIPv4(_ text: UnsafeBufferPointer<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var parts = 0
        for byte in text {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part
                parts += 1
                part = 0
                digits = 0
                continue
            }
            guard JSONScanner.isDigit(byte) else { return nil }
            if digits > 0 && part == 0 { return nil }  // leading zero
            part = part * 10 + UInt32(byte - UInt8(ascii: "0"))
            digits += 1
            guard digits <= 3, part <= 255 else { return nil }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | part
    }

    private static func parseIPv6(_ text: UnsafeBufferPointer<UInt8>) -> Broker.Address? {
        guard text.count >= 2 else { return nil }
        var words: [UInt16] = []
        words.reserveCapacity(8)
        var compressAt: Int?
        var position = 0
        if text[0] == UInt8(ascii: ":") {
            guard text[1] == UInt8(ascii: ":") else { return nil }
            compressAt = 0
            position = 2
            if position == text.count { return Broker.Address(high: 0, low: 0) }
        }
        while position < text.count {
            // A dotted IPv4 tail takes the last two groups; it must be the last segment.
            var segmentEnd = position
            while segmentEnd < text.count && text[segmentEnd] != UInt8(ascii: ":") { segmentEnd += 1 }
            let segment = UnsafeBufferPointer(rebasing: text[position..<segmentEnd])
            if segment.contains(UInt8(ascii: ".")) {
                guard segmentEnd == text.count, words.count <= 6, let ipv4 = parseIPv4(segment) else { return nil }
                words.append(UInt16(truncatingIfNeeded: ipv4 >> 16))
                words.append(UInt16(truncatingIfNeeded: ipv4))
                position = text.count
                break
            }
            var word: UInt32 = 0
            var digits = 0
            while position < text.count, let digit = hexValue(text[position]) {
                word = word << 4 | UInt32(digit)
                digits += 1
                position += 1
                guard digits <= 4 else { return nil }
            }
            guard digits > 0, words.count < 8 else { return nil }
            words.append(UInt16(word))
            guard position < text.count else { break }
            guard text[position] == UInt8(ascii: ":") else { return nil }
            position += 1
            if position < text.count && text[position] == UInt8(ascii: ":") {
                guard compressAt == nil else { return nil }
                compressAt = words.count
                position += 1
                if position == text.count { break }
            } else if position == text.count {
                return nil  // trailing single ':'
            }
        }
        if let compressAt {
            guard words.count < 8 else { return nil }
            words.insert(contentsOf: repeatElement(0, count: 8 - words.count), at: compressAt)
        }
        guard words.count == 8 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for position in 0..<4 { high = high << 16 | UInt64(words[position]) }
        for position in 4..<8 { low = low << 16 | UInt64(words[position]) }
        return Broker.Address(high: high, low: low)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Broker.Address: ExpressibleByStringLiteral {
    /// Creates an address from a literal; an invalid literal is a programming error.
    ///
    /// - Parameter value: The address text.
    public init(stringLiteral value: String) {
        guard let address = Broker.Address(value) else { preconditionFailure("invalid address literal '\(value)'") }
        self = address
    }
}

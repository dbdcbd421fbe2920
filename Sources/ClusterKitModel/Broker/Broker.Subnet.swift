extension Broker {
    /// An IPv4 or IPv6 network: an address with its host bits cleared, and a prefix length.
    ///
    /// Text is `address/length` with the length counted in the address's own family (`10.0.0.0/8`,
    /// `2001:db8::/32`). The host bits are always cleared, as Broker does: `10.1.2.3/8` is `10.0.0.0/8`.
    public struct Subnet: Sendable, Hashable, Comparable {
        /// The network address, host bits cleared.
        public private(set) var network: Address
        /// The prefix length in the address's family: 0–32 for IPv4, 0–128 for IPv6.
        public private(set) var prefixLength: Int

        /// Creates a subnet, clearing the host bits of `address`.
        ///
        /// - Parameters:
        ///   - address: Any address in the network.
        ///   - prefixLength: The prefix length: 0–32 for IPv4, 0–128 for IPv6; out of range gives `nil`.
        public init?(_ address: Address, prefixLength: Int) {
            guard prefixLength >= 0, prefixLength <= (address.isIPv4 ? 32 : 128) else { return nil }
            let bits = address.isIPv4 ? prefixLength + 96 : prefixLength
            let highMask: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : ~(UInt64.max >> UInt64(bits)))
            let lowMask: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? .max : ~(UInt64.max >> UInt64(bits - 64)))
            self.network = Address(high: address.high & highMask, low: address.low & lowMask)
            self.prefixLength = prefixLength
        }

        /// A Boolean value indicating whether `address` lies in this network.
        ///
        /// - Parameter address: The address to test.
        /// - Returns: Whether it is inside.
        public func contains(_ address: Address) -> Bool {
            guard address.isIPv4 == network.isIPv4 else { return false }
            return Subnet(address, prefixLength: prefixLength)?.network == network
        }

        /// Orders by network, then prefix length.
        ///
        /// - Parameters:
        ///   - lhs: A subnet.
        ///   - rhs: Another subnet.
        /// - Returns: Whether `lhs` sorts first.
        public static func < (lhs: Subnet, rhs: Subnet) -> Bool {
            (lhs.network, lhs.prefixLength) < (rhs.network, rhs.prefixLength)
        }
    }
}

extension Broker.Subnet: LosslessStringConvertible {
    /// Parses `address/length`; `nil` when either part is malformed or the length is out of range.
    ///
    /// - Parameter description: The text.
    public init?(_ description: String) {
        guard let slash = description.lastIndex(of: "/"),
            let address = Broker.Address(String(description[..<slash])),
            let length = Int(description[description.index(after: slash)...]),
            description[description.index(after: slash)...].allSatisfy(\.isASCIIDigit)
        else { return nil }
        self.init(address, prefixLength: length)
    }

    /// `network/length`.
    public var description: String { "\(network)/\(prefixLength)" }
}

extension Character {
    /// A Boolean value indicating whether this is one of `0`–`9`.
    package var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension Broker {
    /// A transport-layer port: a number and a protocol, written `80/tcp`, `53/udp`, `8/icmp` or `0/?`.
    public struct Port: Sendable, Hashable, Comparable {
        /// The transport protocol of a port.
        public enum TransportProtocol: UInt8, Sendable, Hashable, CaseIterable, Comparable {
            /// Unknown, written `?`.
            case unknown = 0
            /// TCP.
            case tcp = 1
            /// UDP.
            case udp = 2
            /// ICMP.
            case icmp = 3

            /// The text after the slash: `tcp`, `udp`, `icmp` or `?`.
            public var text: String {
                switch self {
                case .unknown: "?"
                case .tcp: "tcp"
                case .udp: "udp"
                case .icmp: "icmp"
                }
            }

            /// Orders as Broker does: unknown, tcp, udp, icmp.
            ///
            /// - Parameters:
            ///   - lhs: A protocol.
            ///   - rhs: Another protocol.
            /// - Returns: Whether `lhs` sorts first.
            public static func < (lhs: TransportProtocol, rhs: TransportProtocol) -> Bool {
                lhs.rawValue < rhs.rawValue
            }
        }

        /// The port number.
        public var number: UInt16
        /// The transport protocol.
        public var transportProtocol: TransportProtocol

        /// Creates a port.
        ///
        /// - Parameters:
        ///   - number: The port number.
        ///   - transportProtocol: The transport protocol.
        public init(_ number: UInt16, _ transportProtocol: TransportProtocol) {
            self.number = number
            self.transportProtocol = transportProtocol
        }

        /// A TCP port.
        ///
        /// - Parameter number: The port number.
        /// - Returns: `number/tcp`.
        public static func tcp(_ number: UInt16) -> Port { Port(number, .tcp) }

        /// `0/unknown`, Zeek's "no port" (`0/?` on the wire).
        public static let unset = Port(0, .unknown)

        /// Orders by number, then protocol.
        ///
        /// - Parameters:
        ///   - lhs: A port.
        ///   - rhs: Another port.
        /// - Returns: Whether `lhs` sorts first.
        public static func < (lhs: Port, rhs: Port) -> Bool {
            (lhs.number, lhs.transportProtocol) < (rhs.number, rhs.transportProtocol)
        }
    }
}

extension Broker.Port: LosslessStringConvertible {
    /// Parses `number/protocol` as Zeek reads it: a bare number means TCP, an unknown protocol means `?`.
    ///
    /// Returns `nil` when the number is missing, not decimal, or above 65535.
    ///
    /// - Parameter description: The text.
    public init?(_ description: String) {
        var text = description
        guard let port = text.withUTF8({ Self.parse(UnsafeBufferPointer(rebasing: $0[...])) }) else { return nil }
        self = port
    }

    /// Parses port text from UTF-8 bytes.
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Broker.Port? {
        var number: UInt32 = 0
        var position = 0
        while position < text.count, JSONScanner.isDigit(text[position]) {
            number = number * 10 + UInt32(text[position] - UInt8(ascii: "0"))
            position += 1
            guard position <= 5, number <= 65535 else { return nil }
        }
        guard position > 0 else { return nil }
        guard position < text.count else { return Broker.Port(UInt16(number), .tcp) }
        guard text[position] == UInt8(ascii: "/") else { return nil }
        let name = UnsafeBufferPointer(rebasing: text[(position + 1)...])
        let transport: TransportProtocol
        if name.elementsEqual("tcp".utf8) {
            transport = .tcp
        } else if name.elementsEqual("udp".utf8) {
            transport = .udp
        } else if name.elementsEqual("icmp".utf8) {
            transport = .icmp
        } else {
            transport = .unknown
        }
        return Broker.Port(UInt16(number), transport)
    }

    /// `number/protocol`, as in `80/tcp` or `0/?`.
    public var description: String { "\(number)/\(transportProtocol.text)" }
}

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
        let parts = description.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let numberText = parts.first, !numberText.isEmpty, numberText.count <= 5,
            numberText.allSatisfy(\.isASCIIDigit), let number = UInt16(numberText)
        else { return nil }
        guard parts.count == 2 else {
            self.init(number, .tcp)
            return
        }
        let transport = Broker.Port.TransportProtocol.allCases.first { $0.text == parts[1] } ?? .unknown
        self.init(number, transport)
    }

    /// `number/protocol`, as in `80/tcp` or `0/?`.
    public var description: String { "\(number)/\(transportProtocol.text)" }
}

extension Supervisor {
    /// Zeek's `Supervisor::ClusterEndpoint`: one node of the cluster table handed to a supervised node.
    public struct ClusterEndpoint: BrokerRecord, Sendable, Hashable {
        /// The node's role.
        public var role: ClusterRole
        /// The node's address.
        public var host: Broker.Address
        /// The node's listen port (`0/unknown` for none).
        public var p: Broker.Port
        /// The capture interface.
        public var interface: String?
        /// A pcap file to read instead of an interface.
        public var pcapFile: String?
        /// The Prometheus metrics port.
        public var metricsPort: Broker.Port?

        /// Creates an endpoint.
        ///
        /// - Parameters:
        ///   - role: The role.
        ///   - host: The address.
        ///   - p: The listen port.
        ///   - interface: The capture interface.
        ///   - pcapFile: The pcap file.
        ///   - metricsPort: The metrics port.
        public init(
            role: ClusterRole,
            host: Broker.Address,
            p: Broker.Port,
            interface: String? = nil,
            pcapFile: String? = nil,
            metricsPort: Broker.Port? = nil
        ) {
            self.role = role
            self.host = host
            self.p = p
            self.interface = interface
            self.pcapFile = pcapFile
            self.metricsPort = metricsPort
        }

        /// `Supervisor::ClusterEndpoint`.
        public static let zeekTypeName = "Supervisor::ClusterEndpoint"
        /// The fields in declaration order.
        public static let fieldNames = ["role", "host", "p", "interface", "pcap_file", "metrics_port"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                role: try record.required(),
                host: try record.required(),
                p: try record.required(),
                interface: try record.optional(),
                pcapFile: try record.optional(),
                metricsPort: try record.optional()
            )
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [
                role.brokerValue, host.brokerValue, p.brokerValue, interface?.brokerValue ?? .none,
                pcapFile?.brokerValue ?? .none, metricsPort?.brokerValue ?? .none,
            ]
        }
    }
}

extension Management {
    /// Zeek's `Management::Instance`: one agent, the host it runs on, and where it listens.
    public struct Instance: BrokerRecord, Sendable, Hashable {
        /// The instance (agent) name.
        public var name: String
        /// The agent's address; `0.0.0.0` when unknown (an agent that connects to the controller).
        public var host: Broker.Address
        /// The port the agent listens on for the controller, when the controller connects to it.
        public var listenPort: Broker.Port?

        /// Creates an instance.
        ///
        /// - Parameters:
        ///   - name: The name.
        ///   - host: The address.
        ///   - listenPort: The listen port.
        public init(name: String, host: Broker.Address = .ipv4Unspecified, listenPort: Broker.Port? = nil) {
            self.name = name
            self.host = host
            self.listenPort = listenPort
        }

        /// `Management::Instance`.
        public static let zeekTypeName = "Management::Instance"
        /// The fields in declaration order.
        public static let fieldNames = ["name", "host", "listen_port"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(name: try record.required(), host: try record.required(), listenPort: try record.optional())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [name.brokerValue, host.brokerValue, listenPort?.brokerValue ?? .none]
        }
    }
}

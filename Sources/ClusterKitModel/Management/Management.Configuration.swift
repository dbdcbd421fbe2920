extension Management {
    /// Zeek's `Management::Configuration`: a cluster as the Management framework stages and deploys it.
    ///
    /// `instances` and `nodes` are sets on the wire (sorted by Broker's order); here they keep the order
    /// they were given in.
    public struct Configuration: BrokerRecord, Sendable, Hashable {
        /// The configuration's id; default a fresh `unique_id("")`-style id.
        public var id: String
        /// The instances (agents).
        public var instances: [Instance]
        /// The nodes.
        public var nodes: [Node]

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - id: The id; default a fresh random id.
        ///   - instances: The instances.
        ///   - nodes: The nodes.
        public init(id: String = Configuration.makeID(), instances: [Instance] = [], nodes: [Node] = []) {
            self.id = id
            self.instances = instances
            self.nodes = nodes
        }

        /// A fresh configuration id in the style of Zeek's `unique_id("")`.
        ///
        /// - Returns: 17 random base-62 characters.
        public static func makeID() -> String { UniqueID.make() }

        /// `Management::Configuration`.
        public static let zeekTypeName = "Management::Configuration"
        /// The fields in declaration order.
        public static let fieldNames = ["id", "instances", "nodes"]

        /// Reads the fields in order; `instances` and `nodes` may be sets or vectors.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                id: try record.withDefault(UniqueID.make()),
                instances: try record.withDefault([]),
                nodes: try record.withDefault([])
            )
        }

        /// The field values in declaration order, `instances` and `nodes` as sets.
        public var fieldValues: [Broker.Value] {
            [
                id.brokerValue, .set(Broker.ValueSet(instances.map(\.brokerValue))),
                .set(Broker.ValueSet(nodes.map(\.brokerValue))),
            ]
        }
    }
}

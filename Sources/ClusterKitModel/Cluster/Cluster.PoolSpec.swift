extension Cluster {
    /// Zeek's `Cluster::PoolSpec`: which nodes a pool takes and under which topic.
    public struct PoolSpec: BrokerRecord, Sendable, Hashable {
        /// The pool's topic; default `""`.
        public var topic: String
        /// The node type the pool takes; default ``NodeType/proxy``.
        public var nodeType: NodeType
        /// The most nodes the pool takes; unset means all eligible nodes.
        public var maxNodes: UInt64?
        /// A Boolean value indicating whether the pool's nodes belong to no other pool; default `false`.
        public var exclusive: Bool

        /// Creates a pool spec with Zeek's defaults.
        ///
        /// - Parameters:
        ///   - topic: The topic.
        ///   - nodeType: The node type.
        ///   - maxNodes: The most nodes.
        ///   - exclusive: Whether the nodes are exclusive to this pool.
        public init(topic: String = "", nodeType: NodeType = .proxy, maxNodes: UInt64? = nil, exclusive: Bool = false) {
            self.topic = topic
            self.nodeType = nodeType
            self.maxNodes = maxNodes
            self.exclusive = exclusive
        }

        /// `Cluster::PoolSpec`.
        public static let zeekTypeName = "Cluster::PoolSpec"
        /// The fields in declaration order.
        public static let fieldNames = ["topic", "node_type", "max_nodes", "exclusive"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                topic: try record.withDefault(""),
                nodeType: try record.withDefault(.proxy),
                maxNodes: try record.optional(),
                exclusive: try record.withDefault(false)
            )
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [topic.brokerValue, nodeType.brokerValue, maxNodes?.brokerValue ?? .none, exclusive.brokerValue]
        }
    }
}

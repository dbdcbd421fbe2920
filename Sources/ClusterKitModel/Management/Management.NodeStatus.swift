extension Management {
    /// Zeek's `Management::NodeStatus`: a node's state as `get_nodes` reports it.
    public struct NodeStatus: BrokerRecord, Sendable, Hashable {
        /// The node's name.
        public var node: String
        /// The run state.
        public var state: State
        /// The Management role; default ``Role/none`` (an ordinary cluster node).
        public var mgmtRole: Role
        /// The cluster role; default ``Supervisor/ClusterRole/none``.
        public var clusterRole: Supervisor.ClusterRole
        /// The process id, when known.
        public var pid: Int?
        /// The Broker listen port, when the node has one.
        public var p: Broker.Port?
        /// The metrics port (Zeek 7.0+).
        public var metricsPort: Broker.Port?

        /// Creates a status.
        ///
        /// - Parameters:
        ///   - node: The name.
        ///   - state: The run state.
        ///   - mgmtRole: The Management role.
        ///   - clusterRole: The cluster role.
        ///   - pid: The process id.
        ///   - p: The listen port.
        ///   - metricsPort: The metrics port.
        public init(
            node: String,
            state: State,
            mgmtRole: Role = .none,
            clusterRole: Supervisor.ClusterRole = .none,
            pid: Int? = nil,
            p: Broker.Port? = nil,
            metricsPort: Broker.Port? = nil
        ) {
            self.node = node
            self.state = state
            self.mgmtRole = mgmtRole
            self.clusterRole = clusterRole
            self.pid = pid
            self.p = p
            self.metricsPort = metricsPort
        }

        /// `Management::NodeStatus`.
        public static let zeekTypeName = "Management::NodeStatus"
        /// Vectors from before Zeek 7.0 lack `metrics_port`.
        public static let minimumFieldCount = 6
        /// The fields in declaration order.
        public static let fieldNames = ["node", "state", "mgmt_role", "cluster_role", "pid", "p", "metrics_port"]

        /// Reads the fields in order; a 6-element vector (before Zeek 7.0's `metrics_port`) is accepted too.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                node: try record.required(),
                state: try record.required(),
                mgmtRole: try record.withDefault(.none),
                clusterRole: try record.withDefault(.none),
                pid: try record.optional(),
                p: try record.optional()
            )
            metricsPort = try record.optional()
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [
                node.brokerValue, state.brokerValue, mgmtRole.brokerValue, clusterRole.brokerValue,
                pid?.brokerValue ?? .none, p?.brokerValue ?? .none, metricsPort?.brokerValue ?? .none,
            ]
        }
    }
}

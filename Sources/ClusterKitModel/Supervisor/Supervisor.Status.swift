extension Supervisor {
    /// Zeek's `Supervisor::NodeStatus`: a node's configuration and its last known process id.
    public struct NodeStatus: BrokerRecord, Sendable, Hashable {
        /// The node's configuration.
        public var node: NodeConfig
        /// The current or last known process id; unset when none was reported.
        public var pid: Int?

        /// Creates a status.
        ///
        /// - Parameters:
        ///   - node: The configuration.
        ///   - pid: The process id.
        public init(node: NodeConfig, pid: Int? = nil) {
            self.node = node
            self.pid = pid
        }

        /// `Supervisor::NodeStatus`.
        public static let zeekTypeName = "Supervisor::NodeStatus"
        /// The fields in declaration order.
        public static let fieldNames = ["node", "pid"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(node: try record.required(), pid: try record.optional())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] { [node.brokerValue, pid?.brokerValue ?? .none] }
    }

    /// Zeek's `Supervisor::Status`: the status of every node asked for, by name.
    public struct Status: BrokerRecord, Sendable, Hashable {
        /// The nodes by name.
        public var nodes: [String: NodeStatus]

        /// Creates a status.
        ///
        /// - Parameter nodes: The nodes by name.
        public init(nodes: [String: NodeStatus] = [:]) {
            self.nodes = nodes
        }

        /// `Supervisor::Status`.
        public static let zeekTypeName = "Supervisor::Status"
        /// The fields in declaration order.
        public static let fieldNames = ["nodes"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(nodes: try record.required())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] { [nodes.brokerValue] }
    }
}

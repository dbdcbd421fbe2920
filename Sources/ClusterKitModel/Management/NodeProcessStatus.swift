/// What a ClusterKit controller knows about one node's process: `get_nodes`'s status plus what only a
/// supervisor knows (when the process started, how often it was started again).
///
/// ClusterKit's own record (`ClusterKit::NodeProcessStatus`), carried by ``ControllerService``'s
/// `ClusterKit::Controller::API::get_node_processes_response`; Zeek has no equivalent.
public struct NodeProcessStatus: BrokerRecord, Sendable, Hashable {
    /// The node's name.
    public var node: String
    /// The instance (agent) that runs it.
    public var instance: String
    /// Its cluster role.
    public var role: Supervisor.ClusterRole
    /// Its state as `get_nodes` reports it (`CRASHED` while a crashed process waits for revival).
    public var state: Management.State
    /// The current process id; `nil` for an in-process node or one that is not running.
    public var pid: Int?
    /// Its Broker port, when it has one.
    public var port: Broker.Port?
    /// When the current process started; `nil` when unknown.
    public var startedAt: Broker.Timestamp?
    /// How often it was started again after the first start (restarts and revivals).
    public var restarts: Int

    /// Creates a status.
    ///
    /// - Parameters:
    ///   - node: The name.
    ///   - instance: The instance.
    ///   - role: The cluster role.
    ///   - state: The state.
    ///   - pid: The process id.
    ///   - port: The Broker port.
    ///   - startedAt: The start time of the current process.
    ///   - restarts: Restarts and revivals.
    public init(
        node: String,
        instance: String,
        role: Supervisor.ClusterRole,
        state: Management.State,
        pid: Int? = nil,
        port: Broker.Port? = nil,
        startedAt: Broker.Timestamp? = nil,
        restarts: Int = 0
    ) {
        self.node = node
        self.instance = instance
        self.role = role
        self.state = state
        self.pid = pid
        self.port = port
        self.startedAt = startedAt
        self.restarts = restarts
    }

    /// `ClusterKit::NodeProcessStatus`.
    public static let zeekTypeName = "ClusterKit::NodeProcessStatus"
    /// The fields in order.
    public static let fieldNames = ["node", "instance", "role", "state", "pid", "port", "started_at", "restarts"]

    /// Reads the fields in order.
    ///
    /// - Parameter record: The reader.
    /// - Throws: ``Broker/ConversionError``.
    public init(reading record: inout Broker.RecordReader) throws {
        self.init(
            node: try record.required(),
            instance: try record.required(),
            role: try record.required(),
            state: try record.required(),
            pid: try record.optional(),
            port: try record.optional(),
            startedAt: try record.optional(),
            restarts: try record.required()
        )
    }

    /// The field values in order.
    public var fieldValues: [Broker.Value] {
        [
            node.brokerValue, instance.brokerValue, role.brokerValue, state.brokerValue, pid?.brokerValue ?? .none,
            port?.brokerValue ?? .none, startedAt?.brokerValue ?? .none, restarts.brokerValue,
        ]
    }
}

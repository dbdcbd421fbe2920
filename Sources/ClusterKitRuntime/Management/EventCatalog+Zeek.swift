import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension EventCatalog {
    /// The Management controller API (`Management::Controller::API::`, Zeek 8.0.10): every request and
    /// response of PROTOCOL.md §4.2, and `notify_agents_ready`.
    ///
    /// Records (`Result`, `Configuration`) and `ResultVec` arrive as vectors, `set[string]` as sets.
    public static let managementController = EventCatalog([
        Signature(ControllerAPI.getInstancesRequest, [("reqid", .string)]),
        Signature(ControllerAPI.getInstancesResponse, [("reqid", .string), ("result", .vector)]),
        Signature(ControllerAPI.stageConfigurationRequest, [("reqid", .string), ("config", .vector)]),
        Signature(ControllerAPI.stageConfigurationResponse, [("reqid", .string), ("results", .vector)]),
        Signature(ControllerAPI.getConfigurationRequest, [("reqid", .string), ("deployed", .boolean)]),
        Signature(ControllerAPI.getConfigurationResponse, [("reqid", .string), ("result", .vector)]),
        Signature(ControllerAPI.deployRequest, [("reqid", .string)]),
        Signature(ControllerAPI.deployResponse, [("reqid", .string), ("results", .vector)]),
        Signature(ControllerAPI.getNodesRequest, [("reqid", .string)]),
        Signature(ControllerAPI.getNodesResponse, [("reqid", .string), ("results", .vector)]),
        Signature(ControllerAPI.getIDValueRequest, [("reqid", .string), ("id", .string), ("nodes", .set)]),
        Signature(ControllerAPI.getIDValueResponse, [("reqid", .string), ("results", .vector)]),
        Signature(ControllerAPI.restartRequest, [("reqid", .string), ("nodes", .set)]),
        Signature(ControllerAPI.restartResponse, [("reqid", .string), ("results", .vector)]),
        Signature(ControllerAPI.testTimeoutRequest, [("reqid", .string), ("with_state", .boolean)]),
        Signature(ControllerAPI.testTimeoutResponse, [("reqid", .string), ("result", .vector)]),
        Signature("Management::Controller::API::notify_agents_ready", [("instances", .set)]),
    ])

    /// The Management agent API (`Management::Agent::API::`, Zeek 8.0.10, PROTOCOL.md §4.3).
    public static let managementAgent = EventCatalog([
        Signature(AgentAPI.deployRequest, [("reqid", .string), ("config", .vector), ("force", .boolean)]),
        Signature(AgentAPI.deployResponse, [("reqid", .string), ("results", .vector)]),
        Signature(AgentAPI.getNodesRequest, [("reqid", .string)]),
        Signature(AgentAPI.getNodesResponse, [("reqid", .string), ("result", .vector)]),
        Signature(AgentAPI.nodeDispatchRequest, [("reqid", .string), ("action", .vector), ("nodes", .set)]),
        Signature(AgentAPI.nodeDispatchResponse, [("reqid", .string), ("results", .vector)]),
        Signature(AgentAPI.agentWelcomeRequest, [("reqid", .string)]),
        Signature(AgentAPI.agentWelcomeResponse, [("reqid", .string), ("result", .vector)]),
        Signature(AgentAPI.agentStandbyRequest, [("reqid", .string)]),
        Signature(AgentAPI.agentStandbyResponse, [("reqid", .string), ("result", .vector)]),
        Signature(AgentAPI.restartRequest, [("reqid", .string), ("nodes", .set)]),
        Signature(AgentAPI.restartResponse, [("reqid", .string), ("results", .vector)]),
        Signature(
            AgentAPI.notifyAgentHello,
            [("instance", .string), ("id", .string), ("connecting", .boolean), ("api_version", .count)]
        ),
        Signature(
            "Management::Agent::API::notify_change",
            [("instance", .string), ("n", .vector), ("old", .enumValue), ("new", .enumValue)]
        ),
        Signature(
            "Management::Agent::API::notify_error",
            [("instance", .string), ("msg", .string), ("node", .string)]
        ),
        Signature("Management::Agent::API::notify_log", [("instance", .string), ("msg", .string), ("node", .string)]),
    ])

    /// The Management node API (`Management::Node::API::`, PROTOCOL.md §4.4) and the Supervisor's
    /// `Management::Supervisor::API::notify_node_exit` (§4.5).
    public static let managementNode = EventCatalog([
        // The seed's two-argument form (reqid, action) means every node: `nodes` has a default.
        Signature(
            NodeRuntime.API.dispatchRequest,
            parameters: [
                Parameter("reqid", .string), Parameter("action", .vector), Parameter("nodes", .set, hasDefault: true),
            ]
        ),
        Signature(NodeRuntime.API.dispatchResponse, [("reqid", .string), ("result", .vector)]),
        Signature(NodeRuntime.API.notifyNodeHello, [("node", .string)]),
        Signature("Management::Supervisor::API::notify_node_exit", [("node", .string), ("outputs", .vector)]),
    ])

    /// The Control framework's requests and responses (`Control::`, PROTOCOL.md §8).
    public static let control = EventCatalog([
        Signature("Control::id_value_request", [("id", .string)]),
        Signature("Control::id_value_response", [("id", .string), ("val", .string)]),
        Signature("Control::peer_status_request"),
        Signature("Control::peer_status_response", [("s", .string)]),
        Signature("Control::net_stats_request"),
        Signature("Control::net_stats_response", [("s", .string)]),
        Signature("Control::configuration_update_request"),
        Signature("Control::configuration_update_response"),
        Signature("Control::shutdown_request"),
        Signature("Control::shutdown_response"),
    ])

    /// The cluster framework's remote event `Cluster::hello(name: string, id: string)`.
    public static let cluster = EventCatalog([
        Signature("Cluster::hello", [("name", .string), ("id", .string)])
    ])

    /// Every event ClusterKit's parts exchange: ``managementController``, ``managementAgent``,
    /// ``managementNode``, ``control`` and ``cluster`` together.
    public static let standard = managementController.merging(managementAgent).merging(managementNode)
        .merging(control).merging(cluster)
}

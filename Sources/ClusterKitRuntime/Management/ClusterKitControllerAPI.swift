import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// ClusterKit's additions to the controller API, on Zeek's controller topic: what `zeekctl cluster status`
/// and `zeekctl cluster stop` need and Zeek's API does not offer.
///
/// Answered by ``ControllerService`` only. Zeek's controller does not know them (its WebSocket server rejects
/// undeclared events), so clients fall back to `get_nodes` and to signals where they can.
///
/// | Request | Response |
/// | --- | --- |
/// | `get_node_processes_request(reqid: string)` | `get_node_processes_response(reqid: string, result: vector of` ``NodeProcessStatus``) |
/// | `shutdown_request(reqid: string)` | `shutdown_response(reqid: string, pids: vector of count)`: the controller's pid, then every node process's; then the controller stops its nodes and exits |
public enum ClusterKitControllerAPI: Sendable {
    /// The event name prefix, `ClusterKit::Controller::API::`.
    public static let prefix = "ClusterKit::Controller::API::"
    /// The topic: Zeek's controller topic, `zeek/management/controller`.
    public static let topic = ControllerAPI.topic
    /// `get_node_processes_request(reqid)`.
    public static let getNodeProcessesRequest = prefix + "get_node_processes_request"
    /// `get_node_processes_response(reqid, result)`.
    public static let getNodeProcessesResponse = prefix + "get_node_processes_response"
    /// `shutdown_request(reqid)`.
    public static let shutdownRequest = prefix + "shutdown_request"
    /// `shutdown_response(reqid, pids)`.
    public static let shutdownResponse = prefix + "shutdown_response"

    /// `ClusterKit::Agent::API::get_node_processes_request(reqid)`, from the controller to an agent process on its
    /// topic (`zeek/management/agent/<instance>`), for `get_node_processes` with ``ControllerService/AgentMode/remote``.
    public static let agentGetNodeProcessesRequest = "ClusterKit::Agent::API::get_node_processes_request"
    /// `ClusterKit::Agent::API::get_node_processes_response(reqid, result)`: the agent's node processes.
    public static let agentGetNodeProcessesResponse = "ClusterKit::Agent::API::get_node_processes_response"

    /// The events' signatures, for a WebSocket API server's catalog.
    public static let catalog = EventCatalog([
        EventCatalog.Signature(agentGetNodeProcessesRequest, [("reqid", .string)]),
        EventCatalog.Signature(agentGetNodeProcessesResponse, [("reqid", .string), ("result", .vector)]),
        EventCatalog.Signature(getNodeProcessesRequest, [("reqid", .string)]),
        EventCatalog.Signature(getNodeProcessesResponse, [("reqid", .string), ("result", .vector)]),
        EventCatalog.Signature(shutdownRequest, [("reqid", .string)]),
        EventCatalog.Signature(shutdownResponse, [("reqid", .string), ("pids", .vector)]),
    ])
}

public import ClusterKitModel

/// Zeek's remote Supervisor API (`base/frameworks/supervisor/control.zeek`), with which an agent has the supervisor
/// of its host create, restart, destroy and report its nodes, and the Management framework's
/// `Management::Supervisor::API::notify_node_exit`.
///
/// | Request (on `zeek/supervisor`) | Response (on `zeek/supervisor/<name>/<reqid>`) |
/// | --- | --- |
/// | `create_request(reqid: string, node: Supervisor::NodeConfig)` | `create_response(reqid, result: string)`, `""` when created |
/// | `status_request(reqid: string, node: string)` | `status_response(reqid, result: Supervisor::Status)` |
/// | `restart_request(reqid: string, node: string)` | `restart_response(reqid, result: bool)` |
/// | `destroy_request(reqid: string, node: string)` | `destroy_response(reqid, result: bool)` |
/// | `stop_request()` | none: the supervisor stops its whole process tree |
///
/// The supervisor also publishes `node_status(node, pid)` on `zeek/supervisor/node_status` after every start of a
/// node's process, and `notify_node_exit(node, outputs)` on `zeek/management/supervisor` when one exits on its own.
/// ``SupervisorControlResponder`` answers the requests; ``SupervisedNodeHost`` sends them.
public enum SupervisorControl: Sendable {
    /// `SupervisorControl::topic_prefix`, `zeek/supervisor`.
    public static let topicPrefix = "zeek/supervisor"
    /// `Management::Supervisor::topic_prefix`, `zeek/management/supervisor`, where node exits are reported.
    public static let managementTopic = "zeek/management/supervisor"
    /// `SupervisorControl::create_request`.
    public static let createRequest = "SupervisorControl::create_request"
    /// `SupervisorControl::create_response`.
    public static let createResponse = "SupervisorControl::create_response"
    /// `SupervisorControl::status_request`.
    public static let statusRequest = "SupervisorControl::status_request"
    /// `SupervisorControl::status_response`.
    public static let statusResponse = "SupervisorControl::status_response"
    /// `SupervisorControl::restart_request`.
    public static let restartRequest = "SupervisorControl::restart_request"
    /// `SupervisorControl::restart_response`.
    public static let restartResponse = "SupervisorControl::restart_response"
    /// `SupervisorControl::destroy_request`.
    public static let destroyRequest = "SupervisorControl::destroy_request"
    /// `SupervisorControl::destroy_response`.
    public static let destroyResponse = "SupervisorControl::destroy_response"
    /// `SupervisorControl::stop_request`.
    public static let stopRequest = "SupervisorControl::stop_request"
    /// `SupervisorControl::node_status`.
    public static let nodeStatus = "SupervisorControl::node_status"
    /// `Management::Supervisor::API::notify_node_exit`.
    public static let notifyNodeExit = "Management::Supervisor::API::notify_node_exit"

    /// The requests, which only the supervisor's own agent (a connection with its node token) may send.
    public static let requests: Set<String> = [
        createRequest, statusRequest, restartRequest, destroyRequest, stopRequest,
    ]

    /// What the supervisor sends, which no client may send in its name.
    public static let notifications: Set<String> = [
        createResponse, statusResponse, restartResponse, destroyResponse, nodeStatus, notifyNodeExit,
    ]

    /// The topic of one response, as Zeek's supervisor publishes it: `zeek/supervisor/create_response/<reqid>`.
    ///
    /// - Parameters:
    ///   - response: The response event's name.
    ///   - reqid: The request id.
    /// - Returns: The topic.
    public static func responseTopic(_ response: String, reqid: String) -> Topic {
        let short = response.split(separator: ":").last.map(String.init) ?? response
        return Topic(topicPrefix + "/" + short + "/" + reqid)
    }

    /// The events' signatures, for a WebSocket API server's catalog.
    public static let catalog = EventCatalog([
        EventCatalog.Signature(createRequest, [("reqid", .string), ("node", .vector)]),
        EventCatalog.Signature(createResponse, [("reqid", .string), ("result", .string)]),
        EventCatalog.Signature(statusRequest, [("reqid", .string), ("node", .string)]),
        EventCatalog.Signature(statusResponse, [("reqid", .string), ("result", .vector)]),
        EventCatalog.Signature(restartRequest, [("reqid", .string), ("node", .string)]),
        EventCatalog.Signature(restartResponse, [("reqid", .string), ("result", .boolean)]),
        EventCatalog.Signature(destroyRequest, [("reqid", .string), ("node", .string)]),
        EventCatalog.Signature(destroyResponse, [("reqid", .string), ("result", .boolean)]),
        EventCatalog.Signature(stopRequest),
        EventCatalog.Signature(nodeStatus, [("node", .string), ("pid", .count)]),
        EventCatalog.Signature(notifyNodeExit, [("node", .string), ("outputs", .vector)]),
    ])
}

import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Topics and event names of the Management agent API (`Management::Agent::API`, version 1).
public enum AgentAPI: Sendable {
    /// `Management::Agent::topic_prefix`: the controller sends to `<prefix>/<instance>`; an agent publishes
    /// on its own topic.
    public static let topicPrefix = "zeek/management/agent"
    /// `Management::Agent::API::version`.
    public static let version: UInt64 = 1

    /// The topic of one agent.
    ///
    /// - Parameter instance: The agent's instance name.
    /// - Returns: `zeek/management/agent/<instance>`.
    public static func topic(_ instance: String) -> Topic { Topic(topicPrefix + "/" + instance) }

    private static let prefix = "Management::Agent::API::"

    /// `deploy_request(reqid, config, force)`.
    public static let deployRequest = prefix + "deploy_request"
    /// `deploy_response(reqid, results)`.
    public static let deployResponse = prefix + "deploy_response"
    /// `get_nodes_request(reqid)`.
    public static let getNodesRequest = prefix + "get_nodes_request"
    /// `get_nodes_response(reqid, result)`.
    public static let getNodesResponse = prefix + "get_nodes_response"
    /// `node_dispatch_request(reqid, action, nodes)`.
    public static let nodeDispatchRequest = prefix + "node_dispatch_request"
    /// `node_dispatch_response(reqid, results)`.
    public static let nodeDispatchResponse = prefix + "node_dispatch_response"
    /// `agent_welcome_request(reqid)`.
    public static let agentWelcomeRequest = prefix + "agent_welcome_request"
    /// `agent_welcome_response(reqid, result)`.
    public static let agentWelcomeResponse = prefix + "agent_welcome_response"
    /// `agent_standby_request(reqid)`.
    public static let agentStandbyRequest = prefix + "agent_standby_request"
    /// `agent_standby_response(reqid, result)`.
    public static let agentStandbyResponse = prefix + "agent_standby_response"
    /// `restart_request(reqid, nodes)`.
    public static let restartRequest = prefix + "restart_request"
    /// `restart_response(reqid, results)`.
    public static let restartResponse = prefix + "restart_response"
    /// `notify_agent_hello(instance, id, connecting, api_version)`.
    public static let notifyAgentHello = prefix + "notify_agent_hello"
}

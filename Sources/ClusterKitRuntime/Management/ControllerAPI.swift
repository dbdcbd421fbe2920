import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Topics and event names of the Management controller API (`Management::Controller::API`, version 1).
public enum ControllerAPI: Sendable {
    /// `Management::Controller::topic`: clients publish requests here and the controller answers here.
    public static let topic = Topic("zeek/management/controller")
    /// `Management::Controller::API::version`.
    public static let version: UInt64 = 1

    private static let prefix = "Management::Controller::API::"

    /// `get_instances_request(reqid)`.
    public static let getInstancesRequest = prefix + "get_instances_request"
    /// `get_instances_response(reqid, result)`.
    public static let getInstancesResponse = prefix + "get_instances_response"
    /// `stage_configuration_request(reqid, config)`.
    public static let stageConfigurationRequest = prefix + "stage_configuration_request"
    /// `stage_configuration_response(reqid, results)`.
    public static let stageConfigurationResponse = prefix + "stage_configuration_response"
    /// `get_configuration_request(reqid, deployed)`.
    public static let getConfigurationRequest = prefix + "get_configuration_request"
    /// `get_configuration_response(reqid, result)`.
    public static let getConfigurationResponse = prefix + "get_configuration_response"
    /// `deploy_request(reqid)`.
    public static let deployRequest = prefix + "deploy_request"
    /// `deploy_response(reqid, results)`.
    public static let deployResponse = prefix + "deploy_response"
    /// `get_nodes_request(reqid)`.
    public static let getNodesRequest = prefix + "get_nodes_request"
    /// `get_nodes_response(reqid, results)`.
    public static let getNodesResponse = prefix + "get_nodes_response"
    /// `get_id_value_request(reqid, id, nodes)`.
    public static let getIDValueRequest = prefix + "get_id_value_request"
    /// `get_id_value_response(reqid, results)`.
    public static let getIDValueResponse = prefix + "get_id_value_response"
    /// `restart_request(reqid, nodes)`.
    public static let restartRequest = prefix + "restart_request"
    /// `restart_response(reqid, results)`.
    public static let restartResponse = prefix + "restart_response"
    /// `test_timeout_request(reqid, with_state)`.
    public static let testTimeoutRequest = prefix + "test_timeout_request"
    /// `test_timeout_response(reqid, result)`.
    public static let testTimeoutResponse = prefix + "test_timeout_response"
}

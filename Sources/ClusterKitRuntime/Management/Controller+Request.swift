import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension Controller {
    /// A client request, decoded once from its event: the only form the controller's state machine sees.
    ///
    /// Decoding (``init(_:reqid:arguments:)``) reads the arguments in Zeek's declaration order and fails with
    /// the first that is missing or of the wrong type, as a ``RequestArgumentError`` whose text the client gets
    /// in a failed `Management::Result`.
    enum Request: Sendable, Equatable {
        /// `get_instances_request(reqid)`.
        case getInstances(reqid: String)
        /// `get_nodes_request(reqid)`.
        case getNodes(reqid: String)
        /// `get_configuration_request(reqid, deployed)`.
        case getConfiguration(reqid: String, deployed: Bool)
        /// `stage_configuration_request(reqid, config)`.
        case stageConfiguration(reqid: String, Management.Configuration)
        /// `deploy_request(reqid)`.
        case deploy(reqid: String)
        /// `get_id_value_request(reqid, id, nodes)`; no nodes means every node.
        case getIDValue(reqid: String, id: String, nodes: Set<String>)
        /// `restart_request(reqid, nodes)`; no nodes means every node.
        case restart(reqid: String, nodes: Set<String>)
        /// `test_timeout_request(reqid, with_state)`.
        case testTimeout(reqid: String, withState: Bool)

        /// Which request it is, without its arguments.
        enum Kind: Sendable, Hashable, CaseIterable {
            case getInstances
            case getNodes
            case getConfiguration
            case stageConfiguration
            case deploy
            case getIDValue
            case restart
            case testTimeout

            /// The kind of the request event `name`, or `nil` when `name` is no client request.
            init?(eventName name: String) {
                switch name {
                case ControllerAPI.getInstancesRequest: self = .getInstances
                case ControllerAPI.getNodesRequest: self = .getNodes
                case ControllerAPI.getConfigurationRequest: self = .getConfiguration
                case ControllerAPI.stageConfigurationRequest: self = .stageConfiguration
                case ControllerAPI.deployRequest: self = .deploy
                case ControllerAPI.getIDValueRequest: self = .getIDValue
                case ControllerAPI.restartRequest: self = .restart
                case ControllerAPI.testTimeoutRequest: self = .testTimeout
                default: return nil
                }
            }

            /// The request event's full name.
            var eventName: String {
                switch self {
                case .getInstances: ControllerAPI.getInstancesRequest
                case .getNodes: ControllerAPI.getNodesRequest
                case .getConfiguration: ControllerAPI.getConfigurationRequest
                case .stageConfiguration: ControllerAPI.stageConfigurationRequest
                case .deploy: ControllerAPI.deployRequest
                case .getIDValue: ControllerAPI.getIDValueRequest
                case .restart: ControllerAPI.restartRequest
                case .testTimeout: ControllerAPI.testTimeoutRequest
                }
            }

            /// The response event's full name.
            var responseName: String {
                switch self {
                case .getInstances: ControllerAPI.getInstancesResponse
                case .getNodes: ControllerAPI.getNodesResponse
                case .getConfiguration: ControllerAPI.getConfigurationResponse
                case .stageConfiguration: ControllerAPI.stageConfigurationResponse
                case .deploy: ControllerAPI.deployResponse
                case .getIDValue: ControllerAPI.getIDValueResponse
                case .restart: ControllerAPI.restartResponse
                case .testTimeout: ControllerAPI.testTimeoutResponse
                }
            }

            /// The request's name without `Management::Controller::API::`, as messages and the log name it.
            var shortName: String { Self.shortName(of: eventName) }

            /// The response's name without `Management::Controller::API::`, as the log names it.
            var responseShortName: String { Self.shortName(of: responseName) }

            /// A Boolean value indicating whether the response carries one `Result` (`result`) rather than a
            /// vector of them (`results`).
            var answersWithOneResult: Bool {
                switch self {
                case .getInstances, .getConfiguration, .testTimeout: true
                case .getNodes, .stageConfiguration, .deploy, .getIDValue, .restart: false
                }
            }

            private static func shortName(of name: String) -> String {
                name.split(separator: ":").last.map(String.init) ?? name
            }
        }

        /// Decodes the arguments after the request id, in declaration order.
        ///
        /// - Parameters:
        ///   - kind: The request.
        ///   - reqid: The client's request id (argument 1).
        ///   - arguments: Every argument of the event, the request id included.
        /// - Throws: ``RequestArgumentError`` naming the first argument that is missing or of the wrong type.
        init(_ kind: Kind, reqid: String, arguments: [Broker.Value]) throws(RequestArgumentError) {
            let name = kind.shortName
            switch kind {
            case .getInstances:
                self = .getInstances(reqid: reqid)
            case .getNodes:
                self = .getNodes(reqid: reqid)
            case .getConfiguration:
                let deployed: Bool = try RequestArgumentError.read(arguments, 1, "deployed", "a bool", of: name)
                self = .getConfiguration(reqid: reqid, deployed: deployed)
            case .stageConfiguration:
                let configuration: Management.Configuration = try RequestArgumentError.read(
                    arguments,
                    1,
                    "config",
                    "a Management::Configuration",
                    of: name
                )
                self = .stageConfiguration(reqid: reqid, configuration)
            case .deploy:
                self = .deploy(reqid: reqid)
            case .getIDValue:
                let id: String = try RequestArgumentError.read(arguments, 1, "id", "a string", of: name)
                let nodes: Set<String> = try RequestArgumentError.read(
                    arguments,
                    2,
                    "nodes",
                    "a set of strings",
                    of: name,
                    default: []
                )
                self = .getIDValue(reqid: reqid, id: id, nodes: nodes)
            case .restart:
                let nodes: Set<String> = try RequestArgumentError.read(
                    arguments,
                    1,
                    "nodes",
                    "a set of strings",
                    of: name,
                    default: []
                )
                self = .restart(reqid: reqid, nodes: nodes)
            case .testTimeout:
                let withState: Bool = try RequestArgumentError.read(arguments, 1, "with_state", "a bool", of: name)
                self = .testTimeout(reqid: reqid, withState: withState)
            }
        }

        /// Which request it is.
        var kind: Kind {
            switch self {
            case .getInstances: .getInstances
            case .getNodes: .getNodes
            case .getConfiguration: .getConfiguration
            case .stageConfiguration: .stageConfiguration
            case .deploy: .deploy
            case .getIDValue: .getIDValue
            case .restart: .restart
            case .testTimeout: .testTimeout
            }
        }

        /// The client's request id, echoed in the response.
        var reqid: String {
            switch self {
            case .getInstances(let reqid), .getNodes(let reqid), .getConfiguration(let reqid, _),
                .stageConfiguration(let reqid, _), .deploy(let reqid), .getIDValue(let reqid, _, _),
                .restart(let reqid, _), .testTimeout(let reqid, _):
                reqid
            }
        }
    }
}

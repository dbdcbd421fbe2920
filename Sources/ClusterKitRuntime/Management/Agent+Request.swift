import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension Agent {
    /// A request from the controller, decoded once from its event: the only form the agent's state machine sees.
    enum Request: Sendable, Equatable {
        /// `agent_welcome_request(reqid)`.
        case agentWelcome(reqid: String)
        /// `agent_standby_request(reqid)`.
        case agentStandby(reqid: String)
        /// `deploy_request(reqid, config, force)`: without `force`, an agent already running the configuration (by
        /// id) answers at once and leaves its nodes alone, as Zeek's does.
        case deploy(reqid: String, Management.Configuration, force: Bool = false)
        /// `get_nodes_request(reqid)`.
        case getNodes(reqid: String)
        /// `node_dispatch_request(reqid, action, nodes)`; no nodes means every node.
        case nodeDispatch(reqid: String, action: [String], nodes: Set<String>)
        /// `restart_request(reqid, nodes)`; no nodes means every node.
        case restart(reqid: String, nodes: Set<String>)

        /// Which request it is, without its arguments.
        enum Kind: Sendable, Hashable, CaseIterable {
            case agentWelcome
            case agentStandby
            case deploy
            case getNodes
            case nodeDispatch
            case restart

            /// The kind of the request event `name`, or `nil` when `name` is no agent request.
            init?(eventName name: String) {
                switch name {
                case AgentAPI.agentWelcomeRequest: self = .agentWelcome
                case AgentAPI.agentStandbyRequest: self = .agentStandby
                case AgentAPI.deployRequest: self = .deploy
                case AgentAPI.getNodesRequest: self = .getNodes
                case AgentAPI.nodeDispatchRequest: self = .nodeDispatch
                case AgentAPI.restartRequest: self = .restart
                default: return nil
                }
            }

            /// The response event's full name.
            var responseName: String {
                switch self {
                case .agentWelcome: AgentAPI.agentWelcomeResponse
                case .agentStandby: AgentAPI.agentStandbyResponse
                case .deploy: AgentAPI.deployResponse
                case .getNodes: AgentAPI.getNodesResponse
                case .nodeDispatch: AgentAPI.nodeDispatchResponse
                case .restart: AgentAPI.restartResponse
                }
            }

            /// The request's name without `Management::Agent::API::`, as error texts name it.
            var shortName: String {
                switch self {
                case .agentWelcome: "agent_welcome_request"
                case .agentStandby: "agent_standby_request"
                case .deploy: "deploy_request"
                case .getNodes: "get_nodes_request"
                case .nodeDispatch: "node_dispatch_request"
                case .restart: "restart_request"
                }
            }

            /// A Boolean value indicating whether the response carries one `Result` rather than a vector.
            var answersWithOneResult: Bool {
                switch self {
                case .agentWelcome, .agentStandby, .getNodes: true
                case .deploy, .nodeDispatch, .restart: false
                }
            }
        }

        /// Decodes the arguments after the request id, in declaration order.
        ///
        /// - Parameters:
        ///   - kind: The request.
        ///   - reqid: The controller's request id (argument 1).
        ///   - arguments: Every argument of the event, the request id included.
        /// - Throws: ``RequestArgumentError`` naming the first argument that is missing or of the wrong type.
        init(_ kind: Kind, reqid: String, arguments: [Broker.Value]) throws(RequestArgumentError) {
            let name = kind.shortName
            switch kind {
            case .agentWelcome:
                self = .agentWelcome(reqid: reqid)
            case .agentStandby:
                self = .agentStandby(reqid: reqid)
            case .deploy:
                let configuration: Management.Configuration = try RequestArgumentError.read(
                    arguments,
                    1,
                    "config",
                    "a Management::Configuration",
                    of: name
                )
                let force: Bool = try RequestArgumentError.read(
                    arguments,
                    2,
                    "force",
                    "a boolean",
                    of: name,
                    default: false
                )
                self = .deploy(reqid: reqid, configuration, force: force)
            case .getNodes:
                self = .getNodes(reqid: reqid)
            case .nodeDispatch:
                let action: [String] = try RequestArgumentError.read(
                    arguments,
                    1,
                    "action",
                    "a vector of strings",
                    of: name
                )
                let nodes: Set<String> = try RequestArgumentError.read(
                    arguments,
                    2,
                    "nodes",
                    "a set of strings",
                    of: name,
                    default: []
                )
                self = .nodeDispatch(reqid: reqid, action: action, nodes: nodes)
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
            }
        }
    }

    /// An event the agent acts on, decoded once: a request from the controller, or a node's hello or answer.
    enum Message: Sendable, Equatable {
        /// A well-formed request from the controller.
        case request(Request)
        /// `notify_node_hello(node)`: a node the agent started can answer.
        case nodeHello(node: String)
        /// `node_dispatch_response(reqid, result)` from a node.
        case nodeResponse(NodeResponse)

        /// Decodes an event the agent received.
        ///
        /// - Parameter event: The event.
        /// - Returns: The message, or `nil` for an event that is none of the agent's.
        /// - Throws: ``DecodingError`` for a request or node message that is malformed.
        static func decode(_ event: Broker.Event) throws(DecodingError) -> Message? {
            let arguments = event.arguments
            // Node answers first: one per node and dispatch, the hot path.
            switch event.name {
            case NodeRuntime.API.notifyNodeHello:
                guard case .string(let node)? = arguments.first else {
                    throw DecodingError(.malformedNodeMessage, "notify_node_hello: argument 1 (node) is not a string")
                }
                return .nodeHello(node: node)
            case NodeRuntime.API.dispatchResponse:
                guard arguments.count >= 2, case .string(let reqid) = arguments[0] else {
                    throw DecodingError(
                        .malformedNodeMessage,
                        "node_dispatch_response: expected a request id and a result"
                    )
                }
                let result: Management.Result
                do {
                    result = try Management.Result(brokerValue: arguments[1])
                } catch {
                    throw DecodingError(
                        .malformedNodeMessage,
                        "node_dispatch_response \(reqid): argument 2 is not a result: \(error)"
                    )
                }
                guard let node = result.node else {
                    throw DecodingError(
                        .malformedNodeMessage,
                        "node_dispatch_response \(reqid): the result names no node"
                    )
                }
                return .nodeResponse(NodeResponse(reqid: reqid, node: node, result: result))
            default:
                break
            }
            guard let kind = Request.Kind(eventName: event.name) else { return nil }
            guard case .string(let reqid)? = arguments.first else {
                let what = arguments.isEmpty ? "is missing" : "is not a string"
                throw DecodingError(
                    .missingRequestID,
                    "\(kind.shortName): argument 1 (reqid) \(what)",
                    request: kind
                )
            }
            do throws(RequestArgumentError) {
                return .request(try Request(kind, reqid: reqid, arguments: arguments))
            } catch {
                throw DecodingError(.invalidArgument, error.description, request: kind, reqid: reqid)
            }
        }
    }

    /// A node's answer to one of the agent's dispatches.
    struct NodeResponse: Sendable, Equatable {
        /// The agent's id of the dispatch.
        var reqid: String
        /// The node that answered.
        var node: String
        /// Its result, as the node sent it.
        var result: Management.Result
    }

    /// An event the agent should act on but whose arguments are malformed.
    ///
    /// A request with a string request id is answered with ``message`` in a failed result; anything else is
    /// dropped (the agent has no log, and Zeek's agent never sees such an event: Broker refuses to make it).
    struct DecodingError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong.
        enum Code: Sendable, Hashable {
            /// A request without a string request id: it cannot be answered.
            case missingRequestID
            /// A request with a request id and an argument that is missing or of the wrong type.
            case invalidArgument
            /// A node's hello or response that cannot be read.
            case malformedNodeMessage
        }

        /// What is wrong, for the code to branch on.
        var code: Code
        /// The text for the controller, such as
        /// `deploy_request: argument 2 (config) is not a Management::Configuration: …`.
        var message: String
        /// The request, when the event is one.
        var request: Request.Kind?
        /// The request id, when the request can be answered.
        var reqid: String?

        init(_ code: Code, _ message: String, request: Request.Kind? = nil, reqid: String? = nil) {
            self.code = code
            self.message = message
            self.request = request
            self.reqid = reqid
        }

        /// The message.
        var description: String { message }
    }
}

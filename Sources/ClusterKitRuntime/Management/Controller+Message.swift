import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension Controller {
    /// An event the controller acts on, decoded once: a client request, an agent's hello, or an agent's answer
    /// to one of the controller's sub-requests.
    enum Message: Sendable, Equatable {
        /// A well-formed client request.
        case request(Request)
        /// `notify_agent_hello(instance, id, connecting, api_version)`.
        case agentHello(AgentHello)
        /// An agent's response to a sub-request.
        case agentResponse(AgentResponse)

        /// Decodes an event the controller received.
        ///
        /// - Parameter event: The event.
        /// - Returns: The message, or `nil` for an event that is none of the controller's (other clients'
        ///   traffic on the controller topic, ClusterKit's own additions, responses it does not wait for).
        /// - Throws: ``DecodingError`` for a request or agent message that is malformed.
        static func decode(_ event: Broker.Event) throws(DecodingError) -> Message? {
            let arguments = event.arguments
            if let kind = Request.Kind(eventName: event.name) {
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
            if event.name == AgentAPI.notifyAgentHello {
                guard arguments.count >= 4, case .string(let instance) = arguments[0],
                    case .string(let nodeID) = arguments[1], case .boolean(let connecting) = arguments[2]
                else {
                    throw DecodingError(
                        .malformedAgentMessage,
                        "notify_agent_hello: expected instance, id, connecting and api_version"
                    )
                }
                return .agentHello(AgentHello(instance: instance, nodeID: nodeID, isConnecting: connecting))
            }
            guard let kind = AgentResponse.Kind(eventName: event.name) else { return nil }
            guard arguments.count >= 2, case .string(let areq) = arguments[0] else {
                throw DecodingError(.malformedAgentMessage, "\(kind.shortName): expected a request id and results")
            }
            do {
                let results =
                    kind.carriesVector
                    ? try [Management.Result](brokerValue: arguments[1])
                    : [try Management.Result(brokerValue: arguments[1])]
                return .agentResponse(AgentResponse(kind: kind, areq: areq, results: results))
            } catch {
                let expected = kind.carriesVector ? "a vector of result" : "a result"
                throw DecodingError(
                    .malformedAgentMessage,
                    "\(kind.shortName) \(areq): argument 2 is not \(expected): \(error)"
                )
            }
        }
    }

    /// An agent's `notify_agent_hello`.
    struct AgentHello: Sendable, Hashable {
        /// The agent's instance name.
        var instance: String
        /// The agent's backend node id.
        var nodeID: String
        /// A Boolean value indicating whether the agent connects to the controller (rather than listening).
        var isConnecting: Bool
        /// The address the agent's connection comes from, when it is a WebSocket client of the hub.
        var address: Broker.Address? = nil
    }

    /// An agent's response to one of the controller's sub-requests.
    struct AgentResponse: Sendable, Equatable {
        /// The responses the controller waits for.
        enum Kind: Sendable, Hashable, CaseIterable {
            case agentWelcome
            case getNodes
            case nodeDispatch
            case deploy
            case restart

            /// The kind of the response event `name`, or `nil` when the controller does not wait for it.
            init?(eventName name: String) {
                switch name {
                case AgentAPI.agentWelcomeResponse: self = .agentWelcome
                case AgentAPI.getNodesResponse: self = .getNodes
                case AgentAPI.nodeDispatchResponse: self = .nodeDispatch
                case AgentAPI.deployResponse: self = .deploy
                case AgentAPI.restartResponse: self = .restart
                default: return nil
                }
            }

            /// The response's name without `Management::Agent::API::`.
            var shortName: String {
                switch self {
                case .agentWelcome: "agent_welcome_response"
                case .getNodes: "get_nodes_response"
                case .nodeDispatch: "node_dispatch_response"
                case .deploy: "deploy_response"
                case .restart: "restart_response"
                }
            }

            /// A Boolean value indicating whether argument 2 is a vector of results rather than one.
            var carriesVector: Bool {
                switch self {
                case .agentWelcome, .getNodes: false
                case .nodeDispatch, .deploy, .restart: true
                }
            }
        }

        /// Which response it is.
        var kind: Kind
        /// The controller's id of the sub-request it answers.
        var areq: String
        /// The agent's results.
        var results: [Management.Result]
    }

    /// An event the controller should act on but whose arguments are malformed.
    ///
    /// A client request with a string request id is answered with ``message`` in a failed result; anything
    /// else is dropped and logged as `dropped <message>`.
    struct DecodingError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong.
        enum Code: Sendable, Hashable {
            /// A client request without a string request id: it cannot be answered.
            case missingRequestID
            /// A client request with a request id and an argument that is missing or of the wrong type.
            case invalidArgument
            /// An agent's hello or response that cannot be read.
            case malformedAgentMessage
        }

        /// What is wrong, for the code to branch on.
        var code: Code
        /// The text for the client or the log, such as
        /// `stage_configuration_request: argument 2 (config) is not a Management::Configuration: …`.
        var message: String
        /// The client request, when the event is one.
        var request: Request.Kind?
        /// The client's request id, when the request can be answered.
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

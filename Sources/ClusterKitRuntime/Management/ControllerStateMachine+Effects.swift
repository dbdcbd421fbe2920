import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension ControllerStateMachine {
    /// How a tracked request ended.
    typealias Outcome = RequestTracker<Management.Result>.Outcome

    /// Something that happened to the controller: one input is one step.
    enum Input: Sendable {
        /// A client request, decoded.
        case request(Controller.Request, from: UInt64? = nil)
        /// A client request with a request id whose arguments are malformed; `message` says what is wrong.
        case malformedRequest(Controller.Request.Kind, reqid: String, message: String, from: UInt64? = nil)
        /// An agent said hello.
        case agentHello(Controller.AgentHello)
        /// An agent answered a sub-request.
        case agentResponse(Controller.AgentResponse)
        /// A sub-request could not be sent to its agent; `error` is the backend's reason.
        case agentUnreachable(areq: String, error: String)
        /// A tracked request ended (its tracker callback).
        case trackerFinished(RequestID, Outcome)
        /// The tracker refused to start a request that ``Effect/startTracking(_:awaiting:finishesWhenAllAnswered:)``
        /// asked for.
        case trackingFailed(RequestID, any Error)
        /// ``Controller/deploy(_:)``: stage and deploy a configuration without a client.
        case internalDeploy(reqid: String, Management.Configuration)
        /// The agents of ``Effect/retireAgents(_:deploy:)`` are gone (or were asked to stand by).
        case agentsRetired(deploy: String)
        /// ``Effect/launchAgents(_:deploy:)`` returned.
        case agentsLaunched(deploy: String)
    }

    /// What the driver does for a step, in order.
    ///
    /// Every effect after a ``startTracking(_:awaiting:finishesWhenAllAnswered:)`` in one step belongs to the
    /// request it starts: when the tracker refuses it, the driver feeds ``Input/trackingFailed(_:_:)`` and skips
    /// them.
    enum Effect: Sendable, Equatable {
        /// Send a response to a client (or hand it to the waiting ``Controller/deploy(_:)``); logs `tx …`.
        case respond(Response)
        /// Return the staging errors of an internal deployment to ``Controller/deploy(_:)``; nothing is sent.
        case finishInternalDeploy(reqid: String, results: [Management.Result])
        /// Write a line to the log.
        case log(String)
        /// Send `agent_welcome_request(areq)` to an agent; a failure to send fails the step's event.
        case sendWelcome(areq: String, instance: String)
        /// Send one sub-request to each of several agents; each one that cannot be sent to comes back as
        /// ``Input/agentUnreachable(areq:error:)``.
        case fanOut(FanOut)
        /// Stop the agents of instances that left the configuration (or ask them to stand by), then feed
        /// ``Input/agentsRetired(deploy:)``.
        case retireAgents([String], deploy: String)
        /// Start agents for instances that have none, then feed ``Input/agentsLaunched(deploy:)``.
        case launchAgents([Management.Instance], deploy: String)
        /// Start tracking a request; its callback feeds ``Input/trackerFinished(_:_:)``.
        case startTracking(RequestID, awaiting: [RequestTarget], finishesWhenAllAnswered: Bool)
        /// Record results for a tracked request.
        case record([Management.Result], for: RequestID)
        /// Mark a target of a tracked request as answered.
        case markAnswered(RequestTarget, for: RequestID)
        /// Finish a tracked request now.
        case finishTracking(RequestID)
    }

    /// A response to a client request.
    struct Response: Sendable, Equatable {
        /// Where the response goes.
        enum Delivery: Sendable, Hashable {
            /// Published on the controller topic.
            case client
            /// Handed to the ``Controller/deploy(_:)`` call waiting for it.
            case internalDeploy
            /// Only logged: the deployment of the deployed configuration to an agent that rejoined.
            case logOnly
        }

        /// The request answered.
        var request: Controller.Request.Kind
        /// The client's request id.
        var reqid: String
        /// The results; exactly one for a request answered with one `Result`.
        var results: [Management.Result]
        /// Where it goes.
        var delivery: Delivery
        /// The hub endpoint of the client that asked (``TopicEvent/origin`` of its request), which alone gets a
        /// client response; `nil` publishes it to every subscriber of the controller topic, as Zeek does.
        var recipient: UInt64?

        init(
            _ request: Controller.Request.Kind,
            _ reqid: String,
            _ results: [Management.Result],
            delivery: Delivery = .client
        ) {
            self.request = request
            self.reqid = reqid
            self.results = results
            self.delivery = delivery
        }

        /// The response's second argument: one `Result`, or a vector of them.
        var payload: Broker.Value {
            if request.answersWithOneResult, results.count == 1, let only = results.first { return only.brokerValue }
            return .vector(results.map { $0.brokerValue })
        }
    }

    /// One sub-request sent to several agents, each under its own id.
    struct FanOut: Sendable, Equatable {
        /// One agent's copy.
        struct Child: Sendable, Hashable {
            /// The controller's id for this agent's answer.
            var areq: String
            /// The agent's instance.
            var instance: String
        }

        /// The request every agent gets.
        var request: AgentRequest
        /// The agents, in the order they are sent to.
        var children: [Child]
    }

    /// A request the controller sends to agents.
    enum AgentRequest: Sendable, Equatable {
        /// `get_nodes_request(reqid)`.
        case getNodes
        /// `node_dispatch_request(reqid, action, nodes)`.
        case nodeDispatch(action: [String], nodes: Set<String>)
        /// `restart_request(reqid, nodes)`.
        case restart(nodes: Set<String>)
        /// `deploy_request(reqid, config, force)`, never forced.
        case deploy(Management.Configuration)

        /// The event name.
        var eventName: String {
            switch self {
            case .getNodes: AgentAPI.getNodesRequest
            case .nodeDispatch: AgentAPI.nodeDispatchRequest
            case .restart: AgentAPI.restartRequest
            case .deploy: AgentAPI.deployRequest
            }
        }

        /// The arguments after the request id: the same for every agent, so encoded once (a configuration
        /// may hold thousands of nodes).
        var arguments: [Broker.Value] {
            switch self {
            case .getNodes: []
            case .nodeDispatch(let action, let nodes): [action.brokerValue, nodes.brokerValue]
            case .restart(let nodes): [nodes.brokerValue]
            case .deploy(let configuration): [configuration.brokerValue, .boolean(false)]
            }
        }
    }

    /// The deployment in progress.
    ///
    /// At most one runs at a time; every way it ends goes through `endDeploy`, which clears it and sends the one
    /// `deploy_response`.
    struct Deployment: Sendable, Equatable {
        /// Where it stands.
        enum Phase: Sendable, Equatable {
            /// Waiting for the agents of instances that left the configuration to be gone.
            case retiringAgents([String])
            /// Waiting for ``Controller/Options/launchAgents`` to return.
            case launchingAgents
            /// Waiting (tracked under the id) for agents to say hello and answer the welcome; `answered`
            /// holds the instances already marked ready in the tracker.
            case waitingForAgents(RequestID, answered: Set<String>)
            /// The deploy requests are out, tracked under the id.
            case deploying(RequestID)
        }

        /// The client's request id (or the internal deployment's).
        var reqid: String
        /// The configuration being deployed (hosts filled in, ports assigned).
        var configuration: Management.Configuration
        /// A Boolean value indicating whether ``Controller/deploy(_:)`` started it rather than a client.
        var isInternal: Bool
        /// Where it stands.
        var phase: Phase
    }

    /// What an agent's answer to a sub-request belongs to, by the controller's id for it.
    enum SubRequest: Sendable, Equatable {
        /// The welcome of a new agent (tracked under the same id).
        case welcome(instance: String)
        /// One agent's part of a fan-out tracked under `parent`.
        case child(parent: RequestID, instance: String)
    }

    /// A request the tracker holds for the controller, by the tracker's id.
    enum Tracked: Sendable, Equatable {
        /// An agent's welcome.
        case welcome(instance: String)
        /// A client request (or deployment) sent to agents.
        case fanOut(FanOutRequest)
        /// A deployment waiting for its agents.
        case deployWait(reqid: String)
        /// `test_timeout_request` with state: it only ever times out.
        case testTimeout(reqid: String)
    }

    /// A client request sent to agents, and how its response is put together.
    struct FanOutRequest: Sendable, Equatable {
        /// The client request.
        var request: Controller.Request.Kind
        /// The client's request id.
        var reqid: String
        /// The sub-request ids, one per agent.
        var children: [String]
        /// Results that come before the agents' (unknown nodes).
        var early: [Management.Result]
        /// Results that come after the agents' and the timeout's (the deployment's own success).
        var trailer: [Management.Result]
        /// Where the response goes when not to the client (a rejoining agent's deployment is only logged).
        var delivery: Response.Delivery? = nil
    }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension AgentStateMachine {
    /// How a tracked request ended.
    typealias Outcome = RequestTracker<Management.Result>.Outcome

    /// Something that happened to the agent: one input is one step.
    enum Input: Sendable {
        /// A request from the controller, decoded, with the nodes whose process is not running and why
        /// (``NodeHost/notRunning()``): a dispatch answers for those at once.
        case request(Agent.Request, notRunning: [String: String] = [:])
        /// A request with a request id whose arguments are malformed; `message` says what is wrong.
        case malformedRequest(Agent.Request.Kind, reqid: String, message: String)
        /// A node said hello.
        case nodeHello(String)
        /// A node's process exited without being asked to (``NodeHost/exits``), `reason` saying how: the
        /// dispatches still waiting for it are answered for it at once.
        case nodeExited(String, reason: String)
        /// The nodes of ``Effect/stopNodes(_:then:)`` are gone.
        case nodesStopped(AfterStop)
        /// ``Effect/launchNodes(_:_:in:)`` is done; `failed` names the nodes that could not be started.
        case nodesLaunched(RequestID, failed: [String])
        /// A node of ``Effect/restartNodes(_:_:)`` could not be restarted.
        case nodeRestartFailed(RequestID, node: String)
        /// A tracked request ended (its tracker callback).
        case trackerFinished(RequestID, Outcome)
        /// The tracker refused to start a request that ``Effect/startTracking(_:awaiting:)`` asked for.
        case trackingFailed(RequestID, any Error)
    }

    /// What comes once nodes are stopped.
    enum AfterStop: Sendable, Equatable {
        /// Answer the standby request.
        case standby(reqid: String)
        /// Deploy the configuration.
        case deploy(reqid: String, Management.Configuration)
    }

    /// What the driver does for a step, in order.
    ///
    /// Every effect after a ``startTracking(_:awaiting:)`` in one step belongs to the request it starts: when
    /// the tracker refuses it, the driver feeds ``Input/trackingFailed(_:_:)`` and skips them.
    enum Effect: Sendable, Equatable {
        /// Publish a response on the agent's topic.
        case publish(Response)
        /// Publish a deployment's results, with the outputs of the nodes that did not start from the node host.
        case publishDeployResults(DeployReport)
        /// Publish the `get_nodes` result, with process ids from the node host.
        case publishNodeStatuses(reqid: String, nodes: [String: NodeEntry])
        /// Stop the nodes, at most ``Agent/Options/maximumConcurrentStops`` at once; then feed
        /// ``Input/nodesStopped(_:)``.
        case stopNodes([String], then: AfterStop)
        /// Launch the nodes one after the other; then feed ``Input/nodesLaunched(_:failed:)``.
        case launchNodes(RequestID, [Management.Node], in: Management.Configuration)
        /// Restart the nodes one after the other, feeding ``Input/nodeRestartFailed(_:node:)`` for each that
        /// cannot be.
        case restartNodes(RequestID, [String])
        /// Publish `node_dispatch_request(id, action, nodes)` to the nodes.
        case dispatch(RequestID, action: [String], nodes: Set<String>)
        /// Start tracking a request that completes when every target answered; its callback feeds
        /// ``Input/trackerFinished(_:_:)``.
        case startTracking(RequestID, awaiting: [RequestTarget])
        /// Record a node's result for a tracked request.
        case record(Management.Result, for: RequestID, from: RequestTarget)
        /// Mark a target of a tracked request as answered.
        case markAnswered(RequestTarget, for: RequestID)
    }

    /// A response to the controller.
    struct Response: Sendable, Equatable {
        /// The request answered.
        var request: Agent.Request.Kind
        /// The controller's request id.
        var reqid: String
        /// The results; exactly one for a request answered with one `Result`.
        var results: [Management.Result]

        init(_ request: Agent.Request.Kind, _ reqid: String, _ results: [Management.Result]) {
            self.request = request
            self.reqid = reqid
            self.results = results
        }

        /// The response's second argument: one `Result`, or a vector of them.
        var payload: Broker.Value {
            if request.answersWithOneResult, results.count == 1, let only = results.first { return only.brokerValue }
            return .vector(results.map { $0.brokerValue })
        }
    }

    /// How a deployment ended, for its `deploy_response`.
    struct DeployReport: Sendable, Equatable {
        /// The controller's request id.
        var agentRequest: String
        /// The deployment's nodes, sorted.
        var nodes: [String]
        /// The nodes that said hello.
        var running: Set<String>
        /// A Boolean value indicating whether the deployment timed out.
        var timedOut: Bool

        /// The results: Zeek's `request timed out` first when it timed out, then one per node; a node that
        /// is not running carries its recent output.
        ///
        /// - Parameters:
        ///   - instance: The agent's instance.
        ///   - hosted: What the node host knows about the nodes.
        /// - Returns: The `deploy_response` results.
        func results(instance: String, hosted: [String: HostedNodeStatus]) -> [Management.Result] {
            var results: [Management.Result] = []
            if timedOut {
                results.append(
                    Management.Result(
                        reqid: agentRequest,
                        success: false,
                        instance: instance,
                        error: RequestTimeout.zeekMessage
                    )
                )
            }
            for name in nodes {
                let isRunning = running.contains(name)
                let outputs = hosted[name]?.outputs ?? Management.NodeOutputs(stdout: "", stderr: "")
                results.append(
                    Management.Result(
                        reqid: agentRequest,
                        success: isRunning,
                        instance: instance,
                        data: isRunning ? nil : outputs.brokerValue,
                        node: name
                    )
                )
            }
            return results
        }
    }
}

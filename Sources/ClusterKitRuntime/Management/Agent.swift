import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// A Management agent: runs the nodes of one instance and answers the controller, with the semantics of
/// Zeek's `policy/frameworks/management/agent/main.zeek`.
///
/// It announces itself with `notify_agent_hello` on its own topic, answers `agent_welcome_request`,
/// `agent_standby_request`, `deploy_request` (starts its nodes through a ``NodeHost`` and waits for each
/// node's `notify_node_hello`), `get_nodes_request` (its nodes, itself and a co-located controller),
/// `node_dispatch_request` (relayed to its running nodes on `zeek/management/node`) and `restart_request`.
/// Requests time out after ``Options/requestTimeout`` (Zeek's agents: 5 s, shorter than the controller's).
///
/// Deliberate differences from Zeek's agent:
/// - When a node stays silent on a dispatch, Zeek's agent sends nothing (the controller later answers with
///   only `request timed out`); this agent answers at its deadline with the other nodes' results,
///   `request timed out`, and `request timed out after 5 s waiting for <nodes> (instance '<agent>')`.
/// - Nodes are stopped in parallel (at most ``Options/maximumConcurrentStops`` at once), on standby and
///   before a deployment starts the new nodes, which it does only once every old node is gone; Zeek's agent
///   has the Supervisor destroy them one after the other.
/// - A request whose arguments are malformed is answered with a failed result naming the argument (Zeek's
///   agent never sees one: Broker refuses to make such an event).
///
/// Inside, every decision is a step of one state machine (`AgentStateMachine`) behind one lock: events are
/// decoded once into a typed request (or a node's hello or answer), the step returns effects, and the agent
/// performs them outside the lock. The ``RequestTracker``'s callbacks feed the same step.
public final class Agent: Sendable {
    typealias Effect = AgentStateMachine.Effect

    /// The options.
    public let options: Options
    /// The backend the agent talks through.
    public let backend: any ClusterBackend
    private let host: any NodeHost
    private let tracker: RequestTracker<Management.Result>
    private let spawner = TaskSpawner()
    /// Every piece of the agent's mutable state; changed only by its `step`.
    private let machine: Guarded<AgentStateMachine>
    /// The agent's management log (Zeek's `management-<instance>.log`), or `nil`.
    let managementLog: ManagementLog?

    /// Creates an agent.
    ///
    /// - Parameters:
    ///   - options: Settings.
    ///   - backend: The backend (connected by ``run()``).
    ///   - host: Where its nodes run.
    ///   - clock: The clock for request deadlines.
    ///   - managementLog: The agent's management log, or `nil` for none.
    public init(
        options: Options,
        backend: any ClusterBackend,
        host: any NodeHost,
        clock: any Clock<Duration> = ContinuousClock(),
        managementLog: ManagementLog? = nil
    ) {
        self.options = options
        self.managementLog = managementLog
        self.backend = backend
        self.host = host
        let trackerOptions = RequestTrackerOptions(defaultTimeout: options.requestTimeout)
        self.tracker = RequestTracker(options: trackerOptions, clock: clock)
        self.machine = Guarded(
            AgentStateMachine(
                settings: AgentStateMachine.Settings(
                    instance: options.instance,
                    requestTimeout: options.requestTimeout,
                    maximumPendingRequests: trackerOptions.maximumPendingRequests
                )
            )
        )
    }

    /// The number of the agent's requests waiting for nodes.
    public var pendingRequests: Int { tracker.pendingCount }

    /// The nodes the agent's pending requests still wait for, sorted.
    public var awaitedNodes: [String] {
        let ids = machine.withLock { Array($0.pending.keys) }
        var names: Set<String> = []
        for id in ids {
            for case .node(let name, _) in tracker.lookup(id).unanswered { names.insert(name) }
        }
        return names.sorted()
    }

    /// The states of the agent's nodes, by name.
    public var nodeStates: [String: Management.State] { machine.withLock { $0.nodes.mapValues(\.state) } }

    /// Every node's process as the agent and its node host know it, sorted by name.
    public var processStatuses: [NodeProcessStatus] {
        let (nodes, hosted) = (machine.withLock { $0.nodes }, host.status())
        return AgentStateMachine.processStatuses(nodes: nodes, hosted: hosted, instance: options.instance)
    }

    /// Stops every node gracefully (the node host's ``NodeHost/stopAll()``) and waits until they are gone.
    public func stopNodes() async {
        await host.stopAll()
    }

    /// Announces the agent: `notify_agent_hello(instance, id, connecting, api_version)` on its topic, as on every
    /// new connection to its controller.
    ///
    /// - Throws: ``BackendError`` from the backend.
    public func sayHello() async throws {
        try await publish(
            AgentAPI.notifyAgentHello,
            [
                .string(options.instance), .string(backend.nodeID), .boolean(options.listenPort == nil),
                .count(AgentAPI.version),
            ]
        )
    }

    /// Subscribes, says hello and answers requests until cancelled or the backend's events end.
    ///
    /// - Throws: ``BackendError`` from the backend.
    public func run() async throws {
        try await backend.subscribe(AgentAPI.topic(options.instance))
        try await backend.subscribe(
            NodeRuntime.API.topic,
            eventNames: [NodeRuntime.API.dispatchResponse, NodeRuntime.API.notifyNodeHello]
        )
        try await backend.connect()
        try await sayHello()
        note(.info, "agent is live, Broker ID \(backend.nodeID)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withDiscardingTaskGroup { tracking in
                    tracking.addTask { await self.tracker.run() }
                    // A node that exits on its own answers, through the machine, for what waits for it (this
                    // sequence may end at once; the tracker runs until cancelled).
                    tracking.addTask {
                        for await exit in self.host.exits {
                            self.note(.warning, "node \(exit.name) exited: \(exit.reason)")
                            self.performLater(self.step(.nodeExited(exit.name, reason: exit.reason)))
                        }
                    }
                }
            }
            group.addTask { await self.host.run() }
            group.addTask { await self.spawner.run() }
            group.addTask {
                do {
                    for try await received in self.backend.events { try await self.handle(received.event) }
                } catch is CancellationError {
                    return
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    // MARK: - Events

    /// Decodes an event once and hands it to the state machine; a malformed request is answered.
    private func handle(_ event: Broker.Event) async throws {
        if event.name == ClusterKitControllerAPI.agentGetNodeProcessesRequest {
            // ClusterKit's: what `zeekctl cluster status` shows, with start times and restarts.
            guard event.arguments.count == 1, case .string(let reqid) = event.arguments[0] else { return }
            try await publish(
                ClusterKitControllerAPI.agentGetNodeProcessesResponse,
                [.string(reqid), .vector(processStatuses.map(\.brokerValue))]
            )
            return
        }
        let message: Message
        do throws(DecodingError) {
            guard let decoded = try Message.decode(event) else { return }
            message = decoded
        } catch {
            guard error.code == .invalidArgument, let kind = error.request, let reqid = error.reqid else {
                // Nothing to answer: what it cannot read, it ignores, as Zeek's agent ignores events it has no
                // handler for (and notes it in its management log).
                note(.warning, "dropped \(error.message)")
                return
            }
            note(.warning, "refused \(kind.shortName) \(reqid): \(error.message)")
            try await perform(step(.malformedRequest(kind, reqid: reqid, message: error.message)))
            return
        }
        note(.info, Self.receivedLine(message, eventName: event.name))
        switch message {
        case .request(let request):
            // A dispatch skips nodes whose process is down (the host says why), answering for them at once.
            let notRunning: [String: String]
            if case .nodeDispatch = request { notRunning = host.notRunning() } else { notRunning = [:] }
            try await perform(step(.request(request, notRunning: notRunning)))
        case .nodeHello(let node):
            try await perform(step(.nodeHello(node)))
        case .nodeResponse(let response):
            // No step: an answer changes none of the agent's state, and recording needs no waiting.
            _ = performAtOnce(AgentStateMachine.recording(response, instance: options.instance))
        }
    }

    // MARK: - Stepping and performing

    /// One step of the state machine, in one lock scope.
    private func step(_ input: AgentStateMachine.Input) -> [Effect] {
        machine.withLock { $0.step(input) }
    }

    /// A tracker callback: it runs inside whatever ended the request, so what needs waiting is spawned.
    private func trackerFinished(_ id: RequestID, _ outcome: AgentStateMachine.Outcome) {
        if outcome.timeout != nil { note(.info, "request \(id.rawValue) timed out") }
        performLater(step(.trackerFinished(id, outcome)))
    }

    /// Performs `effects` in order in the calling task.
    ///
    /// - Throws: A publishing error; the effects after it are not performed.
    private func perform(_ effects: [Effect]) async throws {
        try await StateMachineEffects.perform(effects, atOnce: performAtOnce, waiting: performWaiting)
    }

    /// Performs the effects that need no waiting at once, in order, and the rest from the first one that does
    /// in a spawned task.
    private func performLater(_ effects: [Effect]) {
        let rest = StateMachineEffects.performUntilWaiting(effects, atOnce: performAtOnce)
        guard !rest.isEmpty else { return }
        spawner.spawn {
            do {
                try await self.perform(rest)
            } catch {
                // A response the agent cannot publish is lost, and the controller's request times out, as with
                // Zeek's agent.
                self.note(.error, "error sending a response: \(error)")
            }
        }
    }

    private func performAtOnce(_ effect: Effect) -> ImmediateEffect<Effect> {
        switch effect {
        case .startTracking(let id, let targets):
            do {
                try tracker.start(id, awaiting: targets, onFinish: trackerFinished)
            } catch {
                return .trackingFailed(step(.trackingFailed(id, error)))
            }
        case .record(let result, let id, let target):
            tracker.record(result, for: id, from: target)
        case .markAnswered(let target, let id):
            tracker.markAnswered(target, for: id)
        case .publish, .publishDeployResults, .publishNodeStatuses, .stopNodes, .launchNodes, .restartNodes,
            .dispatch:
            return .needsWaiting
        }
        return .performed
    }

    private func performWaiting(_ effect: Effect) async throws {
        switch effect {
        case .publish(let response):
            note(.info, "tx \(response.request.responseName) \(response.reqid)")
            try await publish(response.request.responseName, [.string(response.reqid), response.payload])
        case .publishDeployResults(let report):
            let results = report.results(instance: options.instance, hosted: host.status())
            note(.info, "tx \(AgentAPI.deployResponse) \(report.agentRequest)")
            try await publish(
                AgentAPI.deployResponse,
                [.string(report.agentRequest), .vector(results.map { $0.brokerValue })]
            )
        case .publishNodeStatuses(let reqid, let nodes):
            let result = AgentStateMachine.nodeStatusResult(
                reqid,
                nodes: nodes,
                hosted: host.status(),
                options: options,
                pid: Int(getpid())
            )
            note(.info, "tx \(AgentAPI.getNodesResponse) \(reqid)")
            try await publish(AgentAPI.getNodesResponse, [.string(reqid), result.brokerValue])
        case .stopNodes(let names, let next):
            if !names.isEmpty { note(.info, "stopping nodes \(names.joined(separator: ", "))") }
            await stop(names)
            try await perform(step(.nodesStopped(next)))
        case .launchNodes(let id, let nodes, let configuration):
            var failed: [String] = []
            let launches = AgentStateMachine.launches(of: nodes, in: configuration, settings: options.nodeSettings)
            // Nodes an earlier agent of this instance left running that this deployment does not have are stopped.
            await host.retainOnly(Set(launches.map(\.name)))
            for launch in launches {
                if await host.adopt(launch) {
                    // Still running from an earlier agent of this instance: it will not say hello again.
                    note(.info, "node \(launch.name) is already running; adopted")
                    try await perform(step(.nodeHello(launch.name)))
                    continue
                }
                note(.info, "starting node \(launch.name)")
                if let error = await host.launch(launch) {
                    failed.append(launch.name)
                    note(.error, "could not start node \(launch.name): \(error)")
                }
            }
            try await perform(step(.nodesLaunched(id, failed: failed)))
        case .restartNodes(let id, let names):
            for name in names where !(await host.restart(name)) {
                note(.error, "could not restart node \(name)")
                try await perform(step(.nodeRestartFailed(id, node: name)))
            }
        case .dispatch(let id, let action, let nodes):
            note(.info, "tx \(NodeRuntime.API.dispatchRequest) \(id.rawValue) \(action.joined(separator: " "))")
            try await backend.publish(
                Broker.Event(
                    NodeRuntime.API.dispatchRequest,
                    [.string(id.rawValue), action.brokerValue, nodes.brokerValue]
                ),
                to: NodeRuntime.API.topic
            )
        case .startTracking, .record, .markAnswered:
            // Performed at once by `performAtOnce`, never handed here.
            break
        }
    }

    // MARK: - Publishing and nodes

    private func publish(_ name: String, _ arguments: [Broker.Value]) async throws {
        try await backend.publish(Broker.Event(name, arguments), to: AgentAPI.topic(options.instance))
    }

    /// Stops the named nodes, at most ``Options/maximumConcurrentStops`` at once, and returns when every one
    /// is gone (as far as the node host's bounded ``NodeHost/stop(_:)`` waits).
    private func stop(_ names: [String]) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for name in names {
                if running == options.maximumConcurrentStops {
                    // Wait for one stop to end before the next starts.
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask { await self.host.stop(name) }
            }
            await group.waitForAll()
        }
    }
}

import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
import Synchronization

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
public final class Agent: Sendable {
    /// Agent settings.
    public struct Options: Sendable, Hashable {
        /// The instance (agent) name.
        public var instance: String
        /// How long deploy and restart wait for nodes; default 5 s (Zeek's agent).
        public var requestTimeout: Duration
        /// The port the agent listens on for the controller, when the controller connects to it.
        public var listenPort: Broker.Port?
        /// The controller's name, when the controller runs on this instance (shown by `get_nodes`).
        public var colocatedController: String?
        /// Identifiers to set on every node beside the cluster framework's.
        public var nodeSettings: [String: ZeekValue?]
        /// The most nodes stopped at once, on standby and before a deployment.
        ///
        /// Default ``defaultMaximumConcurrentStops`` (128); at least 1. Each stop waits until the node is gone, for a node process at most its stop sequence (32 s with
        /// Zeek's values), so stopping them in parallel keeps a redeployment from taking minutes.
        public var maximumConcurrentStops: Int

        /// Creates options.
        ///
        /// - Parameters:
        ///   - instance: The instance name.
        ///   - requestTimeout: How long deploy and restart wait.
        ///   - listenPort: The listen port, when the controller connects to the agent.
        ///   - colocatedController: The controller's name, when on this instance.
        ///   - nodeSettings: Identifiers to set on every node.
        ///   - maximumConcurrentStops: The most nodes stopped at once; at least 1.
        public init(
            instance: String,
            requestTimeout: Duration = .seconds(5),
            listenPort: Broker.Port? = nil,
            colocatedController: String? = nil,
            nodeSettings: [String: ZeekValue?] = [:],
            maximumConcurrentStops: Int = Options.defaultMaximumConcurrentStops
        ) {
            precondition(maximumConcurrentStops >= 1, "maximumConcurrentStops must be at least 1")
            self.instance = instance
            self.requestTimeout = requestTimeout
            self.listenPort = listenPort
            self.colocatedController = colocatedController
            self.nodeSettings = nodeSettings
            self.maximumConcurrentStops = maximumConcurrentStops
        }

        /// The default of ``maximumConcurrentStops``: 128 nodes stopped at once.
        public static let defaultMaximumConcurrentStops = 128
    }

    /// What an agent request collects, and what it does when finished.
    private enum Pending: Sendable {
        case deploy(agentRequest: String, nodes: [String])
        case restart(agentRequest: String, nodes: [String])
        case dispatch(agentRequest: String, early: [Management.Result])
    }

    private struct NodeEntry: Sendable {
        var node: Management.Node
        var state: Management.State
    }

    private struct State {
        var configuration: Management.Configuration?
        var nodes: [String: NodeEntry] = [:]
        var pending: [String: Pending] = [:]
    }

    /// The options.
    public let options: Options
    /// The backend the agent talks through.
    public let backend: any ClusterBackend
    private let host: any NodeHost
    private let tracker: RequestTracker<Management.Result>
    private let spawner = TaskSpawner()
    private let state = Mutex(State())

    /// Creates an agent.
    ///
    /// - Parameters:
    ///   - options: Settings.
    ///   - backend: The backend (connected by ``run()``).
    ///   - host: Where its nodes run.
    ///   - clock: The clock for request deadlines.
    public init(
        options: Options,
        backend: any ClusterBackend,
        host: any NodeHost,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.options = options
        self.backend = backend
        self.host = host
        self.tracker = RequestTracker(
            options: RequestTrackerOptions(defaultTimeout: options.requestTimeout),
            clock: clock
        )
    }

    /// The number of the agent's requests waiting for nodes.
    public var pendingRequests: Int { tracker.pendingCount }

    /// The nodes the agent's pending requests still wait for, sorted.
    public var awaitedNodes: [String] {
        let ids = state.withLock { Array($0.pending.keys) }
        var names: Set<String> = []
        for id in ids {
            for case .node(let name, _) in tracker.lookup(RequestID(id)).unanswered { names.insert(name) }
        }
        return names.sorted()
    }

    /// The states of the agent's nodes, by name.
    public var nodeStates: [String: Management.State] { state.withLock { $0.nodes.mapValues(\.state) } }

    /// Every node's process as the agent and its node host know it, sorted by name.
    public var processStatuses: [NodeProcessStatus] {
        let (nodes, hosted) = (state.withLock { $0.nodes }, host.status())
        return nodes.keys.sorted().compactMap { name in
            guard let entry = nodes[name] else { return nil }
            return NodeProcessStatus(
                node: name,
                instance: options.instance,
                role: entry.node.role,
                state: Self.reportedState(entry.state, hosted[name]),
                pid: hosted[name]?.pid,
                port: entry.node.p.flatMap { $0 == .unset ? nil : $0 },
                startedAt: hosted[name]?.startedAt,
                restarts: hosted[name]?.restarts ?? 0
            )
        }
    }

    /// Stops every node gracefully (the node host's ``NodeHost/stopAll()``) and waits until they are gone.
    public func stopNodes() async {
        await host.stopAll()
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
        try await publish(
            AgentAPI.notifyAgentHello,
            [
                .string(options.instance), .string(backend.nodeID), .boolean(options.listenPort == nil),
                .count(AgentAPI.version),
            ]
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.tracker.run() }
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

    private func publish(_ name: String, _ arguments: [Broker.Value]) async throws {
        try await backend.publish(Broker.Event(name, arguments), to: AgentAPI.topic(options.instance))
    }

    private func publishLater(_ name: String, _ arguments: [Broker.Value]) {
        spawner.spawn { try? await self.publish(name, arguments) }
    }

    // MARK: - Requests

    private func handle(_ event: Broker.Event) async throws {
        let arguments = event.arguments
        guard case .string(let reqid)? = arguments.first else { return }
        switch event.name {
        case AgentAPI.agentWelcomeRequest:
            try await publish(
                AgentAPI.agentWelcomeResponse,
                [.string(reqid), Management.Result(reqid: reqid, instance: options.instance).brokerValue]
            )
        case AgentAPI.agentStandbyRequest:
            await stop(state.withLock { Array($0.nodes.keys) })
            state.withLock { state in
                state.nodes = [:]
                state.configuration = nil
            }
            try await publish(
                AgentAPI.agentStandbyResponse,
                [.string(reqid), Management.Result(reqid: reqid, instance: options.instance).brokerValue]
            )
        case AgentAPI.deployRequest:
            do {
                let configuration: Management.Configuration = try argument(
                    arguments,
                    1,
                    "config",
                    "a Management::Configuration",
                    of: "deploy_request"
                )
                await deploy(configuration, agentRequest: reqid)
            } catch {
                try await refuse(AgentAPI.deployResponse, reqid, error)
            }
        case AgentAPI.getNodesRequest:
            try await publish(AgentAPI.getNodesResponse, [.string(reqid), nodeStatusResult(reqid).brokerValue])
        case AgentAPI.nodeDispatchRequest:
            do {
                let request = "node_dispatch_request"
                let action: [String] = try argument(arguments, 1, "action", "a vector of strings", of: request)
                let nodes: Set<String> = try argument(arguments, 2, "nodes", "a set of strings", of: request, [])
                try await dispatch(action, to: nodes, agentRequest: reqid)
            } catch let error as RequestArgumentError {
                try await refuse(AgentAPI.nodeDispatchResponse, reqid, error)
            }
        case AgentAPI.restartRequest:
            do {
                let nodes: Set<String> = try argument(
                    arguments,
                    1,
                    "nodes",
                    "a set of strings",
                    of: "restart_request",
                    []
                )
                await restart(nodes, agentRequest: reqid)
            } catch {
                try await refuse(AgentAPI.restartResponse, reqid, error)
            }
        case NodeRuntime.API.notifyNodeHello:
            nodeSaidHello(reqid)  // the only argument is the node's name
        case NodeRuntime.API.dispatchResponse:
            guard arguments.count >= 2, var result = try? Management.Result(brokerValue: arguments[1]),
                let node = result.node
            else { return }
            if case let data? = result.data, data.stringValue == nil { result.data = .string(Broker.JSON.encode(data)) }
            result.instance = options.instance
            tracker.record(result, for: RequestID(reqid), from: .node(node))
        default:
            return
        }
    }

    /// Reads one argument of a request; `defaultValue` stands in when it is missing.
    private func argument<T: BrokerConvertible>(
        _ arguments: [Broker.Value],
        _ index: Int,
        _ name: String,
        _ typeName: String,
        of request: String,
        _ defaultValue: T? = nil
    ) throws(RequestArgumentError) -> T {
        try RequestArgumentError.read(arguments, index, name, typeName, of: request, default: defaultValue)
    }

    /// Answers a malformed request with one failed result (in a vector, as every response it applies to).
    private func refuse(_ response: String, _ reqid: String, _ error: any Error) async throws {
        let result = Management.Result(reqid: reqid, success: false, instance: options.instance, error: "\(error)")
        try await publish(response, [.string(reqid), .vector([result.brokerValue])])
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

    private func nodeSaidHello(_ name: String) {
        let isOurs = state.withLock { state -> Bool in
            guard state.nodes[name] != nil else { return false }
            state.nodes[name]?.state = .running
            return true
        }
        guard isOurs else { return }
        for (id, pending) in state.withLock({ $0.pending }) {
            switch pending {
            case .deploy(_, let nodes), .restart(_, let nodes):
                if nodes.contains(name) {
                    tracker.markAnswered(.node(name, instance: options.instance), for: RequestID(id))
                }
            case .dispatch:
                continue
            }
        }
    }

    private func deploy(_ configuration: Management.Configuration, agentRequest: String) async {
        // Every old node is gone before any new one starts (they may share ports and names).
        await stop(state.withLock { Array($0.nodes.keys) })
        let mine = configuration.nodes.filter { $0.instance == options.instance }.sorted { $0.name < $1.name }
        // Every instance's address given up front, so that building the table looks each node's instance up
        // in a dictionary instead of searching the instances for every node.
        var addresses: [String: Broker.Address] = [:]
        for instance in configuration.instances where addresses[instance.name] == nil {
            addresses[instance.name] = instance.host
        }
        let layout = configuration.clusterLayout(instanceAddresses: addresses)
        let table = configuration.clusterEndpoints(instanceAddresses: addresses)
        state.withLock { state in
            state.configuration = configuration
            state.nodes = Dictionary(
                mine.map { ($0.name, NodeEntry(node: $0, state: .pending)) },
                uniquingKeysWith: { $1 }
            )
        }
        let id = RequestID(UniqueID.make())
        state.withLock { $0.pending[id.rawValue] = .deploy(agentRequest: agentRequest, nodes: mine.map(\.name)) }
        do {
            try tracker.start(id, awaiting: mine.map { .node($0.name, instance: options.instance) }) { _, outcome in
                self.finishDeploy(id, agentRequest: agentRequest, nodes: mine.map(\.name), outcome: outcome)
            }
        } catch {
            return
        }
        var failed: [String: String] = [:]
        for node in mine {
            let launch = NodeLaunch(
                name: node.name,
                node: node,
                layout: layout,
                clusterTable: table,
                settings: options.nodeSettings
            )
            if let error = await host.launch(launch) { failed[node.name] = error }
        }
        for (name, _) in failed {
            state.withLock { $0.nodes[name]?.state = .failed }
            tracker.markAnswered(.node(name, instance: options.instance), for: id)
        }
    }

    private func finishDeploy(
        _ id: RequestID,
        agentRequest: String,
        nodes: [String],
        outcome: RequestTracker<Management.Result>.Outcome
    ) {
        let states = state.withLock { state -> [String: Management.State] in
            state.pending[id.rawValue] = nil
            if outcome.timeout != nil {
                for name in nodes where state.nodes[name]?.state == .pending { state.nodes[name]?.state = .failed }
            }
            return state.nodes.mapValues(\.state)
        }
        var results: [Management.Result] = []
        if outcome.timeout != nil {
            results.append(
                Management.Result(
                    reqid: agentRequest,
                    success: false,
                    instance: options.instance,
                    error: RequestTimeout.zeekMessage
                )
            )
        }
        let hosted = host.status()
        for name in nodes {
            let running = states[name] == .running
            results.append(
                Management.Result(
                    reqid: agentRequest,
                    success: running,
                    instance: options.instance,
                    data: running
                        ? nil : (hosted[name]?.outputs ?? Management.NodeOutputs(stdout: "", stderr: "")).brokerValue,
                    node: name
                )
            )
        }
        publishLater(AgentAPI.deployResponse, [.string(agentRequest), .vector(results.map(\.brokerValue))])
    }

    private func restart(_ requested: Set<String>, agentRequest: String) async {
        let mine = state.withLock { state in
            state.nodes.keys.filter { requested.isEmpty || requested.contains($0) }.sorted()
        }
        let id = RequestID(UniqueID.make())
        state.withLock { state in
            state.pending[id.rawValue] = .restart(agentRequest: agentRequest, nodes: mine)
            for name in mine { state.nodes[name]?.state = .pending }
        }
        do {
            try tracker.start(id, awaiting: mine.map { .node($0, instance: options.instance) }) { _, outcome in
                self.finishRestart(id, agentRequest: agentRequest, nodes: mine, outcome: outcome)
            }
        } catch {
            return
        }
        for name in mine where !(await host.restart(name)) {
            state.withLock { $0.nodes[name]?.state = .failed }
            tracker.markAnswered(.node(name, instance: options.instance), for: id)
        }
    }

    private func finishRestart(
        _ id: RequestID,
        agentRequest: String,
        nodes: [String],
        outcome: RequestTracker<Management.Result>.Outcome
    ) {
        let states = state.withLock { state -> [String: Management.State] in
            state.pending[id.rawValue] = nil
            return state.nodes.mapValues(\.state)
        }
        var results: [Management.Result] = []
        let answered = Set(outcome.timeout.map { $0.answered } ?? nodes.map { .node($0, instance: options.instance) })
        for name in nodes where answered.contains(.node(name, instance: options.instance)) {
            let success = states[name] == .running
            results.append(
                Management.Result(
                    reqid: agentRequest,
                    success: success,
                    instance: options.instance,
                    error: success ? nil : "could not restart node \(name)",
                    node: name
                )
            )
        }
        if outcome.timeout != nil {
            results.append(
                Management.Result(
                    reqid: id.rawValue,
                    success: false,
                    instance: options.instance,
                    error: RequestTimeout.zeekMessage
                )
            )
        }
        publishLater(AgentAPI.restartResponse, [.string(agentRequest), .vector(results.map(\.brokerValue))])
    }

    private func dispatch(_ action: [String], to requested: Set<String>, agentRequest: String) async throws {
        let (selected, notRunning) = state.withLock { state -> ([String], [String]) in
            let names = state.nodes.keys.filter { requested.isEmpty || requested.contains($0) }.sorted()
            return (
                names.filter { state.nodes[$0]?.state == .running }, names.filter { state.nodes[$0]?.state != .running }
            )
        }
        let early = notRunning.map { name in
            Management.Result(
                reqid: agentRequest,
                success: false,
                instance: options.instance,
                error: "cluster node \(name) not in running state",
                node: name
            )
        }
        guard !selected.isEmpty else {
            try await publish(
                AgentAPI.nodeDispatchResponse,
                [.string(agentRequest), .vector(early.map(\.brokerValue))]
            )
            return
        }
        let id = RequestID(UniqueID.make())
        state.withLock { $0.pending[id.rawValue] = .dispatch(agentRequest: agentRequest, early: early) }
        try tracker.start(id, awaiting: selected.map { .node($0) }) { _, outcome in
            self.state.withLock { _ = $0.pending.removeValue(forKey: id.rawValue) }
            var results = early + outcome.results
            if let timeout = outcome.timeout {
                // Zeek's agent sends nothing when a node stays silent, losing the other nodes' results until
                // the controller's own timeout. ClusterKit's agent answers at its (shorter) deadline with what
                // it has, Zeek's `request timed out`, and a line naming the silent nodes.
                let silent = timeout.unanswered.compactMap { target -> String? in
                    if case .node(let name, _) = target { return name }
                    return nil
                }
                results.append(
                    Management.Result(
                        reqid: agentRequest,
                        success: false,
                        instance: self.options.instance,
                        error: RequestTimeout.zeekMessage
                    )
                )
                results.append(
                    Management.Result(
                        reqid: agentRequest,
                        success: false,
                        instance: self.options.instance,
                        error: "\(RequestTimeout.zeekMessage) after \(timeout.waited.textForPeople) waiting for "
                            + "\(silent.joined(separator: ", ")) (instance '\(self.options.instance)')"
                    )
                )
            }
            self.publishLater(
                AgentAPI.nodeDispatchResponse,
                [.string(agentRequest), .vector(results.map(\.brokerValue))]
            )
        }
        try await backend.publish(
            Broker.Event(
                NodeRuntime.API.dispatchRequest,
                [.string(id.rawValue), action.brokerValue, requested.brokerValue]
            ),
            to: NodeRuntime.API.topic
        )
    }

    /// A node's state as `get_nodes` reports it: a running node whose process exited and waits for revival is
    /// `CRASHED`.
    private static func reportedState(_ state: Management.State, _ hosted: HostedNodeStatus?) -> Management.State {
        state == .running && hosted?.isRunning == false ? .crashed : state
    }

    private func nodeStatusResult(_ reqid: String) -> Management.Result {
        let (nodes, hosted) = (state.withLock { $0.nodes }, host.status())
        var statuses: [Management.NodeStatus] = nodes.keys.sorted().compactMap { name in
            guard let entry = nodes[name] else { return nil }
            return Management.NodeStatus(
                node: name,
                state: Self.reportedState(entry.state, hosted[name]),
                mgmtRole: .none,
                clusterRole: entry.node.role,
                pid: hosted[name]?.pid,
                p: entry.node.p.flatMap { $0 == .unset ? nil : $0 },
                metricsPort: entry.node.metricsPort
            )
        }
        let pid = Int(getpid())
        statuses.append(
            Management.NodeStatus(
                node: options.instance,
                state: .running,
                mgmtRole: .agent,
                pid: pid,
                p: options.listenPort
            )
        )
        if let controller = options.colocatedController {
            // Zeek's quirk: the controller's port in this list is the agent's listen port.
            statuses.append(
                Management.NodeStatus(
                    node: controller,
                    state: .running,
                    mgmtRole: .controller,
                    pid: pid,
                    p: options.listenPort
                )
            )
        }
        return Management.Result(reqid: reqid, instance: options.instance, data: .vector(statuses.map(\.brokerValue)))
    }
}

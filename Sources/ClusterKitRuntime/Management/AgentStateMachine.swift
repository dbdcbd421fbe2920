import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Every decision of an ``Agent``, as a value: the agent's mutable state (its configuration, its nodes and
/// their states, its pending requests), and one ``step(_:)`` that takes an ``Input`` and returns the
/// ``Effect``s to perform.
///
/// The agent keeps it behind one lock and performs the effects outside it, in order: publishing, stopping,
/// launching and restarting nodes through its ``NodeHost``, and the ``RequestTracker`` calls (whose callbacks
/// come back as inputs). Nothing here does I/O or waits; tests drive it directly.
///
/// Waiting is split into steps: a deployment first stops the old nodes (``Effect/stopNodes(_:then:)``), and
/// only the input that says they are gone replaces the nodes and starts the new ones.
struct AgentStateMachine {
    /// The settings decisions depend on.
    struct Settings: Sendable {
        /// The agent's instance name.
        var instance: String
        /// The tracker's timeout for every request.
        var requestTimeout: Duration
        /// The most requests tracked at once (the tracker's limit).
        var maximumPendingRequests: Int
    }

    /// One of the agent's nodes.
    struct NodeEntry: Sendable, Hashable {
        /// The node as the configuration describes it.
        var node: Management.Node
        /// Its state as the agent knows it.
        var state: Management.State
    }

    /// What a request the agent tracks collects, and what it does when finished.
    enum Pending: Sendable, Equatable {
        /// A deployment waiting for its nodes' hellos.
        case deploy(agentRequest: String, nodes: [String])
        /// A restart waiting for its nodes' hellos.
        case restart(agentRequest: String, nodes: [String])
        /// A dispatch waiting for its nodes' results; `early` holds those of nodes that are not running.
        case dispatch(agentRequest: String, early: [Management.Result])
    }

    /// The settings.
    let settings: Settings
    private let makeID: RequestIDGenerator

    /// The configuration deployed last.
    private(set) var configuration: Management.Configuration?
    /// The agent's nodes, by name.
    private(set) var nodes: [String: NodeEntry] = [:]
    /// The requests the tracker holds for the agent, by the tracker's id.
    private(set) var pending: [RequestID: Pending] = [:]
    /// The nodes whose process exited on its own since their last hello, with why: a dispatch answers for them
    /// at once, also after the host has started them again but before they can answer.
    private(set) var exited: [String: String] = [:]

    /// Creates a machine with no nodes.
    ///
    /// - Parameters:
    ///   - settings: The settings.
    ///   - makeID: Makes the agent's own request ids; random Zeek-style ids by default.
    init(settings: Settings, makeID: RequestIDGenerator = .uniqueIDs) {
        self.settings = settings
        self.makeID = makeID
    }

    private var instance: String { settings.instance }

    /// Takes one input and returns what to do, in order.
    mutating func step(_ input: Input) -> [Effect] {
        switch input {
        case .request(let request, let notRunning):
            handle(request, notRunning: notRunning)
        case .malformedRequest(let kind, let reqid, let message):
            [.publish(Response(kind, reqid, [failure(reqid, message)]))]
        case .nodeHello(let name):
            nodeSaidHello(name)
        case .nodeExited(let name, let reason):
            nodeExited(name, reason: reason)
        case .nodesStopped(let next):
            nodesStopped(then: next)
        case .nodesLaunched(let id, let failed):
            nodesFailed(failed, for: id)
        case .nodeRestartFailed(let id, let name):
            nodesFailed([name], for: id)
        case .trackerFinished(let id, let outcome):
            trackerFinished(id, outcome)
        case .trackingFailed(let id, let error):
            trackingFailed(id, error)
        }
    }

    // MARK: - Requests

    private mutating func handle(_ request: Agent.Request, notRunning: [String: String]) -> [Effect] {
        switch request {
        case .agentWelcome(let reqid):
            return [.publish(Response(.agentWelcome, reqid, [Management.Result(reqid: reqid, instance: instance)]))]
        case .agentStandby(let reqid):
            return [.stopNodes(nodes.keys.sorted(), then: .standby(reqid: reqid))]
        case .deploy(let reqid, let configuration, let force):
            if !force, let current = self.configuration, current.id == configuration.id {
                // Zeek's agent: "already running config" — nothing is stopped or started. A controller that comes
                // back with its persisted configuration, or redeploys it to an agent that rejoins, relies on it.
                return [.publish(Response(.deploy, reqid, [Management.Result(reqid: reqid, instance: instance)]))]
            }
            // Every old node is gone before any new one starts (they may share ports and names).
            return [.stopNodes(nodes.keys.sorted(), then: .deploy(reqid: reqid, configuration))]
        case .getNodes(let reqid):
            return [.publishNodeStatuses(reqid: reqid, nodes: nodes)]
        case .nodeDispatch(let reqid, let action, let requested):
            return dispatch(action, to: requested, agentRequest: reqid, notRunning: notRunning)
        case .restart(let reqid, let requested):
            return restart(requested, agentRequest: reqid)
        }
    }

    private mutating func nodesStopped(then next: AfterStop) -> [Effect] {
        switch next {
        case .standby(let reqid):
            nodes = [:]
            exited = [:]
            configuration = nil
            return [.publish(Response(.agentStandby, reqid, [Management.Result(reqid: reqid, instance: instance)]))]
        case .deploy(let reqid, let configuration):
            return deploy(configuration, agentRequest: reqid)
        }
    }

    private mutating func deploy(_ configuration: Management.Configuration, agentRequest: String) -> [Effect] {
        let mine = configuration.nodes.filter { $0.instance == instance }.sorted { $0.name < $1.name }
        self.configuration = configuration
        nodes = Dictionary(mine.map { ($0.name, NodeEntry(node: $0, state: .pending)) }, uniquingKeysWith: { $1 })
        exited = [:]
        let names = mine.map(\.name)
        let id = makeID.next()
        do {
            let start = try track(
                .deploy(agentRequest: agentRequest, nodes: names),
                id: id,
                awaiting: names.map { .node($0, instance: instance) }
            )
            return [start, .launchNodes(id, mine, in: configuration)]
        } catch {
            return refuse(.deploy, agentRequest, error)
        }
    }

    private mutating func restart(_ requested: Set<String>, agentRequest: String) -> [Effect] {
        let mine = nodes.keys.filter { requested.isEmpty || requested.contains($0) }.sorted()
        let id = makeID.next()
        do {
            let start = try track(
                .restart(agentRequest: agentRequest, nodes: mine),
                id: id,
                awaiting: mine.map { .node($0, instance: instance) }
            )
            for name in mine { nodes[name]?.state = .pending }
            return [start, .restartNodes(id, mine)]
        } catch {
            return refuse(.restart, agentRequest, error)
        }
    }

    /// Sends a dispatch to the running nodes it names; a node not in running state, or whose process the host
    /// knows to be down (waiting for its revival), is answered for at once rather than at the timeout.
    private mutating func dispatch(
        _ action: [String],
        to requested: Set<String>,
        agentRequest: String,
        notRunning: [String: String]
    ) -> [Effect] {
        let names = nodes.keys.filter { requested.isEmpty || requested.contains($0) }.sorted()
        let exited = self.exited
        let down = { (name: String) in notRunning[name] ?? exited[name] }
        let selected = names.filter { nodes[$0]?.state == .running && down($0) == nil }
        let early = names.filter { nodes[$0]?.state != .running || down($0) != nil }.map { name in
            let error =
                nodes[name]?.state != .running
                ? "cluster node \(name) not in running state"
                : "node \(name) is not running: \(down(name) ?? "")"
            return Management.Result(reqid: agentRequest, success: false, instance: instance, error: error, node: name)
        }
        guard !selected.isEmpty else { return [.publish(Response(.nodeDispatch, agentRequest, early))] }
        let id = makeID.next()
        do {
            let start = try track(
                .dispatch(agentRequest: agentRequest, early: early),
                id: id,
                awaiting: selected.map { .node($0) }
            )
            return [start, .dispatch(id, action: action, nodes: requested)]
        } catch {
            return refuse(.nodeDispatch, agentRequest, error)
        }
    }

    /// Answers a request with one failed result naming what went wrong (in a vector, as every response it
    /// applies to).
    private func refuse(_ kind: Agent.Request.Kind, _ reqid: String, _ error: any Error) -> [Effect] {
        let message = "\(kind.shortName): \((error as? RequestError)?.message ?? "\(error)")"
        return [.publish(Response(kind, reqid, [failure(reqid, message)]))]
    }

    private func failure(_ reqid: String, _ message: String) -> Management.Result {
        Management.Result(reqid: reqid, success: false, instance: instance, error: message)
    }

    // MARK: - Nodes

    private mutating func nodeSaidHello(_ name: String) -> [Effect] {
        guard nodes[name] != nil else { return [] }
        nodes[name]?.state = .running
        exited[name] = nil
        return pending.keys.sorted().compactMap { id in
            switch pending[id] {
            case .deploy(_, let names)?, .restart(_, let names)?:
                names.contains(name) ? .markAnswered(.node(name, instance: instance), for: id) : nil
            case .dispatch?, nil:
                nil
            }
        }
    }

    /// A node's process exited on its own: every dispatch still waiting for it gets its failure now (the tracker
    /// drops it for those the node had answered or was not asked), and later ones are answered for it at once
    /// until it says hello again.
    private mutating func nodeExited(_ name: String, reason: String) -> [Effect] {
        guard nodes[name] != nil else { return [] }
        exited[name] = reason
        return pending.keys.sorted().compactMap { id in
            guard case .dispatch(let agentRequest, _)? = pending[id] else { return nil }
            let result = Management.Result(
                reqid: agentRequest,
                success: false,
                instance: instance,
                error: "node \(name) is not running: \(reason)",
                node: name
            )
            return .record(result, for: id, from: .node(name))
        }
    }

    /// Nodes that could not be launched or restarted have failed; the request stops waiting for them.
    private mutating func nodesFailed(_ names: [String], for id: RequestID) -> [Effect] {
        names.map { name in
            nodes[name]?.state = .failed
            return .markAnswered(.node(name, instance: instance), for: id)
        }
    }

    // MARK: - Tracking

    private mutating func track(
        _ entry: Pending,
        id: RequestID,
        awaiting targets: [RequestTarget]
    ) throws(RequestError) -> Effect {
        try RequestError.checkStart(
            id,
            pending: pending.count,
            limit: settings.maximumPendingRequests,
            timeout: settings.requestTimeout
        )
        pending[id] = entry
        return .startTracking(id, awaiting: targets)
    }

    private mutating func trackerFinished(_ id: RequestID, _ outcome: Outcome) -> [Effect] {
        guard let entry = pending.removeValue(forKey: id) else { return [] }
        switch entry {
        case .deploy(let agentRequest, let names):
            if outcome.timeout != nil {
                for name in names where nodes[name]?.state == .pending { nodes[name]?.state = .failed }
            }
            let running = Set(names.filter { nodes[$0]?.state == .running })
            let report = DeployReport(
                agentRequest: agentRequest,
                nodes: names,
                running: running,
                timedOut: outcome.timeout != nil
            )
            return [.publishDeployResults(report)]
        case .restart(let agentRequest, let names):
            let answered = Set(outcome.timeout.map(\.answered) ?? names.map { .node($0, instance: instance) })
            var results = names.filter { answered.contains(.node($0, instance: instance)) }.map { name in
                let success = nodes[name]?.state == .running
                return Management.Result(
                    reqid: agentRequest,
                    success: success,
                    instance: instance,
                    error: success ? nil : "could not restart node \(name)",
                    node: name
                )
            }
            // Zeek's agent names its own request here, not the controller's.
            if outcome.timeout != nil { results.append(failure(id.rawValue, RequestTimeout.zeekMessage)) }
            return [.publish(Response(.restart, agentRequest, results))]
        case .dispatch(let agentRequest, let early):
            var results = early + outcome.results
            if let timeout = outcome.timeout {
                // Zeek's agent sends nothing when a node stays silent, losing the other nodes' results until
                // the controller's own timeout. ClusterKit's agent answers at its (shorter) deadline with what
                // it has, Zeek's `request timed out`, and a line naming the silent nodes.
                let silent = timeout.unanswered.compactMap { target -> String? in
                    if case .node(let name, _) = target { return name }
                    return nil
                }
                results.append(failure(agentRequest, RequestTimeout.zeekMessage))
                results.append(
                    failure(
                        agentRequest,
                        "\(RequestTimeout.zeekMessage) after \(timeout.waited.textForPeople) waiting for "
                            + "\(silent.joined(separator: ", ")) (instance '\(instance)')"
                    )
                )
            }
            return [.publish(Response(.nodeDispatch, agentRequest, results))]
        }
    }

    private mutating func trackingFailed(_ id: RequestID, _ error: any Error) -> [Effect] {
        switch pending.removeValue(forKey: id) {
        case nil: []
        case .deploy(let agentRequest, _)?: refuse(.deploy, agentRequest, error)
        case .restart(let agentRequest, _)?: refuse(.restart, agentRequest, error)
        case .dispatch(let agentRequest, _)?: refuse(.nodeDispatch, agentRequest, error)
        }
    }
}

// MARK: - Reports

extension AgentStateMachine {
    /// What to do with a node's answer to a dispatch: record it, its data as `to_json` text and its instance
    /// filled in, with the request it names.
    ///
    /// An answer changes none of the agent's state (the tracker collects it, and ignores one for a request that
    /// is not pending or a node it does not wait for), so it takes no step and no lock: it is the hot path, once
    /// per node and dispatch.
    ///
    /// - Parameters:
    ///   - response: The node's answer.
    ///   - instance: The agent's instance.
    /// - Returns: The ``Effect/record(_:for:from:)`` to perform.
    static func recording(_ response: Agent.NodeResponse, instance: String) -> Effect {
        var result = response.result.renderingDataAsText
        result.instance = instance
        return .record(result, for: RequestID(response.reqid), from: .node(response.node))
    }

    /// A node's state as `get_nodes` reports it: a running node whose process exited and waits for revival is
    /// `CRASHED`.
    static func reportedState(_ state: Management.State, _ hosted: HostedNodeStatus?) -> Management.State {
        state == .running && hosted?.isRunning == false ? .crashed : state
    }

    /// The `get_nodes_response` result: each node, then the agent itself and a co-located controller.
    ///
    /// - Parameters:
    ///   - reqid: The controller's request id.
    ///   - nodes: The agent's nodes.
    ///   - hosted: What the node host knows about them.
    ///   - options: The agent's options.
    ///   - pid: The agent's process id.
    /// - Returns: One result whose data is the vector of `Management::NodeStatus`.
    static func nodeStatusResult(
        _ reqid: String,
        nodes: [String: NodeEntry],
        hosted: [String: HostedNodeStatus],
        options: Agent.Options,
        pid: Int
    ) -> Management.Result {
        var statuses: [Management.NodeStatus] = nodes.keys.sorted().compactMap { name in
            guard let entry = nodes[name] else { return nil }
            return Management.NodeStatus(
                node: name,
                state: reportedState(entry.state, hosted[name]),
                mgmtRole: .none,
                clusterRole: entry.node.role,
                pid: hosted[name]?.pid,
                p: entry.node.p.flatMap { $0 == .unset ? nil : $0 },
                metricsPort: entry.node.metricsPort
            )
        }
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
        return Management.Result(
            reqid: reqid,
            instance: options.instance,
            data: .vector(statuses.map { $0.brokerValue })
        )
    }

    /// Every node's process as the agent and its node host know it, sorted by name.
    static func processStatuses(
        nodes: [String: NodeEntry],
        hosted: [String: HostedNodeStatus],
        instance: String
    ) -> [NodeProcessStatus] {
        nodes.keys.sorted().compactMap { name in
            guard let entry = nodes[name] else { return nil }
            return NodeProcessStatus(
                node: name,
                instance: instance,
                role: entry.node.role,
                state: reportedState(entry.state, hosted[name]),
                pid: hosted[name]?.pid,
                port: entry.node.p.flatMap { $0 == .unset ? nil : $0 },
                startedAt: hosted[name]?.startedAt,
                restarts: hosted[name]?.restarts ?? 0
            )
        }
    }

    /// What the nodes of a deployment need to start: each with the cluster layout and table built from every
    /// instance's address, given up front so that each node's instance is one dictionary lookup.
    static func launches(
        of mine: [Management.Node],
        in configuration: Management.Configuration,
        settings: [String: ZeekValue?]
    ) -> [NodeLaunch] {
        var addresses: [String: Broker.Address] = [:]
        for instance in configuration.instances where addresses[instance.name] == nil {
            addresses[instance.name] = instance.host
        }
        let layout = configuration.clusterLayout(instanceAddresses: addresses)
        let table = configuration.clusterEndpoints(instanceAddresses: addresses)
        return mine.map { node in
            NodeLaunch(name: node.name, node: node, layout: layout, clusterTable: table, settings: settings)
        }
    }
}

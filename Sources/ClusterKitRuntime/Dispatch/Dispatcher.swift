import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Sends one action to many nodes at once over any ``ClusterBackend`` and collects a per-node outcome.
///
/// Three protocols, chosen per call (``DispatchProtocol``):
/// - ``DispatchProtocol/managementNode``: the Management node API, as an agent speaks it:
///   `node_dispatch_request` on `zeek/management/node`, answers matched by request id and node;
/// - ``DispatchProtocol/managementController``: the Management controller API, as `zeek-client` speaks it:
///   `get_id_value_request` on `zeek/management/controller`, one `get_id_value_response` with every result;
/// - ``DispatchProtocol/control``: the Control framework, as ZeekControl's `print` does but to all nodes
///   concurrently: `Control::id_value_request` on each node's topic, replies attributed by their topic.
///
/// Every request has one deadline (``DispatchOptions/timeout``), kept by a ``RequestTracker``; nodes that
/// have not answered by then are ``NodeOutcome/timedOut(after:)``. ``run()`` must be running (it reads the
/// backend's events and drives the deadlines) while requests are made; ``withDispatcher(backend:protocols:clock:options:scheme:_:)``
/// does that for a scoped use.
///
/// The first answer of a node counts; repeated answers are dropped and counted in ``ignoredReplies``.
///
/// ## The Control framework has no request ids
///
/// `Control::id_value_response` carries only the identifier and the value, so a reply can be told apart
/// from another only by its node (its reply topic) and identifier. To never credit one request's reply to
/// another, the dispatcher keeps at most one Control request per node and identifier on the wire:
/// - While a request for a node and identifier waits, another request for the same pair does not ask that
///   node again: the node's outcome is at once ``NodeOutcome/failed(_:)``, saying an earlier request is still
///   unanswered.
/// - When a request ends without a node's reply (it timed out or was cancelled), the reply may still come:
///   for ``DispatchOptions/controlReplyGrace`` after the end, the pair stays taken, and a reply that arrives
///   then is dropped as late (counted in ``ignoredReplies``) instead of answering a later request.
/// - A reply later than that grace period cannot be told from the answer to a newer request for the same
///   node and identifier, and would be taken for it (it is then that node's value of that identifier from a
///   moment earlier). Management requests carry request ids and have none of these limits.
public final class Dispatcher: Sendable {
    /// The backend requests go through.
    public let backend: any ClusterBackend
    /// Options.
    public let options: DispatchOptions
    /// Topic naming, for node topics and Control reply topics.
    public let scheme: TopicScheme
    private let tracker: RequestTracker<NodeReply>
    private let state = Guarded(State())

    /// One node's answer, as recorded by the tracker.
    struct NodeReply: Sendable {
        var node: String
        var outcome: NodeOutcome
    }

    /// Replies that answered no waiting request and were dropped.
    public struct IgnoredReplies: Sendable, Hashable {
        /// Control replies that came after their request ended, within ``DispatchOptions/controlReplyGrace``.
        public var late: Int
        /// Second and later answers of one node (or of the controller) to one request.
        public var duplicates: Int

        /// Creates counts.
        ///
        /// - Parameters:
        ///   - late: Late Control replies.
        ///   - duplicates: Repeated answers.
        public init(late: Int = 0, duplicates: Int = 0) {
            self.late = late
            self.duplicates = duplicates
        }
    }

    /// The replies dropped so far because they answered no waiting request: late Control replies and
    /// repeated answers (replies meant for other clients on the same topics are not counted).
    public var ignoredReplies: IgnoredReplies { state.withLock { $0.ignored } }

    /// Requests waiting for answers, by how answers are matched.
    private struct State {
        /// Management node requests by request id.
        var nodeRequests: Set<String> = []
        /// Controller requests by request id.
        var controllerRequests: Set<String> = []
        /// The Control request on the wire for each node and identifier (the Control framework has no
        /// request ids; see the type's documentation).
        var controlSlots: [ControlKey: ControlSlot] = [:]
        /// Dropped replies.
        var ignored = IgnoredReplies()
        /// The controller's answers (results and errors), by request id.
        var controllerAnswers: [String: [Management.Result]] = [:]
        /// Why controller requests ended without an answer (the connection ended), by request id.
        var controllerFailures: [String: String] = [:]
        /// Generic requests: the response event awaited, by request id.
        var genericRequests: [String: String] = [:]
        /// Generic responses' arguments, by request id.
        var genericAnswers: [String: [Broker.Value]] = [:]
    }

    private struct ControlKey: Hashable, Sendable {
        var node: String
        var id: String
    }

    /// Who a Control reply for one node and identifier belongs to.
    private enum ControlSlot: Equatable {
        /// The request waits for the node's reply.
        case pending(RequestID)
        /// The request has the node's reply; more replies are duplicates.
        case answered(RequestID)
        /// The request ended without the reply; a reply now is late. The id is the grace period's tracker
        /// request, whose end frees the slot.
        case late(RequestID)
    }

    /// Creates a dispatcher.
    ///
    /// - Parameters:
    ///   - backend: The backend; it is subscribed to the reply topics when ``run()`` starts.
    ///   - clock: The clock deadlines are measured on.
    ///   - options: Options.
    ///   - scheme: Topic naming of the cluster.
    public init(
        backend: any ClusterBackend,
        clock: any Clock<Duration> = ContinuousClock(),
        options: DispatchOptions = .standard,
        scheme: TopicScheme = .broker
    ) {
        self.backend = backend
        self.options = options
        self.scheme = scheme
        // Out-of-range options must not trap here: a negative timeout fails each request with a
        // `RequestError` instead, and the pending limit is at least 1.
        self.tracker = RequestTracker(
            options: RequestTrackerOptions(
                defaultTimeout: max(.zero, options.timeout),
                maximumPendingRequests: max(1, options.maximumPendingRequests)
            ),
            clock: clock
        )
    }

    /// The reply topics the dispatcher needs, by protocol.
    public static func replyTopics(for protocols: Set<DispatchProtocol>) -> [Topic] {
        var topics: [Topic] = []
        if protocols.contains(.managementNode) { topics.append(NodeRuntime.API.topic) }
        if protocols.contains(.managementController) { topics.append(ControllerAPI.topic) }
        if protocols.contains(.control) { topics.append(ControlReplyTopic.prefix) }
        return topics
    }

    /// Reads the backend's events and keeps the deadlines until the task is cancelled or the events end.
    ///
    /// Requests still pending when the events end fail as unreachable.
    ///
    /// - Throws: ``BackendError`` when the backend fails.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.tracker.run() }
            group.addTask {
                var reason = "the connection to the cluster ended"
                defer { self.failPending(reason) }
                do {
                    for try await received in self.backend.events { self.handle(received) }
                } catch is CancellationError {
                    return
                } catch {
                    reason = "the connection to the cluster was lost: \(error)"
                    throw error
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    // MARK: - Requests

    /// Asks nodes for the value of a script identifier.
    ///
    /// - Parameters:
    ///   - id: The identifier, such as `Cluster::node`.
    ///   - nodes: The nodes to ask, with their types (the order of the report follows ZeekControl's). For
    ///     ``DispatchProtocol/managementController`` the controller decides which nodes answer; these
    ///     names are passed on as the node filter (empty: all).
    ///   - unknownNodes: Names that are not part of the cluster; each gets `unknown cluster node`.
    ///   - allNodes: Whether `nodes` is the whole cluster: the request then names no nodes (Zeek's "all").
    ///   - protocol: The protocol.
    /// - Returns: The report.
    /// - Throws: ``BackendError`` when the request could not be sent at all.
    public func getIDValue(
        _ id: String,
        nodes: [DispatchTarget],
        unknownNodes: [String] = [],
        allNodes: Bool = false,
        via protocol: DispatchProtocol
    ) async throws -> DispatchReport {
        var report: DispatchReport
        switch `protocol` {
        case .managementNode:
            report = try await dispatchToNodes(action: ["get_id_value", id], nodes: nodes, allNodes: allNodes)
        case .control:
            report = try await dispatchControl(id: id, nodes: nodes)
        case .managementController:
            report = try await dispatchToController(id: id, nodes: nodes)
        }
        report.entries += unknownNodes.map { DispatchReport.Entry(node: $0, outcome: .failed("unknown cluster node")) }
        return report
    }

    /// Sends a Management node action (`node_dispatch_request`) to nodes and collects their results.
    ///
    /// - Parameters:
    ///   - action: The action vector, such as `["get_id_value", "Cluster::node"]`.
    ///   - nodes: The nodes.
    ///   - allNodes: Whether `nodes` is the whole cluster: the request then names no nodes (Zeek's "all"),
    ///     which spares every node a lookup in a long list.
    /// - Returns: The report (values are `to_json` text).
    /// - Throws: ``BackendError`` when the request could not be sent.
    public func dispatchToNodes(
        action: [String],
        nodes: [DispatchTarget],
        allNodes: Bool = false
    ) async throws -> DispatchReport {
        let requestID = RequestID(UniqueID.make())
        let event = Broker.Event(
            NodeRuntime.API.dispatchRequest,
            [.string(requestID.rawValue), action.brokerValue, allNodes ? .set([]) : Set(nodes.map(\.name)).brokerValue]
        )
        let replies = try await collect(
            requestID,
            nodes: nodes,
            register: { $0.nodeRequests.insert(requestID.rawValue) },
            send: { try await self.backend.publish(event, to: NodeRuntime.API.topic) },
            cleanup: { $0.nodeRequests.remove(requestID.rawValue) }
        )
        return DispatchReport(entries: entries(nodes: nodes, replies: replies), valueEncoding: .json)
    }

    private func dispatchControl(id: String, nodes: [DispatchTarget]) async throws -> DispatchReport {
        let requestID = RequestID(UniqueID.make())
        // Take the node and identifier pairs that are free; the others still wait for an earlier reply. A node
        // named twice is asked once.
        let (claimed, busy) = state.withLock { state in
            var claimed: [String] = []
            var busy: [String] = []
            for node in nodes {
                let key = ControlKey(node: node.name, id: id)
                switch state.controlSlots[key] {
                case nil:
                    state.controlSlots[key] = .pending(requestID)
                    claimed.append(node.name)
                case .pending(requestID):
                    continue
                default:
                    if !busy.contains(node.name) { busy.append(node.name) }
                }
            }
            return (claimed, busy)
        }
        let replies: [String: NodeOutcome]
        do {
            replies = try await collect(requestID, nodes: nodes) { _ in
            } send: {
                for node in busy {
                    self.tracker.record(
                        NodeReply(
                            node: node,
                            outcome: .failed(
                                "an earlier Control request for '\(id)' to this node is still unanswered (the "
                                    + "Control framework has no request ids to tell their replies apart)"
                            )
                        ),
                        for: requestID,
                        from: .node(node)
                    )
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for node in claimed {
                        group.addTask {
                            do {
                                try await self.backend.publish(
                                    Broker.Event("Control::id_value_request", [.string(id)]),
                                    to: self.scheme.nodeTopic(node)
                                )
                            } catch let error as BackendError where error.code != .closed && error.code != .notConnected
                            {
                                self.tracker.record(
                                    NodeReply(node: node, outcome: .unreachable(error.description)),
                                    for: requestID,
                                    from: .node(node)
                                )
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            } cleanup: { _ in
            }
        } catch {
            releaseControl(claimed, id: id, requestID: requestID, outcomes: [:])
            throw error
        }
        releaseControl(claimed, id: id, requestID: requestID, outcomes: replies)
        return DispatchReport(entries: entries(nodes: nodes, replies: replies), valueEncoding: .text)
    }

    /// Frees the Control slots of a request that ended: answered ones, and those whose request never reached
    /// the node (``NodeOutcome/unreachable(_:)``), at once; the others (timed out, cancelled) after
    /// ``DispatchOptions/controlReplyGrace``, dropping their late reply until then.
    private func releaseControl(
        _ nodes: [String],
        id: String,
        requestID: RequestID,
        outcomes: [String: NodeOutcome]
    ) {
        let graceID = RequestID(UniqueID.make())
        let late: [ControlKey] = state.withLock { state in
            var late: [ControlKey] = []
            for node in nodes {
                let key = ControlKey(node: node, id: id)
                switch state.controlSlots[key] {
                case .pending(requestID):
                    if case .unreachable? = outcomes[node] {
                        state.controlSlots[key] = nil
                    } else {
                        state.controlSlots[key] = .late(graceID)
                        late.append(key)
                    }
                case .answered(requestID):
                    state.controlSlots[key] = nil
                default:
                    break
                }
            }
            return late
        }
        guard !late.isEmpty else { return }
        let free: @Sendable () -> Void = { [weak self] in
            self?.state.withLock { state in
                for key in late where state.controlSlots[key] == .late(graceID) { state.controlSlots[key] = nil }
            }
        }
        do {
            try tracker.start(graceID, timeout: options.controlReplyGrace, finishesWhenAllAnswered: false) { _, _ in
                free()
            }
        } catch {
            free()  // The tracker is full or the grace negative: no grace period.
        }
    }

    private func dispatchToController(id: String, nodes: [DispatchTarget]) async throws -> DispatchReport {
        let requestID = RequestID(UniqueID.make())
        let event = Broker.Event(
            ControllerAPI.getIDValueRequest,
            [.string(requestID.rawValue), .string(id), Set(nodes.map(\.name)).brokerValue]
        )
        let outcome = try await wait(requestID, targets: [.instance("controller")]) {
            $0.controllerRequests.insert(requestID.rawValue)
        } send: {
            try await self.backend.publish(event, to: ControllerAPI.topic)
        } cleanup: {
            $0.controllerRequests.remove(requestID.rawValue)
        }
        let (answers, failure) = state.withLock {
            (
                $0.controllerAnswers.removeValue(forKey: requestID.rawValue),
                $0.controllerFailures.removeValue(forKey: requestID.rawValue)
            )
        }
        let results = answers ?? []
        let types = Dictionary(nodes.map { ($0.name, $0.nodeType) }, uniquingKeysWith: { first, _ in first })
        var entries: [DispatchReport.Entry] = []
        var errors: [String] = []
        for result in results {
            switch (result.success, result.node) {
            case (true, let node?):
                guard case .string(let text)? = result.data else {
                    errors.append("invalid result data type \(result.data.map { Broker.JSON.encode($0) } ?? "none")")
                    continue
                }
                entries.append(DispatchReport.Entry(node: node, nodeType: types[node] ?? nil, outcome: .replied(text)))
            case (false, let node?):
                entries.append(
                    DispatchReport.Entry(
                        node: node,
                        nodeType: types[node] ?? nil,
                        outcome: .failed(result.error ?? "no reason given")
                    )
                )
            case (true, nil):
                errors.append("result lacking node: \(result.data.map { Broker.JSON.encode($0) } ?? "none")")
            case (false, nil):
                errors.append(result.error ?? "no reason given")
            }
        }
        if let timeout = outcome.timeout {
            errors.append("no response from the controller: \(timeout)")
        } else if answers == nil, let failure {
            errors.append("no response from the controller: \(failure)")
        }
        return DispatchReport(entries: entries, errors: errors, valueEncoding: .json)
    }

    /// Publishes a request whose first argument is its request id, and waits for the response event of
    /// that name carrying the same id, as every Management API request does.
    ///
    /// - Parameters:
    ///   - name: The request event's name.
    ///   - arguments: The arguments after the request id.
    ///   - topic: Where to publish it.
    ///   - response: The response event's name.
    ///   - timeout: How long to wait; default ``DispatchOptions/timeout``.
    /// - Returns: The response's arguments (the request id first), or `nil` when none came in time.
    /// - Throws: ``BackendError`` when the request could not be sent.
    public func request(
        _ name: String,
        _ arguments: [Broker.Value],
        on topic: Topic,
        response: String,
        timeout: Duration? = nil
    ) async throws -> [Broker.Value]? {
        let requestID = RequestID(UniqueID.make())
        let event = Broker.Event(name, [.string(requestID.rawValue)] + arguments)
        let outcome = try await wait(requestID, targets: [.instance("response")], timeout: timeout) {
            $0.genericRequests[requestID.rawValue] = response
        } send: {
            try await self.backend.publish(event, to: topic)
        } cleanup: {
            $0.genericRequests[requestID.rawValue] = nil
        }
        let answer = state.withLock { $0.genericAnswers.removeValue(forKey: requestID.rawValue) }
        return outcome.timeout == nil ? answer : nil
    }

    // MARK: - Waiting

    private func collect(
        _ requestID: RequestID,
        nodes: [DispatchTarget],
        register: (inout State) -> Void,
        send: @Sendable () async throws -> Void,
        cleanup: @escaping @Sendable (inout State) -> Void
    ) async throws -> [String: NodeOutcome] {
        guard !nodes.isEmpty else { return [:] }
        let outcome = try await wait(
            requestID,
            targets: nodes.map { .node($0.name) },
            register: register,
            send: send,
            cleanup: cleanup
        )
        var replies: [String: NodeOutcome] = [:]
        for reply in outcome.results where replies[reply.node] == nil { replies[reply.node] = reply.outcome }
        if let timeout = outcome.timeout {
            for target in timeout.unanswered {
                if case .node(let name, _) = target, replies[name] == nil {
                    replies[name] = .timedOut(after: timeout.waited)
                }
            }
        }
        return replies
    }

    private func wait(
        _ requestID: RequestID,
        targets: [RequestTarget],
        timeout: Duration? = nil,
        register: (inout State) -> Void,
        send: @Sendable () async throws -> Void,
        cleanup: @escaping @Sendable (inout State) -> Void
    ) async throws -> RequestTracker<NodeReply>.Outcome {
        let (stream, continuation) = AsyncStream<RequestTracker<NodeReply>.Outcome>.makeStream(
            bufferingPolicy: .bufferingNewest(1)
        )
        state.withLock { register(&$0) }
        defer { state.withLock { cleanup(&$0) } }
        try tracker.start(requestID, awaiting: targets, timeout: timeout ?? options.timeout) { _, outcome in
            continuation.yield(outcome)
            continuation.finish()
        }
        do {
            try await send()
        } catch {
            tracker.finish(requestID)
            throw error
        }
        return await withTaskCancellationHandler {
            for await outcome in stream { return outcome }
            return .completed([])
        } onCancel: {
            tracker.finish(requestID)
        }
    }

    private func entries(nodes: [DispatchTarget], replies: [String: NodeOutcome]) -> [DispatchReport.Entry] {
        nodes.map { node in
            DispatchReport.Entry(
                node: node.name,
                nodeType: node.nodeType,
                outcome: replies[node.name] ?? .unreachable("no answer recorded")
            )
        }
    }

    private func failPending(_ reason: String) {
        let (nodeRequests, controllerRequests, control) = state.withLock { state in
            let control = state.controlSlots.values.compactMap { slot -> RequestID? in
                if case .pending(let id) = slot { return id }
                return nil
            }
            // A controller request waits for the controller, not for nodes: its report says why it ended.
            for id in state.controllerRequests { state.controllerFailures[id] = reason }
            return (state.nodeRequests, state.controllerRequests, Set(control))
        }
        for id in nodeRequests.union(controllerRequests) { fail(RequestID(id), reason) }
        for id in control { fail(id, reason) }
    }

    private func fail(_ id: RequestID, _ reason: String) {
        for target in tracker.lookup(id).unanswered {
            if case .node(let name, _) = target {
                tracker.record(NodeReply(node: name, outcome: .unreachable(reason)), for: id, from: target)
            }
        }
        tracker.finish(id)
    }

    // MARK: - Answers

    private func handle(_ received: TopicEvent) {
        let event = received.event
        if case .string(let reqid)? = event.arguments.first,
            let isFirst = state.withLock({ state -> Bool? in
                guard state.genericRequests[reqid] == event.name else { return nil }
                // The first answer counts; later ones are duplicates.
                guard state.genericAnswers[reqid] == nil else {
                    state.ignored.duplicates += 1
                    return false
                }
                state.genericAnswers[reqid] = event.arguments
                return true
            })
        {
            if isFirst { tracker.markAnswered(.instance("response"), for: RequestID(reqid)) }
            return
        }
        switch event.name {
        case NodeRuntime.API.dispatchResponse:
            guard event.arguments.count >= 2, case .string(let reqid) = event.arguments[0],
                state.withLock({ $0.nodeRequests.contains(reqid) }),
                let result = try? Management.Result(brokerValue: event.arguments[1]), let node = result.node
            else { return }
            let outcome: NodeOutcome
            if result.success {
                guard case .string(let text)? = result.data else {
                    countDuplicate(
                        tracker.record(
                            NodeReply(
                                node: node,
                                outcome: .failed(
                                    "invalid result data type \(result.data.map { Broker.JSON.encode($0) } ?? "none")"
                                )
                            ),
                            for: RequestID(reqid),
                            from: .node(node)
                        )
                    )
                    return
                }
                outcome = .replied(text)
            } else {
                outcome = .failed(result.error ?? "no reason given")
            }
            countDuplicate(
                tracker.record(NodeReply(node: node, outcome: outcome), for: RequestID(reqid), from: .node(node))
            )
        case "Control::id_value_response":
            guard event.arguments.count >= 2, case .string(let id) = event.arguments[0],
                case .string(let value) = event.arguments[1],
                let node = scheme.controlReplyNode(of: received.topic)
            else { return }
            let key = ControlKey(node: node, id: id)
            let requestID = state.withLock { state -> RequestID? in
                switch state.controlSlots[key] {
                case .pending(let requestID):
                    state.controlSlots[key] = .answered(requestID)
                    return requestID
                case .answered:
                    state.ignored.duplicates += 1
                    return nil
                case .late:
                    state.controlSlots[key] = nil  // The late reply came: the pair is free again.
                    state.ignored.late += 1
                    return nil
                case nil:
                    return nil  // Not ours: another client's request, or later than the grace period.
                }
            }
            guard let requestID else { return }
            tracker.record(NodeReply(node: node, outcome: .replied(value)), for: requestID, from: .node(node))
        case ControllerAPI.getIDValueResponse:
            guard event.arguments.count >= 2, case .string(let reqid) = event.arguments[0],
                state.withLock({ $0.controllerRequests.contains(reqid) }),
                let results = try? [Management.Result](brokerValue: event.arguments[1])
            else { return }
            let isFirst = state.withLock { state in
                guard state.controllerAnswers[reqid] == nil else {
                    state.ignored.duplicates += 1
                    return false
                }
                state.controllerAnswers[reqid] = results
                return true
            }
            if isFirst { tracker.markAnswered(.instance("controller"), for: RequestID(reqid)) }
        default:
            return
        }
    }
}

extension Dispatcher {
    /// Whether a Control request for `id` to `node` is on the wire or its late reply still expected; for tests.
    func isControlPairTaken(node: String, id: String) -> Bool {
        state.withLock { $0.controlSlots[ControlKey(node: node, id: id)] != nil }
    }

    /// Counts a repeated answer that the tracker dropped.
    private func countDuplicate(_ recording: RequestTracker<NodeReply>.Recording) {
        if recording == .duplicateAnswer { state.withLock { $0.ignored.duplicates += 1 } }
    }
}

/// Runs a dispatcher for the duration of `body`.
///
/// Subscribes the backend to the reply topics of `protocols`, connects it, runs ``Dispatcher/run()`` beside
/// `body`, and stops it when `body` returns.
///
/// - Parameters:
///   - backend: The backend.
///   - protocols: The protocols `body` will use.
///   - clock: The clock for deadlines.
///   - options: Options.
///   - scheme: Topic naming.
///   - body: The work.
/// - Returns: What `body` returns.
/// - Throws: What `body` or the backend throws.
public func withDispatcher<T: Sendable>(
    backend: any ClusterBackend,
    protocols: Set<DispatchProtocol>,
    clock: any Clock<Duration> = ContinuousClock(),
    options: DispatchOptions = .standard,
    scheme: TopicScheme = .broker,
    _ body: @escaping @Sendable (Dispatcher) async throws -> T
) async throws -> T {
    for topic in Dispatcher.replyTopics(for: protocols) {
        if topic == NodeRuntime.API.topic {
            try await backend.subscribe(topic, eventNames: [NodeRuntime.API.dispatchResponse])
        } else {
            try await backend.subscribe(topic)
        }
    }
    try await backend.connect()
    let dispatcher = Dispatcher(backend: backend, clock: clock, options: options, scheme: scheme)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await dispatcher.run()
            return nil
        }
        group.addTask { try await body(dispatcher) }
        defer { group.cancelAll() }
        while let result = try await group.next() {
            if let result { return result }
        }
        throw BackendError(.closed, "the connection ended before the request finished", endpoint: "")
    }
}

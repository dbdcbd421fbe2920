public import ClusterKitModel

/// A node's membership in its cluster, on any ``ClusterBackend``: the driver of a ``MembershipStateMachine``.
///
/// It subscribes the node to its node, node id and type topics (``subscribe()``), answers the hub's membership
/// notices with `Cluster::hello`, and turns hellos and departures into ``Event``s (`Cluster::node_up` and
/// `Cluster::node_down`) for the embedder, `cluster.log` records for the cluster log sink and reporter messages for
/// the report sink. It keeps Zeek's pools (the three standard ones and any given) and publishes to a pool's members by
/// highest random weight or round robin over the members that are up (``publishHRW(pool:key:_:)``,
/// ``publishRR(pool:key:_:)``).
///
/// A ``NodeRuntime`` made with a member feeds it every event it receives; a program with its own event loop calls
/// ``handle(_:)`` for each one, and ``reconnected()`` after its connection was replaced.
///
/// ```swift
/// let member = try ClusterMember(layout: layout, node: "proxy-1", backend: backend)
/// try await member.subscribe()
/// try await backend.connect()
/// for try await received in backend.events {
///     if try await member.handle(received) { continue }
///     // the program's own events
/// }
/// ```
public final class ClusterMember: Sendable {
    /// What the embedder hears about other nodes.
    public enum Event: Sendable, Hashable {
        /// `Cluster::node_up(name, id)`.
        case nodeUp(name: String, id: String)
        /// `Cluster::node_down(name, id)`.
        case nodeDown(name: String, id: String)
    }

    /// The most ``events`` kept for a consumer that does not read them; older ones are dropped first.
    public static let eventBufferLimit = 4096

    /// The node's name (`Cluster::node`).
    public let name: String
    /// The node's id (`Cluster::node_id()`), carried by its hellos.
    public let nodeID: String
    /// The backend the node publishes through.
    public let backend: any ClusterBackend
    /// `Cluster::node_up` and `Cluster::node_down`, in order.
    ///
    /// The newest ``eventBufferLimit`` are kept while nobody reads. One consumer.
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let machine: Guarded<MembershipStateMachine>
    private let now: @Sendable () -> Broker.Timestamp
    private let clusterLog: (@Sendable (Cluster.Info) -> Void)?
    private let report: (@Sendable (String) -> Void)?

    /// Creates the membership of node `node` of `layout`.
    ///
    /// - Parameters:
    ///   - layout: `Cluster::nodes`.
    ///   - node: The node's name; it should be in `layout` (a name that is not is a member nobody expects: the
    ///     others report its hello as Zeek does).
    ///   - options: Cluster options (``Cluster/Options/node`` is set to `node`); default Zeek's.
    ///   - scheme: Topic naming; default Broker's.
    ///   - nodeID: The node's id; default `backend`'s. A node behind a WebSocket connection passes its own, since
    ///     its connection's id is only known after the subscriptions are sent.
    ///   - pools: Pools to register beside the three standard ones.
    ///   - backend: The backend.
    ///   - now: The time for log records; default the system's wall clock.
    ///   - clusterLog: Gets the `cluster.log` records (`got hello from worker-1 (<id>)`, `node down: worker-1`).
    ///   - report: Gets reporter errors and warnings, such as `Got Cluster::hello msg from unexpected node: x`.
    /// - Throws: ``Cluster/PoolError`` when a pool cannot be set up, with Zeek's message.
    public init(
        layout: Cluster.Layout,
        node: String,
        options: Cluster.Options = .standard,
        scheme: TopicScheme = .broker,
        nodeID: String? = nil,
        pools: [Cluster.PoolSpec] = [],
        backend: any ClusterBackend,
        now: @escaping @Sendable () -> Broker.Timestamp = ProcessNodeHost.systemTime,
        clusterLog: (@Sendable (Cluster.Info) -> Void)? = nil,
        report: (@Sendable (String) -> Void)? = nil
    ) throws(Cluster.PoolError) {
        var options = options
        options.node = node
        var cluster = ClusterState(layout: layout, options: options, scheme: scheme)
        cluster.registerStandardPools()
        for spec in pools { cluster.registerPool(spec) }
        try cluster.initializePools()
        let id = nodeID ?? backend.nodeID
        self.name = node
        self.nodeID = id
        self.backend = backend
        self.machine = Guarded(MembershipStateMachine(cluster: cluster, nodeID: id))
        self.now = now
        self.clusterLog = clusterLog
        self.report = report
        (events, continuation) = AsyncStream.makeStream(
            of: Event.self,
            bufferingPolicy: .bufferingNewest(Self.eventBufferLimit)
        )
    }

    deinit {
        continuation.finish()
    }

    /// The topics the node subscribes to: its node topic, node id topic and type topic.
    public var subscriptions: [Topic] { machine.withLock { $0.subscriptions } }

    /// Subscribes the node to ``subscriptions`` (before `connect()`, for a WebSocket backend).
    ///
    /// - Throws: ``BackendError`` from the backend.
    public func subscribe() async throws {
        for topic in subscriptions { try await backend.subscribe(topic) }
    }

    /// Handles a received event if it is about membership.
    ///
    /// - Parameter received: The event.
    /// - Returns: Whether it was a membership event (consumed), so the caller can skip it.
    /// - Throws: ``BackendError`` when a hello cannot be published.
    @discardableResult
    public func handle(_ received: TopicEvent) async throws -> Bool {
        guard let input = MembershipStateMachine.input(from: received.event) else { return false }
        try await perform(input)
        return true
    }

    /// Tells the member that its connection was lost and made again: every node it knew goes down; the hub's
    /// notices on the new connection bring them up again.
    ///
    /// - Throws: ``BackendError`` (never in practice: going down publishes nothing).
    public func reconnected() async throws {
        try await perform(.reconnected)
    }

    private func perform(_ input: MembershipStateMachine.Input) async throws {
        let time = now()
        let actions = machine.withLock { $0.handle(input, now: time) }
        for action in actions {
            switch action {
            case .publish(let event, let topic): try await backend.publish(event, to: topic)
            case .nodeUp(let name, let id): continuation.yield(.nodeUp(name: name, id: id))
            case .nodeDown(let name, let id): continuation.yield(.nodeDown(name: name, id: id))
            case .log(let info): clusterLog?(info)
            case .error(let message): report?("error: " + message)
            case .warning(let message): report?("warning: " + message)
            }
        }
    }

    /// `Cluster::get_active_node_count(type)`: nodes of that type that said hello and are not down.
    ///
    /// - Parameter type: The node type.
    /// - Returns: The count.
    public func activeNodeCount(of type: Cluster.NodeType) -> Int { machine.withLock { $0.activeNodeCount(of: type) } }

    /// The names of the nodes that are up, sorted.
    public var upNodes: [String] {
        machine.withLock { machine in
            machine.cluster.layout.nodes.filter { $0.node.id != nil && $0.name != name }.map(\.name).sorted()
        }
    }

    /// A pool as it stands, by its topic (`Cluster::worker_pool_spec$topic`, ...).
    ///
    /// - Parameter topic: The pool's topic.
    /// - Returns: The pool, or `nil` when none has that topic.
    public func pool(_ topic: Topic) -> Cluster.Pool? { machine.withLock { $0.cluster.pools[topic.name] } }

    /// `Cluster::publish_hrw(pool, key, event)`: publishes to the pool member that highest random weight picks for
    /// `key` among the members that are up.
    ///
    /// - Parameters:
    ///   - pool: The pool's topic.
    ///   - key: The key.
    ///   - event: The event.
    /// - Returns: The topic it went to, or `nil` when no member is up (Zeek's `F`).
    /// - Throws: ``BackendError`` from the backend.
    @discardableResult
    public func publishHRW(pool: Topic, key: String, _ event: Broker.Event) async throws -> Topic? {
        guard let topic = machine.withLock({ $0.cluster.hrwTopic(pool: pool.name, key: key) }) else { return nil }
        try await backend.publish(event, to: topic)
        return topic
    }

    /// `Cluster::publish_rr(pool, key, event)`: publishes to the next member that is up, round robin per key.
    ///
    /// - Parameters:
    ///   - pool: The pool's topic.
    ///   - key: The round-robin key (each has its own cursor).
    ///   - event: The event.
    /// - Returns: The topic it went to, or `nil` when no member is up.
    /// - Throws: ``BackendError`` from the backend.
    @discardableResult
    public func publishRR(pool: Topic, key: String = "", _ event: Broker.Event) async throws -> Topic? {
        let topic = machine.withLock { machine in
            machine.withCluster { $0.roundRobinTopic(pool: pool.name, key: key) }
        }
        guard let topic else { return nil }
        try await backend.publish(event, to: topic)
        return topic
    }
}

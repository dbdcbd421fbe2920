import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// A whole cluster in one process: one ``NodeRuntime`` per node of a layout, on an in-memory hub.
///
/// Each node's ID registry holds what that node's Zeek would hold for the cluster framework
/// (``IDRegistry/clusterNode(name:layout:options:nodesValue:)``) plus the caller's settings, so the same
/// `get_id_value` answers come back as from a real cluster. `Cluster::CONTROL` and `Cluster::TIME_MACHINE`
/// entries are not processes and do not run.
public struct EmbeddedCluster: Sendable {
    /// The layout.
    public var layout: Cluster.Layout
    /// The cluster options every node shares (`node` is set per node).
    public var options: Cluster.Options
    /// Identifiers set on every node, overriding the cluster framework's; `nil` declares one without a value.
    public var settings: [String: ZeekValue?]
    /// Topic naming.
    public var scheme: TopicScheme

    /// Creates an embedded cluster description.
    ///
    /// - Parameters:
    ///   - layout: The layout.
    ///   - options: Cluster options.
    ///   - settings: Identifiers to set on every node.
    ///   - scheme: Topic naming.
    public init(
        layout: Cluster.Layout,
        options: Cluster.Options = .standard,
        settings: [String: ZeekValue?] = [:],
        scheme: TopicScheme = .broker
    ) {
        self.layout = layout
        self.options = options
        self.settings = settings
        self.scheme = scheme
    }

    /// The nodes that run as processes (everything but control and time machine entries), each name once,
    /// in layout order.
    public var runningNodes: [Cluster.NamedNode] {
        var seen = Set<String>()
        return layout.nodes.filter { named in
            named.node.nodeType != .control && named.node.nodeType != .timeMachine && seen.insert(named.name).inserted
        }
    }

    /// The running nodes as dispatch targets.
    public var targets: [DispatchTarget] {
        runningNodes.map { DispatchTarget($0.name, nodeType: $0.node.nodeType) }
    }

    /// Splits requested node names into known targets (in the requested order) and unknown names.
    ///
    /// - Parameter names: Requested names; `nil` or empty means every running node.
    /// - Returns: The targets and the names that are not running nodes.
    public func targets(named names: [String]?) -> (known: [DispatchTarget], unknown: [String]) {
        guard let names, !names.isEmpty else { return (targets, []) }
        let byName = Dictionary(targets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var known: [DispatchTarget] = []
        var unknown: [String] = []
        var seen = Set<String>()
        for name in names where seen.insert(name).inserted {
            if let target = byName[name] { known.append(target) } else { unknown.append(name) }
        }
        return (known, unknown)
    }

    /// The node runtimes, one per running node, each on its own endpoint of `hub`.
    ///
    /// - Parameter hub: The hub the nodes join.
    /// - Returns: The runtimes (not started).
    public func makeNodes(on hub: InMemoryBackend.Hub) -> [NodeRuntime] {
        let nodesValue = IDRegistry.clusterNodesValue(layout)
        return runningNodes.map { named in
            var nodeOptions = options
            nodeOptions.node = named.name
            var registry = IDRegistry.clusterNode(
                name: named.name,
                layout: layout,
                options: nodeOptions,
                nodesValue: nodesValue
            )
            for (id, value) in settings { registry.set(id, value) }
            return NodeRuntime(
                name: named.name,
                registry: registry,
                backend: hub.makeBackend(name: named.name),
                scheme: scheme
            )
        }
    }

    /// Starts every node on `hub`, runs `body` while they answer, then stops them.
    ///
    /// Every node has subscribed and said hello before `body` starts.
    ///
    /// - Parameters:
    ///   - hub: The hub; default a new one.
    ///   - body: The work, given the hub (make a backend on it to talk to the nodes).
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, or a node's ``BackendError``.
    public func run<T: Sendable>(
        on hub: InMemoryBackend.Hub = InMemoryBackend.Hub(),
        _ body: @escaping @Sendable (InMemoryBackend.Hub) async throws -> T
    ) async throws -> T {
        let nodes = makeNodes(on: hub)
        for node in nodes { try await node.start() }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            for node in nodes {
                group.addTask {
                    try await node.serve()
                    return nil
                }
            }
            group.addTask { try await body(hub) }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result {
                    for node in nodes { await node.backend.close() }
                    return result
                }
            }
            throw BackendError(.closed, "every node stopped before the work finished", endpoint: "embedded cluster")
        }
    }

    /// Asks the embedded cluster's nodes for an identifier's value through the Management node API.
    ///
    /// - Parameters:
    ///   - id: The identifier.
    ///   - nodes: Node names; `nil` or empty means all. Names that are not running nodes are reported as
    ///     `unknown cluster node`.
    ///   - dispatchOptions: Dispatch options (the deadline).
    ///   - clock: The clock for the deadline.
    /// - Returns: The report.
    /// - Throws: ``BackendError`` when the cluster could not be run.
    public func getIDValue(
        _ id: String,
        nodes: [String]? = nil,
        dispatchOptions: DispatchOptions = .standard,
        clock: any Clock<Duration> = ContinuousClock()
    ) async throws -> DispatchReport {
        let (known, unknown) = targets(named: nodes)
        let scheme = self.scheme
        return try await run { hub in
            try await withDispatcher(
                backend: hub.makeBackend(name: "zeekctl"),
                protocols: [.managementNode],
                clock: clock,
                options: dispatchOptions,
                scheme: scheme
            ) { dispatcher in
                try await dispatcher.getIDValue(
                    id,
                    nodes: known,
                    unknownNodes: unknown,
                    allNodes: nodes?.isEmpty ?? true,
                    via: .managementNode
                )
            }
        }
    }

    /// A small example cluster on localhost, as ZeekControl 2.6 would lay out a logger, a manager, a proxy
    /// and two workers with its defaults (ZeroMQ ports from 27762, metrics ports from 9991).
    public static let example: Cluster.Layout = {
        let localhost = Broker.Address.ipv4Loopback
        return Cluster.Layout(
            nodes: [
                Cluster.NamedNode(
                    name: "control",
                    node: Cluster.Node(nodeType: .control, ip: localhost, p: .tcp(27762))
                ),
                Cluster.NamedNode(
                    name: "manager",
                    node: Cluster.Node(nodeType: .manager, ip: localhost, p: .tcp(27763), metricsPort: .tcp(9991))
                ),
                Cluster.NamedNode(
                    name: "logger-1",
                    node: Cluster.Node(nodeType: .logger, ip: localhost, p: .tcp(27764), metricsPort: .tcp(9992))
                ),
                Cluster.NamedNode(
                    name: "proxy-1",
                    node: Cluster.Node(
                        nodeType: .proxy,
                        ip: localhost,
                        p: .tcp(27765),
                        manager: "manager",
                        metricsPort: .tcp(9993)
                    )
                ),
                Cluster.NamedNode(
                    name: "worker-1",
                    node: Cluster.Node(
                        nodeType: .worker,
                        ip: localhost,
                        p: .tcp(27766),
                        manager: "manager",
                        metricsPort: .tcp(9994)
                    )
                ),
                Cluster.NamedNode(
                    name: "worker-2",
                    node: Cluster.Node(
                        nodeType: .worker,
                        ip: localhost,
                        p: .tcp(27767),
                        manager: "manager",
                        metricsPort: .tcp(9995)
                    )
                ),
            ],
            managerIsLogger: false
        )
    }()
}

import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Everything needed to start one cluster node.
public struct NodeLaunch: Sendable, Hashable {
    /// The node's name.
    public var name: String
    /// The node as the Management framework describes it.
    public var node: Management.Node
    /// The cluster the node belongs to (`Cluster::nodes` as the node builds it from its cluster table).
    public var layout: Cluster.Layout
    /// The cluster table handed to the node, as the Supervisor hands it (`Supervisor::NodeConfig$cluster`).
    public var clusterTable: [String: Supervisor.ClusterEndpoint]
    /// Identifiers to set on the node beside the cluster framework's.
    public var settings: [String: ZeekValue?]

    /// Creates a launch description.
    ///
    /// - Parameters:
    ///   - name: The node's name.
    ///   - node: The Management node.
    ///   - layout: The cluster layout.
    ///   - clusterTable: The cluster table.
    ///   - settings: Extra identifiers.
    public init(
        name: String,
        node: Management.Node,
        layout: Cluster.Layout,
        clusterTable: [String: Supervisor.ClusterEndpoint] = [:],
        settings: [String: ZeekValue?] = [:]
    ) {
        self.name = name
        self.node = node
        self.layout = layout
        self.clusterTable = clusterTable
        self.settings = settings
    }
}

/// What a ``NodeHost`` knows about one node it runs.
public struct HostedNodeStatus: Sendable, Hashable {
    /// The process id, for nodes that are processes.
    public var pid: Int?
    /// Whether the node is running; `false` for one that exited and is not (yet) revived.
    public var isRunning: Bool
    /// How often the node was started again after the first start (restarts and revivals).
    public var restarts: Int
    /// The recent standard output and error, for deploy failures.
    public var outputs: Management.NodeOutputs?
    /// When the node's current process started (wall-clock time), for its uptime; `nil` when unknown or not running.
    public var startedAt: Broker.Timestamp?
    /// Why the node is not running, as a phrase such as `exited on signal 9, restarting in 1 s`; `nil` while it runs.
    ///
    /// An agent answers a dispatch to such a node at once with it, rather than at its timeout.
    public var notRunning: String?

    /// Creates a status.
    ///
    /// - Parameters:
    ///   - pid: The process id.
    ///   - isRunning: Whether it runs.
    ///   - restarts: Restarts and revivals so far.
    ///   - outputs: Recent output.
    ///   - startedAt: When the current process started; default `nil`.
    ///   - notRunning: Why it is not running; default `nil`.
    public init(
        pid: Int? = nil,
        isRunning: Bool = true,
        restarts: Int = 0,
        outputs: Management.NodeOutputs? = nil,
        startedAt: Broker.Timestamp? = nil,
        notRunning: String? = nil
    ) {
        self.pid = pid
        self.isRunning = isRunning
        self.restarts = restarts
        self.outputs = outputs
        self.startedAt = startedAt
        self.notRunning = notRunning
    }
}

/// How a Management agent runs the nodes of its instance: in process, or as supervised processes.
///
/// A started node announces itself with `notify_node_hello` on `zeek/management/node` once it can answer;
/// the agent waits for that, not for ``launch(_:)`` to return.
public protocol NodeHost: Sendable {
    /// Hosts the nodes (in-process nodes run as child tasks of this call) until cancelled.
    func run() async

    /// Starts a node.
    ///
    /// - Parameter launch: What to start.
    /// - Returns: `nil` when the node is starting, else the error text.
    func launch(_ launch: NodeLaunch) async -> String?

    /// Takes over a node that already runs as `launch` describes it (started for an earlier agent of this instance
    /// that is gone), instead of starting it again: the agent then counts it as running without a new hello.
    ///
    /// The default adopts nothing.
    ///
    /// - Parameter launch: What the node should be running.
    /// - Returns: Whether the node runs exactly so and is now this host's.
    func adopt(_ launch: NodeLaunch) async -> Bool

    /// Stops every node the host runs that is not named in `names` and that it did not start itself: nodes left by
    /// an earlier agent of this instance that the deployment no longer has. Called after every deployment's launches.
    ///
    /// The default does nothing: a host whose nodes die with it has none left over.
    ///
    /// - Parameter names: The nodes of the deployment.
    func retainOnly(_ names: Set<String>) async

    /// Stops a node and waits until it is gone (bounded).
    ///
    /// - Parameter name: The node's name.
    func stop(_ name: String) async

    /// Stops and starts a node again with its last launch description.
    ///
    /// - Parameter name: The node's name.
    /// - Returns: Whether the node was known and started again.
    func restart(_ name: String) async -> Bool

    /// What the host knows about its nodes, by name.
    func status() -> [String: HostedNodeStatus]

    /// The nodes that are not running, each with why (``HostedNodeStatus/notRunning``): what an agent checks on
    /// every dispatch, so it should be cheap.
    ///
    /// The default takes them from ``status()``.
    func notRunning() -> [String: String]

    /// Stops every node and waits until they are gone (bounded), before the host itself is stopped.
    ///
    /// The default stops all nodes of ``status()`` at once with ``stop(_:)``.
    func stopAll() async

    /// The nodes that exited without being asked to, as the host learns of them: an agent answers the requests
    /// still waiting for such a node at once, rather than at their timeout. One consumer (the agent).
    ///
    /// The default is a sequence that ends at once: the host's nodes do not exit on their own.
    var exits: AsyncStream<HostedNodeExit> { get }
}

/// A node that exited without being asked to (``NodeHost/exits``).
public struct HostedNodeExit: Sendable, Hashable {
    /// The node's name.
    public var name: String
    /// Why it is not running, as ``HostedNodeStatus/notRunning`` says it: `exited on signal 9, restarting in 1 s`.
    public var reason: String

    /// Creates an exit.
    ///
    /// - Parameters:
    ///   - name: The node's name.
    ///   - reason: Why it is not running.
    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
}

extension NodeHost {
    /// The nodes of ``status()`` that are not running, each with why (`its process is not running` when the host
    /// does not say).
    public func notRunning() -> [String: String] {
        status().compactMapValues { $0.isRunning ? nil : ($0.notRunning ?? "its process is not running") }
    }

    /// Adopts nothing: every node this host runs, it started.
    public func adopt(_ launch: NodeLaunch) async -> Bool { false }

    /// Nothing to do: no node of this host outlives the agent that started it.
    public func retainOnly(_ names: Set<String>) async {}

    /// A sequence that ends at once: no node of this host exits on its own.
    public var exits: AsyncStream<HostedNodeExit> { AsyncStream { $0.finish() } }

    /// Stops every node of ``status()`` at once with ``stop(_:)`` and waits for all of them.
    public func stopAll() async {
        await withDiscardingTaskGroup { group in
            for name in status().keys { group.addTask { await self.stop(name) } }
        }
    }
}

/// Runs each node as a ``NodeRuntime`` in this process, on an in-memory hub, each a ``ClusterMember`` of its
/// launch's layout.
public final class InProcessNodeHost: NodeHost {
    private struct Hosted {
        var launch: NodeLaunch
        var runtime: NodeRuntime
        var restarts: Int
    }

    private let hub: InMemoryBackend.Hub
    private let options: Cluster.Options
    private let scheme: TopicScheme
    private let spawner = TaskSpawner()
    private let nodes = Guarded<[String: Hosted]>([:])

    /// Creates a host whose nodes join `hub`.
    ///
    /// - Parameters:
    ///   - hub: The hub the nodes join.
    ///   - options: Cluster options for the nodes (`node` is set per node).
    ///   - scheme: Topic naming.
    public init(hub: InMemoryBackend.Hub, options: Cluster.Options = .standard, scheme: TopicScheme = .broker) {
        self.hub = hub
        var options = options
        // `Cluster::backend` says which backend's naming the nodes follow, as for node processes.
        options.backend = scheme.backend == .broker ? .broker : .zeroMQ
        self.options = options
        self.scheme = scheme
    }

    /// Runs the nodes until cancelled; stopping the host stops every node.
    public func run() async {
        await withTaskCancellationHandler {
            await spawner.run()
        } onCancel: {
            spawner.finish()
        }
        for hosted in nodes.withLock({ Array($0.values) }) { await hosted.runtime.backend.close() }
    }

    /// Starts a node in process.
    ///
    /// - Parameter launch: What to start.
    /// - Returns: `nil`, or the error text when the node could not subscribe.
    public func launch(_ launch: NodeLaunch) async -> String? {
        await start(launch, restarts: 0)
    }

    private func start(_ launch: NodeLaunch, restarts: Int) async -> String? {
        await stop(launch.name)
        var nodeOptions = options
        nodeOptions.node = launch.name
        var registry = IDRegistry.clusterNode(name: launch.name, layout: launch.layout, options: nodeOptions)
        for (id, value) in launch.settings { registry.set(id, value) }
        let backend = hub.makeBackend(name: launch.name)
        // Pool specs that cannot be set up leave the node out of membership, not out of the cluster.
        let member = try? ClusterMember(
            layout: launch.layout,
            node: launch.name,
            options: nodeOptions,
            scheme: scheme,
            backend: backend
        )
        let runtime = NodeRuntime(
            name: launch.name,
            registry: registry,
            backend: backend,
            scheme: scheme,
            member: member
        )
        nodes.withLock { $0[launch.name] = Hosted(launch: launch, runtime: runtime, restarts: restarts) }
        do {
            try await runtime.start()
        } catch {
            return "node \(launch.name) could not start: \(error)"
        }
        let spawned = spawner.spawn { try? await runtime.serve() }
        return spawned ? nil : "node \(launch.name) could not start: the node host is stopping"
    }

    /// Stops a node: its backend closes and it leaves the hub.
    ///
    /// - Parameter name: The node's name.
    public func stop(_ name: String) async {
        guard let hosted = nodes.withLock({ $0.removeValue(forKey: name) }) else { return }
        await hosted.runtime.backend.close()
    }

    /// Starts a node again, which says hello again.
    ///
    /// - Parameter name: The node's name.
    /// - Returns: Whether the node was known.
    public func restart(_ name: String) async -> Bool {
        guard let hosted = nodes.withLock({ $0[name] }) else { return false }
        return await start(hosted.launch, restarts: hosted.restarts + 1) == nil
    }

    /// The nodes: all running, without pids (they are not processes).
    public func status() -> [String: HostedNodeStatus] {
        nodes.withLock { $0.mapValues { HostedNodeStatus(pid: nil, isRunning: true, restarts: $0.restarts) } }
    }

    /// None: a node in process runs until it is stopped.
    ///
    /// - Returns: An empty dictionary.
    public func notRunning() -> [String: String] { [:] }
}

/// One node's view of its cluster: the cluster framework's functions and membership, as Zeek's
/// `base/frameworks/cluster` computes them.
///
/// A state machine: events (`hello`, `node_down`, `create_store`) are `mutating` methods that return the
/// ``Effect``s Zeek would produce (events raised, `cluster.log` lines, reporter messages); the owner
/// performs them. No I/O, no clock: times are passed in.
public struct ClusterState: Sendable {
    /// Something Zeek would do in reaction to an event.
    public enum Effect: Sendable, Hashable {
        /// Raise `Cluster::node_up(name, id)`.
        case nodeUp(name: String, id: String)
        /// Write this record to `cluster.log`.
        case log(Cluster.Info)
        /// A reporter error (`Reporter::error`).
        case error(String)
        /// A reporter warning.
        case warning(String)
    }

    /// `Cluster::nodes`, with `$id` set for the nodes that said hello.
    public private(set) var layout: Cluster.Layout
    /// The cluster options (`Cluster::node` is ``Cluster/Options/node``).
    public let options: Cluster.Options
    /// Topic naming of the cluster backend.
    public let scheme: TopicScheme
    /// `Cluster::stores`.
    public internal(set) var stores: [String: Cluster.StoreInfo] = [:]
    /// The registered pools, by topic.
    public internal(set) var pools: [String: Cluster.Pool] = [:]
    /// The order pools were registered in.
    var poolOrder: [String] = []
    /// `active_node_ids`: node ids per type, added on every hello, removed on `node_down`.
    private var activeNodeIDs: [Cluster.NodeType: Set<String>] = [:]

    /// Creates the state of the node named ``Cluster/Options/node`` in a cluster.
    ///
    /// - Parameters:
    ///   - layout: `Cluster::nodes` and `Cluster::manager_is_logger`.
    ///   - options: The cluster options; `node` is this node's name (`""`: not a cluster node).
    ///   - scheme: Topic naming; default Broker's.
    public init(layout: Cluster.Layout, options: Cluster.Options, scheme: TopicScheme = .broker) {
        self.layout = layout
        self.options = options
        self.scheme = scheme
    }

    /// `Cluster::node`: this node's name.
    public var nodeName: String { options.node }

    /// `Cluster::is_enabled()`: whether `Cluster::node` is set.
    public var isEnabled: Bool { !options.node.isEmpty }

    /// `Cluster::local_node_type()`: this node's type, or ``Cluster/NodeType/none`` when not enabled or not
    /// in the layout.
    public var localNodeType: Cluster.NodeType {
        guard isEnabled, let node = layout[options.node] else { return .none }
        return node.nodeType
    }

    /// `Cluster::local_node_metrics_port()`: this node's metrics port, or `0/unknown`.
    public var localNodeMetricsPort: Broker.Port {
        guard isEnabled, let node = layout[options.node], let port = node.metricsPort else { return .unset }
        return port
    }

    /// `Cluster::get_node_count(type)`: entries of a type in `Cluster::nodes`, seen or not.
    ///
    /// - Parameter type: The node type.
    /// - Returns: The number of configured nodes of that type.
    public func nodeCount(of type: Cluster.NodeType) -> Int {
        var seen = Set<String>()
        return layout.nodes.filter { seen.insert($0.name).inserted && $0.node.nodeType == type }.count
    }

    /// `Cluster::get_active_node_count(type)`: ids of that type that said hello and are not down.
    ///
    /// Zeek counts ids, not names: a node that says hello again with a new id, without a `node_down` for
    /// the old one, is counted twice.
    ///
    /// - Parameter type: The node type.
    /// - Returns: The number of active ids.
    public func activeNodeCount(of type: Cluster.NodeType) -> Int { activeNodeIDs[type]?.count ?? 0 }

    /// `Cluster::node_topic(name)`.
    ///
    /// - Parameter name: A node name.
    /// - Returns: The topic only that node subscribes to.
    public func nodeTopic(_ name: String) -> Topic { scheme.nodeTopic(name) }

    /// `Cluster::nodeid_topic(id)`.
    ///
    /// - Parameter id: A backend node id.
    /// - Returns: The topic only that endpoint subscribes to.
    public func nodeIDTopic(_ id: String) -> Topic { scheme.nodeIDTopic(id) }

    /// `Cluster::nodeid_to_node(id)`: the first node whose `$id` is `id`, else a node with an empty name, type
    /// `NONE` and address `0.0.0.0`.
    ///
    /// - Parameter id: A backend node id.
    /// - Returns: The named node.
    public func nodeIDToNode(_ id: String) -> Cluster.NamedNode {
        layout.nodes.first { $0.node.id == id }
            ?? Cluster.NamedNode(name: "", node: Cluster.Node(nodeType: .none, ip: .ipv4Unspecified))
    }

    // MARK: - Membership

    /// Handles `Cluster::hello(name, id)` as Zeek's handler does (priority 10), then the pools' `node_up`.
    ///
    /// - Parameters:
    ///   - name: The node name it claims.
    ///   - id: Its backend id.
    ///   - now: Network time, for the log record.
    /// - Returns: The effects: an error for an unexpected or duplicate node, `node_up` for a new one, the log line.
    public mutating func hello(name: String, id: String, now: Broker.Timestamp) -> [Effect] {
        guard var node = layout[name] else {
            return [.error("Got Cluster::hello msg from unexpected node: \(name)")]
        }
        var effects: [Effect] = []
        if let known = node.id {
            if known != id { effects.append(.error("Got Cluster::hello msg from duplicate node:\(name)")) }
        } else {
            effects.append(.nodeUp(name: name, id: id))
            nodeUpInPools(name)
        }
        node.id = id
        layout.set(name, node)
        effects.append(.log(Cluster.Info(ts: now, node: options.node, message: "got hello from \(name) (\(id))")))
        activeNodeIDs[node.nodeType, default: []].insert(id)
        return effects
    }

    /// Handles `Cluster::node_down(name, id)` as Zeek's handler does: the node is found by **id**.
    ///
    /// - Parameters:
    ///   - name: The name given with the event (only used by pools and in the error text).
    ///   - id: The backend id that went away.
    ///   - now: Network time, for the log record.
    /// - Returns: The effects: the `node down` log line, or an error when no node has that id.
    public mutating func nodeDown(name: String, id: String, now: Broker.Timestamp) -> [Effect] {
        nodeDownInPools(name)
        guard let entry = layout.nodes.first(where: { $0.node.id == id }) else {
            return [.error("No node found in Cluster::node_down() node:\(name) id:\(id)")]
        }
        var node = entry.node
        node.id = nil
        layout.set(entry.name, node)
        activeNodeIDs[node.nodeType]?.remove(id)
        return [.log(Cluster.Info(ts: now, node: options.node, message: "node down: \(entry.name)"))]
    }
}

public import ClusterKitModel

/// A node's side of cluster membership: who says hello to whom, and when nodes go up and down.
///
/// A state machine over ``ClusterState``: inputs are what the node's backend delivered, outputs are what to
/// publish and what to tell the node's embedder; no I/O and no clock (times are passed in). It follows Zeek's
/// ZeroMQ backend scripts (`policy/frameworks/cluster/backend/zeromq/main.zeek`), with the hub's
/// ``InMemoryBackend/Hub/MembershipNotice``s in the role of the XPUB socket's subscription observations:
///
/// - a node id topic subscribed by another node: publish `Cluster::hello(name, id)` to it, so that node learns of
///   this one (the other node, seeing this node's topic, does the same);
/// - `Cluster::hello(name, id)`: ``ClusterState/hello(name:id:now:)`` (an unknown or duplicate node is an error,
///   a new one raises `Cluster::node_up`);
/// - a node id topic given up: `Cluster::node_down` for the node holding that id, or Zeek's warning
///   `unsubscription of unknown node with id '<id>'`;
/// - the connection to the hub replaced after a loss: every node known goes down (through the hub, this node had
///   lost them all); the hub's notices on the new connection bring them up again.
public struct MembershipStateMachine: Sendable {
    /// What the backend delivered.
    public enum Input: Sendable, Hashable {
        /// Another member subscribed to this node id topic.
        case subscriptionObserved(Topic)
        /// The last holder of this node id topic gave it up.
        case unsubscriptionObserved(Topic)
        /// `Cluster::hello(name, id)` arrived.
        case hello(name: String, id: String)
        /// The connection to the hub was lost and made again.
        case reconnected
    }

    /// What to do about an input.
    public enum Action: Sendable, Hashable {
        /// Publish this event on this topic.
        case publish(Broker.Event, to: Topic)
        /// Raise `Cluster::node_up(name, id)`.
        case nodeUp(name: String, id: String)
        /// Raise `Cluster::node_down(name, id)`.
        case nodeDown(name: String, id: String)
        /// Write this record to `cluster.log`.
        case log(Cluster.Info)
        /// A reporter error.
        case error(String)
        /// A reporter warning.
        case warning(String)
    }

    /// `Cluster::hello`.
    public static let helloEvent = "Cluster::hello"

    /// The node's view of its cluster.
    public private(set) var cluster: ClusterState
    /// The node's id (`Cluster::node_id()`), the one its hellos carry.
    public let nodeID: String

    /// Creates the membership of the node named by the cluster options.
    ///
    /// - Parameters:
    ///   - cluster: The node's cluster state (``ClusterState/nodeName`` is this node).
    ///   - nodeID: The node's id.
    public init(cluster: ClusterState, nodeID: String) {
        self.cluster = cluster
        self.nodeID = nodeID
    }

    /// The topics the node subscribes to, as Zeek's nodes do: its node topic, its node id topic, and its type's
    /// topic (`Cluster::worker_topic` for a worker).
    public var subscriptions: [Topic] {
        let scheme = cluster.scheme
        var topics = [scheme.nodeTopic(cluster.nodeName), scheme.nodeIDTopic(nodeID)]
        if let typeTopic = scheme.typeTopic(for: cluster.localNodeType) { topics.append(typeTopic) }
        return topics
    }

    /// This node's `Cluster::hello(name, id)`.
    public var hello: Broker.Event {
        Broker.Event(Self.helloEvent, [.string(cluster.nodeName), .string(nodeID)])
    }

    /// Reads a delivered event as an input, or `nil` when it is not about membership (or malformed).
    ///
    /// - Parameter event: The event.
    /// - Returns: The input.
    public static func input(from event: Broker.Event) -> Input? {
        guard event.arguments.count >= 1 else { return nil }
        switch event.name {
        case InMemoryBackend.Hub.MembershipNotice.subscription:
            guard event.arguments.count == 1, case .string(let topic) = event.arguments[0] else { return nil }
            return .subscriptionObserved(Topic(topic))
        case InMemoryBackend.Hub.MembershipNotice.unsubscription:
            guard event.arguments.count == 1, case .string(let topic) = event.arguments[0] else { return nil }
            return .unsubscriptionObserved(Topic(topic))
        case helloEvent:
            guard event.arguments.count == 2, case .string(let name) = event.arguments[0],
                case .string(let id) = event.arguments[1]
            else { return nil }
            return .hello(name: name, id: id)
        default:
            return nil
        }
    }

    /// Handles an input.
    ///
    /// - Parameters:
    ///   - input: What arrived.
    ///   - now: The time, for log records.
    /// - Returns: What to do, in order.
    public mutating func handle(_ input: Input, now: Broker.Timestamp) -> [Action] {
        switch input {
        case .subscriptionObserved(let topic):
            guard let id = cluster.scheme.nodeID(inNodeIDTopic: topic), id != nodeID else { return [] }
            return [.publish(hello, to: topic)]
        case .unsubscriptionObserved(let topic):
            guard let id = cluster.scheme.nodeID(inNodeIDTopic: topic), id != nodeID else { return [] }
            let node = cluster.nodeIDToNode(id)
            guard !node.name.isEmpty else { return [.warning("unsubscription of unknown node with id '\(id)'")] }
            return nodeDown(name: node.name, id: id, now: now)
        case .hello(let name, let id):
            guard id != nodeID else { return [] }
            var actions: [Action] = []
            if let known = cluster.layout[name]?.id, known != id {
                // Zeek's ZeroMQ `hello` handler: a node back with a new id never said goodbye with the old one
                // (its message lacks the closing parenthesis, as Zeek's does).
                actions.append(.warning("node '\(name)' never said goodbye (old id:\(known) new id:\(id)"))
                actions += nodeDown(name: name, id: known, now: now)
            }
            return actions + cluster.hello(name: name, id: id, now: now).map(Self.action)
        case .reconnected:
            var actions: [Action] = []
            for entry in cluster.layout.nodes where entry.name != cluster.nodeName {
                guard let id = entry.node.id else { continue }
                actions += nodeDown(name: entry.name, id: id, now: now)
            }
            return actions
        }
    }

    private mutating func nodeDown(name: String, id: String, now: Broker.Timestamp) -> [Action] {
        [.nodeDown(name: name, id: id)] + cluster.nodeDown(name: name, id: id, now: now).map(Self.action)
    }

    private static func action(_ effect: ClusterState.Effect) -> Action {
        switch effect {
        case .nodeUp(let name, let id): .nodeUp(name: name, id: id)
        case .log(let info): .log(info)
        case .error(let message): .error(message)
        case .warning(let message): .warning(message)
        }
    }

    /// `Cluster::get_active_node_count(type)`.
    ///
    /// - Parameter type: The node type.
    /// - Returns: The active ids of that type.
    public func activeNodeCount(of type: Cluster.NodeType) -> Int { cluster.activeNodeCount(of: type) }

    /// Gives access to the cluster state (pools, stores) for what is not membership.
    ///
    /// - Parameter body: Changes the state.
    /// - Returns: What `body` returns.
    public mutating func withCluster<Result>(_ body: (inout ClusterState) throws -> Result) rethrows -> Result {
        try body(&cluster)
    }
}

public import ClusterKitModel

extension InMemoryBackend.Hub {
    /// The events a hub sends its cluster members about one another's node id topics, as Zeek's ZeroMQ backend
    /// raises `Cluster::Backend::ZeroMQ::subscription` and `unsubscription` for what its XPUB socket observes.
    ///
    /// A *member* is an endpoint that subscribes to a node id topic (``TopicScheme/nodeIDTopic(_:)``, Broker's or
    /// ZeroMQ's): every in-process endpoint may be one, and a WebSocket client when it is one of the cluster's nodes
    /// (it has the node token, or the server has none). When a member subscribes to its node id topic, every other
    /// member gets `ClusterKit::Hub::subscription(topic)` on its own node id topic, and the newcomer gets one for
    /// each member already there. When the last holder of a node id topic unsubscribes or leaves the hub, every
    /// other member gets `ClusterKit::Hub::unsubscription(topic)`. A node's ``ClusterMember`` answers the first
    /// with `Cluster::hello` and the second with `Cluster::node_down`, as Zeek's ZeroMQ scripts do. These notices
    /// go only to members and are not subject to inbox limits' waiting (there is one per member and change).
    public enum MembershipNotice: Sendable {
        /// `ClusterKit::Hub::subscription(topic: string)`: a member subscribed to this node id topic.
        public static let subscription = "ClusterKit::Hub::subscription"
        /// `ClusterKit::Hub::unsubscription(topic: string)`: the last holder of this node id topic left.
        public static let unsubscription = "ClusterKit::Hub::unsubscription"
        /// The schemes whose node id topics the hub recognises: Broker's and ZeroMQ's defaults.
        public static let schemes: [TopicScheme] = [.broker, .zeroMQ]

        /// The event of a notice.
        static func event(_ name: String, _ topic: Topic) -> Broker.Event {
            Broker.Event(name, [.string(topic.name)])
        }

        /// A Boolean value indicating whether `topic` is a node id topic of a known scheme.
        static func isNodeIDTopic(_ topic: Topic) -> Bool {
            schemes.contains { $0.nodeID(inNodeIDTopic: topic) != nil }
        }
    }

    /// Who holds which node id topic.
    struct MembershipTable: Sendable {
        /// Each member's node id topic (one per endpoint: the first it subscribed to).
        var topicOf: [UInt64: Topic] = [:]
        /// The endpoints holding each node id topic (more than one while a reconnecting node overlaps itself).
        var holders: [Topic: Set<UInt64>] = [:]
    }

    /// The member-count of the hub: endpoints holding a node id topic.
    public var memberCount: Int { membership.withLock { $0.topicOf.count } }

    /// Records a subscription that may make `id` a member, and sends the notices it causes.
    func joinMembership(_ id: UInt64, topic: Topic) {
        guard MembershipNotice.isNodeIDTopic(topic), isMember(id) else { return }
        let change = membership.withLock { table -> (isFirst: Bool, others: [(UInt64, Topic)])? in
            guard table.topicOf[id] == nil else { return nil }
            let others = table.topicOf.map { ($0.key, $0.value) }
            table.topicOf[id] = topic
            let isFirst = table.holders[topic, default: []].isEmpty
            table.holders[topic, default: []].insert(id)
            return (isFirst, others)
        }
        guard let change else { return }
        var told = Set<Topic>()
        for (other, otherTopic) in change.others where otherTopic != topic {
            if change.isFirst { notify(other, on: otherTopic, MembershipNotice.subscription, about: topic) }
            if told.insert(otherTopic).inserted {
                notify(id, on: topic, MembershipNotice.subscription, about: otherTopic)
            }
        }
    }

    /// Records that `id` gave up its node id topic (`topic`, or whichever it held when `nil`: it left the hub), and
    /// tells the other members when nobody holds the topic any more.
    func leaveMembership(_ id: UInt64, topic: Topic?) {
        let change = membership.withLock { table -> (topic: Topic, others: [(UInt64, Topic)])? in
            guard let held = table.topicOf[id], topic == nil || topic == held else { return nil }
            table.topicOf[id] = nil
            table.holders[held]?.remove(id)
            guard table.holders[held]?.isEmpty ?? true else { return nil }
            table.holders[held] = nil
            return (held, table.topicOf.map { ($0.key, $0.value) })
        }
        guard let change else { return }
        for (other, otherTopic) in change.others where otherTopic != change.topic {
            notify(other, on: otherTopic, MembershipNotice.unsubscription, about: change.topic)
        }
    }

    private func notify(_ member: UInt64, on topic: Topic, _ name: String, about subject: Topic) {
        var event = TopicEvent(topic: topic, event: MembershipNotice.event(name, subject))
        event.recipient = member
        // From no endpoint (ids start at 1): nobody is excluded as the publisher, and nothing waits.
        _ = deliver(event, size: nil, from: 0, waitsForRoom: false)
    }
}

/// A table of topic subscriptions that finds the subscribers of a published topic, with Broker's semantics.
///
/// A subscription is a prefix: a subscriber to `zeek/cluster/` receives `zeek/cluster/node/worker-1/`, a
/// subscriber to `zeek/management/controller` also receives `zeek/management/controllerX`, and a subscriber
/// to the empty prefix receives everything. Matching compares bytes, not path components.
///
/// ``subscribers(matching:)`` walks the topic's bytes once through a radix tree of the prefixes, so its cost
/// is O(topic length + matches) and does not grow with the number of subscriptions.
///
/// Hooks mirror Zeek's `Cluster::on_subscribe` and `Cluster::on_unsubscribe`: they run synchronously, on the
/// caller's thread, **before** each subscribe or unsubscribe call changes anything, for every call (also
/// for a repeated subscription or an unsubscription of something not subscribed), in the order they were
/// added. A hook cannot veto the change. Hooks run outside the router's lock, so they may call the router.
///
/// Zeek does not deliver a node's own publications back to it; that is the backend's business, helped by
/// ``subscribers(matching:excluding:)``.
///
/// The router is safe to use from any task: its state sits behind a `Mutex`.
public final class TopicRouter<Subscriber: Hashable & Sendable>: Sendable {
    /// A subscribe or unsubscribe hook: it receives the prefix and the subscriber of the call.
    public typealias Hook = @Sendable (_ prefix: Topic, _ subscriber: Subscriber) -> Void

    /// One subscription: a prefix and who holds it.
    public struct Subscription: Sendable, Hashable {
        /// The subscribed prefix.
        public var prefix: Topic
        /// The subscriber.
        public var subscriber: Subscriber

        /// Creates a subscription value.
        ///
        /// - Parameters:
        ///   - prefix: The subscribed prefix.
        ///   - subscriber: The subscriber.
        public init(prefix: Topic, subscriber: Subscriber) {
            self.prefix = prefix
            self.subscriber = subscriber
        }
    }

    @usableFromInline let state: Guarded<State>

    /// Creates an empty router.
    public init() {
        state = Guarded(State())
    }

    /// Creates an empty router with smaller bounds, for tests.
    init(limits: TopicTrie.Limits, maximumSubscribers: Int = State.defaultMaximumSubscribers) {
        var state = State()
        state.trie.limits = limits
        state.maximumSubscribers = maximumSubscribers
        self.state = Guarded(state)
    }

    // MARK: - Changing subscriptions

    /// Subscribes `subscriber` to every topic that starts with `prefix`.
    ///
    /// The subscribe hooks run first, even when the subscription exists already.
    ///
    /// A router is full when its distinct prefixes hold 512 MiB, or its tree 2^26 nodes, or it knows 2^30
    /// subscribers; subscribing then changes nothing and returns `false` (``trySubscribe(_:_:)`` throws
    /// instead).
    ///
    /// - Parameters:
    ///   - prefix: The topic prefix; the empty topic matches every topic.
    ///   - subscriber: The subscriber.
    /// - Returns: `true` when the subscription is new, `false` when `subscriber` held it already or the router
    ///   is full.
    @discardableResult
    public func subscribe(_ prefix: Topic, _ subscriber: Subscriber) -> Bool {
        (try? trySubscribe(prefix, subscriber)) ?? false
    }

    /// Subscribes `subscriber` to every topic that starts with `prefix`, or throws when the router is full.
    ///
    /// The subscribe hooks run first, also when the router then refuses. A router is full when its distinct
    /// prefixes hold 512 MiB, or its tree 2^26 nodes, or it knows 2^30 subscribers: far more than any cluster
    /// needs, and below what its 32-bit offsets hold.
    ///
    /// - Parameters:
    ///   - prefix: The topic prefix; the empty topic matches every topic.
    ///   - subscriber: The subscriber.
    /// - Returns: `true` when the subscription is new, `false` when `subscriber` held it already.
    /// - Throws: ``TopicRouterError`` when the router is full; nothing has changed then.
    @discardableResult
    public func trySubscribe(_ prefix: Topic, _ subscriber: Subscriber) throws(TopicRouterError) -> Bool {
        let hooks = state.withLock { $0.subscribeHooks }
        for entry in hooks { entry.hook(prefix, subscriber) }
        return try state.withLock { state throws(TopicRouterError) in try state.subscribe(prefix, subscriber) }
    }

    /// Removes the subscription of `subscriber` to `prefix`.
    ///
    /// The unsubscribe hooks run first, even when there is no such subscription. Only the exact prefix is
    /// removed: unsubscribing `zeek/` leaves a subscription to `zeek/cluster/` in place.
    ///
    /// - Parameters:
    ///   - prefix: The prefix given when subscribing.
    ///   - subscriber: The subscriber.
    /// - Returns: `true` when the subscription existed and was removed.
    @discardableResult
    public func unsubscribe(_ prefix: Topic, _ subscriber: Subscriber) -> Bool {
        let hooks = state.withLock { $0.unsubscribeHooks }
        for entry in hooks { entry.hook(prefix, subscriber) }
        return state.withLock { $0.unsubscribe(prefix, subscriber) }
    }

    /// Removes every subscription of `subscriber`, as when a peer or WebSocket client goes away.
    ///
    /// The unsubscribe hooks run once for each prefix the subscriber holds, in byte order of the
    /// prefixes, before any is removed. A subscription the subscriber adds concurrently, after its
    /// prefixes were read, is a later call and stays.
    ///
    /// - Parameter subscriber: The subscriber.
    /// - Returns: The prefixes that were removed, in byte order.
    @discardableResult
    public func unsubscribeAll(_ subscriber: Subscriber) -> [Topic] {
        let (prefixes, hooks) = state.withLock { ($0.prefixes(of: subscriber), $0.unsubscribeHooks) }
        guard !prefixes.isEmpty else { return [] }
        for prefix in prefixes {
            for entry in hooks { entry.hook(prefix, subscriber) }
        }
        return state.withLock { state in prefixes.filter { state.unsubscribe($0, subscriber) } }
    }

    // MARK: - Matching

    /// The subscribers of a publication on `topic`: everyone holding a prefix of it.
    ///
    /// Each subscriber appears once, even when several of its prefixes match. The order is by the length
    /// of the matching prefix (shortest first), then by the order of subscribing.
    ///
    /// - Parameter topic: The published topic.
    /// - Returns: The subscribers, each once.
    @inlinable
    public func subscribers(matching topic: Topic) -> [Subscriber] {
        state.withLock { $0.subscribers(matching: topic, excluding: nil) }
    }

    /// The subscribers of a publication on `topic`, leaving out the publisher itself.
    ///
    /// Zeek does not deliver a node's publications back to that node; a backend passes the publisher here.
    ///
    /// - Parameters:
    ///   - topic: The published topic.
    ///   - excluded: The subscriber to leave out, usually the publisher.
    /// - Returns: The subscribers other than `excluded`, each once, ordered as ``subscribers(matching:)``.
    @inlinable
    public func subscribers(matching topic: Topic, excluding excluded: Subscriber) -> [Subscriber] {
        state.withLock { $0.subscribers(matching: topic, excluding: excluded) }
    }

    /// Whether any subscriber holds a prefix of `topic`.
    ///
    /// - Parameter topic: The published topic.
    /// - Returns: `true` when a publication on `topic` would reach someone.
    public func hasSubscribers(matching topic: Topic) -> Bool {
        topic.withUTF8 { bytes in
            state.withLock { state in
                var found = false
                state.trie.forEachMatch(bytes) { _ in found = true }
                return found
            }
        }
    }

    // MARK: - Listing

    /// Whether `subscriber` holds exactly the prefix `prefix`.
    ///
    /// - Parameters:
    ///   - prefix: The prefix.
    ///   - subscriber: The subscriber.
    /// - Returns: `true` when the subscription exists.
    public func isSubscribed(_ prefix: Topic, _ subscriber: Subscriber) -> Bool {
        state.withLock { $0.isSubscribed(prefix, subscriber) }
    }

    /// The prefixes `subscriber` holds, in byte order.
    ///
    /// - Parameter subscriber: The subscriber.
    /// - Returns: Its prefixes; empty when it holds none.
    public func subscriptions(of subscriber: Subscriber) -> [Topic] {
        state.withLock { $0.prefixes(of: subscriber) }
    }

    /// Every subscription, in byte order of the prefixes, then in the order of subscribing.
    public var subscriptions: [Subscription] {
        state.withLock { $0.allSubscriptions() }
    }

    /// The distinct subscribed prefixes, in byte order: what a backend must subscribe to upstream.
    public var prefixes: [Topic] {
        state.withLock { $0.distinctPrefixes() }
    }

    /// The number of subscriptions (prefix and subscriber pairs).
    public var subscriptionCount: Int {
        state.withLock { $0.subscriptionCount }
    }

    /// The number of distinct subscribers holding at least one subscription.
    public var subscriberCount: Int {
        state.withLock { $0.ids.count }
    }

    // MARK: - Hooks

    /// An opaque handle for removing a hook.
    public struct HookID: Sendable, Hashable {
        let value: UInt64
    }

    /// Adds a hook run before every subscribe call, like Zeek's `Cluster::on_subscribe`.
    ///
    /// - Parameter hook: Receives the prefix and subscriber of each ``subscribe(_:_:)`` call.
    /// - Returns: A handle for ``removeHook(_:)``.
    @discardableResult
    public func onSubscribe(_ hook: @escaping Hook) -> HookID {
        state.withLock { state in
            let id = state.makeHookID()
            state.subscribeHooks.append(HookEntry(id: id, hook: hook))
            return id
        }
    }

    /// Adds a hook run before every unsubscribe, like Zeek's `Cluster::on_unsubscribe`.
    ///
    /// - Parameter hook: Receives the prefix and subscriber of each ``unsubscribe(_:_:)`` call, and of each
    ///   prefix removed by ``unsubscribeAll(_:)``.
    /// - Returns: A handle for ``removeHook(_:)``.
    @discardableResult
    public func onUnsubscribe(_ hook: @escaping Hook) -> HookID {
        state.withLock { state in
            let id = state.makeHookID()
            state.unsubscribeHooks.append(HookEntry(id: id, hook: hook))
            return id
        }
    }

    /// Removes a subscribe or unsubscribe hook.
    ///
    /// - Parameter id: The handle returned when the hook was added.
    /// - Returns: `true` when the hook was found and removed.
    @discardableResult
    public func removeHook(_ id: HookID) -> Bool {
        state.withLock { state in
            let before = state.subscribeHooks.count + state.unsubscribeHooks.count
            state.subscribeHooks.removeAll { $0.id == id }
            state.unsubscribeHooks.removeAll { $0.id == id }
            return state.subscribeHooks.count + state.unsubscribeHooks.count < before
        }
    }

    /// Checks the internal structure; used by tests.
    func isConsistent() -> Bool {
        state.withLock { $0.trie.isConsistent() }
    }

    /// The number of radix tree nodes in use; used by tests.
    var nodeCount: Int {
        state.withLock { $0.trie.nodeCount }
    }

    // MARK: - State

    struct HookEntry: Sendable {
        let id: HookID
        let hook: Hook
    }

    @usableFromInline
    struct State: Sendable {
        @usableFromInline var trie = TopicTrie()
        /// Subscriber values by id; `nil` for free ids.
        @usableFromInline var values: [Subscriber?] = []
        /// The trie nodes each subscriber id is subscribed at.
        var nodesByID: [[Int32]] = []
        @usableFromInline var ids: [Subscriber: Int32] = [:]
        var freeIDs: [Int32] = []
        var subscriptionCount = 0
        var subscribeHooks: [HookEntry] = []
        var unsubscribeHooks: [HookEntry] = []
        var nextHookID: UInt64 = 0
        /// The most subscriber ids (they are 32-bit): 2^30.
        static var defaultMaximumSubscribers: Int { 1 << 30 }
        var maximumSubscribers = State.defaultMaximumSubscribers

        mutating func makeHookID() -> HookID {
            nextHookID += 1
            return HookID(value: nextHookID)
        }

        mutating func subscribe(_ prefix: Topic, _ subscriber: Subscriber) throws(TopicRouterError) -> Bool {
            guard values.count < maximumSubscribers || !freeIDs.isEmpty || ids[subscriber] != nil else {
                throw TopicRouterError(
                    .full,
                    "the topic router is full: it has \(values.count) subscribers, the most it takes"
                )
            }
            // One pass over the prefix's bytes: the capacity check is O(1) unless the router is nearly full.
            let inserted = prefix.withUTF8 { bytes -> Int32? in
                guard trie.canInsert(bytes) || trie.find(bytes) != nil else { return nil }
                return trie.insert(bytes)
            }
            guard let node = inserted else {
                let bytes = prefix.name.utf8.count
                throw TopicRouterError(
                    .full,
                    "the topic router is full: a new prefix of \(bytes) bytes would pass its limit of "
                        + "\(trie.limits.maximumLabelBytes) bytes of distinct prefixes or "
                        + "\(trie.limits.maximumNodes) tree nodes"
                )
            }
            let id = intern(subscriber)
            guard trie.addSubscriber(id, to: node) else { return false }
            nodesByID[Int(id)].append(node)
            subscriptionCount += 1
            relayoutIfNeeded()
            return true
        }

        mutating func unsubscribe(_ prefix: Topic, _ subscriber: Subscriber) -> Bool {
            guard let id = ids[subscriber], let node = prefix.withUTF8({ trie.find($0) }) else { return false }
            guard trie.removeSubscriber(id, from: node) else { return false }
            subscriptionCount -= 1
            nodesByID[Int(id)].removeAll { $0 == node }
            if nodesByID[Int(id)].isEmpty { release(subscriber, id) }
            relayoutIfNeeded()
            return true
        }

        /// Lets the trie lay itself out again, and follows the renumbered nodes.
        private mutating func relayoutIfNeeded() {
            guard let mapping = trie.relayoutIfNeeded() else { return }
            for id in nodesByID.indices where !nodesByID[id].isEmpty {
                for position in nodesByID[id].indices {
                    nodesByID[id][position] = mapping[Int(nodesByID[id][position])]
                }
            }
        }

        func isSubscribed(_ prefix: Topic, _ subscriber: Subscriber) -> Bool {
            guard let id = ids[subscriber], let node = prefix.withUTF8({ trie.find($0) }) else { return false }
            return nodesByID[Int(id)].contains(node)
        }

        private mutating func intern(_ subscriber: Subscriber) -> Int32 {
            if let id = ids[subscriber] { return id }
            let id: Int32
            if let free = freeIDs.popLast() {
                id = free
                values[Int(id)] = subscriber
            } else {
                id = Int32(values.count)
                values.append(subscriber)
                nodesByID.append([])
                trie.reserve(subscriberIDs: values.count)
            }
            ids[subscriber] = id
            return id
        }

        private mutating func release(_ subscriber: Subscriber, _ id: Int32) {
            ids[subscriber] = nil
            values[Int(id)] = nil
            nodesByID[Int(id)] = []
            freeIDs.append(id)
        }

        @inlinable
        mutating func subscribers(matching topic: Topic, excluding excluded: Subscriber?) -> [Subscriber] {
            let excludedID = excluded.flatMap { ids[$0] } ?? -1
            trie.collect(topic, excluding: excludedID)
            let count = trie.matchedCount
            var result: [Subscriber] = []
            result.reserveCapacity(count)
            for index in 0..<count {
                if let value = values[Int(trie.matched[index])] { result.append(value) }
            }
            return result
        }

        func prefixes(of subscriber: Subscriber) -> [Topic] {
            guard let id = ids[subscriber] else { return [] }
            return nodesByID[Int(id)].map(topic(of:)).sorted()
        }

        func topic(of node: Int32) -> Topic {
            Topic(String(decoding: trie.prefix(of: node), as: UTF8.self))
        }

        func allSubscriptions() -> [Subscription] {
            var result: [Subscription] = []
            result.reserveCapacity(subscriptionCount)
            trie.forEachSubscribedNode { node in
                let prefix = topic(of: node)
                trie.forEachSubscriber(of: node) { id in
                    if let value = values[Int(id)] { result.append(Subscription(prefix: prefix, subscriber: value)) }
                }
            }
            return result
        }

        func distinctPrefixes() -> [Topic] {
            var result: [Topic] = []
            trie.forEachSubscribedNode { result.append(topic(of: $0)) }
            return result
        }
    }
}

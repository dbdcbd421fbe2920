import Foundation
import Synchronization

/// A ``ClusterBackend`` whose endpoints live in one process and meet in a shared ``Hub``.
///
/// The hub routes each publication to every other endpoint whose subscription is a prefix of the topic,
/// never back to the publisher, as Broker does. Each endpoint's inbox is bounded (``Hub/inboxLimit``): when
/// a consumer falls behind, new events for it are dropped, counted, and reported in
/// ``Hub/slowConsumers``, so memory never grows without limit.
public final class InMemoryBackend: ClusterBackend {
    /// The in-process meeting point of ``InMemoryBackend`` endpoints.
    public final class Hub: Sendable {
        /// A participant that lost events because its inbox was full.
        public struct SlowConsumer: Sendable, Hashable {
            /// The endpoint's name.
            public var name: String
            /// Its node id.
            public var nodeID: String
            /// How many events it lost so far.
            public var droppedEvents: Int
        }

        struct Participant {
            var name: String
            var nodeID: String
            var source: BackendEvents.Source
            var droppedEvents = 0
            /// Prefixes subscribed for some event names only.
            var eventFilters: [Topic: Set<String>] = [:]
        }

        /// The most events an endpoint's inbox holds before new ones are dropped.
        public let inboxLimit: Int
        let router = TopicRouter<UInt64>()
        /// Subscriptions for named events only, keyed `<event name> NUL <prefix>`, so that matching
        /// `<event name> NUL <topic>` keeps prefix semantics and costs one trie walk.
        let filteredRouter = TopicRouter<UInt64>()
        private let participants = Mutex<[UInt64: Participant]>([:])
        private let nextID = Atomic<UInt64>(1)

        /// Creates a hub.
        ///
        /// - Parameter inboxLimit: The most events each endpoint's inbox holds; default 16,384.
        public init(inboxLimit: Int = 16_384) {
            precondition(inboxLimit > 0, "inboxLimit must be positive")
            self.inboxLimit = inboxLimit
        }

        /// Creates an endpoint on this hub.
        ///
        /// - Parameters:
        ///   - name: A name for reports, such as the node name.
        ///   - nodeID: The endpoint's node id; default a fresh UUID, as Broker's.
        /// - Returns: The endpoint (not yet connected).
        public func makeBackend(name: String = "", nodeID: String? = nil) -> InMemoryBackend {
            InMemoryBackend(hub: self, name: name, nodeID: nodeID ?? UUID().uuidString.lowercased())
        }

        /// The endpoints that lost events because they did not keep up, with their counts.
        public var slowConsumers: [SlowConsumer] {
            participants.withLock { participants in
                participants.values.filter { $0.droppedEvents > 0 }
                    .map { SlowConsumer(name: $0.name, nodeID: $0.nodeID, droppedEvents: $0.droppedEvents) }
                    .sorted { $0.name < $1.name }
            }
        }

        /// The number of connected endpoints.
        public var endpointCount: Int { participants.withLock { $0.count } }

        /// A Boolean value indicating whether a publication on `topic` would reach any endpoint.
        ///
        /// - Parameters:
        ///   - topic: The topic.
        ///   - eventName: The event, to count subscriptions made for named events too.
        /// - Returns: Whether someone subscribes to a prefix of it.
        public func hasSubscribers(_ topic: Topic, eventName: String? = nil) -> Bool {
            if router.hasSubscribers(matching: topic) { return true }
            guard let eventName else { return false }
            return filteredRouter.hasSubscribers(matching: Self.filterKey(eventName, topic))
        }

        func register(_ participant: Participant) -> UInt64 {
            let id = nextID.add(1, ordering: .relaxed).oldValue
            participants.withLock { $0[id] = participant }
            return id
        }

        func remove(_ id: UInt64) {
            router.unsubscribeAll(id)
            filteredRouter.unsubscribeAll(id)
            let participant = participants.withLock { $0.removeValue(forKey: id) }
            participant?.source.finish()
        }

        static func filterKey(_ eventName: String, _ topic: Topic) -> Topic {
            Topic(eventName + "\u{0}" + topic.name)
        }

        func subscribe(_ prefix: Topic, eventNames: Set<String>?, for id: UInt64) {
            unsubscribe(prefix, for: id)
            if let eventNames {
                participants.withLock { $0[id]?.eventFilters[prefix] = eventNames }
                for name in eventNames { filteredRouter.subscribe(Self.filterKey(name, prefix), id) }
            } else {
                router.subscribe(prefix, id)
            }
        }

        func unsubscribe(_ prefix: Topic, for id: UInt64) {
            router.unsubscribe(prefix, id)
            let names = participants.withLock { $0[id]?.eventFilters.removeValue(forKey: prefix) } ?? nil
            for name in names ?? [] { filteredRouter.unsubscribe(Self.filterKey(name, prefix), id) }
        }

        func deliver(_ event: TopicEvent, from publisher: UInt64) {
            var receivers = router.subscribers(matching: event.topic, excluding: publisher)
            let filtered = filteredRouter.subscribers(
                matching: Self.filterKey(event.event.name, event.topic),
                excluding: publisher
            )
            if !filtered.isEmpty {
                let already = Set(receivers)
                receivers += filtered.filter { !already.contains($0) }
            }
            guard !receivers.isEmpty else { return }
            participants.withLock { participants in
                for receiver in receivers {
                    guard let participant = participants[receiver] else { continue }
                    if participant.source.yield(event) == .dropped {
                        participants[receiver]?.droppedEvents += 1
                    }
                }
            }
        }
    }

    private struct State {
        var id: UInt64?
        var isConnected = false
        var isClosed = false
    }

    /// The endpoint's node id.
    public let nodeID: String
    /// The endpoint's name in reports.
    public let name: String
    /// The events published on topics this endpoint subscribes to.
    public let events: BackendEvents
    private let hub: Hub
    private let state = Mutex(State())

    init(hub: Hub, name: String, nodeID: String) {
        self.hub = hub
        self.name = name
        self.nodeID = nodeID
        let (events, source) = BackendEvents.makeStream(limit: hub.inboxLimit)
        self.events = events
        let id = hub.register(Hub.Participant(name: name, nodeID: nodeID, source: source))
        state.withLock { $0.id = id }
    }

    private var endpoint: String { "in-memory endpoint '\(name.isEmpty ? nodeID : name)'" }

    private func participantID(requireConnected: Bool) throws(BackendError) -> UInt64 {
        let (id, connected, closed) = state.withLock { ($0.id, $0.isConnected, $0.isClosed) }
        guard !closed, let id else { throw BackendError(.closed, "endpoint is closed", endpoint: endpoint) }
        guard connected || !requireConnected else {
            throw BackendError(.notConnected, "endpoint is not connected", endpoint: endpoint)
        }
        return id
    }

    /// Connects to the hub (always succeeds unless closed).
    ///
    /// - Throws: ``BackendError`` with code `closed` after ``close()``.
    public func connect() async throws {
        _ = try participantID(requireConnected: false)
        state.withLock { $0.isConnected = true }
    }

    /// Subscribes to a prefix; allowed before ``connect()`` too, as with Broker.
    ///
    /// - Parameter prefix: The topic prefix.
    /// - Throws: ``BackendError`` with code `closed` after ``close()``.
    public func subscribe(_ prefix: Topic) async throws {
        hub.subscribe(prefix, eventNames: nil, for: try participantID(requireConnected: false))
    }

    /// Subscribes to a prefix for the named events only: the hub does not even queue other events on it.
    ///
    /// - Parameters:
    ///   - prefix: The topic prefix.
    ///   - eventNames: The events wanted on it.
    /// - Throws: ``BackendError`` with code `closed` after ``close()``.
    public func subscribe(_ prefix: Topic, eventNames: Set<String>) async throws {
        hub.subscribe(prefix, eventNames: eventNames, for: try participantID(requireConnected: false))
    }

    /// Removes a subscription.
    ///
    /// - Parameter prefix: The prefix.
    /// - Throws: ``BackendError`` with code `closed` after ``close()``.
    public func unsubscribe(_ prefix: Topic) async throws {
        hub.unsubscribe(prefix, for: try participantID(requireConnected: false))
    }

    /// Publishes to every other endpoint with a matching subscription.
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - topic: The topic.
    /// - Throws: ``BackendError`` when not connected or closed.
    public func publish(_ event: Broker.Event, to topic: Topic) async throws {
        hub.deliver(TopicEvent(topic: topic, event: event), from: try participantID(requireConnected: true))
    }

    /// Leaves the hub: subscriptions go, ``events`` finishes.
    public func close() async {
        let id = state.withLock { state -> UInt64? in
            defer {
                state.isClosed = true
                state.id = nil
            }
            return state.id
        }
        if let id { hub.remove(id) }
    }

    deinit {
        if let id = state.withLock({ $0.id }) { hub.remove(id) }
    }
}

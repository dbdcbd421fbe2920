import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
import Foundation
import Synchronization

/// A ``ClusterBackend`` whose endpoints live in one process and meet in a shared ``Hub``.
///
/// The hub routes each publication to every other endpoint whose subscription is a prefix of the topic,
/// never back to the publisher, as Broker does. Endpoints made with ``Hub/makeBackend(name:nodeID:)`` are
/// in-process participants (a ``Controller``, ``Agent``s, ``NodeRuntime``s, a ``Dispatcher``) and their inboxes
/// are *reliable*: nothing published to them is ever dropped. See ``Hub`` for the limits and who waits.
public final class InMemoryBackend: ClusterBackend {
    /// The in-process meeting point of ``InMemoryBackend`` endpoints.
    ///
    /// Every endpoint has an inbox bounded in events (``Options/inboxLimit``) and in estimated bytes
    /// (``Options/inboxByteLimit``). What happens at the bound depends on the endpoint:
    ///
    /// - An in-process endpoint's inbox is **reliable**: nothing is dropped. A publication from an in-process
    ///   endpoint never waits: into a full reliable inbox it is queued past the limit (an *overrun*, counted in
    ///   ``Diagnostics/overruns``). A publication from a WebSocket client (through ``WebSocketAPIServer``) *waits
    ///   for room* while one of its reliable receivers is full, while the reliable inboxes together are
    ///   overrun by ``Options/overrunLimit`` events or ``Options/overrunByteLimit`` bytes, or while its own events
    ///   waiting in reliable inboxes number its server's ``WebSocketAPIServer/Options/maxEventQueueSize`` (Zeek's
    ///   `max_event_queue_size`): that client's frames are not read meanwhile, and TCP slows it down.
    /// - The inbox of an endpoint that serves a WebSocket client **closes when full**: the publication that does
    ///   not fit ends the endpoint's events with a ``BackendError`` (`queueFull`), and the server closes the
    ///   client with 1008 `event queue full`, rather than dropping events silently. Publishers never wait for it.
    ///
    /// The rule that no in-process publisher ever waits is what keeps the controller, its agents and their nodes
    /// free of deadlocks: they publish to one another while each handles its own inbox, so if any of them could
    /// wait for another's room, two of them could wait for each other for ever. Only a WebSocket client's task
    /// waits, and nothing waits for it. Memory stays bounded because everything in-process endpoints publish is
    /// caused by something a client sent (admitted only while there is room, and not at all while the in-process
    /// side is overrun past its budget) or by the cluster's own bounded activity (deployments, hellos, timers). An
    /// in-process participant must therefore keep reading its events: every ClusterKit participant does.
    ///
    /// A publication is sized once: a client event by its frame's length, an in-process one by
    /// ``TopicEvent``'s estimate (string bytes plus 16 bytes per value, looking at no more than 256 values).
    public final class Hub: Sendable {
        /// The limits of a hub's inboxes.
        public struct Options: Sendable, Hashable {
            /// The most events an inbox holds before it is full (default 16,384).
            public var inboxLimit: Int
            /// The most estimated bytes an inbox holds before it is full (default 4 MiB); one event always fits
            /// into an inbox that is not full, whatever its size.
            public var inboxByteLimit: Int
            /// The most events the reliable inboxes may hold past their limits together before WebSocket clients'
            /// publications into reliable inboxes wait (default 65,536).
            public var overrunLimit: Int
            /// The most estimated bytes the reliable inboxes may hold past their limits together before WebSocket
            /// clients' publications into reliable inboxes wait (default 16 MiB).
            public var overrunByteLimit: Int

            /// Creates options; every argument has the documented default, and values below 1 count as 1.
            ///
            /// - Parameters:
            ///   - inboxLimit: Events per inbox.
            ///   - inboxByteLimit: Bytes per inbox.
            ///   - overrunLimit: Events past the limits of all reliable inboxes.
            ///   - overrunByteLimit: Bytes past the limits of all reliable inboxes.
            public init(
                inboxLimit: Int = 16_384,
                inboxByteLimit: Int = 4 << 20,
                overrunLimit: Int = 65_536,
                overrunByteLimit: Int = 16 << 20
            ) {
                self.inboxLimit = max(1, inboxLimit)
                self.inboxByteLimit = max(1, inboxByteLimit)
                self.overrunLimit = max(1, overrunLimit)
                self.overrunByteLimit = max(1, overrunByteLimit)
            }

            /// The defaults: 16,384 events and 4 MiB per inbox; clients wait while the reliable inboxes are overrun
            /// by 65,536 events or 16 MiB together.
            public static let standard = Options()
        }

        /// An endpoint that was closed because its inbox was full.
        public struct SlowConsumer: Sendable, Hashable {
            /// The endpoint's name.
            public var name: String
            /// Its node id.
            public var nodeID: String
            /// How many events it lost: the one that did not fit and those still waiting in its inbox.
            public var droppedEvents: Int
        }

        /// Counters of a hub, for diagnostics.
        public struct Diagnostics: Sendable, Hashable {
            /// The endpoints on the hub.
            public var endpoints = 0
            /// The events waiting in reliable inboxes.
            public var backlogEvents = 0
            /// Their estimated bytes.
            public var backlogBytes = 0
            /// The events waiting in reliable inboxes past their limits (not yet paid back).
            public var overrunEvents = 0
            /// Their estimated bytes.
            public var overrunBytes = 0
            /// In-process publications queued in a reliable inbox that was full, so far.
            public var overruns = 0
            /// WebSocket clients' publications that had to wait for room.
            public var waits = 0
            /// The publications waiting for room now.
            public var waitingPublishers = 0
            /// Endpoints of WebSocket clients closed because their inbox was full.
            public var closedForFullInbox = 0
        }

        /// Who an endpoint serves, which decides what its inbox does when full and whether its publications wait.
        enum Kind: Sendable {
            /// An in-process participant: a reliable inbox; its publications never wait.
            case inProcess
            /// A WebSocket client: its inbox closes when full; its publications wait for room in reliable inboxes.
            case webSocketClient
        }

        /// What a publication attempt did.
        enum Attempt: Sendable, Equatable {
            case delivered
            /// Nothing was delivered: there is no room, for the reason given.
            case blocked(Blocker)
            /// The publisher left the hub.
            case publisherGone
        }

        /// Why a WebSocket client's publication has to wait.
        enum Blocker: Sendable, Hashable, CustomStringConvertible {
            /// A reliable receiver's inbox is full; its label.
            case inbox(String)
            /// The reliable inboxes together are overrun past ``Options/overrunLimit`` or ``Options/overrunByteLimit``.
            case overrun
            /// The client's own events waiting in in-process inboxes reached its ``ClientEventQueue`` limit (Zeek's
            /// `max_event_queue_size`).
            case eventQueue(limit: Int)

            var description: String {
                switch self {
                case .inbox(let label): "the inbox of '\(label)'"
                case .overrun: "the hub's in-process inboxes"
                case .eventQueue(let limit): "the client's event queue (max_event_queue_size \(limit))"
                }
            }
        }

        /// An endpoint on the hub.
        ///
        /// A class, so that delivering an event copies one reference per receiver; its mutable fields are only
        /// touched while the hub's participant table is locked.
        final class Participant {
            let name: String
            let nodeID: String
            let channel: BackendEvents.Channel
            let kind: Kind
            /// Whether its node id topic makes it a cluster member (see ``Hub``'s membership notices).
            let isMember: Bool
            /// The address a WebSocket client connects from; `nil` in process.
            var remoteAddress: Broker.Address?
            let onOverflow: (@Sendable () -> Void)?
            /// A WebSocket client's count of events waiting in in-process inboxes, when it has a limit.
            let eventQueue: ClientEventQueue?
            /// Events lost when the inbox overflowed; 0 while it has not.
            var lostEvents = 0
            /// Prefixes subscribed for some event names only.
            var eventFilters: [Topic: Set<String>] = [:]

            init(
                name: String,
                nodeID: String,
                channel: BackendEvents.Channel,
                kind: Kind,
                isMember: Bool,
                onOverflow: (@Sendable () -> Void)?,
                eventQueue: ClientEventQueue?
            ) {
                self.name = name
                self.nodeID = nodeID
                self.channel = channel
                self.kind = kind
                self.isMember = isMember
                self.onOverflow = onOverflow
                self.eventQueue = eventQueue
            }

            var label: String { name.isEmpty ? nodeID : name }
        }

        /// The limits.
        public let options: Options
        /// The most events an endpoint's inbox holds before it is full (``Options/inboxLimit``).
        public var inboxLimit: Int { options.inboxLimit }
        let router = TopicRouter<UInt64>()
        /// Subscriptions for named events only, keyed `<event name> NUL <prefix>`, so that matching
        /// `<event name> NUL <topic>` keeps prefix semantics and costs one trie walk.
        let filteredRouter = TopicRouter<UInt64>()
        let backlog = HubBacklog()
        /// Who holds which node id topic, for the membership notices.
        let membership = Guarded(MembershipTable())
        /// Who watches for WebSocket clients' subscriptions (``peerSubscriptions(to:)``).
        let peerWatches = Guarded(PeerWatches())
        let participants = Guarded<[UInt64: Participant]>([:])
        private let nextID = Atomic<UInt64>(1)
        private let overruns = Atomic<Int>(0)
        private let waits = Atomic<Int>(0)
        private let closedForFullInbox = Atomic<Int>(0)

        /// Creates a hub.
        ///
        /// - Parameter options: The inbox and backlog limits; default ``Options/standard``.
        public init(options: Options = .standard) {
            self.options = options
        }

        /// Creates a hub with the default limits but the given number of events per inbox.
        ///
        /// - Parameter inboxLimit: The most events each endpoint's inbox holds before it is full.
        public convenience init(inboxLimit: Int) {
            self.init(options: Options(inboxLimit: inboxLimit))
        }

        /// Creates an in-process endpoint on this hub, with a reliable inbox.
        ///
        /// - Parameters:
        ///   - name: A name for reports, such as the node name.
        ///   - nodeID: The endpoint's node id; default a fresh UUID, as Broker's.
        /// - Returns: The endpoint (not yet connected).
        public func makeBackend(name: String = "", nodeID: String? = nil) -> InMemoryBackend {
            InMemoryBackend(
                hub: self,
                name: name,
                nodeID: nodeID ?? UUID().uuidString.lowercased(),
                kind: .inProcess,
                isMember: true
            )
        }

        /// Creates the endpoint of a WebSocket client: its inbox closes when full, and its publications wait for
        /// room in reliable inboxes.
        ///
        /// - Parameters:
        ///   - name: The name for reports.
        ///   - nodeID: The node id.
        ///   - isMember: Whether a node id topic it subscribes to makes it a cluster member (a node's connection).
        ///   - eventQueueLimit: The most of its events that may wait in in-process inboxes before its next one for
        ///     them waits (``ClientEventQueue``, Zeek's `max_event_queue_size`); 0 (the default) for no limit.
        ///   - onOverflow: Called once, from the publishing task, when the inbox overflowed; it must not block.
        /// - Returns: The endpoint (not yet connected).
        func makeClientEndpoint(
            name: String,
            nodeID: String,
            isMember: Bool,
            eventQueueLimit: Int = 0,
            onOverflow: @escaping @Sendable () -> Void
        ) -> InMemoryBackend {
            InMemoryBackend(
                hub: self,
                name: name,
                nodeID: nodeID,
                kind: .webSocketClient,
                isMember: isMember,
                eventQueue: eventQueueLimit > 0 ? ClientEventQueue(limit: eventQueueLimit, backlog: backlog) : nil,
                onOverflow: onOverflow
            )
        }

        /// The endpoints still on the hub that were closed because their inbox was full, with the events they
        /// lost.
        public var slowConsumers: [SlowConsumer] {
            participants.withLock { participants in
                participants.values.filter { $0.lostEvents > 0 }
                    .map { SlowConsumer(name: $0.name, nodeID: $0.nodeID, droppedEvents: $0.lostEvents) }
                    .sorted { $0.name < $1.name }
            }
        }

        /// The number of connected endpoints.
        public var endpointCount: Int { participants.withLock { $0.count } }

        /// The hub's counters.
        public var diagnostics: Diagnostics {
            var diagnostics = Diagnostics()
            let channels = participants.withLock { participants in
                diagnostics.endpoints = participants.count
                return participants.values.filter { $0.kind == .inProcess }.map(\.channel)
            }
            for channel in channels {
                let buffered = channel.buffered
                diagnostics.backlogEvents += buffered.events
                diagnostics.backlogBytes += buffered.bytes
            }
            diagnostics.overrunEvents = backlog.overrunEvents.load(ordering: .relaxed)
            diagnostics.overrunBytes = backlog.overrunBytes.load(ordering: .relaxed)
            diagnostics.overruns = overruns.load(ordering: .relaxed)
            diagnostics.waits = waits.load(ordering: .relaxed)
            diagnostics.waitingPublishers = backlog.waiting.load(ordering: .relaxed)
            diagnostics.closedForFullInbox = closedForFullInbox.load(ordering: .relaxed)
            return diagnostics
        }

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

        /// The address endpoint `id` connects from (a WebSocket client's), or `nil`.
        func remoteAddress(of id: UInt64) -> Broker.Address? {
            participants.withLock { $0[id]?.remoteAddress }
        }

        /// Records the address a WebSocket client's endpoint connects from.
        func setRemoteAddress(_ address: Broker.Address?, of id: UInt64) {
            participants.withLock { $0[id]?.remoteAddress = address }
        }

        /// A Boolean value indicating whether an endpoint may be a cluster member.
        func isMember(_ id: UInt64) -> Bool {
            participants.withLock { $0[id]?.isMember ?? false }
        }

        func register(
            name: String,
            nodeID: String,
            channel: BackendEvents.Channel,
            kind: Kind,
            isMember: Bool,
            eventQueue: ClientEventQueue?,
            onOverflow: (@Sendable () -> Void)?
        ) -> UInt64 {
            let id = nextID.add(1, ordering: .relaxed).oldValue
            participants.withLock {
                $0[id] = Participant(
                    name: name,
                    nodeID: nodeID,
                    channel: channel,
                    kind: kind,
                    isMember: isMember,
                    onOverflow: onOverflow,
                    eventQueue: eventQueue
                )
            }
            return id
        }

        /// A Boolean value indicating whether the endpoint's inbox overflowed.
        func hasOverflowed(_ id: UInt64) -> Bool {
            participants.withLock { ($0[id]?.lostEvents ?? 0) > 0 }
        }

        func remove(_ id: UInt64) {
            router.unsubscribeAll(id)
            filteredRouter.unsubscribeAll(id)
            leaveMembership(id, topic: nil)
            let channel = participants.withLock { $0.removeValue(forKey: id)?.channel }
            guard let channel else { return }
            channel.finish(nil)
            // Takes its overrun back, and wakes the publishers that waited for its room: they no longer have to.
            channel.stopAccounting()
            backlog.madeRoom()
        }

        static func filterKey(_ eventName: String, _ topic: Topic) -> Topic {
            Topic(eventName + "\u{0}" + topic.name)
        }

        func subscribe(_ prefix: Topic, eventNames: Set<String>?, for id: UInt64) {
            removeRoutes(prefix, for: id)
            if let eventNames {
                participants.withLock { $0[id]?.eventFilters[prefix] = eventNames }
                for name in eventNames { filteredRouter.subscribe(Self.filterKey(name, prefix), id) }
            } else {
                router.subscribe(prefix, id)
            }
            joinMembership(id, topic: prefix)
            notePeerSubscription(prefix, by: id)
        }

        func unsubscribe(_ prefix: Topic, for id: UInt64) {
            removeRoutes(prefix, for: id)
            leaveMembership(id, topic: prefix)
        }

        private func removeRoutes(_ prefix: Topic, for id: UInt64) {
            router.unsubscribe(prefix, id)
            let names = participants.withLock { $0[id]?.eventFilters.removeValue(forKey: prefix) } ?? nil
            for name in names ?? [] { filteredRouter.unsubscribe(Self.filterKey(name, prefix), id) }
        }

        /// Delivers a publication to every matching endpoint, unless `waitsForRoom` and a reliable receiver (or
        /// the reliable backlog) has no room: then nothing is delivered.
        ///
        /// The delivered copy names its publisher (``TopicEvent/origin``); one with a ``TopicEvent/recipient`` reaches
        /// that endpoint only, and only while it subscribes.
        ///
        /// - Parameters:
        ///   - published: The publication.
        ///   - knownSize: Its size in bytes when known (a client frame's length), else it is estimated.
        ///   - publisher: The publishing endpoint, which never receives its own publication.
        ///   - waitsForRoom: Whether the publisher waits (a WebSocket client) rather than overruns (in process).
        ///   - checksPublisher: Whether to find out first that the publisher is still on the hub (a retry after a
        ///     wait); a first attempt comes right after the endpoint's own check.
        /// - Returns: Whether it was delivered, or what is full.
        func deliver(
            _ published: TopicEvent,
            size knownSize: Int?,
            from publisher: UInt64,
            waitsForRoom: Bool,
            checksPublisher: Bool = false
        ) -> Attempt {
            var event = published
            event.origin = publisher
            var receivers = router.subscribers(matching: event.topic, excluding: publisher)
            let filtered = filteredRouter.subscribers(
                matching: Self.filterKey(event.event.name, event.topic),
                excluding: publisher
            )
            if !filtered.isEmpty {
                let already = Set(receivers)
                receivers += filtered.filter { !already.contains($0) }
            }
            // An answer meant for one endpoint reaches it only if it still subscribes; nobody else sees it.
            if let recipient = event.recipient { receivers = receivers.contains(recipient) ? [recipient] : [] }
            guard !receivers.isEmpty else { return .delivered }
            let size = knownSize ?? event.estimatedSize
            var overflowed: [@Sendable () -> Void] = []
            let attempt = participants.withLock { participants -> Attempt in
                if checksPublisher, participants.index(forKey: publisher) == nil { return .publisherGone }
                var eventQueue: ClientEventQueue?
                if waitsForRoom {
                    let reachesInProcess = receivers.contains { participants[$0]?.kind == .inProcess }
                    if isOverrun, reachesInProcess { return .blocked(.overrun) }
                    eventQueue = participants[publisher]?.eventQueue
                    if let eventQueue, reachesInProcess, eventQueue.mustWait {
                        return .blocked(.eventQueue(limit: eventQueue.limit))
                    }
                    // With one receiver its push below finds out; with more, none may be full before any is pushed.
                    if receivers.count > 1, let reason = blocker(among: receivers, in: participants) {
                        return .blocked(reason)
                    }
                }
                for receiver in receivers {
                    guard let participant = participants[receiver] else { continue }
                    if participant.kind == .inProcess {
                        switch participant.channel.push(event, size: size, force: !waitsForRoom, queue: eventQueue) {
                        case .overran: overruns.add(1, ordering: .relaxed)
                        case .full: return .blocked(.inbox(participant.label))
                        case .enqueued, .terminated: break
                        }
                        continue
                    }
                    guard participant.lostEvents == 0,
                        participant.channel.push(event, size: size, force: false) == .full
                    else {
                        continue
                    }
                    let error = BackendError(
                        .queueFull,
                        "inbox full: \(options.inboxLimit) events or \(options.inboxByteLimit) bytes waiting",
                        endpoint: "in-memory endpoint '\(participant.label)'"
                    )
                    participant.lostEvents = participant.channel.abandon(throwing: error) + 1
                    closedForFullInbox.add(1, ordering: .relaxed)
                    if let onOverflow = participant.onOverflow { overflowed.append(onOverflow) }
                }
                return .delivered
            }
            for handler in overflowed { handler() }
            return attempt
        }

        /// What keeps a waiting publisher from delivering to `receivers` now (`the inbox of 'controller'`), or `nil`
        /// when every reliable one has room.
        private func blocker(among receivers: [UInt64], in participants: [UInt64: Participant]) -> Blocker? {
            for receiver in receivers {
                guard let participant = participants[receiver], participant.kind == .inProcess else { continue }
                if participant.channel.isFull { return .inbox(participant.label) }
            }
            return nil
        }

        /// A Boolean value indicating whether the in-process inboxes together are overrun past the options' budget.
        private var isOverrun: Bool {
            backlog.overrunEvents.load(ordering: .sequentiallyConsistent) >= options.overrunLimit
                || backlog.overrunBytes.load(ordering: .sequentiallyConsistent) >= options.overrunByteLimit
        }

        /// Delivers a publication from a waiting publisher, waiting as long as it takes for room.
        ///
        /// - Throws: `CancellationError` when cancelled, ``BackendError`` (`closed`) when the publisher left.
        func deliverWaiting(
            _ event: TopicEvent,
            size: Int?,
            from publisher: UInt64,
            endpoint: String
        ) async throws {
            backlog.waiting.add(1, ordering: .sequentiallyConsistent)
            defer { backlog.waiting.subtract(1, ordering: .sequentiallyConsistent) }
            waits.add(1, ordering: .relaxed)
            while true {
                let epoch = backlog.epoch
                switch deliver(event, size: size, from: publisher, waitsForRoom: true, checksPublisher: true) {
                case .delivered: return
                case .publisherGone: throw BackendError(.closed, "endpoint is closed", endpoint: endpoint)
                case .blocked: try await backlog.wait(since: epoch)
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
    private let kind: Hub.Kind
    /// A WebSocket client's count of its events in in-process inboxes, when limited.
    let eventQueue: ClientEventQueue?
    private let state = Guarded(State())

    init(
        hub: Hub,
        name: String,
        nodeID: String,
        kind: Hub.Kind,
        isMember: Bool,
        eventQueue: ClientEventQueue? = nil,
        onOverflow: (@Sendable () -> Void)? = nil
    ) {
        self.hub = hub
        self.name = name
        self.nodeID = nodeID
        self.kind = kind
        self.eventQueue = eventQueue
        let channel = BackendEvents.Channel(
            limit: hub.options.inboxLimit,
            byteLimit: hub.options.inboxByteLimit,
            backlog: kind == .inProcess ? hub.backlog : nil
        )
        self.events = BackendEvents(channel: channel)
        let id = hub.register(
            name: name,
            nodeID: nodeID,
            channel: channel,
            kind: kind,
            isMember: isMember,
            eventQueue: eventQueue,
            onOverflow: onOverflow
        )
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
    /// An in-process endpoint's publication never waits and is never dropped (see ``Hub``).
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - topic: The topic.
    /// - Throws: ``BackendError`` when not connected or closed.
    public func publish(_ event: Broker.Event, to topic: Topic) async throws {
        try await publish(event, to: topic, onlyTo: nil)
    }

    /// Publishes to one endpoint of the hub, if it subscribes to the topic, or to every subscriber when
    /// `recipient` is `nil`: how a controller answers only the client that asked.
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - topic: The topic.
    ///   - recipient: The endpoint, as ``TopicEvent/origin`` named it on the request.
    /// - Throws: ``BackendError`` when not connected or closed.
    package func publish(_ event: Broker.Event, to topic: Topic, onlyTo recipient: UInt64?) async throws {
        var published = TopicEvent(topic: topic, event: event)
        published.recipient = recipient
        if try tryPublish(published, size: nil) == nil { return }
        try await publishWhenRoom(published, size: nil)
    }

    /// Records the address this endpoint's WebSocket client connects from.
    func setRemoteAddress(_ address: Broker.Address?) {
        guard let id = state.withLock({ $0.id }) else { return }
        hub.setRemoteAddress(address, of: id)
    }

    /// A Boolean value indicating whether the endpoint's inbox overflowed (a WebSocket client's endpoint).
    var hasOverflowed: Bool {
        guard let id = state.withLock({ $0.id }) else { return false }
        return hub.hasOverflowed(id)
    }

    /// Publishes unless a WebSocket client's endpoint would have to wait for room.
    ///
    /// - Parameters:
    ///   - event: The publication.
    ///   - size: Its size in bytes when known (the frame's length), else estimated.
    /// - Returns: `nil` when delivered, else what is full (`the inbox of 'controller'`).
    /// - Throws: ``BackendError`` when not connected or closed.
    func tryPublish(_ event: TopicEvent, size: Int?) throws -> Hub.Blocker? {
        let id = try participantID(requireConnected: true)
        switch hub.deliver(event, size: size, from: id, waitsForRoom: kind == .webSocketClient) {
        case .delivered: return nil
        case .blocked(let reason): return reason
        case .publisherGone: throw BackendError(.closed, "endpoint is closed", endpoint: endpoint)
        }
    }

    /// Publishes, waiting for room as long as it takes (a WebSocket client's endpoint, after ``tryPublish(_:size:)``
    /// found none).
    ///
    /// - Parameters:
    ///   - event: The publication.
    ///   - size: Its size in bytes when known.
    /// - Throws: ``BackendError`` when not connected or closed; `CancellationError`.
    func publishWhenRoom(_ event: TopicEvent, size: Int?) async throws {
        let id = try participantID(requireConnected: true)
        try await hub.deliverWaiting(event, size: size, from: id, endpoint: endpoint)
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

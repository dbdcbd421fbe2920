public import ClusterKitModel

/// A ``ClusterBackend`` that runs Zeek's `Cluster::on_subscribe` and `Cluster::on_unsubscribe` hooks around another.
///
/// As Zeek's `Cluster::Backend::Subscribe` does, every ``subscribe(_:)`` (with or without event names) first calls
/// `onSubscribe` with the prefix and then subscribes; every ``unsubscribe(_:)`` first calls `onUnsubscribe`. The
/// hooks run whether or not the backend's call then succeeds, and they cannot stop it (breaking from Zeek's hook has
/// no effect either). Everything else goes straight to the wrapped backend. Make one with
/// ``ClusterBackend/withSubscriptionHooks(onSubscribe:onUnsubscribe:)``.
///
/// The other direction, another node's subscriptions, is what a hub's
/// ``InMemoryBackend/Hub/MembershipNotice``s report.
public final class HookedBackend: ClusterBackend {
    /// The backend that does the work.
    public let base: any ClusterBackend
    private let onSubscribe: @Sendable (Topic) -> Void
    private let onUnsubscribe: @Sendable (Topic) -> Void

    /// Wraps a backend.
    ///
    /// - Parameters:
    ///   - base: The backend.
    ///   - onSubscribe: `Cluster::on_subscribe`: gets each prefix before it is subscribed.
    ///   - onUnsubscribe: `Cluster::on_unsubscribe`: gets each prefix before it is unsubscribed.
    public init(
        _ base: any ClusterBackend,
        onSubscribe: @escaping @Sendable (Topic) -> Void,
        onUnsubscribe: @escaping @Sendable (Topic) -> Void
    ) {
        self.base = base
        self.onSubscribe = onSubscribe
        self.onUnsubscribe = onUnsubscribe
    }

    /// The wrapped backend's node id.
    public var nodeID: String { base.nodeID }

    /// The wrapped backend's events.
    public var events: BackendEvents { base.events }

    /// Connects the wrapped backend.
    ///
    /// - Throws: ``BackendError`` from it.
    public func connect() async throws { try await base.connect() }

    /// Runs `on_subscribe`, then subscribes.
    ///
    /// - Parameter prefix: The topic prefix.
    /// - Throws: ``BackendError`` from the wrapped backend.
    public func subscribe(_ prefix: Topic) async throws {
        onSubscribe(prefix)
        try await base.subscribe(prefix)
    }

    /// Runs `on_subscribe`, then subscribes for the named events.
    ///
    /// - Parameters:
    ///   - prefix: The topic prefix.
    ///   - eventNames: The events wanted on it.
    /// - Throws: ``BackendError`` from the wrapped backend.
    public func subscribe(_ prefix: Topic, eventNames: Set<String>) async throws {
        onSubscribe(prefix)
        try await base.subscribe(prefix, eventNames: eventNames)
    }

    /// Runs `on_unsubscribe`, then unsubscribes.
    ///
    /// - Parameter prefix: The prefix.
    /// - Throws: ``BackendError`` from the wrapped backend.
    public func unsubscribe(_ prefix: Topic) async throws {
        onUnsubscribe(prefix)
        try await base.unsubscribe(prefix)
    }

    /// Publishes through the wrapped backend.
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - topic: The topic.
    /// - Throws: ``BackendError`` from it.
    public func publish(_ event: Broker.Event, to topic: Topic) async throws {
        try await base.publish(event, to: topic)
    }

    /// Closes the wrapped backend.
    public func close() async { await base.close() }
}

extension ClusterBackend {
    /// This backend with Zeek's `Cluster::on_subscribe` and `Cluster::on_unsubscribe` hooks (``HookedBackend``).
    ///
    /// - Parameters:
    ///   - onSubscribe: Gets each prefix before it is subscribed.
    ///   - onUnsubscribe: Gets each prefix before it is unsubscribed; default nothing.
    /// - Returns: The wrapped backend.
    public func withSubscriptionHooks(
        onSubscribe: @escaping @Sendable (Topic) -> Void,
        onUnsubscribe: @escaping @Sendable (Topic) -> Void = { _ in }
    ) -> HookedBackend {
        HookedBackend(self, onSubscribe: onSubscribe, onUnsubscribe: onUnsubscribe)
    }
}

import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// An event received on a topic.
public struct TopicEvent: Sendable, Hashable {
    /// The topic it was published on.
    public var topic: Topic
    /// The event.
    public var event: Broker.Event
    /// The hub endpoint that published it, stamped by ``InMemoryBackend``'s hub; `nil` on other backends.
    package var origin: UInt64?
    /// The one hub endpoint that gets it (a controller's answer to the client that asked); `nil` for everyone
    /// subscribed.
    package var recipient: UInt64?

    /// Creates a received event.
    ///
    /// - Parameters:
    ///   - topic: The topic.
    ///   - event: The event.
    public init(topic: Topic, event: Broker.Event) {
        self.topic = topic
        self.event = event
    }

    /// Two received events are equal when their topics and events are: who sent them, and to whom, is routing,
    /// not content.
    ///
    /// - Parameters:
    ///   - lhs: An event.
    ///   - rhs: Another event.
    /// - Returns: Whether the topics and events are equal.
    public static func == (lhs: TopicEvent, rhs: TopicEvent) -> Bool {
        lhs.topic == rhs.topic && lhs.event == rhs.event
    }

    /// Hashes the topic and the event.
    ///
    /// - Parameter hasher: The hasher.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(topic)
        hasher.combine(event)
    }
}

/// One endpoint of a cluster's publish/subscribe fabric: what a Zeek node, agent, controller or tool uses
/// to talk to the others.
///
/// Broker's semantics hold for every backend: a subscription is a topic prefix, a publication reaches every
/// other endpoint with a matching subscription, and an endpoint never receives its own publications.
///
/// Every method returns promptly when its task is cancelled. ``events`` has one consumer; it finishes after
/// ``close()`` and throws ``BackendError`` when the connection is lost.
public protocol ClusterBackend: AnyObject, Sendable {
    /// The endpoint's node id (Zeek's `Cluster::node_id()`), fixed for the endpoint's lifetime.
    var nodeID: String { get }

    /// The events published on topics this endpoint subscribes to, in arrival order.
    var events: BackendEvents { get }

    /// Connects the endpoint.
    ///
    /// - Throws: ``BackendError`` naming what failed and where.
    func connect() async throws

    /// Subscribes to every topic starting with `prefix`.
    ///
    /// - Parameter prefix: The topic prefix.
    /// - Throws: ``BackendError``.
    func subscribe(_ prefix: Topic) async throws

    /// Subscribes to every topic starting with `prefix`, for the named events only.
    ///
    /// A hint that lets a backend avoid delivering events the endpoint would ignore (the in-memory hub
    /// honours it; a WebSocket connection cannot). Receivers must still check event names. The default
    /// subscribes to everything on the prefix.
    ///
    /// - Parameters:
    ///   - prefix: The topic prefix.
    ///   - eventNames: The events wanted on it.
    /// - Throws: ``BackendError``.
    func subscribe(_ prefix: Topic, eventNames: Set<String>) async throws

    /// Removes a subscription.
    ///
    /// - Parameter prefix: The prefix given to ``subscribe(_:)``.
    /// - Throws: ``BackendError``.
    func unsubscribe(_ prefix: Topic) async throws

    /// Publishes an event on a topic.
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - topic: The topic.
    /// - Throws: ``BackendError`` when the endpoint is not connected or the event cannot be sent.
    func publish(_ event: Broker.Event, to topic: Topic) async throws

    /// Disconnects, finishes ``events`` and releases the endpoint's resources; later calls fail.
    func close() async
}

extension ClusterBackend {
    /// Subscribes to the whole prefix: backends that cannot filter by event name deliver everything.
    ///
    /// - Parameters:
    ///   - prefix: The topic prefix.
    ///   - eventNames: Ignored.
    /// - Throws: ``BackendError``.
    public func subscribe(_ prefix: Topic, eventNames: Set<String>) async throws {
        try await subscribe(prefix)
    }
}

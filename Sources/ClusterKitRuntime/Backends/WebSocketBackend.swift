import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
public import ClusterKitWebSocket

/// A ``ClusterBackend`` that is a client of a WebSocket API server: Zeek's own (`Cluster::listen_websocket`,
/// a Management controller on port 2149, a manager on 27759), Broker's older one, or ClusterKit's
/// ``WebSocketAPIServer``.
///
/// ``connect()`` opens `ws://…/v1/messages/json` (with an `X-Application-Name` header when
/// ``Options/applicationName`` is set), sends the subscription frame with every prefix subscribed so far,
/// and waits at most ``Options/ackTimeout`` for the server's ack; ``nodeID`` is then the ack's `endpoint`.
/// ``publish(_:to:)`` sends one data message per event. ``events`` reads the connection in the consuming
/// task (nothing runs in the background, and a consumer that stops reading slows the server down through
/// TCP rather than losing events): data messages that carry events are returned; other data messages are
/// skipped, and error frames the server sends after the ack are recorded, both counted in ``diagnostics``
/// and reported to the log sink. Pings are answered by the WebSocket layer whether or not anyone reads.
///
/// **Subscriptions are fixed at the handshake** in Zeek's API. Subscribing or unsubscribing before
/// ``connect()`` only changes the list sent then. Doing so while connected opens a second connection with
/// the new list, waits for its ack, switches publishing and ``events`` over to it, and closes the old one:
/// ``events`` first returns what the old connection had received, so nothing on a prefix kept across the
/// switch is lost, but an event published during the switch may arrive twice. ``nodeID`` changes to the
/// new connection's endpoint. If the new connection fails, the old one stays and the call throws.
///
/// **Reconnecting** is off by default: when the connection is lost, ``events`` throws a ``BackendError``
/// naming the close code and reason, and ``publish(_:to:)`` throws it too. With ``Options/reconnect`` set,
/// the first of ``events`` or ``publish(_:to:)`` to find the connection lost reconnects, with the current
/// subscriptions, after exponentially growing delays measured on the injected clock (1 s, 2 s, 4 s, … up to
/// ``Options/Reconnect/maximumDelay``), giving up after ``Options/Reconnect/maximumAttempts`` attempts;
/// others wait for the outcome. ``connect()`` itself never retries: its error says at once what is wrong.
/// The `onReconnect` handler given to ``init(url:options:clock:log:onReconnect:)`` runs once after every
/// connection that replaces a lost one, such as a node's `notify_node_hello` that Zeek sends on every peering
/// with its agent.
///
/// Errors are ``BackendError``s located at the URL, such as
/// `ws://127.0.0.1:2149/v1/messages/json: connection refused`,
/// `ws://127.0.0.1:2149/bad: handshake rejected: invalid_uri: Invalid URI - use /v1/messages/json`,
/// `ws://127.0.0.1:2149/v1/messages/json: closed by the server with code 1001 and reason 'Terminating'`,
/// `ws://127.0.0.1:2149/v1/messages/json: no ack within 10 s`.
public final class WebSocketBackend: ClusterBackend {
    /// How the backend connects.
    public struct Options: Sendable, Hashable {
        /// The `X-Application-Name` header, or `nil` (the default) to send none, as `zeek-client` does.
        ///
        /// Zeek's server accepts only `[-/_.=:*@a-zA-Z0-9]` and rejects anything else.
        public var applicationName: String?
        /// Further header fields of every upgrade request (the first connection and every later one), such as
        /// ``WebSocketAPIServer/nodeTokenHeader``; default none.
        public var headers: WebSocketHeaders
        /// How long to wait for the server's ack after the subscription frame (default 10 s, ZeekControl's
        /// `WebSocketTimeout`); measured on the backend's clock.
        public var ackTimeout: Duration
        /// The WebSocket client's timeouts and limits (default ``WebSocketClient/Options/standard``).
        public var client: WebSocketClient.Options
        /// Whether and how to reconnect after the connection is lost; `nil` (the default) does not.
        public var reconnect: Reconnect?

        /// How to reconnect: exponential back-off, bounded.
        public struct Reconnect: Sendable, Hashable {
            /// The delay before the first attempt (default 1 s); each later delay doubles.
            public var initialDelay: Duration
            /// The longest delay between attempts (default 30 s).
            public var maximumDelay: Duration
            /// How many attempts to make before giving up, at least 1 (default 10).
            public var maximumAttempts: Int

            /// Creates a reconnection policy; every argument has the documented default.
            ///
            /// - Parameters:
            ///   - initialDelay: The first delay.
            ///   - maximumDelay: The longest delay.
            ///   - maximumAttempts: The attempts before giving up.
            public init(
                initialDelay: Duration = .seconds(1),
                maximumDelay: Duration = .seconds(30),
                maximumAttempts: Int = 10
            ) {
                precondition(initialDelay > .zero && maximumDelay >= initialDelay, "delays must be positive")
                precondition(maximumAttempts >= 1, "maximumAttempts must be at least 1")
                self.initialDelay = initialDelay
                self.maximumDelay = maximumDelay
                self.maximumAttempts = maximumAttempts
            }

            /// The defaults: 1 s, doubling up to 30 s, 10 attempts.
            public static let standard = Reconnect()
        }

        /// Creates options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - applicationName: The `X-Application-Name` header, or `nil`.
        ///   - ackTimeout: The limit for the ack.
        ///   - client: The WebSocket client's options.
        ///   - reconnect: The reconnection policy, or `nil`.
        ///   - headers: Further upgrade request header fields.
        public init(
            applicationName: String? = nil,
            ackTimeout: Duration = .seconds(10),
            client: WebSocketClient.Options = .standard,
            reconnect: Reconnect? = nil,
            headers: WebSocketHeaders = WebSocketHeaders()
        ) {
            self.applicationName = applicationName
            self.headers = headers
            self.ackTimeout = ackTimeout
            self.client = client
            self.reconnect = reconnect
        }

        /// The defaults: no application name, 10 s for the ack, no reconnecting.
        public static let standard = Options()
    }

    /// What the backend has seen, for diagnostics.
    public struct Diagnostics: Sendable, Hashable {
        /// The ack of the current (or last) connection, `nil` before the first.
        public var ack: Broker.Ack?
        /// The subscribed prefixes, in the order they were subscribed.
        public var subscriptions: [String] = []
        /// A Boolean value indicating whether a connection is open and acknowledged.
        public var isConnected = false
        /// How many handshakes completed (the first connection, resubscriptions, reconnections).
        public var connections = 0
        /// How many reconnection attempts were made.
        public var reconnectAttempts = 0
        /// How many events were received.
        public var receivedEvents = 0
        /// How many data messages were skipped because they did not carry an event.
        public var skippedDataMessages = 0
        /// How many error frames the server sent after the ack.
        public var errorFrames = 0
        /// The latest of those error frames, oldest first (at most 16, each code and context cut to
        /// ``recentErrorTextLimit`` characters).
        public var recentErrors: [Broker.ErrorMessage] = []
        /// How many frames were not Broker JSON, or were acks after the handshake.
        public var invalidFrames = 0
        /// The error that ended the last connection, if one did.
        public var lastError: BackendError?

        /// How many recent error frames are kept.
        public static let recentErrorLimit = 16
        /// How many characters of an error frame's code and context are kept and logged: 256.
        public static let recentErrorTextLimit = 256
    }

    /// The server's URL, such as `ws://127.0.0.1:2149/v1/messages/json`.
    public let url: String
    /// The options.
    public let options: Options
    /// The events published on the subscribed prefixes, read from the connection by the consuming task.
    ///
    /// Iteration returns `nil` after ``close()`` or when the consuming task is cancelled, and throws the
    /// ``BackendError`` that ended the connection (after reconnecting failed, when enabled).
    public let events: BackendEvents
    private let session: WebSocketSession

    /// Creates a backend; nothing happens until ``connect()``.
    ///
    /// - Parameters:
    ///   - url: `ws://host:port/v1/messages/json`.
    ///   - options: Header, ack limit, client options, reconnection.
    ///   - clock: The clock the ack limit and reconnection delays are measured on (a ``ManualClock`` in tests).
    ///   - log: Gets one line for each skipped data message, error frame, lost connection and reconnection.
    ///   - onReconnect: Runs after every connection that replaces a lost one (a reconnection, or ``connect()``
    ///     after a loss), with the subscriptions in place, in the task that made it; it may publish. It does not
    ///     run for the first connection or after a resubscription. Default none.
    public init(
        url: String,
        options: Options = .standard,
        clock: any Clock<Duration> = ContinuousClock(),
        log: (@Sendable (String) -> Void)? = nil,
        onReconnect: (@Sendable (WebSocketBackend) async -> Void)? = nil
    ) {
        self.url = url
        self.options = options
        let session = WebSocketSession(url: url, options: options, clock: clock, log: log)
        self.session = session
        self.events = BackendEvents(next: { try await session.nextEvent() })
        if let onReconnect {
            // Weak: the session belongs to the backend, and the handler must not keep it alive.
            session.onReconnect { [weak self] in
                guard let self else { return }
                await onReconnect(self)
            }
        }
    }

    /// The ack's `endpoint` of the current (or last) connection, as in
    /// `d955d990-ad8a-5ed4-8bc5-bee252d4a2e6-websocket-0`; the empty string before the first ack.
    ///
    /// Each connection gets a new endpoint id from the server, so the id changes after a resubscription or a
    /// reconnection.
    public var nodeID: String { session.nodeID }

    /// Counters and the latest errors; see ``Diagnostics``.
    public var diagnostics: Diagnostics { session.diagnostics }

    /// Connects, sends the subscriptions and waits for the ack; does nothing when already connected.
    ///
    /// Also connects again, once, after the connection was lost.
    ///
    /// - Throws: ``BackendError``: `connectionRefused`, `timedOut` (connect, handshake, or no ack within
    ///   ``Options/ackTimeout``), `handshakeRejected` (an HTTP answer other than 101, or an error frame instead
    ///   of the ack, with the server's code and context), `connectionClosed` (with the close code and reason),
    ///   `protocolViolation` (something else than an ack), `invalidState` (a malformed URL or header), `closed`
    ///   after ``close()``; or `CancellationError`.
    public func connect() async throws {
        try await session.connect()
    }

    /// Subscribes to a prefix: before ``connect()`` for the handshake, afterwards by switching to a new
    /// connection (see the type's discussion).
    ///
    /// Subscribing to a prefix already subscribed does nothing.
    ///
    /// - Parameter prefix: The topic prefix.
    /// - Throws: ``BackendError`` when the new connection fails (the old one stays) or after ``close()``.
    public func subscribe(_ prefix: Topic) async throws {
        try await session.updateSubscriptions(.subscribe(prefix.name))
    }

    /// Removes a subscription, switching to a new connection when connected.
    ///
    /// - Parameter prefix: The prefix given to ``subscribe(_:)``; others are ignored.
    /// - Throws: ``BackendError`` when the new connection fails (the old one stays) or after ``close()``.
    public func unsubscribe(_ prefix: Topic) async throws {
        try await session.updateSubscriptions(.unsubscribe(prefix.name))
    }

    /// Publishes an event: one data message on the connection.
    ///
    /// Returns once the message is queued for sending; waits while the send queue is full.
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - topic: The topic.
    /// - Throws: ``BackendError``: `notConnected` before ``connect()``, `closed` after ``close()``, or why the
    ///   connection was lost (after reconnecting failed, when enabled).
    public func publish(_ event: Broker.Event, to topic: Topic) async throws {
        try await session.publish(BrokerJSONEncoder.dataMessage(event, topic: topic.name))
    }

    /// Closes the connection (1000), ends ``events`` and stops any reconnection; later calls fail.
    public func close() async {
        await session.close()
    }
}

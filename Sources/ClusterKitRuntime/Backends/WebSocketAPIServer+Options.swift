public import ClusterKitModel
public import ClusterKitWebSocket

extension WebSocketAPIServer {
    /// How a server listens and answers.
    public struct Options: Sendable, Hashable {
        /// Where to listen, and the WebSocket limits and timers (default ``WebSocketServer/Options/standard``:
        /// `127.0.0.1:27759`, pings every 5 s).
        ///
        /// Its ``WebSocketServer/Options/maximumConnections`` is replaced by ``clientLimit`` + ``nodeLimit`` +
        /// ``WebSocketAPIServer/connectionHeadroom``: the RFC layer answers HTTP 503 beyond that sum, and this server
        /// keeps each class within its own limit.
        public var webSocket: WebSocketServer.Options
        /// The server's node id, the first part of every client's endpoint id (default: a fresh UUID, as a
        /// Broker endpoint's).
        public var nodeID: String?
        /// The `version` of every ack.
        ///
        /// The default is ``defaultVersion``; Zeek sends its own version, such as `8.0.10`.
        public var version: String
        /// The declared events client events are checked against; `nil` (the default) forwards every event.
        public var catalog: EventCatalog?
        /// The most client connections at once (default 100, Zeek's limit); 0...1,000,000.
        ///
        /// Counted from the upgrade until the connection is gone; a connection beyond it gets a `connection_limit`
        /// error frame and close 1013 (try again later), and does not count.
        public var clientLimit: Int
        /// The most connections of the cluster's own nodes at once, apart from clients (default 4,096);
        /// 0...1,000,000.
        ///
        /// Only connections carrying ``nodeToken`` count here; beyond the limit they are refused as clients are.
        public var nodeLimit: Int
        /// How long a connection may take to send a valid subscription frame after its upgrade (default 10 s);
        /// `nil` waits for ever, as Zeek does.
        ///
        /// Then it gets a `subscription_timeout` error frame and close 1008. This also ends a connection whose
        /// subscription frame was refused, which Zeek keeps open for ever.
        public var subscriptionTimeout: Duration?
        /// The most events of one connection that may wait in in-process inboxes (the controller's, the agents',
        /// in-process nodes') before its next event for them waits; 0 for no limit (default 32, Zeek's
        /// `Cluster::default_websocket_max_event_queue_size`).
        ///
        /// Zeek's `Cluster::WebSocketServerOptions$max_event_queue_size`: in Zeek, the queue of what all clients of
        /// one server sent for Zeek's main loop; when it is full the client whose message does not fit is stalled
        /// (its socket is not read) until the main loop has taken the queue, without an error, a drop or a log line.
        /// Here each connection has a queue of its own: a client that sends faster than the
        /// in-process participants read stalls itself, within ``publishTimeout``, and nobody else. Counted in
        /// ``WebSocketAPIServer/Diagnostics/eventQueueStalls``.
        public var maxEventQueueSize: Int
        /// How long a client's event may wait for room in full in-process inboxes (default 30 s).
        ///
        /// While it waits the client's frames are not read. Then the event is refused with a `broker_error` error
        /// frame naming the full inbox, and the connection goes on.
        public var publishTimeout: Duration
        /// The secret that makes a connection one of the cluster's nodes, or `nil` (the default): then every
        /// connection is a client and may publish every event.
        ///
        /// A node sends it in ``WebSocketAPIServer/nodeTokenHeader``; it is compared in constant time. Use
        /// ``WebSocketAPIServer/makeNodeToken()`` for a fresh one.
        public var nodeToken: String?
        /// Events only the cluster's nodes (and in-process participants) may publish when ``nodeToken`` is set
        /// (default ``WebSocketAPIServer/standardNodeOnlyEvents``).
        public var nodeOnlyEvents: Set<String>
        /// Events only in-process participants may publish when ``nodeToken`` is set: no WebSocket connection, node
        /// or client, may (default ``WebSocketAPIServer/standardInProcessOnlyEvents``).
        public var inProcessOnlyEvents: Set<String>

        /// Creates options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - webSocket: Listening address, limits and timers.
        ///   - nodeID: The server's node id, or `nil` for a fresh UUID.
        ///   - version: The version the ack reports.
        ///   - catalog: The declared events, or `nil` to forward everything.
        ///   - clientLimit: The most clients at once.
        ///   - nodeLimit: The most node connections at once.
        ///   - subscriptionTimeout: The limit for the subscription frame, or `nil`.
        ///   - maxEventQueueSize: The most events of a connection waiting in in-process inboxes, or 0 for no limit.
        ///   - publishTimeout: The limit for a client's event waiting for room.
        ///   - nodeToken: The node token, or `nil`.
        ///   - nodeOnlyEvents: Events clients may not publish when there is a node token.
        ///   - inProcessOnlyEvents: Events no connection may publish when there is a node token.
        public init(
            webSocket: WebSocketServer.Options = .standard,
            nodeID: String? = nil,
            version: String = WebSocketAPIServer.Options.defaultVersion,
            catalog: EventCatalog? = nil,
            clientLimit: Int = 100,
            nodeLimit: Int = 4_096,
            subscriptionTimeout: Duration? = .seconds(10),
            maxEventQueueSize: Int = 32,
            publishTimeout: Duration = .seconds(30),
            nodeToken: String? = nil,
            nodeOnlyEvents: Set<String> = WebSocketAPIServer.standardNodeOnlyEvents,
            inProcessOnlyEvents: Set<String> = WebSocketAPIServer.standardInProcessOnlyEvents
        ) {
            self.webSocket = webSocket
            self.nodeID = nodeID
            self.version = version
            self.catalog = catalog
            self.clientLimit = clientLimit
            self.nodeLimit = nodeLimit
            self.subscriptionTimeout = subscriptionTimeout
            self.maxEventQueueSize = max(0, maxEventQueueSize)
            self.publishTimeout = publishTimeout
            self.nodeToken = nodeToken
            self.nodeOnlyEvents = nodeOnlyEvents
            self.inProcessOnlyEvents = inProcessOnlyEvents
        }

        /// The default ack version, `clusterkit/<ClusterKit's version>`: honest about who answers, and never
        /// mistaken for a Zeek version.
        public static let defaultVersion = "clusterkit/" + ClusterKitVersion.current

        /// The defaults: `127.0.0.1:27759`, a fresh node id, no catalog, 100 clients and 4,096 nodes, 10 s for the
        /// subscriptions, 32 queued events per connection, no node token.
        public static let standard = Options()
    }
}

extension WebSocketAPIServer.Options {
    /// Options from Zeek's `Cluster::WebSocketServerOptions`, as `Cluster::listen_websocket` reads them.
    ///
    /// The address, port, ping interval and TLS options are read as ``WebSocketServer/Options/init(zeek:)`` reads
    /// them, and `max_event_queue_size` becomes ``maxEventQueueSize`` (0: no limit; values beyond `Int.max` count
    /// as no limit either). Everything else keeps its default.
    ///
    /// - Parameter zeek: Zeek's options.
    /// - Throws: ``WebSocketError`` as ``WebSocketServer/Options/init(zeek:)`` throws it.
    public init(zeek: Cluster.WebSocketServerOptions) throws(WebSocketError) {
        self.init(
            webSocket: try WebSocketServer.Options(zeek: zeek),
            maxEventQueueSize: zeek.maxEventQueueSize > UInt64(Int.max) ? 0 : Int(zeek.maxEventQueueSize)
        )
    }
}

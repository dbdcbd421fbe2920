extension WebSocketConnection {
    /// Limits and timers of one connection, shared by the client and the server.
    ///
    /// Sizes are in bytes; every size must be at least 1 and every duration positive.
    public struct Options: Sendable, Hashable {
        /// How often this side pings the peer; `nil`, zero or negative disables pinging.
        ///
        /// A peer that has not answered a ping by the time the next one is due is dropped with close code
        /// 1011 and reason `ping timeout: no pong received`. The server default is 5 s, Zeek's
        /// `Cluster::default_websocket_ping_interval`; clients do not ping by default.
        public var pingInterval: Duration?
        /// The largest message accepted, after reassembly (default 16 MiB); larger ones close with 1009.
        public var maximumMessageSize: Int
        /// The largest single frame accepted (default 16 MiB); a larger one closes with 1009.
        public var maximumFrameSize: Int
        /// Outgoing messages larger than this are sent as fragments of this size (default 1 MiB).
        public var outgoingFragmentSize: Int
        /// The most bytes of encoded frames waiting to be written (default 4 MiB).
        ///
        /// A send that does not fit waits for room; one message is always admitted into an empty queue,
        /// whatever its size.
        public var sendQueueLimit: Int
        /// How long a send may wait for room in a full send queue before the connection is closed with 1008
        /// `send queue full` (default 5 s); zero closes it at once.
        public var sendQueueTimeout: Duration
        /// The most bytes of received messages waiting for ``WebSocketConnection/receive()`` (default 4 MiB).
        ///
        /// When it is reached the connection stops reading the socket, so TCP slows the peer down; reading
        /// resumes when the application has taken half of it.
        public var receiveQueueLimit: Int
        /// How long a close handshake may take before the socket is closed anyway (default 5 s).
        public var closeTimeout: Duration

        /// Creates connection options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - pingInterval: How often to ping the peer, or `nil`.
        ///   - maximumMessageSize: The largest message accepted.
        ///   - maximumFrameSize: The largest frame accepted.
        ///   - outgoingFragmentSize: The largest frame sent.
        ///   - sendQueueLimit: The send queue's size in bytes.
        ///   - sendQueueTimeout: How long a send waits for room.
        ///   - receiveQueueLimit: The receive queue's size in bytes.
        ///   - closeTimeout: The close handshake's limit.
        public init(
            pingInterval: Duration? = .seconds(5),
            maximumMessageSize: Int = 16 << 20,
            maximumFrameSize: Int = 16 << 20,
            outgoingFragmentSize: Int = 1 << 20,
            sendQueueLimit: Int = 4 << 20,
            sendQueueTimeout: Duration = .seconds(5),
            receiveQueueLimit: Int = 4 << 20,
            closeTimeout: Duration = .seconds(5)
        ) {
            self.pingInterval = pingInterval
            self.maximumMessageSize = maximumMessageSize
            self.maximumFrameSize = maximumFrameSize
            self.outgoingFragmentSize = outgoingFragmentSize
            self.sendQueueLimit = sendQueueLimit
            self.sendQueueTimeout = sendQueueTimeout
            self.receiveQueueLimit = receiveQueueLimit
            self.closeTimeout = closeTimeout
        }

        /// The defaults, with pings every 5 s (what the server uses).
        public static let standard = Options()

        /// The ping interval when pinging is enabled.
        var effectivePingInterval: Duration? {
            guard let pingInterval, pingInterval > .zero else { return nil }
            return pingInterval
        }
    }
}

extension WebSocketServer {
    /// Where and how a server listens.
    public struct Options: Sendable, Hashable {
        /// The IPv4 or IPv6 literal to listen on (default `127.0.0.1`; `0.0.0.0` or `::` for all).
        public var host: String
        /// The TCP port (default 27759, Zeek's WebSocket API port); 0 picks an ephemeral port.
        public var port: Int
        /// The most connections at once, handshakes included (default 100, as Zeek's server); more get HTTP 503.
        public var maximumConnections: Int
        /// How long a client may take to send its upgrade request (default 5 s).
        public var handshakeTimeout: Duration
        /// The largest upgrade request, request line and headers (default 16 KiB); larger ones get HTTP 431.
        public var maximumHandshakeSize: Int
        /// The most header fields in an upgrade request (default 64); more get HTTP 431.
        public var maximumHeaderCount: Int
        /// Limits and timers of each accepted connection (default ``WebSocketConnection/Options/standard``).
        public var connection: WebSocketConnection.Options

        /// Creates server options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - host: The address literal to listen on.
        ///   - port: The TCP port, or 0.
        ///   - maximumConnections: The connection limit.
        ///   - handshakeTimeout: The upgrade request's time limit.
        ///   - maximumHandshakeSize: The upgrade request's size limit.
        ///   - maximumHeaderCount: The upgrade request's field count limit.
        ///   - connection: Per-connection limits and timers.
        public init(
            host: String = "127.0.0.1",
            port: Int = 27759,
            maximumConnections: Int = 100,
            handshakeTimeout: Duration = .seconds(5),
            maximumHandshakeSize: Int = 16 << 10,
            maximumHeaderCount: Int = 64,
            connection: WebSocketConnection.Options = .standard
        ) {
            self.host = host
            self.port = port
            self.maximumConnections = maximumConnections
            self.handshakeTimeout = handshakeTimeout
            self.maximumHandshakeSize = maximumHandshakeSize
            self.maximumHeaderCount = maximumHeaderCount
            self.connection = connection
        }

        /// The defaults: `127.0.0.1:27759`, 100 connections, pings every 5 s.
        public static let standard = Options()
    }
}

extension WebSocketClient {
    /// How a client connects.
    public struct Options: Sendable, Hashable {
        /// How long the TCP connection may take, over all resolved addresses (default 10 s).
        ///
        /// Host name resolution happens before this clock starts and is not covered by it.
        public var connectTimeout: Duration
        /// How long the server may take to answer the upgrade request (default 10 s).
        public var handshakeTimeout: Duration
        /// The largest response head accepted (default 16 KiB).
        public var maximumHandshakeSize: Int
        /// The most header fields in the response (default 64).
        public var maximumHeaderCount: Int
        /// Limits and timers of the connection (default: the standard ones without pinging).
        public var connection: WebSocketConnection.Options

        /// Creates client options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - connectTimeout: The TCP connect limit.
        ///   - handshakeTimeout: The upgrade response's time limit.
        ///   - maximumHandshakeSize: The response head's size limit.
        ///   - maximumHeaderCount: The response head's field count limit.
        ///   - connection: Connection limits and timers.
        public init(
            connectTimeout: Duration = .seconds(10),
            handshakeTimeout: Duration = .seconds(10),
            maximumHandshakeSize: Int = 16 << 10,
            maximumHeaderCount: Int = 64,
            connection: WebSocketConnection.Options = WebSocketConnection.Options(pingInterval: nil)
        ) {
            self.connectTimeout = connectTimeout
            self.handshakeTimeout = handshakeTimeout
            self.maximumHandshakeSize = maximumHandshakeSize
            self.maximumHeaderCount = maximumHeaderCount
            self.connection = connection
        }

        /// The defaults: 10 s to connect, 10 s for the handshake, no pings.
        public static let standard = Options()
    }
}

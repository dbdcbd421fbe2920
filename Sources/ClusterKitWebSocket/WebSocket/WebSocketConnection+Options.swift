public import ClusterKitModel

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
        ///
        /// The limit is checked against the length a frame's header declares, before any of its payload is
        /// read; the buffer for the payload then grows only as bytes arrive.
        public var maximumFrameSize: Int
        /// The most bytes one connection may hold for a frame and a fragmented message it is still receiving
        /// (default 32 MiB: one largest message being reassembled while its last frame arrives).
        ///
        /// It covers the frame buffer beyond its standing 64 KiB and the reassembly buffer; both grow as bytes
        /// arrive, never by what a header declares. A connection that would need more is closed with 1009
        /// `message too big`: its peer sends more than one connection may hold. Keep it at least
        /// ``maximumMessageSize`` plus ``maximumFrameSize`` to let every message within those limits through.
        /// Servers also share ``WebSocketServer/Options/sharedReceiveBufferLimit`` between their connections.
        public var receiveBufferLimit: Int
        /// Outgoing messages larger than this are sent as fragments of this size (default 1 MiB).
        public var outgoingFragmentSize: Int
        /// The most bytes of encoded frames waiting to be written (default 4 MiB).
        ///
        /// A send that does not fit waits for room; one message is always admitted into an empty queue,
        /// whatever its size. Pongs count too: while this much is unwritten, pings are not answered at once;
        /// only the latest one is remembered (RFC 6455 §5.5.3 allows answering just the most recent ping) and
        /// the connection stops reading until the backlog drains below the limit, so a peer that floods pings
        /// and reads nothing cannot grow memory.
        public var sendQueueLimit: Int
        /// How long a send may wait for room in a full send queue before the connection is closed with 1008
        /// `send queue full` (default 5 s); zero closes it at once.
        public var sendQueueTimeout: Duration
        /// The most bytes of received messages waiting for ``WebSocketConnection/receive()`` (default 4 MiB).
        ///
        /// Each message counts for its payload plus ``receiveQueueEntryOverhead`` (64) bytes, what holding it
        /// costs beyond the payload, so a flood of empty messages is bounded too. When the limit (or
        /// ``receiveQueueMessageLimit``) is reached the connection stops reading the socket, so TCP slows the
        /// peer down; reading resumes when the application has taken half of it. Messages parsed from bytes
        /// already read are still queued: the queue may pass a limit by up to a quarter.
        public var receiveQueueLimit: Int
        /// The most messages waiting for ``WebSocketConnection/receive()`` (default 16,384).
        ///
        /// Reaching it pauses reading like ``receiveQueueLimit`` does; reading resumes at half.
        public var receiveQueueMessageLimit: Int
        /// How long a close handshake may take before the socket is closed anyway (default 5 s).
        public var closeTimeout: Duration

        /// Creates connection options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - pingInterval: How often to ping the peer, or `nil`.
        ///   - maximumMessageSize: The largest message accepted.
        ///   - maximumFrameSize: The largest frame accepted.
        ///   - receiveBufferLimit: The most bytes of frame and reassembly buffers.
        ///   - outgoingFragmentSize: The largest frame sent.
        ///   - sendQueueLimit: The send queue's size in bytes.
        ///   - sendQueueTimeout: How long a send waits for room.
        ///   - receiveQueueLimit: The receive queue's size in bytes.
        ///   - receiveQueueMessageLimit: The receive queue's size in messages.
        ///   - closeTimeout: The close handshake's limit.
        public init(
            pingInterval: Duration? = .seconds(5),
            maximumMessageSize: Int = 16 << 20,
            maximumFrameSize: Int = 16 << 20,
            receiveBufferLimit: Int = 32 << 20,
            outgoingFragmentSize: Int = 1 << 20,
            sendQueueLimit: Int = 4 << 20,
            sendQueueTimeout: Duration = .seconds(5),
            receiveQueueLimit: Int = 4 << 20,
            receiveQueueMessageLimit: Int = 16_384,
            closeTimeout: Duration = .seconds(5)
        ) {
            self.pingInterval = pingInterval
            self.maximumMessageSize = maximumMessageSize
            self.maximumFrameSize = maximumFrameSize
            self.receiveBufferLimit = receiveBufferLimit
            self.outgoingFragmentSize = outgoingFragmentSize
            self.sendQueueLimit = sendQueueLimit
            self.sendQueueTimeout = sendQueueTimeout
            self.receiveQueueLimit = receiveQueueLimit
            self.receiveQueueMessageLimit = receiveQueueMessageLimit
            self.closeTimeout = closeTimeout
        }

        /// The bytes each queued received message counts for beyond its payload: its queue entry and its
        /// string or array storage (a realistic figure for 64-bit Linux).
        public static let receiveQueueEntryOverhead = 64

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
        /// The most bytes all connections of this server together may hold for frames and fragmented
        /// messages they are still receiving (default 256 MiB): per server, which is process-wide for the
        /// controller.
        ///
        /// It bounds the sum of what the connections hold under their own
        /// ``WebSocketConnection/Options/receiveBufferLimit``, so that many connections each declaring a large
        /// frame cannot together exhaust memory. A connection whose buffers would push the sum past it is
        /// closed with 1008 `server receive buffers full`: its message is not too big in itself (1009 would say
        /// so), the server is protecting itself, as Zeek does with 1008 for a client it cannot serve.
        public var sharedReceiveBufferLimit: Int
        /// A Boolean value indicating whether upgrade requests from another origin are served (default
        /// `false`).
        ///
        /// Browsers send `Origin` with every WebSocket request, so with the default a web page the operator
        /// opens cannot drive this server: a request whose `Origin` is present and is not the origin of its
        /// own `Host` gets HTTP 403. Schemes `http`, `https`, `ws` and `wss` are accepted, hosts compare
        /// without regard to case, and a missing port means the scheme's default (`Host: h` matches
        /// `Origin: http://h:80`). Programs that send no `Origin`, and `zeek-client`, which sends its own
        /// `Host` as `Origin: http://HOST:PORT`, are served.
        public var allowsCrossOriginRequests: Bool
        /// Which local users may connect (default ``LocalPeerPolicy/sameUser``).
        ///
        /// With ``LocalPeerPolicy/sameUser`` a connection from this host — from a loopback address, or to one
        /// of the host's own addresses — is served only when the peer's socket belongs to the user the server
        /// runs as, or to root; others get HTTP 403 before their request is read. The owner comes from the
        /// kernel's socket diagnostics (`NETLINK_SOCK_DIAG`), or from `/proc/net/tcp` and `/proc/net/tcp6`; a
        /// loopback connection whose owner cannot be found is refused. Peers on other hosts are not affected.
        public var localPeers: LocalPeerPolicy
        /// Where the owner of a local peer's socket is looked up (both by default); for tests.
        package var peerOwnerSources: PeerOwnerSources
        /// TLS, as Zeek's `Cluster::WebSocketTLSOptions` (default off).
        ///
        /// TLS is on when both `certFile` and `keyFile` are set; one without the other is an error. With
        /// `enablePeerVerification` every client must present a certificate that `caFile` (or the system's store
        /// when it is empty) vouches for; `ciphers` is the OpenSSL cipher list for TLS 1.2. Only TLS 1.2 and 1.3
        /// are accepted. The TLS handshake counts against ``handshakeTimeout``.
        public var tls: Cluster.WebSocketTLSOptions
        /// A token every upgrade request must carry as `Authorization: Bearer TOKEN` (default `nil`: none).
        ///
        /// A request without it, or with another, gets HTTP 401 with `WWW-Authenticate: Bearer`. Send tokens over
        /// TLS or loopback only: in clear, anyone on the path reads them.
        public var bearerToken: String?

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
        ///   - sharedReceiveBufferLimit: The receive buffer budget of all connections together.
        ///   - allowsCrossOriginRequests: Whether requests from another origin are served.
        ///   - localPeers: Which local users may connect.
        ///   - tls: TLS settings (default off).
        public init(
            host: String = "127.0.0.1",
            port: Int = 27759,
            maximumConnections: Int = 100,
            handshakeTimeout: Duration = .seconds(5),
            maximumHandshakeSize: Int = 16 << 10,
            maximumHeaderCount: Int = 64,
            connection: WebSocketConnection.Options = .standard,
            sharedReceiveBufferLimit: Int = 256 << 20,
            allowsCrossOriginRequests: Bool = false,
            localPeers: LocalPeerPolicy = .sameUser,
            tls: Cluster.WebSocketTLSOptions = Cluster.WebSocketTLSOptions()
        ) {
            self.host = host
            self.port = port
            self.maximumConnections = maximumConnections
            self.handshakeTimeout = handshakeTimeout
            self.maximumHandshakeSize = maximumHandshakeSize
            self.maximumHeaderCount = maximumHeaderCount
            self.connection = connection
            self.sharedReceiveBufferLimit = sharedReceiveBufferLimit
            self.allowsCrossOriginRequests = allowsCrossOriginRequests
            self.localPeers = localPeers
            self.peerOwnerSources = .all
            self.tls = tls
            self.bearerToken = nil
        }

        /// The defaults: `127.0.0.1:27759`, 100 connections, pings every 5 s, same origin and same user only.
        public static let standard = Options()
    }

    /// Which users on this host may connect to a server.
    public enum LocalPeerPolicy: String, Sendable, Hashable {
        /// Only the user the server runs as, and root; connections of other local users get HTTP 403.
        case sameUser
        /// Any local user (the check is off).
        case anyUser
    }

    /// Where the owner of a local peer's socket is looked up.
    package struct PeerOwnerSources: OptionSet, Sendable, Hashable {
        /// The raw bits, as `ck_tcp_peer_owner` takes them.
        package var rawValue: Int32

        /// Creates a set from its bits.
        ///
        /// - Parameter rawValue: The bits.
        package init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        /// The kernel's socket diagnostics (an exact `inet_diag` lookup over `NETLINK_SOCK_DIAG`).
        package static let netlink = PeerOwnerSources(rawValue: 1)
        /// `/proc/net/tcp` and `/proc/net/tcp6`.
        package static let proc = PeerOwnerSources(rawValue: 2)
        /// Both, netlink first.
        package static let all: PeerOwnerSources = [.netlink, .proc]
    }
}

extension WebSocketClient {
    /// How a client connects.
    public struct Options: Sendable, Hashable {
        /// How long resolving the host name and establishing the TCP connection may take together, over all
        /// resolved addresses (default 10 s).
        ///
        /// Host names are resolved on a thread of their own, so a slow resolver never holds up the event loop;
        /// a lookup still running at the limit fails with `timedOut` naming the host and the limit. IP
        /// address literals are not looked up.
        public var connectTimeout: Duration
        /// How long the server may take to answer the upgrade request (default 10 s).
        public var handshakeTimeout: Duration
        /// The largest response head accepted (default 16 KiB).
        public var maximumHandshakeSize: Int
        /// The most header fields in the response (default 64).
        public var maximumHeaderCount: Int
        /// Limits and timers of the connection (default: the standard ones without pinging).
        public var connection: WebSocketConnection.Options
        /// How a `wss://` connection sets up TLS (default: verify the server against the system's CAs).
        public var tls: TLSOptions
        /// The local IP address the connection comes from, such as `10.0.0.2` or `::1`; `nil` (the default) lets
        /// the system choose.
        ///
        /// The socket is bound to it (with port 0, an ephemeral port chosen at connect) before connecting, so that
        /// the server sees this address as the peer's: a host with several addresses connects from the one it is
        /// known by. Only server addresses of the same family (IPv4 or IPv6) are tried. An address that is not an
        /// IP literal fails the connection with `invalidAddress`; one this host cannot bind (not one of its
        /// addresses) fails it with `invalidAddress` too, as in `cannot bind 192.0.2.7: cannot assign requested
        /// address`.
        public var localAddress: String?

        /// Creates client options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - connectTimeout: The TCP connect limit.
        ///   - handshakeTimeout: The upgrade response's time limit (the TLS handshake included).
        ///   - maximumHandshakeSize: The response head's size limit.
        ///   - maximumHeaderCount: The response head's field count limit.
        ///   - connection: Connection limits and timers.
        ///   - tls: TLS settings for `wss://` URLs.
        ///   - localAddress: The local address to connect from, or `nil` for the system's choice.
        public init(
            connectTimeout: Duration = .seconds(10),
            handshakeTimeout: Duration = .seconds(10),
            maximumHandshakeSize: Int = 16 << 10,
            maximumHeaderCount: Int = 64,
            connection: WebSocketConnection.Options = WebSocketConnection.Options(pingInterval: nil),
            tls: TLSOptions = .standard,
            localAddress: String? = nil
        ) {
            self.connectTimeout = connectTimeout
            self.handshakeTimeout = handshakeTimeout
            self.maximumHandshakeSize = maximumHandshakeSize
            self.maximumHeaderCount = maximumHeaderCount
            self.connection = connection
            self.tls = tls
            self.localAddress = localAddress
        }

        /// The defaults: 10 s to connect, 10 s for the handshake, no pings.
        public static let standard = Options()
    }
}

extension WebSocketClient {
    /// How a client sets up TLS for a `wss://` URL (TLS 1.2 or 1.3, with the system's OpenSSL 3).
    public struct TLSOptions: Sendable, Hashable {
        /// Trusted CA certificates (PEM), instead of the system's store; `nil` for the system's.
        public var caFile: String?
        /// A directory of trusted CA certificates (OpenSSL's hashed names), instead of the system's store.
        public var caDirectory: String?
        /// A client certificate chain (PEM) to present, for servers that require one; needs ``keyFile``.
        public var certificateFile: String?
        /// The client certificate's private key (PEM, unencrypted).
        public var keyFile: String?
        /// A Boolean value indicating whether the server's certificate and host name (or IP address) are
        /// verified (default `true`).
        ///
        /// `false` encrypts without knowing who the server is, as `zeek-client`'s `ssl.enable=true` alone does:
        /// anyone on the path can pose as the server.
        public var verifiesServer: Bool
        /// The OpenSSL cipher list for TLS 1.2, or `nil` for OpenSSL's default (TLS 1.3 keeps its own suites).
        public var ciphers: String?
        /// A Boolean value indicating whether a connection offers to resume the latest TLS session of these options
        /// with the same `host:port`, which saves the certificate exchange and its checks (default `true`).
        ///
        /// A session is kept only from a server that did not ask for a client certificate: a server that verifies
        /// client certificates without an OpenSSL session id context fails a handshake that offers a session, and
        /// a client cannot tell. ``WebSocketConnection/tls`` tells whether a connection resumed.
        public var resumesSessions: Bool

        /// Creates TLS options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - caFile: Trusted CAs, PEM.
        ///   - caDirectory: A hashed directory of trusted CAs.
        ///   - certificateFile: A client certificate chain.
        ///   - keyFile: Its private key.
        ///   - verifiesServer: Whether to verify the server.
        ///   - ciphers: The TLS 1.2 cipher list.
        ///   - resumesSessions: Whether to resume TLS sessions.
        public init(
            caFile: String? = nil,
            caDirectory: String? = nil,
            certificateFile: String? = nil,
            keyFile: String? = nil,
            verifiesServer: Bool = true,
            ciphers: String? = nil,
            resumesSessions: Bool = true
        ) {
            self.caFile = caFile
            self.caDirectory = caDirectory
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verifiesServer = verifiesServer
            self.ciphers = ciphers
            self.resumesSessions = resumesSessions
        }

        /// The defaults: verify the server against the system's CAs, present no certificate.
        public static let standard = TLSOptions()

        /// Makes the OpenSSL context.
        func makeContext() throws(WebSocketError) -> TLSContext {
            if (certificateFile == nil) != (keyFile == nil) {
                throw WebSocketError(
                    .tlsFailed,
                    certificateFile == nil
                        ? "a client key file needs a certificate file" : "a client certificate file needs a key file"
                )
            }
            return try TLSContext(
                isServer: false,
                certificateFile: certificateFile,
                keyFile: keyFile,
                caFile: caFile,
                caPath: caDirectory,
                verifiesPeer: verifiesServer,
                ciphers: ciphers,
                resumesSessions: resumesSessions
            )
        }
    }
}

extension WebSocketServer.Options {
    /// Makes the OpenSSL context when ``tls`` turns TLS on, with Zeek's rules.
    func makeTLSContext() throws(WebSocketError) -> TLSContext? {
        do {
            try tls.validate()
        } catch {
            throw WebSocketError(.tlsFailed, "\(error)")
        }
        guard let certificate = tls.certFile, let key = tls.keyFile else { return nil }
        return try TLSContext(
            isServer: true,
            certificateFile: certificate,
            keyFile: key,
            caFile: tls.caFile.isEmpty ? nil : tls.caFile,
            caPath: nil,
            verifiesPeer: tls.enablePeerVerification,
            ciphers: tls.ciphers.isEmpty ? nil : tls.ciphers
        )
    }
}

extension WebSocketServer.Options {
    /// Server options from Zeek's `Cluster::WebSocketServerOptions`, as `Cluster::listen_websocket` reads them.
    ///
    /// The address is `listen_addr`, else the deprecated `listen_host` (both, or neither, is an error, as in Zeek);
    /// the port is `listen_port`; `ping_interval` becomes the connections' ping interval with Zeek's rules (negative
    /// disables pinging, fractions of a second are dropped, so less than a second pings as 0 s: off); `tls_options`
    /// become ``tls``. `max_event_queue_size` concerns the API layer above (`WebSocketAPIServer.Options(zeek:)` reads it)
    /// and is not read here. Everything else keeps its default.
    ///
    /// - Parameter zeek: Zeek's options.
    /// - Throws: ``WebSocketError`` with code `invalidAddress` for a bad address combination, or `tlsFailed` for a
    ///   certificate without a key (or the reverse).
    public init(zeek: Cluster.WebSocketServerOptions) throws(WebSocketError) {
        do {
            try zeek.validate()
        } catch let error as Cluster.ConfigurationError where error.code == .invalidTLSOptions {
            throw WebSocketError(.tlsFailed, "\(error)")
        } catch {
            throw WebSocketError(.invalidAddress, "\(error)")
        }
        self.init(
            host: zeek.listenAddr?.description ?? zeek.listenHost ?? "127.0.0.1",
            port: Int(zeek.listenPort.number),
            tls: zeek.tlsOptions
        )
        let seconds = zeek.pingInterval.nanoseconds / 1_000_000_000
        connection.pingInterval = seconds > 0 ? .seconds(seconds) : nil
    }
}

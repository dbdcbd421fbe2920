import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
public import ClusterKitWebSocket
import Foundation
import Synchronization

/// Zeek's own WebSocket API server (`Cluster::listen_websocket`, Zeek 8.0.3 and later), serving the
/// endpoints of an ``InMemoryBackend/Hub``.
///
/// Every client that connects to `ws://<host>:<port>/v1/messages/json` gets an endpoint of its own on the
/// hub, so clients and in-process participants (a ``Controller``, ``NodeRuntime``s, a ``Dispatcher``) publish
/// to and subscribe from one another with the hub's rules: byte-prefix subscriptions, no delivery back to
/// the publisher, a bounded inbox per endpoint. The conversation is Zeek's, byte for byte
/// (PROTOCOL.md §1.2–1.5, §7):
///
/// 1. The path must be `/v1/messages/json`, else the client gets
///    `{"type":"error","code":"invalid_uri","context":"Invalid URI - use /v1/messages/json"}` and close 1008.
/// 2. An `X-Application-Name` header, when present, may only hold `[-/_.=:*@a-zA-Z0-9]`, else
///    `invalid_application_name` / `Invalid X-Application-Name` and close 1008.
/// 3. The first frame must be a JSON array of topic-prefix strings, else a `deserialization_failed` error
///    frame (`subscriptions not an array`, `individual subscription not a string`); the connection stays
///    open and is never acknowledged, and every later frame is ignored.
/// 4. Once the subscriptions are active the server sends
///    `{"type":"ack","endpoint":"<node id>-websocket-<n>","version":"<version>"}`.
/// 5. Then data messages flow both ways. A bad client frame gets a `deserialization_failed` error frame
///    (`failed to decode JSON object`, `no topic in top-level JSON object`, `failed to create Zeek event`)
///    and the connection stays usable.
///
/// With an ``EventCatalog`` in ``Options/catalog`` the server refuses, as Zeek does, client events that are
/// not declared, have the wrong number of arguments or an argument of the wrong type; without one it
/// forwards every event. A data message that is not an event at all is refused either way.
///
/// ```swift
/// let cluster = ManagementCluster()
/// let server = try WebSocketAPIServer(hub: cluster.hub, options: .init(catalog: .standard))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await cluster.run() }
///     group.addTask { await server.run() }
/// }
/// ```
///
/// Limits (see ``Options``): at most ``Options/clientLimit`` clients (100, Zeek's) and, apart from them,
/// ``Options/nodeLimit`` of the cluster's own nodes (4,096); a connection over its class's limit gets a
/// `connection_limit` error frame and close 1013. A connection that has not sent its subscription frame within
/// ``Options/subscriptionTimeout`` (10 s) gets `subscription_timeout` and close 1008. Per client, events from the
/// hub wait in the endpoint's inbox (``InMemoryBackend/Hub/Options``; a client whose inbox overflows is closed
/// with 1008 `event queue full`) and in the connection's send queue (``WebSocketConnection/Options/sendQueueLimit``;
/// a client that stops reading until the send queue has been full for
/// ``WebSocketConnection/Options/sendQueueTimeout`` is closed with 1008 `send queue full`), without slowing
/// anyone else. Frames from a client are handled one at a time, in order, by that client's task; an event for a
/// full in-process inbox waits for room (at most ``Options/publishTimeout``), and meanwhile the connection's
/// receive queue (``WebSocketConnection/Options/receiveQueueLimit``) fills and TCP slows the client down. Clients
/// that do not answer pings are dropped (close 1011).
///
/// **Nodes and clients.** With a ``Options/nodeToken``, a connection whose upgrade request carries it in
/// ``nodeTokenHeader`` is one of the cluster's nodes; any other is a client. Clients may then not publish the
/// events only nodes send (``Options/nodeOnlyEvents``: node dispatch responses, node hellos, Control framework
/// responses) nor those only in-process participants send (``Options/inProcessOnlyEvents``: the agent API,
/// the controller's responses); such an event gets a `not_permitted` error frame and the connection stays open.
/// Without a token every connection is a client and every event is allowed, as with Zeek.
public final class WebSocketAPIServer: Sendable {
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
            self.publishTimeout = publishTimeout
            self.nodeToken = nodeToken
            self.nodeOnlyEvents = nodeOnlyEvents
            self.inProcessOnlyEvents = inProcessOnlyEvents
        }

        /// The default ack version, `clusterkit/<ClusterKit's version>`: honest about who answers, and never
        /// mistaken for a Zeek version.
        public static let defaultVersion = "clusterkit/" + ClusterKitVersion.current

        /// The defaults: `127.0.0.1:27759`, a fresh node id, no catalog, 100 clients and 4,096 nodes, 10 s for the
        /// subscriptions, no node token.
        public static let standard = Options()
    }

    /// Counters of a server, for diagnostics.
    public struct Diagnostics: Sendable, Hashable {
        /// Client connections counted against ``Options/clientLimit`` now.
        public var clients = 0
        /// Node connections counted against ``Options/nodeLimit`` now.
        public var nodes = 0
        /// Client connections refused because ``Options/clientLimit`` was reached.
        public var refusedClients = 0
        /// Node connections refused because ``Options/nodeLimit`` was reached.
        public var refusedNodes = 0
        /// Connections closed because no valid subscription frame came within ``Options/subscriptionTimeout``.
        public var subscriptionTimeouts = 0
        /// Connections closed because their hub inbox was full (1008 `event queue full`).
        public var closedForFullQueue = 0
        /// Events refused because the connection may not publish them (`not_permitted`).
        public var refusedEvents = 0
        /// Events refused because in-process inboxes had no room within ``Options/publishTimeout``.
        public var publishTimeouts = 0
    }

    /// A client whose subscriptions are active.
    public struct Client: Sendable, Hashable {
        /// The client's endpoint id, as its ack carries it: `<node id>-websocket-<n>`.
        public var endpoint: String
        /// The client's IP address.
        public var remoteAddress: String
        /// The client's TCP port.
        public var remotePort: Int
        /// The `X-Application-Name` it sent, or `nil` (Zeek's metrics then say `unknown`).
        public var applicationName: String?
        /// Its topic prefixes, sorted by bytes and without duplicates.
        public var subscriptions: [String]
        /// A Boolean value indicating whether the connection carried the node token: one of the cluster's nodes.
        public var isNode: Bool

        /// Creates a client description.
        ///
        /// - Parameters:
        ///   - endpoint: The endpoint id.
        ///   - remoteAddress: The IP address.
        ///   - remotePort: The TCP port.
        ///   - applicationName: The `X-Application-Name`, or `nil`.
        ///   - subscriptions: The topic prefixes.
        ///   - isNode: Whether it is one of the cluster's nodes; default `false`.
        public init(
            endpoint: String,
            remoteAddress: String,
            remotePort: Int,
            applicationName: String?,
            subscriptions: [String],
            isNode: Bool = false
        ) {
            self.endpoint = endpoint
            self.remoteAddress = remoteAddress
            self.remotePort = remotePort
            self.applicationName = applicationName
            self.subscriptions = subscriptions
            self.isNode = isNode
        }
    }

    /// The only path served.
    public static let path = "/v1/messages/json"

    /// The upgrade request header that carries the node token: `X-ClusterKit-Node-Token`.
    public static let nodeTokenHeader = "X-ClusterKit-Node-Token"

    /// The connections the RFC layer admits beyond ``Options/clientLimit`` + ``Options/nodeLimit``: 64, for
    /// upgrades under way and connections being refused, so that a refusal is this server's error frame and
    /// close 1013 rather than the RFC layer's HTTP 503.
    public static let connectionHeadroom = 64

    /// The most topic prefixes one subscription frame may hold: 1,024.
    ///
    /// A frame with more gets a `subscription_limit` error frame and close 1008. Zeek has no such limit; it
    /// bounds the subscription table one client can grow.
    public static let maximumSubscriptions = 1_024

    /// The longest topic prefix of a subscription frame, in bytes of UTF-8: 1,024 (same refusal as
    /// ``maximumSubscriptions``).
    public static let maximumSubscriptionLength = 1_024

    /// The events only nodes send, which clients may not publish when a node token is set: the Management node
    /// API's `node_dispatch_response` and `notify_node_hello`, the Control framework's responses, and
    /// `Cluster::hello`.
    public static let standardNodeOnlyEvents: Set<String> = [
        NodeRuntime.API.dispatchResponse, NodeRuntime.API.notifyNodeHello, "Control::id_value_response",
        "Control::peer_status_response", "Control::net_stats_response", "Control::configuration_update_response",
        "Control::shutdown_response", "Cluster::hello",
    ]

    /// The events only in-process participants send, which no WebSocket connection may publish when a node
    /// token is set: the whole Management agent API (agents run in the controller's process), the Supervisor's
    /// `notify_node_exit`, and the controller's responses and notifications (Zeek's and ClusterKit's).
    public static let standardInProcessOnlyEvents: Set<String> = {
        var names = Set(EventCatalog.managementAgent.signatures.keys)
        names.formUnion(
            EventCatalog.managementController.signatures.keys.filter {
                $0.hasSuffix("_response") || $0.hasSuffix("::notify_agents_ready")
            }
        )
        names.formUnion(ClusterKitControllerAPI.catalog.signatures.keys.filter { $0.hasSuffix("_response") })
        names.insert("Management::Supervisor::API::notify_node_exit")
        return names
    }()

    /// A fresh node token: 32 bytes from the system's cryptographically secure random source, as 64 lower-case
    /// hexadecimal digits.
    ///
    /// - Returns: The token.
    public static func makeNodeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            for shift in stride(from: 60, through: 0, by: -4) {
                text.append(digits[Int((word >> UInt64(shift)) & 0xf)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The hub the clients' endpoints join.
    public let hub: InMemoryBackend.Hub
    /// The options.
    public let options: Options
    /// The server's node id (see ``Options/nodeID``).
    public let nodeID: String
    private let server: WebSocketServer
    /// Whether ``Options/nodeToken`` is set: read for every client event.
    private let hasNodeToken: Bool
    private let clock: any Clock<Duration>
    private let log: (@Sendable (String) -> Void)?
    private let state = Mutex(State())

    private struct State {
        var nextNumber = 0
        var clients: [Int: Client] = [:]
        var diagnostics = Diagnostics()
    }

    /// Starts listening; call ``run()`` to serve the clients.
    ///
    /// - Parameters:
    ///   - hub: The hub every client's endpoint joins.
    ///   - options: Address, limits, identity, node token and the event catalog.
    ///   - clock: The clock of the subscription and publication time limits; default `ContinuousClock()`.
    ///   - log: Gets one line per client that passed the path and name checks: when its subscriptions are
    ///     active, `WebSocket client '<id>' (<ip>:<port>) application_name=<name> subscribed to [<topics>]`,
    ///     and when it is gone, `WebSocket client '<id>' (<ip>:<port>) application_name=<name> gone with
    ///     code <code>` plus ` and reason '<reason>'` when there is one — the wording of Zeek's `cluster.log`
    ///     (` application_name=…` only when the client sent the header); and one line per connection refused
    ///     over its limit, `WebSocket client '<id>' (<ip>:<port>) refused: too many clients (limit 100)`.
    /// - Throws: ``WebSocketError`` when the address cannot be listened on (`invalidAddress`, `addressInUse`,
    ///   `ioError`).
    public init(
        hub: InMemoryBackend.Hub,
        options: Options = .standard,
        clock: any Clock<Duration> = ContinuousClock(),
        log: (@Sendable (String) -> Void)? = nil
    ) throws {
        self.hub = hub
        var options = options
        options.clientLimit = min(max(options.clientLimit, 0), Self.limitRange.upperBound)
        options.nodeLimit = min(max(options.nodeLimit, 0), Self.limitRange.upperBound)
        options.webSocket.maximumConnections = options.clientLimit + options.nodeLimit + Self.connectionHeadroom
        self.options = options
        self.nodeID = options.nodeID ?? UUID().uuidString.lowercased()
        self.hasNodeToken = options.nodeToken != nil
        self.clock = clock
        self.log = log
        self.server = try WebSocketServer(options: options.webSocket)
    }

    /// The range client and node limits are kept in.
    static let limitRange = 0...1_000_000

    /// The port the server listens on (the ephemeral one when the options asked for 0).
    public var port: Int { server.port }

    /// The address literal the server listens on.
    public var host: String { server.host }

    /// The URL clients connect to, as in `ws://127.0.0.1:27759/v1/messages/json`.
    public var url: String {
        let host = server.host.contains(":") ? "[\(server.host)]" : server.host
        return "ws://\(host):\(server.port)\(Self.path)"
    }

    /// The clients whose subscriptions are active, in connection order.
    public var clients: [Client] {
        state.withLock { state in state.clients.sorted { $0.key < $1.key }.map(\.value) }
    }

    /// The server's counters.
    public var diagnostics: Diagnostics { state.withLock { $0.diagnostics } }

    /// Accepts and serves clients, each in a child task, until the task is cancelled or ``shutdown()`` is
    /// called; then closes every connection with 1001 `Terminating` and returns once every client is gone.
    ///
    /// Call it once. Connections that arrive before it runs wait in the accept queue.
    public func run() async {
        await withDiscardingTaskGroup { group in
            while let connection = try? await server.accept() {
                group.addTask { await self.serve(connection) }
            }
            // The server shut down (accept gave nil) or the task was cancelled (accept threw): either way
            // every connection gets 1001 `Terminating`, and the children finish once their clients are gone.
            await server.shutdown()
        }
    }

    /// Stops listening and closes every connection with 1001 `Terminating`, then waits until every socket is
    /// closed; ``run()`` returns after its clients are gone.
    public func shutdown() async {
        await server.shutdown()
    }

    // MARK: - One client

    private static let noTopic = Broker.ErrorMessage(
        code: "deserialization_failed",
        context: "no topic in top-level JSON object"
    )
    private static let notDecodable = Broker.ErrorMessage(
        code: "deserialization_failed",
        context: "failed to decode JSON object"
    )
    private static let notAnEvent = Broker.ErrorMessage(
        code: "deserialization_failed",
        context: "failed to create Zeek event"
    )
    /// The close code of a connection over its class's limit: 1013, try again later.
    static let tryAgainLater = WebSocketCloseCode(rawValue: 1013)
    /// The reason of the close of a client whose hub inbox overflowed.
    static let queueFullReason = "event queue full"

    private func serve(_ connection: WebSocketConnection) async {
        let number = state.withLock { state in
            defer { state.nextNumber += 1 }
            return state.nextNumber
        }
        let endpointID = "\(nodeID)-websocket-\(number)"
        guard connection.requestPath == Self.path else {
            await reject(connection, code: "invalid_uri", context: "Invalid URI - use \(Self.path)")
            return
        }
        let applicationName = connection.requestHeaders["X-Application-Name"]
        if let applicationName, !Self.isValidApplicationName(applicationName) {
            await reject(connection, code: "invalid_application_name", context: "Invalid X-Application-Name")
            return
        }
        var peer = "'\(endpointID)' (\(connection.remoteAddress):\(connection.remotePort))"
        if let applicationName { peer += " application_name=\(applicationName)" }
        let isNode =
            options.nodeToken.map { Self.isNodeToken(connection.requestHeaders[Self.nodeTokenHeader], $0) }
            ?? false
        guard admit(isNode: isNode) else {
            let context =
                isNode
                ? "too many nodes (limit \(options.nodeLimit)), try again later"
                : "too many clients (limit \(options.clientLimit)), try again later"
            log?("WebSocket client \(peer) refused: \(context)")
            try? await connection.send(.error(Broker.ErrorMessage(code: "connection_limit", context: context)))
            await connection.close(code: Self.tryAgainLater, reason: context)
            return
        }

        let (overflows, overflowed) = AsyncStream<Void>.makeStream()
        let endpoint = hub.makeClientEndpoint(name: endpointID, nodeID: endpointID) { overflowed.yield() }
        let ending = await serve(
            connection,
            number: number,
            endpoint: endpoint,
            peer: peer,
            applicationName: applicationName,
            isNode: isNode,
            overflows: overflows
        )

        state.withLock { _ = $0.clients.removeValue(forKey: number) }
        await endpoint.close()
        switch ending {
        case .overflowed:
            await connection.close(code: .policyViolation, reason: Self.queueFullReason)
        case .other:
            // Closes with 1001 when the server is stopping (this task was cancelled); otherwise the connection
            // is closing or closed already and this only waits for the socket.
            await connection.close(code: .goingAway, reason: "Terminating")
        }
        // The slot is free once the socket is closed, before the line that says the client is gone.
        release(isNode: isNode)
        let info =
            connection.closeInfo
            ?? WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .peer, wasClean: false)
        log?("WebSocket client \(peer) gone with \(info.codeAndReason)")
    }

    /// How serving a client ended.
    private enum Ending {
        /// Its hub inbox overflowed.
        case overflowed
        /// It left, the server stopped, or the subscriptions never came.
        case other
    }

    /// Counts a connection in its class, unless the class is at its limit.
    private func admit(isNode: Bool) -> Bool {
        state.withLock { state in
            if isNode {
                guard state.diagnostics.nodes < options.nodeLimit else {
                    state.diagnostics.refusedNodes += 1
                    return false
                }
                state.diagnostics.nodes += 1
            } else {
                guard state.diagnostics.clients < options.clientLimit else {
                    state.diagnostics.refusedClients += 1
                    return false
                }
                state.diagnostics.clients += 1
            }
            return true
        }
    }

    private func release(isNode: Bool) {
        state.withLock { state in
            if isNode { state.diagnostics.nodes -= 1 } else { state.diagnostics.clients -= 1 }
        }
    }

    private func count(_ counter: WritableKeyPath<Diagnostics, Int>) {
        state.withLock { $0.diagnostics[keyPath: counter] += 1 }
    }

    private func serve(
        _ connection: WebSocketConnection,
        number: Int,
        endpoint: InMemoryBackend,
        peer: String,
        applicationName: String?,
        isNode: Bool,
        overflows: AsyncStream<Void>
    ) async -> Ending {
        let topics: [String]
        switch await awaitSubscriptions(on: connection) {
        case .subscribed(let subscribed):
            topics = subscribed
        case .closed:
            return .other
        case .timedOut:
            count(\.subscriptionTimeouts)
            await reject(connection, code: "subscription_timeout", context: subscriptionTimeoutText)
            return .other
        }
        do {
            for topic in topics { try await endpoint.subscribe(Topic(topic)) }
            try await endpoint.connect()
        } catch {
            return .other
        }
        let client = Client(
            endpoint: endpoint.nodeID,
            remoteAddress: connection.remoteAddress,
            remotePort: connection.remotePort,
            applicationName: applicationName,
            subscriptions: topics,
            isNode: isNode
        )
        state.withLock { $0.clients[number] = client }
        log?("WebSocket client \(peer) subscribed to [\(topics.joined(separator: ", "))]")
        do {
            try await connection.send(.ack(Broker.Ack(endpoint: endpoint.nodeID, version: options.version)))
        } catch {
            return .other
        }
        let ending = await withTaskGroup(of: Ending?.self) { group in
            group.addTask {
                await self.forwardEvents(of: endpoint, to: connection)
                return nil
            }
            group.addTask {
                await self.publishFrames(of: connection, through: endpoint, isNode: isNode)
                return nil
            }
            group.addTask {
                // The forwarder may be waiting for room in the send queue: close at once rather than when it wakes.
                for await _ in overflows {
                    await connection.close(code: .policyViolation, reason: Self.queueFullReason)
                    return .overflowed
                }
                return nil
            }
            // Whichever side ends first (the client left, a send failed, the inbox overflowed) ends the others.
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if ending == .overflowed || endpoint.hasOverflowed {
            count(\.closedForFullQueue)
            return .overflowed
        }
        return .other
    }

    private var subscriptionTimeoutText: String {
        "no subscriptions within \(options.subscriptionTimeout?.textForPeople ?? "the time limit")"
    }

    /// What the subscription phase gave.
    private enum SubscriptionPhase: Sendable {
        case subscribed([String])
        /// The client left, or the server is stopping.
        case closed
        /// No valid subscription frame in time.
        case timedOut
    }

    /// Reads the subscription frame within the subscription timeout.
    ///
    /// A frame that is not a valid subscription array gets its error frame; the connection then stays open and
    /// its later frames are read and dropped (Zeek queues them for an ack that cannot come) until the client
    /// leaves or the time is up. A frame over the subscription limits gets its error frame and close 1008.
    private func awaitSubscriptions(on connection: WebSocketConnection) async -> SubscriptionPhase {
        let read: @Sendable () async -> SubscriptionPhase = {
            do {
                guard let first = try await connection.receive() else { return .closed }
                switch Self.subscriptions(in: first) {
                case .success(let subscriptions):
                    return .subscribed(subscriptions)
                case .failure(let error) where error.code == "subscription_limit":
                    await self.reject(connection, code: error.code, context: error.context)
                    return .closed
                case .failure(let error):
                    try await connection.send(.error(error))
                    while try await connection.receive() != nil {}
                    return .closed
                }
            } catch {
                return .closed
            }
        }
        guard let limit = options.subscriptionTimeout else { return await read() }
        let clock = self.clock
        return await withTaskGroup(of: SubscriptionPhase?.self) { group in
            group.addTask { await read() }
            group.addTask {
                do {
                    try await clock.sleep(for: limit)
                } catch {
                    return nil
                }
                return .timedOut
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                if let next { return next }
            }
            return .closed
        }
    }

    /// Sends the error frame, then closes with 1008 and the same text, as Zeek does for a wrong path or name.
    private func reject(_ connection: WebSocketConnection, code: String, context: String) async {
        try? await connection.send(.error(Broker.ErrorMessage(code: code, context: context)))
        await connection.close(code: .policyViolation, reason: context)
    }

    /// Hub → client: every event for the client's endpoint, as a data message.
    private func forwardEvents(of endpoint: InMemoryBackend, to connection: WebSocketConnection) async {
        do {
            for try await received in endpoint.events {
                try await connection.send(
                    utf8Text: BrokerJSONEncoder.dataMessage(received.event, topic: received.topic.name)
                )
            }
        } catch {
            return
        }
    }

    /// Client → hub: each frame in order; a bad one gets an error frame and the next one is read.
    private func publishFrames(
        of connection: WebSocketConnection,
        through endpoint: InMemoryBackend,
        isNode: Bool
    ) async {
        do {
            while let message = try await connection.receive() {
                if let error = await publish(message, through: endpoint, isNode: isNode) {
                    try await connection.send(.error(error))
                }
            }
        } catch {
            return
        }
    }

    /// Publishes one client frame; returns the error frame to answer with, if any.
    private func publish(
        _ message: WebSocketMessage,
        through endpoint: InMemoryBackend,
        isNode: Bool
    ) async -> Broker.ErrorMessage? {
        if let (topic, event) = message.compactEvent() {
            return await publish(event, on: topic, size: message.byteCount, through: endpoint, isNode: isNode)
        }
        let decoded: Broker.Message
        do {
            decoded = try message.brokerMessage()
        } catch let error as JSONError where error.message == Self.noTopic.context {
            return Self.noTopic
        } catch {
            return Self.notDecodable
        }
        guard case .data(let data) = decoded else { return Self.notDecodable }
        guard let event = try? Broker.Event(data.value) else { return Self.notAnEvent }
        return await publish(event, on: data.topic, size: message.byteCount, through: endpoint, isNode: isNode)
    }

    private func publish(
        _ event: Broker.Event,
        on topic: String,
        size: Int,
        through endpoint: InMemoryBackend,
        isNode: Bool
    ) async -> Broker.ErrorMessage? {
        if hasNodeToken, let refusal = permission(for: event.name, isNode: isNode) {
            count(\.refusedEvents)
            return refusal
        }
        if let catalog = options.catalog, catalog.check(event) != nil { return Self.notAnEvent }
        let published = TopicEvent(topic: Topic(topic), event: event)
        do {
            guard let reason = try endpoint.tryPublish(published, size: size) else { return nil }
            if try await publishWhenRoom(published, size: size, through: endpoint) { return nil }
            count(\.publishTimeouts)
            return Broker.ErrorMessage(
                code: "broker_error",
                context:
                    "\(Self.notProcessed(topic)): \(reason) stayed full for \(options.publishTimeout.textForPeople)"
            )
        } catch {
            return Broker.ErrorMessage(code: "broker_error", context: Self.notProcessed(topic))
        }
    }

    /// Zeek's context of a `broker_error`: `Could not process remote event on topic '<topic>'`.
    private static func notProcessed(_ topic: String) -> String {
        "Could not process remote event on topic '\(topic)'"
    }

    /// Waits for room for a client's event at most ``Options/publishTimeout``; returns whether it was delivered.
    private func publishWhenRoom(
        _ event: TopicEvent,
        size: Int,
        through endpoint: InMemoryBackend
    ) async throws -> Bool {
        let clock = self.clock
        let limit = options.publishTimeout
        return try await withThrowingTaskGroup(of: Bool?.self) { group in
            group.addTask {
                try await endpoint.publishWhenRoom(event, size: size)
                return true
            }
            group.addTask {
                do {
                    try await clock.sleep(for: limit)
                } catch {
                    return nil
                }
                return false
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let next { return next }
            }
            throw CancellationError()
        }
    }

    /// The error frame for an event the connection may not publish, or `nil` when it may.
    private func permission(for name: String, isNode: Bool) -> Broker.ErrorMessage? {
        if options.inProcessOnlyEvents.contains(name) {
            return Broker.ErrorMessage(
                code: "not_permitted",
                context: "event '\(name)' may only be published inside the controller"
            )
        }
        if !isNode, options.nodeOnlyEvents.contains(name) {
            return Broker.ErrorMessage(
                code: "not_permitted",
                context: "event '\(name)' may only be published by the cluster's nodes"
            )
        }
        return nil
    }

    // MARK: - Checks

    /// Whether a name has only Zeek's allowed bytes `[-/_.=:*@a-zA-Z0-9]` (an empty name passes, as in Zeek).
    static func isValidApplicationName(_ name: String) -> Bool {
        name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            case UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "="),
                UInt8(ascii: ":"), UInt8(ascii: "*"), UInt8(ascii: "@"):
                true
            default:
                false
            }
        }
    }

    /// Whether `sent` is the node token, compared in constant time (for a given token length).
    static func isNodeToken(_ sent: String?, _ token: String) -> Bool {
        guard let sent else { return false }
        let sentBytes = Array(sent.utf8)
        let tokenBytes = Array(token.utf8)
        var difference = UInt8(sentBytes.count == tokenBytes.count ? 0 : 1)
        for index in tokenBytes.indices {
            difference |= tokenBytes[index] ^ (index < sentBytes.count ? sentBytes[index] : 0)
        }
        return difference == 0 && !tokenBytes.isEmpty
    }

    /// What a subscription frame held.
    enum SubscriptionFrame: Equatable {
        /// The topic prefixes.
        case success([String])
        /// The error frame to answer with.
        case failure(Broker.ErrorMessage)
    }

    /// Reads the subscription frame as Zeek does.
    ///
    /// Anything that does not parse as a JSON array (invalid JSON included) is "not an array". Prefixes come
    /// back sorted by bytes and without duplicates, as Zeek keeps them. More than ``maximumSubscriptions``
    /// prefixes, or one longer than ``maximumSubscriptionLength`` bytes, is a `subscription_limit` failure.
    static func subscriptions(in message: WebSocketMessage) -> SubscriptionFrame {
        guard case .array(let elements)? = try? JSONValue.parse(message.textContent) else {
            return .failure(Broker.ErrorMessage(code: "deserialization_failed", context: "subscriptions not an array"))
        }
        var topics: Set<Topic> = []
        for element in elements {
            guard case .string(let topic) = element else {
                return .failure(
                    Broker.ErrorMessage(code: "deserialization_failed", context: "individual subscription not a string")
                )
            }
            guard topic.utf8.count <= maximumSubscriptionLength else {
                return .failure(
                    Broker.ErrorMessage(
                        code: "subscription_limit",
                        context: "subscription longer than \(maximumSubscriptionLength) bytes"
                    )
                )
            }
            topics.insert(Topic(topic))
        }
        guard topics.count <= maximumSubscriptions else {
            return .failure(
                Broker.ErrorMessage(
                    code: "subscription_limit",
                    context: "more than \(maximumSubscriptions) subscriptions"
                )
            )
        }
        return .success(topics.sorted().map(\.name))
    }
}

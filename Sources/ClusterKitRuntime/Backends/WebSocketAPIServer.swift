import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
import Foundation

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
/// full in-process inbox, or from a client with ``Options/maxEventQueueSize`` events waiting in in-process inboxes
/// (Zeek's `max_event_queue_size`), waits for room (at most ``Options/publishTimeout``), and meanwhile the
/// connection's receive queue (``WebSocketConnection/Options/receiveQueueLimit``) fills and TCP slows the client
/// down. Clients that do not answer pings are dropped (close 1011).
///
/// **Nodes and clients.** With a ``Options/nodeToken``, a connection whose upgrade request carries it in
/// ``nodeTokenHeader`` is one of the cluster's nodes; any other is a client. Clients may then not publish the
/// events only nodes send (``Options/nodeOnlyEvents``: node dispatch responses, node hellos, Control framework
/// responses) nor those only in-process participants send (``Options/inProcessOnlyEvents``: the agent API,
/// the controller's responses); such an event gets a `not_permitted` error frame and the connection stays open.
/// Without a token every connection is a client and every event is allowed, as with Zeek.
public final class WebSocketAPIServer: Sendable {
    /// The only path served.
    public static let path = "/v1/messages/json"

    /// The connections the RFC layer admits beyond ``Options/clientLimit`` + ``Options/nodeLimit``: 64, for
    /// upgrades under way and connections being refused, so that a refusal is this server's error frame and
    /// close 1013 rather than the RFC layer's HTTP 503.
    public static let connectionHeadroom = 64

    /// The hub the clients' endpoints join.
    public let hub: InMemoryBackend.Hub
    /// The options.
    public let options: Options
    /// The server's node id (see ``Options/nodeID``).
    public let nodeID: String
    private let server: WebSocketServer
    /// Whether ``Options/nodeToken`` is set: read for every client event.
    let hasNodeToken: Bool
    let clock: any Clock<Duration>
    private let log: (@Sendable (String) -> Void)?
    /// The hub's cluster log (Zeek's `cluster.log`), which gets the same client lines as `log`; membership
    /// writes its hello and node-down lines there too.
    public let clusterLog: ClusterLog?
    private let state = Guarded(State())

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
    ///     over its limit, `WebSocket client '<id>' (<ip>:<port>) refused: too many clients (limit 100)`; and, while
    ///     ``run()`` runs, one line per connection the WebSocket layer answered with an HTTP error
    ///     (``WebSocketServer/Refusal``): `WebSocket client (<ip>:<port>) refused with 400 Bad Request: TLS handshake
    ///     on a server without TLS: connect with ws://, not wss://`.
    ///   - clusterLog: Gets the same lines as `log`, as `cluster.log` lines; default none.
    /// - Throws: ``WebSocketError`` when the address cannot be listened on (`invalidAddress`, `addressInUse`,
    ///   `ioError`).
    public init(
        hub: InMemoryBackend.Hub,
        options: Options = .standard,
        clock: any Clock<Duration> = ContinuousClock(),
        log: (@Sendable (String) -> Void)? = nil,
        clusterLog: ClusterLog? = nil
    ) throws {
        self.hub = hub
        self.clusterLog = clusterLog
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

    /// The URL clients connect to, as in `ws://127.0.0.1:27759/v1/messages/json` (`wss://` with TLS).
    public var url: String {
        let host = server.host.contains(":") ? "[\(server.host)]" : server.host
        let scheme = options.webSocket.tls.isEnabled ? "wss" : "ws"
        return "\(scheme)://\(host):\(server.port)\(Self.path)"
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
            if let log {
                // Connections the RFC layer answered with an HTTP error (a TLS handshake on a plain server, a
                // missing token, another local user): one line each. Ends when the server shuts down.
                group.addTask {
                    while let refusal = await self.server.nextRefusal() { log(refusal.description) }
                }
            }
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
            record("WebSocket client \(peer) refused: \(context)")
            try? await connection.send(.error(Broker.ErrorMessage(code: "connection_limit", context: context)))
            await connection.close(code: Self.tryAgainLater, reason: context)
            return
        }

        let (overflows, overflowed) = AsyncStream<Void>.makeStream()
        // Only the cluster's nodes take part in membership (when the hub tells nodes from clients at all).
        let endpoint = hub.makeClientEndpoint(
            name: endpointID,
            nodeID: endpointID,
            isMember: isNode || options.nodeToken == nil,
            eventQueueLimit: options.maxEventQueueSize
        ) { overflowed.yield() }
        endpoint.setRemoteAddress(Broker.Address(connection.remoteAddress))
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
        record("WebSocket client \(peer) gone with \(info.codeAndReason)")
    }

    /// Hands a client line to the log and the cluster log.
    private func record(_ line: String) {
        log?(line)
        clusterLog?.write(line)
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

    func count(_ counter: WritableKeyPath<Diagnostics, Int>) {
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
        record("WebSocket client \(peer) subscribed to [\(topics.joined(separator: ", "))]")
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

    /// Sends the error frame, then closes with 1008 and the same text, as Zeek does for a wrong path or name.
    func reject(_ connection: WebSocketConnection, code: String, context: String) async {
        try? await connection.send(.error(Broker.ErrorMessage(code: code, context: context)))
        await connection.close(code: .policyViolation, reason: context)
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
}

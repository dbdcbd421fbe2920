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
/// Limits: at most 100 connections (``WebSocketServer/Options/maximumConnections``); per client, events
/// from the hub wait in the endpoint's inbox (``InMemoryBackend/Hub/inboxLimit``, then they are dropped and
/// counted in ``InMemoryBackend/Hub/slowConsumers``) and in the connection's send queue
/// (``WebSocketConnection/Options/sendQueueLimit``); a client that stops reading until the send queue has
/// been full for ``WebSocketConnection/Options/sendQueueTimeout`` is closed with 1008 `send queue full`,
/// without slowing anyone else. Frames from a client are handled one at a time, in order, by that client's
/// task; while it is busy the connection's receive queue (``WebSocketConnection/Options/receiveQueueLimit``)
/// fills and TCP slows the client down. Clients that do not answer pings are dropped (close 1011).
public final class WebSocketAPIServer: Sendable {
    /// How a server listens and answers.
    public struct Options: Sendable, Hashable {
        /// Where to listen, and the WebSocket limits and timers (default ``WebSocketServer/Options/standard``:
        /// `127.0.0.1:27759`, 100 connections, pings every 5 s).
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

        /// Creates options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - webSocket: Listening address, limits and timers.
        ///   - nodeID: The server's node id, or `nil` for a fresh UUID.
        ///   - version: The version the ack reports.
        ///   - catalog: The declared events, or `nil` to forward everything.
        public init(
            webSocket: WebSocketServer.Options = .standard,
            nodeID: String? = nil,
            version: String = WebSocketAPIServer.Options.defaultVersion,
            catalog: EventCatalog? = nil
        ) {
            self.webSocket = webSocket
            self.nodeID = nodeID
            self.version = version
            self.catalog = catalog
        }

        /// The default ack version, `clusterkit/<ClusterKit's version>`: honest about who answers, and never
        /// mistaken for a Zeek version.
        public static let defaultVersion = "clusterkit/" + ClusterKitVersion.current

        /// The defaults: `127.0.0.1:27759`, a fresh node id, no catalog.
        public static let standard = Options()
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

        /// Creates a client description.
        ///
        /// - Parameters:
        ///   - endpoint: The endpoint id.
        ///   - remoteAddress: The IP address.
        ///   - remotePort: The TCP port.
        ///   - applicationName: The `X-Application-Name`, or `nil`.
        ///   - subscriptions: The topic prefixes.
        public init(
            endpoint: String,
            remoteAddress: String,
            remotePort: Int,
            applicationName: String?,
            subscriptions: [String]
        ) {
            self.endpoint = endpoint
            self.remoteAddress = remoteAddress
            self.remotePort = remotePort
            self.applicationName = applicationName
            self.subscriptions = subscriptions
        }
    }

    /// The only path served.
    public static let path = "/v1/messages/json"

    /// The hub the clients' endpoints join.
    public let hub: InMemoryBackend.Hub
    /// The options.
    public let options: Options
    /// The server's node id (see ``Options/nodeID``).
    public let nodeID: String
    private let server: WebSocketServer
    private let log: (@Sendable (String) -> Void)?
    private let state = Mutex(State())

    private struct State {
        var nextNumber = 0
        var clients: [Int: Client] = [:]
    }

    /// Starts listening; call ``run()`` to serve the clients.
    ///
    /// - Parameters:
    ///   - hub: The hub every client's endpoint joins.
    ///   - options: Address, limits, identity and the event catalog.
    ///   - log: Gets one line per client that passed the path and name checks: when its subscriptions are
    ///     active, `WebSocket client '<id>' (<ip>:<port>) application_name=<name> subscribed to [<topics>]`,
    ///     and when it is gone, `WebSocket client '<id>' (<ip>:<port>) application_name=<name> gone with
    ///     code <code>` plus ` and reason '<reason>'` when there is one — the wording of Zeek's `cluster.log`
    ///     (` application_name=…` only when the client sent the header).
    /// - Throws: ``WebSocketError`` when the address cannot be listened on (`invalidAddress`, `addressInUse`,
    ///   `ioError`).
    public init(
        hub: InMemoryBackend.Hub,
        options: Options = .standard,
        log: (@Sendable (String) -> Void)? = nil
    ) throws {
        self.hub = hub
        self.options = options
        self.nodeID = options.nodeID ?? UUID().uuidString.lowercased()
        self.log = log
        self.server = try WebSocketServer(options: options.webSocket)
    }

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
        let endpoint = hub.makeBackend(name: endpointID, nodeID: endpointID)
        var peer = "'\(endpointID)' (\(connection.remoteAddress):\(connection.remotePort))"
        if let applicationName { peer += " application_name=\(applicationName)" }

        await serve(connection, number: number, endpoint: endpoint, peer: peer, applicationName: applicationName)

        state.withLock { _ = $0.clients.removeValue(forKey: number) }
        await endpoint.close()
        // Closes with 1001 when the server is stopping (this task was cancelled); otherwise the connection
        // is closing or closed already and this only waits for the socket.
        await connection.close(code: .goingAway, reason: "Terminating")
        let info =
            connection.closeInfo
            ?? WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .peer, wasClean: false)
        log?("WebSocket client \(peer) gone with \(info.codeAndReason)")
    }

    private func serve(
        _ connection: WebSocketConnection,
        number: Int,
        endpoint: InMemoryBackend,
        peer: String,
        applicationName: String?
    ) async {
        let topics: [String]
        do {
            guard let first = try await connection.receive() else { return }
            switch Self.subscriptions(in: first) {
            case .success(let subscriptions):
                topics = subscriptions
            case .failure(let error):
                try await connection.send(.error(error))
                // Zeek never acknowledges such a client and never looks at its later frames (it queues them
                // for an ack that cannot come); this server reads and drops them, so memory stays bounded.
                while try await connection.receive() != nil {}
                return
            }
            for topic in topics { try await endpoint.subscribe(Topic(topic)) }
            try await endpoint.connect()
        } catch {
            return
        }
        let client = Client(
            endpoint: endpoint.nodeID,
            remoteAddress: connection.remoteAddress,
            remotePort: connection.remotePort,
            applicationName: applicationName,
            subscriptions: topics
        )
        state.withLock { $0.clients[number] = client }
        log?("WebSocket client \(peer) subscribed to [\(topics.joined(separator: ", "))]")
        do {
            try await connection.send(.ack(Broker.Ack(endpoint: endpoint.nodeID, version: options.version)))
        } catch {
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.forwardEvents(of: endpoint, to: connection) }
            group.addTask { await self.publishFrames(of: connection, through: endpoint) }
            // Whichever side ends first (the client left, a send failed) ends the other.
            await group.next()
            group.cancelAll()
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
    private func publishFrames(of connection: WebSocketConnection, through endpoint: InMemoryBackend) async {
        do {
            while let message = try await connection.receive() {
                if let error = await publish(message, through: endpoint) {
                    try await connection.send(.error(error))
                }
            }
        } catch {
            return
        }
    }

    /// Publishes one client frame; returns the error frame to answer with, if any.
    private func publish(_ message: WebSocketMessage, through endpoint: InMemoryBackend) async -> Broker.ErrorMessage? {
        if let (topic, event) = message.compactEvent() {
            return await publish(event, on: topic, through: endpoint)
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
        return await publish(event, on: data.topic, through: endpoint)
    }

    private func publish(
        _ event: Broker.Event,
        on topic: String,
        through endpoint: InMemoryBackend
    ) async -> Broker.ErrorMessage? {
        if let catalog = options.catalog, catalog.check(event) != nil { return Self.notAnEvent }
        do {
            try await endpoint.publish(event, to: Topic(topic))
        } catch {
            return Broker.ErrorMessage(
                code: "broker_error",
                context: "Could not process remote event on topic '\(topic)'"
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
    /// back sorted by bytes and without duplicates, as Zeek keeps them.
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
            topics.insert(Topic(topic))
        }
        return .success(topics.sorted().map(\.name))
    }
}

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port that is bound but not listening: connecting to it is refused for as long as this
/// object lives, and no other test can take the port meanwhile (a closed server's port can be reused at once).
final class RefusingPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw RawPeerError(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(descriptor)
            throw RawPeerError(description: "bind failed: \(errno)")
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        Glibc.close(descriptor)
    }
}

/// The log lines a server or backend wrote: waited for in order, or looked at without waiting.
final class LogLines: Sendable {
    private let lines = Guarded<[String]>([])
    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    init() {
        (stream, continuation) = AsyncStream<String>.makeStream()
    }

    /// The sink to hand to the server or backend.
    var sink: @Sendable (String) -> Void {
        { line in self.append(line) }
    }

    private func append(_ line: String) {
        lines.withLock { $0.append(line) }
        continuation.yield(line)
    }

    /// Every line so far.
    var all: [String] { lines.withLock { $0 } }

    /// Waits for the next line containing `text`; lines before it are passed over.
    @discardableResult
    func next(containing text: String) async -> String? {
        for await line in stream where line.contains(text) { return line }
        return nil
    }
}

/// Runs `body` against a ``WebSocketAPIServer`` on an ephemeral loopback port whose node id is `node-1`,
/// serving it meanwhile; shuts it down afterwards.
///
/// The limits and the node token are the server's options.
func withAPIServer<Value: Sendable>(
    hub: InMemoryBackend.Hub = InMemoryBackend.Hub(),
    catalog: EventCatalog? = nil,
    log: LogLines? = nil,
    clock: any Clock<Duration> = ContinuousClock(),
    clientLimit: Int = 100,
    nodeLimit: Int = 4_096,
    nodeToken: String? = nil,
    maxEventQueueSize: Int = 32,
    configure: (inout WebSocketServer.Options) -> Void = { _ in },
    _ body: (WebSocketAPIServer) async throws -> Value
) async throws -> Value {
    var webSocket = WebSocketServer.Options(port: 0)
    configure(&webSocket)
    var serverOptions = WebSocketAPIServer.Options(webSocket: webSocket, nodeID: "node-1", catalog: catalog)
    (serverOptions.clientLimit, serverOptions.nodeLimit, serverOptions.nodeToken) = (clientLimit, nodeLimit, nodeToken)
    serverOptions.maxEventQueueSize = maxEventQueueSize
    let server = try WebSocketAPIServer(hub: hub, options: serverOptions, clock: clock, log: log?.sink)
    async let running: Void = server.run()
    do {
        let value = try await body(server)
        await server.shutdown()
        await running
        return value
    } catch {
        await server.shutdown()
        await running
        throw error
    }
}

/// Opens a plain WebSocket connection to the server, as a hand-written client would.
func connectRaw(
    _ server: WebSocketAPIServer,
    path: String = WebSocketAPIServer.path,
    applicationName: String? = nil,
    nodeToken: String? = nil
) async throws -> WebSocketConnection {
    var headers = WebSocketHeaders()
    if let applicationName { headers.append(name: "X-Application-Name", value: applicationName) }
    if let nodeToken { headers.append(name: WebSocketAPIServer.nodeTokenHeader, value: nodeToken) }
    return try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)\(path)", headers: headers)
}

/// Opens a plain connection, subscribes, and returns it with the ack's text.
func subscribeRaw(
    _ server: WebSocketAPIServer,
    _ topics: [String],
    applicationName: String? = nil,
    nodeToken: String? = nil
) async throws -> (WebSocketConnection, String) {
    let connection = try await connectRaw(server, applicationName: applicationName, nodeToken: nodeToken)
    try await connection.send(text: Broker.JSON.encodeSubscriptions(topics))
    let ack = try #require(try await connection.receive()?.text)
    return (connection, ack)
}

/// The text of a data message carrying an event.
func dataFrame(_ topic: String, _ event: Broker.Event) -> String {
    Broker.JSON.encode(.data(Broker.DataMessage(topic: topic, event: event)))
}

/// A small test event.
func ping(_ number: UInt64, _ name: String = "X::ping") -> Broker.Event {
    Broker.Event(name, [.count(number)])
}

/// The next event a raw connection receives.
func receiveEvent(_ connection: WebSocketConnection) async throws -> TopicEvent? {
    guard let message = try await connection.receive() else { return nil }
    guard case .data(let data) = try message.brokerMessage() else {
        throw RawPeerError(description: "expected a data message, got \(message.textContent)")
    }
    return TopicEvent(topic: Topic(data.topic), event: try data.event())
}

/// The next event of a backend's stream.
func nextEvent(_ backend: some ClusterBackend) async throws -> TopicEvent? {
    var iterator = backend.events.makeAsyncIterator()
    return try await iterator.next()
}

/// An in-process hub participant subscribed to `prefixes`.
func participant(_ hub: InMemoryBackend.Hub, _ name: String, _ prefixes: [Topic]) async throws -> InMemoryBackend {
    let backend = hub.makeBackend(name: name)
    for prefix in prefixes { try await backend.subscribe(prefix) }
    try await backend.connect()
    return backend
}

/// The next error frame a raw connection receives, skipping nothing: anything else fails the test.
func receiveError(_ connection: WebSocketConnection) async throws -> Broker.ErrorMessage? {
    guard let message = try await connection.receive() else { return nil }
    guard case .error(let error) = try message.brokerMessage() else {
        throw RawPeerError(description: "expected an error frame, got \(message.textContent)")
    }
    return error
}

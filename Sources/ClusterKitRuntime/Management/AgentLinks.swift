public import ClusterKitModel
import ClusterKitWebSocket

/// A controller's connections to the agents that listen for it (`zeekctl agent --listen`), one
/// `AgentLinkStateMachine` each, and the relay that joins each agent's hub to the controller's.
///
/// A controller with remote agents connects to every instance of a deployed configuration that has an address and
/// a port (the INI's `agent-x = 10.0.0.2:2151`), as Zeek's controller peers with them. Over the link the two hubs
/// share the agent's topic (`zeek/management/agent/<instance>`) and nothing else: the controller's requests go to
/// the agent, its hello and responses come back, published on the controller's hub by an endpoint whose address is
/// the instance's (so `get-instances` shows it). The link presents the node token, reconnects after a loss and
/// retries a failed attempt with back-off for as long as it runs; each attempt is bounded by ``Options/backend``'s
/// connect, handshake and ack limits.
public final class AgentLinks: Sendable {
    /// How links connect.
    public struct Options: Sendable {
        /// The connection's options: timeouts (each bounding an attempt), TLS for `wss://`, application name.
        public var backend: WebSocketBackend.Options
        /// The scheme of the agents' URLs: `ws` (default) or `wss`.
        public var usesTLS: Bool
        /// The wait after a lost connection and the first failed attempt (default 1 s, Zeek's
        /// `Management::connect_retry`).
        public var initialDelay: Duration
        /// The longest wait between attempts (default 30 s).
        public var maximumDelay: Duration

        /// Creates options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - backend: The connection's options; default 5 s each to connect, for the handshake and for the ack,
        ///     as `zeekctl-controller`.
        ///   - usesTLS: Whether to connect with `wss://`.
        ///   - initialDelay: The first wait.
        ///   - maximumDelay: The longest wait.
        public init(
            backend: WebSocketBackend.Options? = nil,
            usesTLS: Bool = false,
            initialDelay: Duration = .seconds(1),
            maximumDelay: Duration = .seconds(30)
        ) {
            self.backend =
                backend
                ?? WebSocketBackend.Options(
                    applicationName: "zeekctl-controller",
                    ackTimeout: .seconds(5),
                    client: WebSocketClient.Options(connectTimeout: .seconds(5), handshakeTimeout: .seconds(5))
                )
            self.usesTLS = usesTLS
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
        }
    }

    private struct Link {
        var url: String
        var stop: AsyncStream<Void>.Continuation
        var phase: AgentLinkStateMachine.Phase = .idle
    }

    private let hub: InMemoryBackend.Hub
    private let nodeToken: String?
    private let options: Options
    private let clock: any Clock<Duration>
    private let log: (@Sendable (String) -> Void)?
    private let spawner = TaskSpawner()
    private let links = Guarded<[String: Link]>([:])

    /// Creates links that join agents to `hub`; nothing connects until ``connect(_:)`` while ``run()`` runs.
    ///
    /// - Parameters:
    ///   - hub: The controller's hub.
    ///   - nodeToken: The node token the links present.
    ///   - options: How links connect.
    ///   - clock: The clock of the waits between attempts.
    ///   - log: Gets a line when a link connects, fails or is lost.
    public init(
        hub: InMemoryBackend.Hub,
        nodeToken: String?,
        options: Options = Options(),
        clock: any Clock<Duration> = ContinuousClock(),
        log: (@Sendable (String) -> Void)? = nil
    ) {
        self.hub = hub
        self.nodeToken = nodeToken
        self.options = options
        self.clock = clock
        self.log = log
    }

    /// The URL of an instance's listening agent, or `nil` for an instance without a port (its agent connects).
    ///
    /// - Parameters:
    ///   - instance: The instance.
    ///   - usesTLS: Whether the URL is `wss://`.
    /// - Returns: `ws://<host>:<port>/v1/messages/json`, IPv6 in brackets.
    public static func url(of instance: Management.Instance, usesTLS: Bool = false) -> String? {
        guard let port = instance.listenPort else { return nil }
        let host = instance.host.description
        let literal = host.contains(":") ? "[\(host)]" : host
        return "\(usesTLS ? "wss" : "ws")://\(literal):\(port.number)\(WebSocketAPIServer.path)"
    }

    /// Links the instances that have a listening port; returns at once.
    ///
    /// An instance linked to the same URL already keeps its link; one whose address or port changed is linked
    /// anew. Instances without a port are left to agents that connect.
    ///
    /// - Parameter instances: The instances of a configuration being deployed.
    public func connect(_ instances: [Management.Instance]) {
        for instance in instances {
            guard let url = Self.url(of: instance, usesTLS: options.usesTLS) else { continue }
            let (stream, continuation) = AsyncStream<Void>.makeStream()
            let replaced = links.withLock { links -> AsyncStream<Void>.Continuation?? in
                if let link = links[instance.name], link.url == url { return .none }
                let old = links[instance.name]?.stop
                links[instance.name] = Link(url: url, stop: continuation)
                return .some(old)
            }
            guard case .some(let old) = replaced else { continue }
            old?.finish()
            spawner.spawn { [self] in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.drive(instance, url: url) }
                    group.addTask { for await _ in stream {} }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Stops every link.
    public func stopAll() {
        let stops = links.withLock { links in
            defer { links.removeAll() }
            return links.values.map(\.stop)
        }
        for stop in stops { stop.finish() }
    }

    /// Where one link stands.
    public struct LinkStatus: Sendable, Hashable {
        /// The agent's URL.
        public var url: String
        /// A Boolean value indicating whether the link is connected (else it is connecting or waiting to).
        public var isConnected: Bool
    }

    /// Each linked instance's link.
    public var status: [String: LinkStatus] {
        links.withLock { $0.mapValues { LinkStatus(url: $0.url, isConnected: $0.phase == .connected) } }
    }

    /// Runs the links until cancelled.
    public func run() async {
        await withTaskCancellationHandler {
            await spawner.run()
        } onCancel: {
            spawner.finish()
        }
    }

    // MARK: - One link

    /// The open connection of a link: the agent's side and the controller's.
    private struct Connection {
        var remote: WebSocketBackend
        var local: InMemoryBackend
    }

    private func drive(_ instance: Management.Instance, url: String) async {
        var machine = AgentLinkStateMachine(
            instance: instance.name,
            url: url,
            initialDelay: options.initialDelay,
            maximumDelay: options.maximumDelay
        )
        var connection: Connection?
        var pending = machine.step(.start)
        while !pending.isEmpty {
            let action = pending.removeFirst()
            var input: AgentLinkStateMachine.Input?
            switch action {
            case .log(let line):
                log?(line)
            case .connect:
                do {
                    connection = try await open(instance, url: url)
                    input = .connected
                } catch {
                    input = .connectFailed(Task.isCancelled ? "cancelled" : "\(error)")
                }
            case .relay:
                if let open = connection {
                    // The relay closes both sides when either ends.
                    input = .connectionLost(await relay(open))
                    connection = nil
                }
            case .wait(let delay):
                do { try await clock.sleep(for: delay) } catch { input = .stop }
                if input == nil { input = .retryDue }
            case .close:
                if let open = connection {
                    await open.remote.close()
                    await open.local.close()
                    connection = nil
                }
            }
            if Task.isCancelled, machine.phase != .stopped { input = .stop }
            if let input { pending += machine.step(input) }
            let phase = machine.phase
            links.withLock { links in
                if links[instance.name]?.url == url { links[instance.name]?.phase = phase }
            }
        }
        if let open = connection {
            await open.remote.close()
            await open.local.close()
        }
    }

    /// Connects to the agent, with the controller's side ready first: the agent says hello as soon as the link
    /// subscribes to its topic.
    private func open(_ instance: Management.Instance, url: String) async throws -> Connection {
        let topic = AgentAPI.topic(instance.name)
        let local = hub.makeBackend(name: "agent-link-\(instance.name)")
        local.setRemoteAddress(instance.host)
        var backendOptions = options.backend
        if let nodeToken { backendOptions.headers.append(name: WebSocketAPIServer.nodeTokenHeader, value: nodeToken) }
        backendOptions.reconnect = nil
        let remote = WebSocketBackend(url: url, options: backendOptions, clock: clock)
        do {
            try await local.subscribe(topic)
            try await local.connect()
            try await remote.subscribe(topic)
            try await remote.connect()
        } catch {
            await remote.close()
            await local.close()
            throw error
        }
        return Connection(remote: remote, local: local)
    }

    /// Publishes what `source` receives on `destination` until `source`'s events end (`ending`) or either fails
    /// (the error's text).
    private static func forward(
        from source: some ClusterBackend,
        to destination: some ClusterBackend,
        ending: String
    ) async -> String {
        do {
            for try await received in source.events {
                try await destination.publish(received.event, to: received.topic)
            }
            return ending
        } catch {
            return "\(error)"
        }
    }

    /// Relays the agent's topic both ways until either side ends; returns why.
    private func relay(_ connection: Connection) async -> String {
        let (remote, local) = (connection.remote, connection.local)
        return await withTaskGroup(of: String.self) { group in
            group.addTask { await Self.forward(from: remote, to: local, ending: "connection closed") }
            group.addTask { await Self.forward(from: local, to: remote, ending: "link closed") }
            let reason = await group.next() ?? "cancelled"
            await remote.close()
            await local.close()
            group.cancelAll()
            return reason
        }
    }
}

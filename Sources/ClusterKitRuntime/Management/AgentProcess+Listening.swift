import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
public import ClusterKitWebSocket

extension AgentProcess {
    /// How an agent listens for its controller, which then connects to it (`zeekctl agent --listen HOST:PORT`), as
    /// a Zeek agent whose `Management::Agent::controller` is `0.0.0.0` waits for the controller to peer with it.
    ///
    /// The agent serves Zeek's WebSocket API on its own hub: the controller's connection (a controller with
    /// `--agents remote` connects to every instance of a deployed configuration that has an address and a port)
    /// and the agent's own node processes meet there. Only connections carrying the node token are served (the
    /// client limit is 0: any other gets a `connection_limit` error frame and close 1013), a connection from this
    /// host only from the user the agent runs as (``WebSocketServer/Options/localPeers``), and the agent listens on
    /// a loopback address only unless ``allowsRemotePeers`` is set.
    public struct Listening: Sendable {
        /// Where to listen, and the WebSocket limits; Zeek's agents listen on port 2151
        /// (``AgentProcess/defaultListenPort``).
        public var webSocket: WebSocketServer.Options
        /// A Boolean value indicating whether the agent may listen on an address other hosts can reach; default
        /// `false`.
        public var allowsRemotePeers: Bool
        /// Called with the listener's URL once it listens (with the port chosen when ``webSocket`` asked for 0).
        public var onListening: (@Sendable (String) -> Void)?

        /// Creates listening settings.
        ///
        /// - Parameters:
        ///   - webSocket: Where to listen.
        ///   - allowsRemotePeers: Whether a non-loopback address is allowed.
        ///   - onListening: Gets the listener's URL once it listens; default none.
        public init(
            webSocket: WebSocketServer.Options,
            allowsRemotePeers: Bool = false,
            onListening: (@Sendable (String) -> Void)? = nil
        ) {
            self.webSocket = webSocket
            self.allowsRemotePeers = allowsRemotePeers
            self.onListening = onListening
        }
    }

    /// `Management::Agent::default_port`: the port a Zeek agent listens on, 2151.
    public static let defaultListenPort = 2151

    /// Runs the agent on a hub of its own behind a listener, until cancelled or `stop` returns.
    func runListening(_ listening: Listening, until stop: (@Sendable () async -> Void)?) async throws {
        try ControllerService.requireLoopback(
            listening.webSocket.host,
            unless: listening.allowsRemotePeers,
            refusing: "peers are not allowed (a controller that connects can run processes as this user)"
        )
        let instance = configuration.instance
        let hub = InMemoryBackend.Hub()
        // The controller sends the agent API's requests over its connection, and the agent's nodes their own
        // events: both carry the node token. Nothing else is served.
        let agentEvents = Set(EventCatalog.managementAgent.signatures.keys)
        let server = try WebSocketAPIServer(
            hub: hub,
            options: WebSocketAPIServer.Options(
                webSocket: listening.webSocket,
                catalog: EventCatalog.standard,
                clientLimit: 0,
                nodeToken: configuration.nodeToken,
                nodeOnlyEvents: WebSocketAPIServer.standardNodeOnlyEvents.union(agentEvents),
                inProcessOnlyEvents: WebSocketAPIServer.standardInProcessOnlyEvents.subtracting(agentEvents)
            ),
            clock: clock,
            log: log
        )
        var hubAccess = configuration.hubAccess
        if let address = configuration.address { hubAccess.localAddress = address }
        let nodeHost = ProcessNodeHost(
            configuration: ProcessSupervisor.Configuration(
                runtimeDirectory: configuration.stateDirectory + "/" + instance,
                environment: configuration.environment
            ),
            command: ProcessNodeHost.nodeCommand(
                executablePath: configuration.executablePath,
                hubURL: Self.nodeURL(server: server, address: configuration.address),
                nodeToken: configuration.nodeToken,
                hubAccess: hubAccess
            )
        )
        let agent = Agent(
            options: Agent.Options(
                instance: instance,
                requestTimeout: configuration.requestTimeout,
                listenPort: .tcp(UInt16(truncatingIfNeeded: server.port))
            ),
            backend: hub.makeBackend(name: instance),
            host: nodeHost,
            clock: clock,
            managementLog: managementLog
        )
        let peers = hub.peerSubscriptions(to: AgentAPI.topic(instance))
        listening.onListening?(server.url)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await server.run() }
            group.addTask { try? await agent.run() }
            group.addTask {
                // Zeek's agent says hello to every new peer (Broker::peer_added); here to every connection that
                // subscribes to its topic: its controller's.
                for await peer in peers {
                    log?("agent \(instance): \(peer) subscribed to \(AgentAPI.topic(instance)), saying hello")
                    do { try await agent.sayHello() } catch { log?("agent \(instance): no hello: \(error)") }
                }
            }
            if let stop {
                group.addTask { await stop() }
                await group.next()
            } else {
                // Until cancelled.
                await group.waitForAll()
            }
            await agent.stopNodes()
            await server.shutdown()
            group.cancelAll()
        }
        await agent.backend.close()
    }

    /// The URL the agent's nodes join: the listener's, or for a listener on every address (`0.0.0.0`, `::`) the
    /// agent's address (else loopback) at its port.
    static func nodeURL(server: WebSocketAPIServer, address: String?) -> String {
        let host = server.host
        guard host == "0.0.0.0" || host == "::" else { return server.url }
        let target = address ?? (host == "::" ? "::1" : "127.0.0.1")
        let literal = target.contains(":") ? "[\(target)]" : target
        let scheme = server.url.hasPrefix("wss:") ? "wss" : "ws"
        return "\(scheme)://\(literal):\(server.port)\(WebSocketAPIServer.path)"
    }
}

import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
public import ClusterKitWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// A Management controller that clients reach over Zeek's WebSocket API: what `zeekctl controller` runs.
///
/// It puts together a ``ManagementCluster`` (the controller, and the agents and nodes it deploys) and a
/// ``WebSocketAPIServer`` on the same hub, listening where Zeek's controller does by default
/// (`127.0.0.1:2149`), so that `zeek-client`, ``ControllerClient`` and `zeekctl dispatch --controller` drive
/// it as they would drive Zeek's. Creating the service binds the port; ``run(deploying:onReady:)`` serves until the
/// task is cancelled or ``shutdown()`` is called, then closes every connection with 1001 `Terminating` and
/// stops the agents and nodes.
///
/// Anyone who can connect can drive the controller, and through it start processes, so the service listens on
/// loopback addresses only unless ``Options/allowsRemoteClients`` says otherwise. Every line it hands to
/// ``Options/connectionLog`` and to the controller's log is one line: control characters in what clients
/// chose (request ids, topics, names, application names) are written as visible escapes (`\n`, `\u{1b}`).
public final class ControllerService: Sendable {
    /// How the service listens and runs its cluster.
    public struct Options: Sendable {
        /// The listening address and WebSocket limits; default `127.0.0.1:2149`, Zeek's
        /// `Management::Controller::default_port_websocket`.
        public var webSocket: WebSocketServer.Options
        /// The controller's own settings (name, request timeout, port assignment, request log).
        public var controller: Controller.Options
        /// How long an agent waits for its nodes; default 5 s, as Zeek's agents.
        public var agentTimeout: Duration
        /// Identifiers set on every node.
        public var nodeSettings: [String: ZeekValue?]
        /// Gets one line per client that connects and leaves (the server's log); `nil` logs nothing.
        public var connectionLog: (@Sendable (String) -> Void)?
        /// Builds the node host of an instance; `nil` runs nodes in process.
        public var makeNodeHost: (@Sendable (NodeHostContext) -> any NodeHost)?
        /// A Boolean value indicating whether the service may listen on an address other clients than local
        /// ones can reach; default `false`.
        ///
        /// With `false`, creating the service fails unless ``webSocket``'s host is a loopback address
        /// (`127.0.0.0/8`, `::1`, or `localhost`); `0.0.0.0` and `::` (every address) are not loopback. The
        /// controller has no authentication yet (to be joined by TLS and tokens in a later issue): whoever
        /// reaches it can deploy configurations, and so run processes, as the user running it.
        public var allowsRemoteClients: Bool
        /// The most client connections at once, `zeek-client` and `zeekctl` among them (default 100, Zeek's);
        /// see ``WebSocketAPIServer/Options/clientLimit``.
        public var clientLimit: Int
        /// The most connections of the service's own node processes at once, apart from clients (default 4,096);
        /// see ``WebSocketAPIServer/Options/nodeLimit``.
        public var nodeLimit: Int
        /// How long a connection may take to send its subscriptions (default 10 s; `nil` waits for ever, as Zeek);
        /// see ``WebSocketAPIServer/Options/subscriptionTimeout``.
        public var subscriptionTimeout: Duration?
        /// The most events of one connection that may wait for the controller, its agents and in-process nodes
        /// before its next one waits (default 32, Zeek's `max_event_queue_size`; 0: no limit); see
        /// ``WebSocketAPIServer/Options/maxEventQueueSize``.
        public var maxEventQueueSize = 32
        /// Events of a program's own that clients may publish through the hub, beside Zeek's (read from Zeek
        /// script with ``EventDeclarations``); default none.
        public var declaredEvents: [EventCatalog.Signature] = []
        /// Who runs the deployed instances: agents inside this process (``AgentMode/local``, the default), or agent
        /// processes that join the hub (``AgentMode/remote``).
        public var agents: AgentMode = .local
        /// The cluster backend whose topic naming the nodes follow (their node topics, type topics, node id topics):
        /// Broker's (the default) or ZeroMQ's (`zeek.cluster.node.<name>.`, ...).
        public var scheme: TopicScheme = .broker
        /// The node token node and agent processes must present (``WebSocketAPIServer/Options/nodeToken``).
        ///
        /// `nil` (the default) makes a fresh one per run, which only the node processes this service starts get.
        /// Remote agents need it, so a service that expects them is given one (`zeekctl controller
        /// --node-token-file`).
        public var nodeToken: String?
        /// How the controller connects to agents that listen (instances with an address and a port), with
        /// ``AgentMode/remote``; default ``AgentLinks/Options/init(backend:usesTLS:initialDelay:maximumDelay:)``'s.
        public var agentLinks = AgentLinks.Options()
        /// Where the service writes its logs in Zeek's formats; default `nil`, none.
        ///
        /// The logs are the controller's and each agent's management log (`management-<name>.log`, unless
        /// ``Controller/Options/managementLog`` names another for the controller) and the hub's `cluster.log`.
        /// ``ControllerService/run(deploying:onReady:)`` flushes them every ``LogDirectory/Options/flushInterval``
        /// and closes them when it returns.
        public var logs: LogDirectory?
        /// The file where the controller keeps the configuration it deployed last; default `nil`, none.
        ///
        /// As Zeek's controller keeps it in its state directory: a controller started again (revived by its
        /// supervisor) deploys it again with ``ControllerService/persistedConfiguration(at:)``, and agents already
        /// running it leave their nodes alone. Written atomically with mode 0600 after every deployment of a new
        /// configuration.
        public var deployedConfigurationFile: String?
        /// The process id of the supervisor that runs this controller (`zeekctl cluster start`); default `nil`.
        ///
        /// A `shutdown` request then has the supervisor stop everything (SIGTERM to it, when it is still this
        /// process's parent), and its answer names the supervisor's pid too.
        public var supervisorPID: Int?

        /// Creates options; every argument has the documented default.
        ///
        /// - Parameters:
        ///   - webSocket: Where to listen.
        ///   - controller: The controller's settings.
        ///   - agentTimeout: How long agents wait for nodes.
        ///   - nodeSettings: Identifiers set on every node.
        ///   - connectionLog: The connection log sink.
        ///   - makeNodeHost: The node host of an instance.
        ///   - allowsRemoteClients: Whether a non-loopback listening address is allowed.
        ///   - clientLimit: The most clients at once.
        ///   - nodeLimit: The most node connections at once.
        ///   - subscriptionTimeout: The limit for a connection's subscriptions, or `nil`.
        public init(
            webSocket: WebSocketServer.Options = WebSocketServer.Options(port: ControllerService.defaultPort),
            controller: Controller.Options = Controller.Options(),
            agentTimeout: Duration = .seconds(5),
            nodeSettings: [String: ZeekValue?] = [:],
            connectionLog: (@Sendable (String) -> Void)? = nil,
            makeNodeHost: (@Sendable (NodeHostContext) -> any NodeHost)? = nil,
            allowsRemoteClients: Bool = false,
            clientLimit: Int = 100,
            nodeLimit: Int = 4_096,
            subscriptionTimeout: Duration? = .seconds(10)
        ) {
            self.webSocket = webSocket
            self.controller = controller
            self.agentTimeout = agentTimeout
            self.nodeSettings = nodeSettings
            self.connectionLog = connectionLog
            self.makeNodeHost = makeNodeHost
            self.allowsRemoteClients = allowsRemoteClients
            self.clientLimit = clientLimit
            self.nodeLimit = nodeLimit
            self.subscriptionTimeout = subscriptionTimeout
        }
    }

    /// What a node host is built from.
    public struct NodeHostContext: Sendable {
        /// The hub the controller and agents meet on (in-process nodes join it directly).
        public var hub: InMemoryBackend.Hub
        /// The instance whose nodes the host runs.
        public var instance: String
        /// The service's WebSocket URL (node processes join the hub through it).
        public var url: String
        /// The server's node token, a fresh one per service.
        ///
        /// Node processes send it to be counted as the cluster's nodes and to publish what only nodes may
        /// (``WebSocketAPIServer/Options/nodeToken``).
        public var nodeToken: String?
    }

    /// Node hosts that run every node as a supervised `zeekctl node` process joining the service's hub over
    /// WebSocket (``ProcessNodeHost``), each instance's runtime directories under `stateDirectory`; each process
    /// gets the service's node token in its environment (`CLUSTERKIT_NODE_TOKEN`).
    ///
    /// - Parameters:
    ///   - executablePath: The `zeekctl` binary.
    ///   - stateDirectory: The directory for the nodes' runtime directories (`<instance>/<node>`).
    ///   - environment: The nodes' base environment.
    ///   - hubAccess: How the nodes reach a hub with TLS or a bearer token (default: neither).
    ///   - scheme: The nodes' topic naming (default Broker's).
    /// - Returns: A value for ``Options/makeNodeHost``.
    public static func processNodeHosts(
        executablePath: String,
        stateDirectory: String,
        environment: [String: String],
        hubAccess: ProcessNodeHost.HubAccess = ProcessNodeHost.HubAccess(),
        scheme: TopicScheme = .broker
    ) -> @Sendable (NodeHostContext) -> any NodeHost {
        { context in
            ProcessNodeHost(
                configuration: ProcessSupervisor.Configuration(
                    runtimeDirectory: stateDirectory + "/" + context.instance,
                    environment: environment
                ),
                command: ProcessNodeHost.nodeCommand(
                    executablePath: executablePath,
                    hubURL: context.url,
                    nodeToken: context.nodeToken,
                    hubAccess: hubAccess,
                    scheme: scheme
                )
            )
        }
    }

    /// Zeek's default WebSocket port of a Management controller.
    public static let defaultPort = 2149

    /// The cluster: controller, agents, nodes.
    public let cluster: ManagementCluster
    /// The WebSocket API server clients connect to.
    public let server: WebSocketAPIServer
    /// Where the service writes its logs, or `nil`.
    public let logs: LogDirectory?
    /// The connections to agents that listen, with ``AgentMode/remote``; `nil` with local agents.
    public let agentLinks: AgentLinks?
    /// The nodes' topic naming.
    private let scheme: TopicScheme
    /// Who runs the instances.
    let agentMode: AgentMode
    /// The supervisor running this controller, if any.
    let supervisorPID: Int?

    /// Creates the service and binds its port.
    ///
    /// - Parameters:
    ///   - options: Address, controller settings, node hosting.
    ///   - clock: The clock for every request deadline.
    /// - Throws: ``ControllerServiceError`` when the address is not a loopback address and
    ///   ``Options/allowsRemoteClients`` is `false`; ``WebSocketError`` when the address cannot be listened on
    ///   (such as `addressInUse`).
    public init(options: Options = Options(), clock: any Clock<Duration> = ContinuousClock()) throws {
        try Self.requireLoopback(
            options.webSocket.host,
            unless: options.allowsRemoteClients,
            refusing: "clients are not allowed (anyone who can connect can run processes as this user)"
        )
        var options = options
        options.connectionLog = Self.escaping(options.connectionLog)
        options.controller.log = Self.escaping(options.controller.log)
        if let logs = options.logs, options.controller.managementLog == nil {
            options.controller.managementLog = logs.managementLog(node: options.controller.name, role: .controller)
        }
        if let path = options.deployedConfigurationFile {
            let log = options.controller.log
            options.controller.onDeployed = { configuration in
                do {
                    try Self.persist(configuration, at: path)
                } catch {
                    log?("cannot keep the deployed configuration in \(path): \(error)")
                }
            }
        }
        let hub = InMemoryBackend.Hub()
        // A fresh secret per run unless given: only the node processes this service starts get it (in their
        // environment), and agent processes when it is given.
        let nodeToken = options.nodeToken ?? WebSocketAPIServer.makeNodeToken()
        var nodeOnlyEvents = WebSocketAPIServer.standardNodeOnlyEvents
        var inProcessOnlyEvents = WebSocketAPIServer.standardInProcessOnlyEvents
        if options.agents == .remote {
            // Agents are processes with the node token: the agent API is theirs to publish.
            let agentEvents = Set(EventCatalog.managementAgent.signatures.keys)
            nodeOnlyEvents.formUnion(agentEvents)
            nodeOnlyEvents.insert(ClusterKitControllerAPI.agentGetNodeProcessesResponse)
            inProcessOnlyEvents.remove(ClusterKitControllerAPI.agentGetNodeProcessesResponse)
            inProcessOnlyEvents.subtract(agentEvents)
        }
        let server = try WebSocketAPIServer(
            hub: hub,
            options: WebSocketAPIServer.Options(
                webSocket: options.webSocket,
                catalog: EventCatalog.standard.merging(ClusterKitControllerAPI.catalog)
                    .merging(EventCatalog(options.declaredEvents)),
                clientLimit: options.clientLimit,
                nodeLimit: options.nodeLimit,
                subscriptionTimeout: options.subscriptionTimeout,
                maxEventQueueSize: options.maxEventQueueSize,
                nodeToken: nodeToken,
                nodeOnlyEvents: nodeOnlyEvents,
                inProcessOnlyEvents: inProcessOnlyEvents
            ),
            log: options.connectionLog,
            clusterLog: options.logs?.clusterLog(node: options.controller.name)
        )
        let makeNodeHost = options.makeNodeHost.map { make in
            { @Sendable (instance: String) in
                make(NodeHostContext(hub: hub, instance: instance, url: server.url, nodeToken: nodeToken))
            }
        }
        self.server = server
        let agentLinks =
            options.agents == .remote
            ? AgentLinks(
                hub: hub,
                nodeToken: nodeToken,
                options: options.agentLinks,
                clock: clock,
                log: options.controller.log
            ) : nil
        self.agentLinks = agentLinks
        cluster = ManagementCluster(
            hub: hub,
            controllerOptions: options.controller,
            agentTimeout: options.agentTimeout,
            nodeSettings: options.nodeSettings,
            clock: clock,
            makeNodeHost: makeNodeHost ?? { [scheme = options.scheme] _ in InProcessNodeHost(hub: hub, scheme: scheme)
            },
            launchesAgents: options.agents == .local,
            logs: options.logs,
            connectAgents: agentLinks.map { links in { @Sendable instances in links.connect(instances) } }
        )
        logs = options.logs
        scheme = options.scheme
        agentMode = options.agents
        supervisorPID = options.supervisorPID
    }

    /// Who runs a controller's instances.
    public enum AgentMode: String, Sendable, Hashable, CaseIterable {
        /// Agents inside the controller's process, started by each deployment.
        case local
        /// Agent processes (`zeekctl agent`) that connect to the controller and say hello; a deployment waits for
        /// the agent of every instance, and fails naming those that did not come.
        case remote
    }

    /// The URL clients use, as in `ws://127.0.0.1:2149/v1/messages/json`.
    public var url: String { server.url }

    /// The sink with control characters escaped in every line handed to it.
    private static func escaping(_ sink: (@Sendable (String) -> Void)?) -> (@Sendable (String) -> Void)? {
        guard let sink else { return nil }
        return { @Sendable line in sink(line.escapingControlCharacters) }
    }

    /// Whether a listening address only lets local clients in.
    ///
    /// Loopback addresses are the IPv4 addresses in `127.0.0.0/8`, `::1` (also in brackets, or IPv4-mapped),
    /// and the name `localhost`; `0.0.0.0`, `::` and every other name are not.
    ///
    /// - Parameter host: The address or name the service would listen on.
    /// - Returns: Whether it is a loopback address.
    public static func isLoopback(_ host: String) -> Bool {
        var text = host
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text.lowercased() == "localhost" { return true }
        return Broker.Address(text)?.isLoopback ?? false
    }

    /// Refuses to listen on `host` unless it is a loopback address or remote peers are `allowed`.
    ///
    /// - Parameters:
    ///   - host: The listening address.
    ///   - allowed: Whether remote peers are allowed.
    ///   - refusing: Who is refused and why, after "and remote".
    /// - Throws: ``ControllerServiceError`` (`remoteClientsNotAllowed`) naming the address.
    static func requireLoopback(_ host: String, unless allowed: Bool, refusing: String) throws(ControllerServiceError) {
        guard !allowed, !isLoopback(host) else { return }
        throw ControllerServiceError(
            .remoteClientsNotAllowed,
            "refusing to listen on '\(host.escapingControlCharacters)': not a loopback address, and remote " + refusing
        )
    }

    /// Serves clients and runs the cluster until cancelled or ``shutdown()``, deploying `configuration` first
    /// when given.
    ///
    /// - Parameters:
    ///   - configuration: A configuration to deploy before anything else (as `zeek-client deploy-config`).
    ///   - onReady: Called once the controller answers (and the start-up deployment finished), with that
    ///     deployment's results: empty without a configuration, else one per node, failures included.
    /// - Throws: ``BackendError`` when the controller cannot join the hub.
    public func run(
        deploying configuration: Management.Configuration? = nil,
        onReady: @escaping @Sendable ([Management.Result]) async -> Void = { _ in }
    ) async throws {
        defer { logs?.close() }
        let controller = cluster.controller
        controller.options.managementLog?.info(
            "controller is live, Broker ID \(controller.backend.nodeID), no Broker port, websocket port "
                + "\(server.host):\(server.port)/tcp"
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let logs { group.addTask { await logs.run() } }
            group.addTask {
                do {
                    try await self.cluster.run(deploying: configuration, onReady: onReady)
                } catch {
                    // No controller, no service: stop serving clients that could get no answer.
                    await self.server.shutdown()
                    throw error
                }
            }
            let responder = cluster.hub.makeBackend(name: "clusterkit-controller")
            try await responder.subscribe(
                ClusterKitControllerAPI.topic,
                eventNames: [ClusterKitControllerAPI.getNodeProcessesRequest, ClusterKitControllerAPI.shutdownRequest]
            )
            try await responder.connect()
            group.addTask { await self.answerClusterKitRequests(on: responder) }
            if let agentLinks { group.addTask { await agentLinks.run() } }
            if let clusterLog = logs?.clusterLog(node: controller.options.name) {
                // The hub's cluster.log also says which nodes said hello and which went down.
                let observer = MembershipObserver(
                    backend: cluster.hub.makeBackend(name: "clusterkit-membership"),
                    scheme: scheme,
                    log: { clusterLog.write($0) }
                )
                group.addTask {
                    do {
                        try await observer.run()
                    } catch {
                        // cluster.log then lacks hellos and node downs: say so where the controller's lines go.
                        guard !Task.isCancelled else { return }
                        controller.options.managementLog?.warning("cluster.log no longer follows membership: \(error)")
                        controller.options.log?("cluster.log no longer follows membership: \(error)")
                    }
                }
            }
            // The server returns once it is shut down (by shutdown() or cancellation): then the nodes are
            // stopped gracefully, and the cluster.
            await server.run()
            await stopNodes()
            agentLinks?.stopAll()
            await responder.close()
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    /// Stops every node gracefully (``Agent/stopNodes()``) while their connections still stand, then stops
    /// listening and closes every connection with 1001 `Terminating`; ``run(deploying:onReady:)`` then stops
    /// the cluster and returns.
    public func shutdown() async {
        await stopNodes()
        await server.shutdown()
    }

    /// Every node's process, from every running agent, sorted by name.
    public var processStatuses: [NodeProcessStatus] {
        cluster.runningAgents.values.flatMap(\.processStatuses).sorted { $0.node < $1.node }
    }

    private func stopNodes() async {
        await withDiscardingTaskGroup { group in
            for agent in cluster.runningAgents.values { group.addTask { await agent.stopNodes() } }
        }
    }

    /// Answers ``ClusterKitControllerAPI`` requests until the responder's backend closes.
    private func answerClusterKitRequests(on backend: any ClusterBackend) async {
        do {
            for try await received in backend.events {
                let event = received.event
                guard case .string(let reqid)? = event.arguments.first, event.arguments.count == 1 else { continue }
                switch event.name {
                case ClusterKitControllerAPI.getNodeProcessesRequest:
                    let statuses = await currentProcesses().nodes.map { $0.brokerValue }
                    try await backend.publish(
                        Broker.Event(
                            ClusterKitControllerAPI.getNodeProcessesResponse,
                            [.string(reqid), .vector(statuses)]
                        ),
                        to: ClusterKitControllerAPI.topic
                    )
                case ClusterKitControllerAPI.shutdownRequest:
                    let processes = await currentProcesses(withOthers: true)
                    let pids = [Int(getpid())] + processes.nodes.compactMap(\.pid) + processes.others
                    try await backend.publish(
                        Broker.Event(
                            ClusterKitControllerAPI.shutdownResponse,
                            [.string(reqid), .vector(pids.map { .count(UInt64($0)) })]
                        ),
                        to: ClusterKitControllerAPI.topic
                    )
                    // Let the response reach the client before its connection is closed.
                    try? await Task.sleep(for: .milliseconds(100))
                    if let supervisorPID, getppid() == pid_t(supervisorPID) {
                        // The supervisor that runs this controller, its agent and their nodes stops them all.
                        kill(pid_t(supervisorPID), SIGTERM)
                    } else {
                        await shutdown()
                    }
                default:
                    continue
                }
            }
        } catch {
            return
        }
    }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// A Management agent as the job of a whole process.
///
/// An ``Agent`` connected to its controller's hub over a ``WebSocketBackend``, running the nodes deployed to its
/// instance as supervised `zeekctl node` processes on this host (``ProcessNodeHost``). This is what `zeekctl agent`
/// runs, for a controller started with `--agents remote`.
///
/// ``run(until:)`` connects to the controller, announces the instance with `notify_agent_hello` as Zeek's agents do,
/// and answers the controller until stopped. When the controller goes away the agent keeps its nodes running and
/// reconnects (``Configuration/backend``'s back-off, unbounded by default), saying hello again on every new
/// connection; the controller then deploys its part of the deployed configuration to it again. Its node processes
/// join the same hub with the node token; they are its children, and die with it (SIGKILL on its death).
public struct AgentProcess: Sendable {
    /// Who the agent is, where its controller is, and how it runs nodes.
    public struct Configuration: Sendable {
        /// The instance the agent serves (`Management::Agent::get_name()`), such as `agent-host1`.
        public var instance: String
        /// The controller's WebSocket URL, such as `ws://10.0.0.1:2149/v1/messages/json`.
        public var controllerURL: String
        /// How the agent connects: TLS, a bearer token, the application name; reconnecting forever by default.
        public var backend: WebSocketBackend.Options
        /// The controller's node token, which the agent and its nodes present.
        public var nodeToken: String
        /// Where the nodes' runtime directories go (`<instance>/<node>`).
        public var stateDirectory: String
        /// The program the nodes run (`zeekctl`, with `node --name NAME --hub URL`).
        public var executablePath: String
        /// The nodes' base environment.
        public var environment: [String: String]
        /// How the nodes reach a hub with TLS or a bearer token.
        public var hubAccess: ProcessNodeHost.HubAccess
        /// How long the agent waits for its nodes' answers (Zeek's 5 s).
        public var requestTimeout: Duration
        /// The supervisor that runs the agent's nodes (``SupervisedNodeHost``), as Zeek's agents have theirs run by
        /// the supervisor of their host; `nil` (the default) runs them as the agent's own children.
        ///
        /// With a supervisor the nodes outlive the agent, and an agent started again takes over those still running.
        public var supervisor: SupervisorAccess?
        /// The address of the agent's host (`zeekctl agent --address`), or `nil` (the default) for the system's
        /// choice.
        ///
        /// The agent's connection to its controller comes from it, so that the controller shows it as the
        /// instance's host (`get-instances`), and so do its nodes' connections (``ProcessNodeHost/HubAccess/localAddress``).
        /// Zeek's agent takes its address from `Management::Agent::listen_address` (`ZEEK_AGENT_ADDR`).
        public var address: String?
        /// Where the agent listens for its controller, which then connects to it (``AgentProcess/Listening``).
        ///
        /// `nil` (the default) connects to ``controllerURL`` instead, which is unused while listening. A listening
        /// agent runs its nodes as its own children (``supervisor`` is not used).
        public var listening: Listening?

        /// How an agent reaches the supervisor of its host.
        public struct SupervisorAccess: Sendable, Hashable {
            /// The supervisor's WebSocket URL (on a loopback address).
            public var url: String
            /// The supervisor's node token, which the agent presents.
            public var token: String

            /// Creates access to a supervisor.
            ///
            /// - Parameters:
            ///   - url: The supervisor's URL.
            ///   - token: Its node token.
            public init(url: String, token: String) {
                self.url = url
                self.token = token
            }
        }

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - instance: The instance name.
        ///   - controllerURL: The controller's URL.
        ///   - nodeToken: The controller's node token.
        ///   - stateDirectory: The nodes' runtime directories' parent.
        ///   - executablePath: The nodes' program.
        ///   - environment: The nodes' environment.
        ///   - backend: Connection options, or `nil` for ``AgentProcess/backendOptions(instance:)``.
        ///   - hubAccess: TLS and token for the nodes; default neither.
        ///   - requestTimeout: The agent's wait for its nodes; default 5 s.
        public init(
            instance: String,
            controllerURL: String,
            nodeToken: String,
            stateDirectory: String,
            executablePath: String,
            environment: [String: String],
            backend: WebSocketBackend.Options? = nil,
            hubAccess: ProcessNodeHost.HubAccess = ProcessNodeHost.HubAccess(),
            requestTimeout: Duration = .seconds(5)
        ) {
            self.instance = instance
            self.controllerURL = controllerURL
            self.nodeToken = nodeToken
            self.stateDirectory = stateDirectory
            self.executablePath = executablePath
            self.environment = environment
            self.backend = backend ?? AgentProcess.backendOptions(instance: instance)
            self.hubAccess = hubAccess
            self.requestTimeout = requestTimeout
        }
    }

    /// The environment variable that gives a Zeek agent its address, `ZEEK_AGENT_ADDR`
    /// (`Management::Agent::listen_address`); `zeekctl agent` takes it as ``Configuration/address`` by default.
    public static let addressEnvironmentKey = "ZEEK_AGENT_ADDR"

    /// The agent and its controller.
    public let configuration: Configuration
    let clock: any Clock<Duration>
    let log: (@Sendable (String) -> Void)?
    /// The agent's management log (`management-<instance>.log`), or `nil`.
    let managementLog: ManagementLog?

    /// Creates an agent process; nothing happens until ``run(until:)``.
    ///
    /// - Parameters:
    ///   - configuration: The agent.
    ///   - clock: The clock of deadlines and reconnection delays.
    ///   - log: Gets the backend's and the agent's lines (lost connections, reconnections, node exits).
    ///   - managementLog: The agent's management log in Zeek's format; default none.
    public init(
        configuration: Configuration,
        clock: any Clock<Duration> = ContinuousClock(),
        log: (@Sendable (String) -> Void)? = nil,
        managementLog: ManagementLog? = nil
    ) {
        self.configuration = configuration
        self.clock = clock
        self.log = log
        self.managementLog = managementLog
    }

    /// The connection options of an agent process: the `X-Application-Name` `zeekctl-agent-<instance>`, and
    /// reconnecting as long as it takes (1 s, doubling up to 30 s), as a Zeek agent keeps retrying its controller.
    ///
    /// - Parameter instance: The instance name.
    /// - Returns: The options.
    public static func backendOptions(instance: String) -> WebSocketBackend.Options {
        WebSocketBackend.Options(
            applicationName: NodeProcess.applicationName("zeekctl-agent-", instance),
            reconnect: WebSocketBackend.Options.Reconnect(maximumAttempts: Int.max)
        )
    }

    /// Runs the agent until the task is cancelled or `stop` returns; then stops its nodes and closes the connection.
    ///
    /// - Parameter stop: Returns when the agent should stop; `nil` runs until cancelled.
    /// With ``Configuration/listening`` the agent instead listens, and says hello to the controller that connects
    /// (every time one does).
    ///
    /// - Throws: ``NodeProcessError`` with `hubUnreachable` when the first connection fails (later losses are
    ///   reconnected), `connectionLost` when reconnecting gives up; while listening, ``ControllerServiceError``
    ///   for a non-loopback address that is not allowed and ``WebSocketError`` when the address cannot be
    ///   listened on.
    public func run(until stop: (@Sendable () async -> Void)? = nil) async throws {
        if let listening = configuration.listening {
            try await runListening(listening, until: stop)
            return
        }
        var options = configuration.backend
        var hubAccess = configuration.hubAccess
        if let address = configuration.address {
            options.client.localAddress = address
            hubAccess.localAddress = address
        }
        options.headers.append(name: WebSocketAPIServer.nodeTokenHeader, value: configuration.nodeToken)
        let instance = configuration.instance
        let agentHolder = Guarded<Agent?>(nil)
        let backend = WebSocketBackend(
            url: configuration.controllerURL,
            options: options,
            clock: clock,
            log: log,
            onReconnect: { _ in
                do {
                    try await agentHolder.withLock { $0 }?.sayHello()
                } catch {
                    log?("agent \(instance): no hello after reconnecting: \(error)")
                }
            }
        )
        let host: any NodeHost
        if let supervisor = configuration.supervisor {
            var supervisorOptions = WebSocketBackend.Options(
                applicationName: NodeProcess.applicationName("zeekctl-agent-", instance),
                reconnect: WebSocketBackend.Options.Reconnect(maximumAttempts: Int.max)
            )
            supervisorOptions.headers.append(name: WebSocketAPIServer.nodeTokenHeader, value: supervisor.token)
            host = SupervisedNodeHost(
                backend: WebSocketBackend(url: supervisor.url, options: supervisorOptions, clock: clock, log: log),
                clock: clock
            )
        } else {
            host = processNodeHost(hubAccess: hubAccess)
        }
        let agent = Agent(
            options: Agent.Options(instance: instance, requestTimeout: configuration.requestTimeout),
            backend: backend,
            host: host,
            clock: clock,
            managementLog: managementLog
        )
        agentHolder.withLock { $0 = agent }
        let failure = await NodeProcessError.first(
            of: {
                do {
                    try await agent.run()
                } catch let error as BackendError {
                    let code: NodeProcessError.Code =
                        backend.diagnostics.connections == 0 ? .hubUnreachable : .connectionLost
                    return NodeProcessError(code, error.message, location: error.endpoint)
                } catch {
                    return nil
                }
                return nil
            },
            orStop: stop
        )
        // Nodes the supervisor runs outlive the agent, as in Zeek: the supervisor stops them when it stops, and an
        // agent started again takes them over.
        if configuration.supervisor == nil { await agent.stopNodes() }
        await backend.close()
        guard let failure, !Task.isCancelled else { return }
        throw failure
    }

    /// The node host of an agent without a supervisor: the nodes as its own children.
    private func processNodeHost(hubAccess: ProcessNodeHost.HubAccess) -> ProcessNodeHost {
        ProcessNodeHost(
            configuration: ProcessSupervisor.Configuration(
                runtimeDirectory: configuration.stateDirectory + "/" + configuration.instance,
                environment: configuration.environment
            ),
            command: ProcessNodeHost.nodeCommand(
                executablePath: configuration.executablePath,
                hubURL: configuration.controllerURL,
                nodeToken: configuration.nodeToken,
                hubAccess: hubAccess
            )
        )
    }
}

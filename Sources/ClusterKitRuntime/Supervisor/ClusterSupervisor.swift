public import ClusterKitModel
import ClusterKitProcesses
public import ClusterKitWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// A supervisor for one host's cluster, as Zeek's `boot.zeek` makes one: the controller and the local agents (one per
/// instance of the deployed configuration) run as its supervised children, and the agent's nodes too, which it creates for the agent over ``SupervisorControl``.
///
/// This is what `zeekctl cluster start` runs in the background (`zeekctl supervisor`). A child that dies, controller,
/// agent or node, is revived with Zeek's back-off (1 s, 1 s, 1 s, 2 s, ...), and the others keep running through
/// it: nodes reconnect to the revived controller, which deploys its persisted configuration again (agents already
/// running it change nothing); a revived agent takes over the nodes that still run as its configuration describes
/// them. Only the agent, with the supervisor's token, may reach the supervisor's listener (on loopback, a fresh
/// port).
public struct ClusterSupervisor: Sendable {
    /// What the supervisor runs.
    public struct Configuration: Sendable {
        /// The `zeekctl` binary the controller and the agent run.
        public var executablePath: String
        /// The program the nodes run; default `executablePath`.
        public var nodeProgram: String?
        /// The state directory: the controller's (`controller/`), the agent's (`agent/`) and the nodes' (`nodes/`)
        /// directories go under it.
        public var stateDirectory: String
        /// The children's base environment.
        public var environment: [String: String]
        /// The instance the local agent serves when the configuration names none, such as `agent-host1`.
        public var instance: String
        /// Where and how the controller listens: its address and port (a fixed one), TLS settings (absolute paths)
        /// and the bearer token it requires of clients.
        public var controller: WebSocketServer.Options
        /// The file of the controller's client token (mode 0600), given to it and to the agents as `--token-file`;
        /// `nil` when it requires none.
        public var controllerTokenFile: String?
        /// The certificate and key the agents, the nodes and the supervisor present to a controller that verifies its
        /// peers (`--tls-node-certificate`); `nil` presents the controller's own.
        public var nodeCertificate: NodeCertificate?
        /// Further controller arguments: `--allow-remote`, `--allow-other-users`, `--cluster-backend`.
        public var controllerArguments: [String]
        /// The controller's node token, which the agent and the nodes present.
        public var nodeToken: String
        /// The file of ``nodeToken`` (mode 0600), for the controller's and the agent's `--node-token-file`.
        public var nodeTokenFile: String
        /// The nodes' topic naming.
        public var scheme: TopicScheme

        /// A certificate and its key (PEM files).
        public struct NodeCertificate: Sendable, Hashable {
            /// The certificate chain.
            public var certificate: String
            /// Its private key.
            public var key: String

            /// Creates a certificate and key pair.
            ///
            /// - Parameters:
            ///   - certificate: The certificate file.
            ///   - key: The key file.
            public init(certificate: String, key: String) {
                self.certificate = certificate
                self.key = key
            }
        }

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - executablePath: The `zeekctl` binary.
        ///   - stateDirectory: The state directory.
        ///   - environment: The children's environment.
        ///   - instance: The default instance.
        ///   - controller: The controller's listening address and TLS settings.
        ///   - nodeToken: The node token.
        ///   - nodeTokenFile: Its file.
        public init(
            executablePath: String,
            stateDirectory: String,
            environment: [String: String],
            instance: String,
            controller: WebSocketServer.Options,
            nodeToken: String,
            nodeTokenFile: String
        ) {
            self.executablePath = executablePath
            self.stateDirectory = stateDirectory
            self.environment = environment
            self.instance = instance
            self.controller = controller
            self.nodeToken = nodeToken
            self.nodeTokenFile = nodeTokenFile
            controllerArguments = []
            scheme = .broker
        }

        /// The controller's URL: `ws://` or `wss://`, its address and port, Zeek's path.
        public var controllerURL: String {
            let host = controller.host.contains(":") ? "[\(controller.host)]" : controller.host
            let scheme = controller.tls.isEnabled ? "wss" : "ws"
            return "\(scheme)://\(host):\(controller.port)\(WebSocketAPIServer.path)"
        }

        /// How the agents, the nodes and the supervisor reach the controller: trusting its `ca_file`, presenting
        /// ``nodeCertificate`` (else the controller's own certificate) when it verifies peers, sending its token.
        public var access: ProcessNodeHost.HubAccess {
            let tls = controller.tls
            let verifiesPeers = tls.isEnabled && tls.enablePeerVerification
            return ProcessNodeHost.HubAccess(
                caFile: tls.isEnabled && !tls.caFile.isEmpty ? tls.caFile : nil,
                certificateFile: verifiesPeers ? nodeCertificate?.certificate ?? tls.certFile : nil,
                keyFile: verifiesPeers ? nodeCertificate?.key ?? tls.keyFile : nil,
                bearerToken: controller.bearerToken
            )
        }

        /// Checks, in memory, that a node presenting ``access`` completes a TLS handshake with the controller.
        ///
        /// - Throws: ``WebSocketError`` saying why it would fail (a certificate it refuses, an address the
        ///   certificate does not name, ...).
        public func checkNodeTLS() throws(WebSocketError) {
            guard controller.tls.isEnabled else { return }
            try access.checkTLS(against: controller, host: controller.host)
        }

        /// The controller's arguments: listening address, TLS, token, then ``controllerArguments``.
        var controllerCommandArguments: [String] {
            let host = controller.host.contains(":") ? "[\(controller.host)]" : controller.host
            var arguments = ["--listen", "\(host):\(controller.port)"]
            let tls = controller.tls
            if tls.isEnabled, let certificate = tls.certFile, let key = tls.keyFile {
                arguments += ["--tls-certificate", certificate, "--tls-key", key]
                if !tls.caFile.isEmpty { arguments += ["--tls-ca", tls.caFile] }
                if tls.enablePeerVerification { arguments.append("--tls-verify-peer") }
                if !tls.ciphers.isEmpty { arguments += ["--tls-ciphers", tls.ciphers] }
            }
            if let controllerTokenFile { arguments += ["--token-file", controllerTokenFile] }
            return arguments + controllerArguments
        }

        /// An agent's arguments for reaching the controller, from ``access``.
        var agentAccessArguments: [String] {
            let access = access
            var arguments: [String] = []
            if let caFile = access.caFile { arguments += ["--tls-ca", caFile] }
            if let certificate = access.certificateFile, let key = access.keyFile {
                arguments += ["--tls-certificate", certificate, "--tls-key", key]
            }
            if let controllerTokenFile { arguments += ["--token-file", controllerTokenFile] }
            return arguments
        }

        /// The supervisor's own connection options to the controller, for the first deployment.
        var clientOptions: WebSocketBackend.Options {
            var options = WebSocketBackend.Options(applicationName: "zeekctl-supervisor")
            let access = access
            options.client.tls = access.tls
            if let token = access.bearerToken {
                options.headers.append(name: "Authorization", value: "Bearer \(token)")
            }
            return options
        }
    }

    /// How the first deployment went.
    public enum Outcome: Sendable {
        /// The controller deployed the configuration: one result per node, failures included.
        case deployed([Management.Result])
        /// It could not be deployed; why.
        case failed(String)
    }

    /// The environment variable that gives the controller its supervisor's pid (``ControllerService/Options/supervisorPID``).
    public static let pidEnvironmentKey = "CLUSTERKIT_SUPERVISOR_PID"
    /// The environment variable that gives the agent the supervisor's node token.
    public static let tokenEnvironmentKey = "CLUSTERKIT_SUPERVISOR_TOKEN"
    /// The controller's name among the supervisor's children.
    public static let controllerName = "controller"

    /// What the supervisor runs.
    public let configuration: Configuration
    private let log: (@Sendable (String) -> Void)?

    /// Creates a supervisor; nothing starts before ``run(deploying:timeout:onReady:until:)``.
    ///
    /// - Parameters:
    ///   - configuration: What to run.
    ///   - log: Gets the supervisor's lines (children's starts, exits and revivals, requests); default none.
    public init(configuration: Configuration, log: (@Sendable (String) -> Void)? = nil) {
        self.configuration = configuration
        self.log = log
    }

    /// Starts the controller and the agent, deploys `configuration` through the controller, and supervises everything
    /// until `stop` returns, the agent sends `stop_request()`, or the task is cancelled; then stops the nodes, the
    /// agent and the controller with the stop sequence.
    ///
    /// - Parameters:
    ///   - deployment: The configuration to deploy first, or `nil` (the controller's persisted one, if any, stays).
    ///   - timeout: How long the first deployment may take, the controller's start included.
    ///   - onReady: Called once with how the first deployment went.
    ///   - stop: Returns when the supervisor should stop.
    /// - Throws: ``WebSocketError`` when the supervisor cannot listen.
    public func run(
        deploying deployment: Management.Configuration?,
        timeout: Duration,
        onReady: @escaping @Sendable (Outcome) async -> Void,
        until stop: @escaping @Sendable () async -> Void
    ) async throws {
        // The controller's port must be free: otherwise the first deployment would reach whatever listens there (a
        // cluster started before), and the controller, which cannot listen, would only be revived again and again.
        var probe = configuration.controller
        probe.tls = Cluster.WebSocketTLSOptions()
        await (try WebSocketServer(options: probe)).shutdown()
        let token = WebSocketAPIServer.makeNodeToken()
        let hub = InMemoryBackend.Hub()
        let controllerExit = StartupWatch()
        let server = try WebSocketAPIServer(hub: hub, options: Self.listenerOptions(token: token), log: log)
        let (stopRequests, stopContinuation) = AsyncStream.makeStream(
            of: Void.self,
            bufferingPolicy: .bufferingNewest(1)
        )
        let nodes = SupervisorControlResponder(
            backend: hub.makeBackend(name: "supervisor"),
            configuration: ProcessSupervisor.Configuration(
                runtimeDirectory: configuration.stateDirectory + "/nodes",
                environment: configuration.environment
            ),
            command: { [configuration] config in
                ProcessNodeHost.nodeCommand(
                    executablePath: configuration.nodeProgram ?? configuration.executablePath,
                    hubURL: configuration.controllerURL,
                    nodeToken: configuration.nodeToken,
                    hubAccess: configuration.access,
                    scheme: configuration.scheme
                )(ProcessNodeHost.launch(for: config), config)
            },
            onStop: { stopContinuation.yield() },
            log: log
        )
        let children = ProcessSupervisor(
            configuration: ProcessSupervisor.Configuration(
                runtimeDirectory: configuration.stateDirectory,
                environment: configuration.environment
            ),
            command: { [configuration, url = server.url] config in
                Self.childCommand(config.name, configuration: configuration, supervisorURL: url, token: token)
            },
            output: { [log] line in log?("[\(line.node)] \(line.message)") },
            eventHandler: { [log] event in
                if case .prematureExit(Self.controllerName, _, _) = event { controllerExit.note("\(event)") }
                log?("\(event)")
            }
        )
        await withDiscardingTaskGroup { group in
            group.addTask { await server.run() }
            group.addTask {
                do {
                    try await nodes.run()
                } catch {
                    self.log?("supervisor: cannot serve the agent: \(error)")
                }
            }
            group.addTask { await children.run() }
            // One local agent per instance of the configuration (all on this host), else the default instance;
            // started once the controller answers, so that their first connection finds it.
            let instances = deployment.map { $0.instances.map(\.name).sorted() } ?? []
            let create = { @Sendable (names: [String]) in
                for name in names {
                    let error = children.create(Supervisor.NodeConfig(name: name))
                    if !error.isEmpty { self.log?("supervisor: cannot start \(name): \(error)") }
                }
            }
            create([Self.controllerName])
            let agents = instances.isEmpty ? [configuration.instance] : instances
            if let deployment {
                await onReady(
                    await deploy(deployment, timeout: timeout, controllerExit: controllerExit, once: { create(agents) })
                )
            } else {
                create(agents)
                await onReady(.deployed([]))
            }
            // Whichever comes first: the owner's stop, or the agent's stop_request.
            await withTaskGroup(of: Void.self) { waiting in
                waiting.addTask { await stop() }
                waiting.addTask {
                    var iterator = stopRequests.makeAsyncIterator()
                    _ = await iterator.next()
                }
                await waiting.next()
                waiting.cancelAll()
            }
            log?("supervisor: stopping the nodes, the agent and the controller")
            await withDiscardingTaskGroup { stopping in
                stopping.addTask { try? await nodes.shutdown() }
                stopping.addTask { try? await children.shutdown() }
            }
            await server.shutdown()
            group.cancelAll()
        }
    }

    /// The options of the supervisor's listener for its agents: a fresh port on 127.0.0.1, this user's processes
    /// only, Zeek's `SupervisorControl` events only, the requests from connections with `token` only, and the
    /// supervisor's answers and reports from nobody but the supervisor.
    ///
    /// - Parameter token: The node token the agents present.
    /// - Returns: The options.
    public static func listenerOptions(token: String) -> WebSocketAPIServer.Options {
        WebSocketAPIServer.Options(
            webSocket: WebSocketServer.Options(host: "127.0.0.1", port: 0),
            catalog: SupervisorControl.catalog,
            // Only agents (with the token) have anything to do here: one per instance.
            clientLimit: 1,
            nodeLimit: 1_024,
            nodeToken: token,
            nodeOnlyEvents: SupervisorControl.requests,
            inProcessOnlyEvents: SupervisorControl.notifications
        )
    }

    /// The command of a child: the controller, or the agent.
    static func childCommand(
        _ name: String,
        configuration: Configuration,
        supervisorURL: String,
        token: String
    ) -> ProcessSupervisor.NodeCommand {
        let state = configuration.stateDirectory
        if name == controllerName {
            return ProcessSupervisor.NodeCommand(
                executable: configuration.executablePath,
                arguments: [
                    "controller", "--agents", "remote", "--node-token-file", configuration.nodeTokenFile, "--state-dir",
                    state + "/controller",
                ] + configuration.controllerCommandArguments,
                environment: [pidEnvironmentKey: String(getpid())]
            )
        }
        return ProcessSupervisor.NodeCommand(
            executable: configuration.executablePath,
            arguments: [
                "agent", "--name", name, "--controller", configuration.controllerURL, "--node-token-file",
                configuration.nodeTokenFile, "--state-dir", state + "/agent", "--supervisor", supervisorURL,
            ] + configuration.agentAccessArguments,
            environment: [tokenEnvironmentKey: token]
        )
    }

    /// Stages and deploys `deployment` through the controller, as `zeek-client deploy-config` does, retrying the
    /// connection until the controller listens or the limit passes; `controllerAnswers` runs once, when it first
    /// does.
    private func deploy(
        _ deployment: Management.Configuration,
        timeout: Duration,
        controllerExit: StartupWatch,
        once controllerAnswers: @escaping @Sendable () -> Void
    ) async -> Outcome {
        let started = Guarded(false)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var last = "no answer"
        while clock.now < deadline {
            if let exit = controllerExit.first {
                return .failed("the controller exited during start-up: \(exit) (its output is in the supervisor's log)")
            }
            let backend = WebSocketBackend(url: configuration.controllerURL, options: configuration.clientOptions)
            do {
                let remaining = deadline - clock.now
                let results = try await withDispatcher(
                    backend: backend,
                    protocols: [.managementController],
                    options: DispatchOptions(timeout: max(remaining, .seconds(1)))
                ) { dispatcher in
                    let client = ControllerClient(dispatcher: dispatcher)
                    if started.withLock({ started in
                        defer { started = true }
                        return !started
                    }) {
                        controllerAnswers()
                    }
                    _ = try await client.stage(deployment)
                    return try await client.deploy()
                }
                await backend.close()
                return .deployed(results)
            } catch let error as BackendError {
                await backend.close()
                last = "\(error)"
                try? await Task.sleep(for: .milliseconds(100))
            } catch {
                await backend.close()
                return .failed("the controller did not deploy the configuration: \(error)")
            }
        }
        return .failed("the controller at \(configuration.controllerURL) did not deploy within \(timeout): \(last)")
    }
}

/// The first premature exit of the controller during a supervisor's start-up, shared by the supervisor's event
/// handler and its first deployment.
private final class StartupWatch: Sendable {
    private let exit = Guarded<String?>(nil)

    /// The first exit noted, as the supervisor describes it.
    var first: String? { exit.withLock { $0 } }

    /// Notes an exit (only the first is kept).
    func note(_ description: String) {
        exit.withLock { if $0 == nil { $0 = description } }
    }
}

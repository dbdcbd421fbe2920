import ClusterKit

/// `zeekctl agent --name NAME --controller ws://HOST:PORT`: runs one Management agent in this process.
struct AgentCommand: ZeekctlCommand {
    static let name = "agent"
    static let summary = "run a Management agent that serves one instance for a controller with --agents remote"
    static let usage = """
        usage: zeekctl agent --name NAME (--controller ws://HOST:PORT | --listen HOST:PORT [--allow-remote])
                             [--address ADDR] [--state-dir DIR] [--node-program PATH] [--node-token-file FILE]
                             [--tls-ca FILE] [--tls-certificate FILE --tls-key FILE] [--tls-insecure]
                             [--token-file FILE] [--log-dir DIR] [--log-format ascii|json] [--log-level LEVEL]
                             [--supervisor ws://127.0.0.1:PORT]

        Runs the Management agent of instance NAME until SIGTERM or SIGINT: it connects to the controller at
        --controller (ws://HOST:PORT, ws://HOST:PORT/v1/messages/json or HOST:PORT; a controller started with
        '--agents remote'), says hello with Management::Agent::API::notify_agent_hello as Zeek's agents do, and
        runs the nodes the controller deploys to its instance as supervised 'zeekctl node' processes on this host
        that join the controller's hub. When the controller goes away it keeps its nodes running and reconnects
        (1 s, doubling up to 30 s, for as long as it takes); on every new connection it says hello again, and the
        controller deploys the instance's part of its configuration to it again. Its nodes stop with it.

        With --listen HOST:PORT (PORT alone: 127.0.0.1:PORT; Zeek's agents listen on 2151) the agent does not
        connect: it listens, and the controller connects to it, as to every instance whose address and port its
        configuration gives (Management INI: 'agent-x = 10.0.0.2:2151'). It prints 'listening on URL' once it
        listens, and says hello each time the controller connects. Its nodes join its own listener. Only
        connections with the node token are served (the controller's and the agent's nodes'), from this host only
        by your own user (and root); it listens on loopback addresses only unless --allow-remote is given (for a
        trusted network: the node token travels in clear without TLS). A listening agent runs its nodes itself
        (not with --supervisor).

        --address ADDR is the IP address of the agent's host (default: ZEEK_AGENT_ADDR when set, as Zeek's agent
        takes it; else the system chooses): the agent's connection to the controller comes from ADDR, so that
        'zeek-client get-instances' shows it as the instance's host, and so do its nodes' ('zeekctl node
        --address ADDR').

        The controller's node token comes from --node-token-file FILE (mode 0600 or stricter; the file the
        controller's --node-token-file names), else from CLUSTERKIT_NODE_TOKEN. The nodes' runtime directories
        go under --state-dir DIR (created with mode 0700 when missing), else under a fresh private directory
        removed at exit. --node-program runs another program instead of this zeekctl for the nodes.

        Its management log in Zeek's format (management-NAME.log: ts, node, level, role, message) goes to
        --log-dir DIR (a private directory, as --state-dir DIR), else to the directory of --state-dir, else
        nowhere; --log-format ascii (default) or json, --log-level debug, info (default), warning or error, as
        for 'zeekctl controller'.

        --supervisor URL has the supervisor there run the nodes (Zeek's SupervisorControl requests, with the
        supervisor's token from CLUSTERKIT_SUPERVISOR_TOKEN): they then outlive the agent, and an agent started
        again takes over those still running as deployed. 'zeekctl supervisor' starts its agents so.

        --controller takes a wss:// URL for TLS. \(ClientAccess.usage)

        exit status: 0 stopped by a signal, 1 could not start (no token, controller unreachable, unsafe state
        directory), 64 usage error

        """
    static let options: [Arguments.Option] =
        [
            .value("--name"), .value("--controller"), .value("--state-dir"), .value("--node-program"),
            .value("--node-token-file"), .value("--log-dir"), .value("--log-format"), .value("--log-level"),
            .value("--supervisor"),
            .value("--address"), .value("--listen"), .flag("--allow-remote"),
        ] + ClientAccess.options

    var instance: String
    var controller: String?
    var listen: WebSocketServer.Options?
    var allowsRemotePeers = false
    var stateDirectory: String?
    var nodeProgram: String?
    var nodeTokenFile: String?
    var access: ClientAccess
    var logs: LogArguments
    /// The supervisor that runs the agent's nodes (`--supervisor URL`, set by `zeekctl supervisor`).
    var supervisor: String?
    var address: String?

    init(arguments: Arguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else {
            throw UsageError("'zeekctl agent' takes no arguments, got '\(arguments.positionals[0])'")
        }
        guard let instance = arguments.value("--name"), !instance.isEmpty else {
            throw UsageError("'zeekctl agent' needs '--name NAME'")
        }
        let controller = arguments.value("--controller")
        let listen = arguments.value("--listen")
        switch (controller, listen) {
        case (nil, nil):
            throw UsageError("'zeekctl agent' needs '--controller ws://HOST:PORT' or '--listen HOST:PORT'")
        case (.some, .some):
            throw UsageError("'--controller' and '--listen' exclude each other: the agent connects or it listens")
        default:
            break
        }
        self.instance = instance
        self.controller = try controller.map { text throws(UsageError) in
            try RemoteBackend.address(text, option: "--controller", defaultPort: ControllerService.defaultPort)
        }
        self.listen = try listen.map { text throws(UsageError) in
            try ControllerCommand.listenOptions(text, defaultPort: AgentProcess.defaultListenPort)
        }
        allowsRemotePeers = arguments.flag("--allow-remote")
        if allowsRemotePeers, listen == nil { throw UsageError("'--allow-remote' goes with '--listen'") }
        access = try ClientAccess(arguments: arguments, urls: self.controller.map { [$0] } ?? [])
        if listen != nil, access.hasTLSOptions || access.tokenFile != nil {
            throw UsageError("'--listen' takes no client access options: the agent connects to nothing")
        }
        if listen != nil, arguments.value("--supervisor") != nil {
            throw UsageError("'--listen' and '--supervisor' exclude each other: a listening agent runs its nodes")
        }
        stateDirectory = arguments.value("--state-dir")
        nodeProgram = arguments.value("--node-program")
        nodeTokenFile = arguments.value("--node-token-file")
        logs = try LogArguments(arguments: arguments, defaultDirectory: stateDirectory, takesLevel: true)
        supervisor = arguments.value("--supervisor")
        address = try arguments.value("--address").map { text throws(UsageError) in
            try RemoteBackend.localAddress(text, option: "--address")
        }
    }

    func run(context: CommandContext) async -> ExitStatus {
        let terminal = context.terminal
        var temporaryDirectory: PrivateDirectory?
        defer { temporaryDirectory?.remove() }
        do {
            let token: String
            if let nodeTokenFile {
                token = try BearerTokenFile.read(context.resolve(nodeTokenFile))
            } else if let given = context.environment[NodeProcess.nodeTokenEnvironmentKey], !given.isEmpty {
                token = given
            } else {
                terminal.error(
                    "no node token: give '--node-token-file FILE' or set \(NodeProcess.nodeTokenEnvironmentKey)"
                )
                return .failure
            }
            let directory: PrivateDirectory
            if let stateDirectory {
                directory = try PrivateDirectory(checking: context.resolve(stateDirectory))
            } else {
                directory = try PrivateDirectory.makeTemporary(
                    prefix: "zeekctl-agent-",
                    environment: context.environment
                )
                temporaryDirectory = directory
            }
            let prepared = try access.prepared(context: context)
            var configuration = AgentProcess.Configuration(
                instance: instance,
                controllerURL: controller ?? "",
                nodeToken: token,
                stateDirectory: directory.path,
                executablePath: nodeProgram.map(context.resolve) ?? context.executablePath,
                environment: context.environment,
                hubAccess: ProcessNodeHost.HubAccess(
                    caFile: prepared.tls.caFile,
                    certificateFile: prepared.tls.certificateFile,
                    keyFile: prepared.tls.keyFile,
                    bearerToken: prepared.token
                )
            )
            prepared.apply(to: &configuration.backend)
            if let supervisor {
                guard let token = context.environment[ClusterSupervisor.tokenEnvironmentKey], !token.isEmpty else {
                    terminal.error(
                        "'--supervisor' needs the supervisor's token in \(ClusterSupervisor.tokenEnvironmentKey)"
                    )
                    return .failure
                }
                configuration.supervisor = AgentProcess.Configuration.SupervisorAccess(url: supervisor, token: token)
            }
            configuration.address =
                address
                ?? context.environment[AgentProcess.addressEnvironmentKey].flatMap {
                    $0.isEmpty ? nil : $0
                }
            if let listen {
                // The agent's address is the one it listens on, unless that is every address.
                if configuration.address == nil, listen.host != "0.0.0.0", listen.host != "::" {
                    configuration.address = listen.host
                }
                configuration.listening = AgentProcess.Listening(
                    webSocket: listen,
                    allowsRemotePeers: allowsRemotePeers,
                    onListening: { terminal.writeOutput("listening on \($0)\n") }
                )
            }
            let logs = try self.logs.open(context: context)
            defer { logs?.close() }
            try TerminationSignals.install()
            let agent = AgentProcess(
                configuration: configuration,
                log: { terminal.writeError($0 + "\n") },
                managementLog: logs?.managementLog(node: instance, role: .agent)
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let logs { group.addTask { await logs.run() } }
                try await agent.run(until: { _ = await TerminationSignals.next() })
                group.cancelAll()
            }
            return .success
        } catch {
            terminal.error("\(error)")
            return .failure
        }
    }
}

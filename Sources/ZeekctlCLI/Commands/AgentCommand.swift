import ClusterKit

/// `zeekctl agent --name NAME --controller ws://HOST:PORT`: runs one Management agent in this process.
struct AgentCommand: ZeekctlCommand {
    static let name = "agent"
    static let summary = "run a Management agent that serves one instance for a controller with --agents remote"
    static let usage = """
        usage: zeekctl agent --name NAME --controller ws://HOST:PORT [--address ADDR] [--state-dir DIR]
                             [--node-program PATH] [--node-token-file FILE]
                             [--tls-ca FILE] [--tls-certificate FILE --tls-key FILE] [--tls-insecure]
                             [--token-file FILE] [--log-dir DIR] [--log-format ascii|json] [--log-level LEVEL]

        Runs the Management agent of instance NAME until SIGTERM or SIGINT: it connects to the controller at
        --controller (ws://HOST:PORT, ws://HOST:PORT/v1/messages/json or HOST:PORT; a controller started with
        '--agents remote'), says hello with Management::Agent::API::notify_agent_hello as Zeek's agents do, and
        runs the nodes the controller deploys to its instance as supervised 'zeekctl node' processes on this host
        that join the controller's hub. When the controller goes away it keeps its nodes running and reconnects
        (1 s, doubling up to 30 s, for as long as it takes); on every new connection it says hello again, and the
        controller deploys the instance's part of its configuration to it again. Its nodes stop with it.

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

        --controller takes a wss:// URL for TLS. \(ClientAccess.usage)

        exit status: 0 stopped by a signal, 1 could not start (no token, controller unreachable, unsafe state
        directory), 64 usage error

        """
    static let options: [Arguments.Option] =
        [
            .value("--name"), .value("--controller"), .value("--state-dir"), .value("--node-program"),
            .value("--node-token-file"), .value("--log-dir"), .value("--log-format"), .value("--log-level"),
            .value("--address"),
        ] + ClientAccess.options

    var instance: String
    var controller: String
    var stateDirectory: String?
    var nodeProgram: String?
    var nodeTokenFile: String?
    var access: ClientAccess
    var logs: LogArguments
    var address: String?

    init(arguments: Arguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else {
            throw UsageError("'zeekctl agent' takes no arguments, got '\(arguments.positionals[0])'")
        }
        guard let instance = arguments.value("--name"), !instance.isEmpty else {
            throw UsageError("'zeekctl agent' needs '--name NAME'")
        }
        guard let controller = arguments.value("--controller") else {
            throw UsageError("'zeekctl agent' needs '--controller ws://HOST:PORT'")
        }
        self.instance = instance
        self.controller = try RemoteBackend.address(
            controller,
            option: "--controller",
            defaultPort: ControllerService.defaultPort
        )
        access = try ClientAccess(arguments: arguments, urls: [self.controller])
        stateDirectory = arguments.value("--state-dir")
        nodeProgram = arguments.value("--node-program")
        nodeTokenFile = arguments.value("--node-token-file")
        logs = try LogArguments(arguments: arguments, defaultDirectory: stateDirectory, takesLevel: true)
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
                controllerURL: controller,
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
            configuration.address =
                address
                ?? context.environment[AgentProcess.addressEnvironmentKey].flatMap {
                    $0.isEmpty ? nil : $0
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

import ClusterKit

/// `zeekctl node --name NAME --hub ws://HOST:PORT`: runs one cluster node in this process, joined to a hub.
struct NodeCommand: ZeekctlCommand {
    static let name = "node"
    static let summary = "run one cluster node that joins a WebSocket hub and answers requests"
    static let usage = """
        usage: zeekctl node --name NAME --hub ws://HOST:PORT [--layout FILE] [--set ID=JSON]...
                            [--cluster-backend broker|zeromq] [--address ADDR]
                            [--tls-ca FILE] [--tls-certificate FILE --tls-key FILE] [--tls-insecure]
                            [--token-file FILE] [--log-dir DIR [--log-format ascii|json]]

        Runs the cluster node NAME until SIGTERM or SIGINT: it connects to the WebSocket API server at
        --hub (ws://HOST:PORT, ws://HOST:PORT/v1/messages/json or HOST:PORT), says hello with
        Management::Node::API::notify_node_hello and answers Management node dispatches and Control
        framework requests as a Zeek node would, from what its Zeek would hold. A lost connection is made
        again after Cluster::retry_interval (1 s; ZEEK_DEFAULT_CONNECT_RETRY seconds when set, 0: never),
        doubling up to 30 s, 10 attempts.

        The cluster comes from --layout FILE (a node.cfg, cluster-layout.zeek or Management INI), else from
        the supervised node configuration named by CLUSTERKIT_NODE_CONFIG, which a ClusterKit supervisor
        sets; NAME defaults to that configuration's node, else to CLUSTER_NODE. --set ID=JSON sets an
        identifier on the node (JSON null declares it without a value).

        The node takes part in cluster membership: it subscribes to its node, node id and type topics, says
        Cluster::hello to the other nodes on the hub, and logs their node_up and node_down. --cluster-backend
        zeromq names those topics as Zeek's ZeroMQ backend does (zeek.cluster.node.NAME.); the default is
        Broker's (zeek/cluster/node/NAME/).

        --log-dir DIR (a private directory, as for 'zeekctl controller') gets the node's cluster.log in Zeek's
        format: 'got hello from NAME (ID)' and 'node down: NAME' as other nodes come and go; --log-format ascii
        (default, tab-separated as Zeek writes it) or json. A log that cannot be written is reported once.

        --address ADDR connects from the local IP address ADDR (the address of the node's host, which the hub
        then sees; an agent started with --address passes its own to its nodes).

        --hub takes a wss:// URL for TLS. \(ClientAccess.usage)

        exit status: 0 stopped by a signal or a shutdown request, 1 the node could not start or lost its hub,
        64 usage error

        """
    static let options: [Arguments.Option] =
        [
            .value("--name"), .value("--hub"), .value("--layout"), .repeated("--set"), .value("--cluster-backend"),
            .value("--log-dir"), .value("--log-format"), .value("--address"),
        ] + ClientAccess.options

    var nodeName: String?
    var hub: String
    var layout: String?
    var settings: [String: ZeekValue?]
    var access: ClientAccess
    var scheme: TopicScheme
    var logs: LogArguments
    var address: String?

    init(arguments: Arguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else {
            throw UsageError("'zeekctl node' takes no arguments, got '\(arguments.positionals[0])'")
        }
        guard let hub = arguments.value("--hub") else {
            throw UsageError("'zeekctl node' needs '--hub ws://HOST:PORT'")
        }
        // Checked here, so that a bad address is a usage error; the library normalises it the same way.
        let url = try RemoteBackend.address(hub, option: "--hub", defaultPort: WebSocketServer.Options.standard.port)
        self.hub = hub
        access = try ClientAccess(arguments: arguments, urls: [url])
        nodeName = arguments.value("--name")
        layout = arguments.value("--layout")
        settings = try arguments.zeekSettings("--set")
        logs = try LogArguments(arguments: arguments, defaultDirectory: nil, takesLevel: false)
        scheme = try Self.scheme(arguments)
        address = try arguments.value("--address").map { text throws(UsageError) in
            try RemoteBackend.localAddress(text, option: "--address")
        }
    }

    /// The topic naming `--cluster-backend` names (default Broker's).
    static func scheme(_ arguments: Arguments) throws(UsageError) -> TopicScheme {
        let name = arguments.value("--cluster-backend") ?? "broker"
        guard let scheme = TopicScheme.named(name) else {
            throw UsageError("invalid value '\(name)' for '--cluster-backend' (expected broker or zeromq)")
        }
        return scheme
    }

    func run(context: CommandContext) async -> ExitStatus {
        do {
            var configuration = try NodeProcess.Configuration.resolve(
                name: nodeName,
                layoutFile: layout.map(context.resolve),
                hub: hub,
                settings: settings,
                environment: context.environment
            )
            try access.prepared(context: context).apply(to: &configuration.backend)
            if let address { configuration.backend.client.localAddress = address }
            configuration.useClusterBackend(scheme)
            try TerminationSignals.install()
            let terminal = context.terminal
            let logs = try self.logs.open(context: context)
            defer { logs?.close() }
            let node = NodeProcess(
                configuration: configuration,
                log: { terminal.writeError($0 + "\n") },
                clusterLog: logs?.clusterLog(node: configuration.name)
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let logs { group.addTask { await logs.run() } }
                try await node.run(until: { _ = await TerminationSignals.next() })
                group.cancelAll()
            }
            return .success
        } catch {
            context.terminal.error("\(error)")
            return .failure
        }
    }
}

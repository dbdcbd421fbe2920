import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl controller`: runs a Management controller that `zeek-client` and `zeekctl` drive over WebSocket.
struct ControllerCommand: ZeekctlCommand {
    static let name = "controller"
    static let summary = "run a Management controller (with its agents and nodes) that zeek-client can drive"
    static let usage = """
        usage: zeekctl controller [--listen HOST:PORT] [--layout FILE | --config INI] [--verbose]
                                  [--processes [--state-dir DIR] [--node-program PATH]]
                                  [--allow-remote] [--allow-other-users] [--client-limit N] [--node-limit N]
                                  [--subscription-timeout SECONDS] [--max-event-queue-size N] [--ready-fd N]
                                  [--tls-certificate FILE --tls-key FILE [--tls-ca FILE] [--tls-verify-peer]
                                   [--tls-ciphers LIST] [--tls-node-certificate FILE --tls-node-key FILE]]
                                  [--token-file FILE] [--declare FILE.zeek]...
                                  [--agents local|remote] [--node-token-file FILE]
                                  [--cluster-backend broker|zeromq]
                                  [--log-dir DIR] [--log-format ascii|json] [--log-level LEVEL]

        Runs a Management controller with Zeek's controller API on ws://HOST:PORT/v1/messages/json (default
        127.0.0.1:2149, Zeek's), so that zeek-client, 'zeekctl dispatch --controller' and
        'zeekctl cluster status' work against it. Deployed configurations run as agents inside this process;
        their nodes run inside it too, or with --processes each as a supervised 'zeekctl node' process that
        joins over WebSocket (revived with Zeek's back-off when it crashes). Their runtime directories go under
        --state-dir DIR (created with mode 0700 when missing; an existing one must be a real directory of yours
        that nobody else can write), else under a fresh private directory zeekctl-controller-XXXXXX in
        $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp, removed at exit. --node-program runs another program
        instead of this zeekctl for the nodes (a wrapper, say), with the arguments 'node --name NAME --hub URL'.

        --layout FILE deploys a node.cfg, cluster-layout.zeek/.bro or Management INI at start: a node.cfg or
        layout runs on one instance, agent-<hostname>; an INI as it says. --config INI is the same for an INI
        only. Without either the controller starts empty and waits for 'zeek-client deploy-config'. A file
        with errors, or one the controller would refuse to stage (node names outside [A-Za-z0-9._-], node
        environment keys such as LD_PRELOAD, PATH, ZEEK* or CLUSTERKIT_*, more than 256 instances or 4096
        nodes), is reported and the controller does not start.

        --tls-certificate FILE and --tls-key FILE (PEM, both or neither) serve TLS 1.2/1.3 on
        wss://HOST:PORT/v1/messages/json, as Zeek's Cluster::WebSocketTLSOptions cert_file and key_file do;
        --tls-verify-peer requires every client to present a certificate that the CAs of --tls-ca FILE (default:
        the system's) vouch for; --tls-ciphers LIST sets the OpenSSL cipher list of TLS 1.2. TLS needs the
        system's OpenSSL 3 (libssl.so.3), loaded at start. --token-file FILE (mode 0600 or stricter) requires
        'Authorization: Bearer TOKEN' on every WebSocket upgrade, with the token the file holds (401 otherwise).
        Node processes of --processes join over TLS trusting the CAs of --tls-ca (default: the system's) for the
        --listen address, and with --tls-verify-peer present the client certificate of --tls-node-certificate
        FILE and --tls-node-key FILE (default: the controller's own, which must then allow client
        authentication); a handshake they could not complete stops the start with the reason.

        --declare FILE.zeek (repeatable) adds the 'global NAME: event(arg: type, ...)' declarations of a Zeek
        script to the events clients may publish through the controller's hub (besides Zeek's Management, Control
        and Cluster events), so that a WebSocket API client can exchange its own events there; a declaration that
        cannot be read is an error with file and line, and the controller does not start.

        --cluster-backend zeromq has the nodes name their node, type and node id topics as Zeek's ZeroMQ
        backend does (zeek.cluster.node.NAME., zeek.cluster.worker, ...); the default is Broker's.

        --agents remote leaves every instance to an agent process ('zeekctl agent --name INSTANCE --controller
        URL', on the instance's host) instead of running agents in this process: a deployment waits for the
        agent of every instance to say hello and fails, naming them, for those that do not come in time;
        'zeek-client get-instances' lists the agents connected. An agent that comes back gets its part of the
        deployed configuration again. Agents and their nodes present the node token: --node-token-file FILE
        (mode 0600 or stricter) sets it, and agents are given the same file (without it, a fresh token is made
        per run and only this controller's own node processes know it).

        Whoever can connect can deploy configurations and so run processes as you; so the controller listens
        on loopback addresses only unless --allow-remote is given (for a trusted network), or unless clients
        must authenticate: with --tls-verify-peer (mutual TLS) or --token-file. It serves only processes of
        your own user (and root) connecting over loopback unless --allow-other-users is given, and refuses
        WebSocket upgrades from web pages of another origin (403). At most --client-limit clients (default 100, Zeek's) and --node-limit node
        processes (default 4096) at once; a connection must send its subscriptions within
        --subscription-timeout seconds (default 10). A connection whose events wait unread by the controller,
        agents and in-process nodes --max-event-queue-size times (default 32, Zeek's max_event_queue_size; 0:
        no limit) is not read until they catch up (stalled, as Zeek does). See Docs/security.md.

        Logs in Zeek's formats go to --log-dir DIR (a private directory, as --state-dir DIR), else to the
        directory of --state-dir, else nowhere: the controller's and each agent's management log
        (management-NAME.log: ts, node, level, role, message, as Zeek's Management framework writes it) and the
        hub's cluster.log (ts, node, message: clients added and gone). --log-format ascii (default: Zeek's
        tab-separated logs with #fields and #types, read by zeek-cut) or json (one JSON object per line);
        --log-level debug, info (default), warning or error for the management logs. A log file that cannot be
        written is reported once on standard error and the controller goes on without it.

        It prints 'listening on URL' once it answers requests, and with --verbose one line per client that
        connects or leaves and per request. With --ready-fd N it also writes one JSON line to the open
        descriptor N and closes it: {"url": URL, "deployment": {"id", "nodes", "instances", "failures":
        [{"subject", "error"}]} or null} once it answers, or {"error": TEXT} when it cannot start ('zeekctl
        cluster start' reads it from a pipe). It runs until SIGINT or SIGTERM, then closes every connection
        with 1001 (going away) and stops its nodes.

        exit status: 0 stopped by a signal, 1 could not start (address in use, file errors, unsafe state
        directory) or standard output could not be written, 64 usage error

        """
    static let options: [Arguments.Option] = [
        .value("--listen"), .value("--layout"), .value("--config"), .flag("--verbose", "-v"), .flag("--processes"),
        .value("--state-dir"), .value("--node-program"), .flag("--allow-remote"), .flag("--allow-other-users"),
        .value("--client-limit"), .value("--node-limit"), .value("--subscription-timeout"), .value("--ready-fd"),
        .value("--max-event-queue-size"),
        .value("--tls-certificate"), .value("--tls-key"), .value("--tls-ca"), .flag("--tls-verify-peer"),
        .value("--tls-ciphers"), .value("--token-file"), .repeated("--declare"), .value("--agents"),
        .value("--node-token-file"), .value("--cluster-backend"), .value("--log-dir"), .value("--log-format"),
        .value("--log-level"), .value("--tls-node-certificate"), .value("--tls-node-key"),
    ]

    var listen: WebSocketServer.Options
    var file: String?
    var format: LayoutFormat?
    var verbose: Bool
    var processes: Bool
    var stateDirectory: String?
    var nodeProgram: String?
    var allowsRemoteClients: Bool
    var clientLimit: Int
    var nodeLimit: Int
    var subscriptionTimeout: Duration
    var maxEventQueueSize: Int
    var readyDescriptor: Int32?
    var tokenFile: String?
    var declarationFiles: [String]
    var agents: ControllerService.AgentMode
    var nodeTokenFile: String?
    var scheme: TopicScheme
    var logs: LogArguments
    /// The client certificate and key node processes present to a hub that verifies its peers.
    var nodeCertificate: (certificate: String, key: String)?

    init(arguments: Arguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else {
            throw UsageError("'zeekctl controller' takes no arguments (got '\(arguments.positionals[0])')")
        }
        listen = try Self.listenOptions(arguments.value("--listen") ?? "127.0.0.1:\(ControllerService.defaultPort)")
        let layout = arguments.value("--layout")
        let config = arguments.value("--config")
        if layout != nil && config != nil { throw UsageError("give '--layout' or '--config', not both") }
        file = layout ?? config
        format = config == nil ? nil : .ini
        verbose = arguments.flag("--verbose")
        processes = arguments.flag("--processes")
        stateDirectory = arguments.value("--state-dir")
        nodeProgram = arguments.value("--node-program")
        allowsRemoteClients = arguments.flag("--allow-remote")
        if arguments.flag("--allow-other-users") { listen.localPeers = .anyUser }
        clientLimit = try arguments.integer("--client-limit", in: 1...100_000) ?? 100
        nodeLimit = try arguments.integer("--node-limit", in: 1...100_000) ?? 4_096
        subscriptionTimeout = try arguments.seconds("--subscription-timeout") ?? .seconds(10)
        maxEventQueueSize = try Self.maxEventQueueSize(arguments) ?? 32
        readyDescriptor = try arguments.integer("--ready-fd", in: 3...65_535).map(Int32.init)
        listen.tls = try Self.serverTLS(arguments)
        tokenFile = arguments.value("--token-file")
        declarationFiles = arguments.all("--declare")
        let mode = arguments.value("--agents") ?? "local"
        guard let agents = ControllerService.AgentMode(rawValue: mode) else {
            throw UsageError("invalid value '\(mode)' for '--agents' (expected local or remote)")
        }
        self.agents = agents
        nodeTokenFile = arguments.value("--node-token-file")
        scheme = try NodeCommand.scheme(arguments)
        if agents == .remote && nodeTokenFile == nil {
            throw UsageError("'--agents remote' needs '--node-token-file FILE' (the token agents present)")
        }
        if (stateDirectory != nil && agents != .remote || nodeProgram != nil) && !processes {
            throw UsageError(
                "'--state-dir' and '--node-program' need '--processes' ('--state-dir' also goes with '--agents remote')"
            )
        }
        logs = try LogArguments(arguments: arguments, defaultDirectory: stateDirectory, takesLevel: true)
        nodeCertificate = try Self.nodeCertificate(
            arguments,
            allowed: processes && listen.tls.isEnabled && listen.tls.enablePeerVerification,
            needing: "'--processes' and '--tls-verify-peer'"
        )
    }

    /// `--tls-node-certificate FILE --tls-node-key FILE`, which go together, if given.
    ///
    /// - Parameters:
    ///   - arguments: The command's arguments.
    ///   - allowed: Whether the command's other options allow them.
    ///   - needing: What they need otherwise, for the usage error.
    /// - Returns: The certificate and key files, or `nil`.
    /// - Throws: ``UsageError`` when one is given without the other, or they are not allowed.
    static func nodeCertificate(
        _ arguments: Arguments,
        allowed: Bool,
        needing: String
    ) throws(UsageError) -> (certificate: String, key: String)? {
        switch (arguments.value("--tls-node-certificate"), arguments.value("--tls-node-key")) {
        case (nil, nil):
            return nil
        case (let certificate?, let key?):
            guard allowed else { throw UsageError("'--tls-node-certificate' and '--tls-node-key' need \(needing)") }
            return (certificate, key)
        default:
            throw UsageError("'--tls-node-certificate' and '--tls-node-key' go together")
        }
    }

    /// Whether clients must authenticate: mutual TLS or a token.
    var requiresAuthentication: Bool {
        (listen.tls.isEnabled && listen.tls.enablePeerVerification) || tokenFile != nil
    }

    /// `--max-event-queue-size N` (0 to 1,000,000), if given.
    ///
    /// - Parameter arguments: The command's arguments.
    /// - Returns: The size, or `nil` when the option is not given.
    /// - Throws: ``UsageError`` naming the value.
    static func maxEventQueueSize(_ arguments: Arguments) throws(UsageError) -> Int? {
        try arguments.integer("--max-event-queue-size", in: 0...1_000_000)
    }

    /// The server options for `--listen HOST:PORT` (`:PORT` and `PORT` listen on 127.0.0.1; port 0 picks a
    /// free one).
    ///
    /// - Parameters:
    ///   - text: The option's value.
    ///   - defaultPort: The port of `HOST` alone; default the controller's, 2149.
    /// - Returns: The server options.
    /// - Throws: ``UsageError`` naming the value.
    static func listenOptions(
        _ text: String,
        defaultPort: Int = ControllerService.defaultPort
    ) throws(UsageError) -> WebSocketServer.Options {
        do {
            return try WebSocketAPIServer.listenOptions(text, defaultPort: defaultPort)
        } catch {
            throw UsageError("invalid value '\(text)' for '--listen' (expected HOST:PORT): \(error.reason)")
        }
    }

    /// The server's TLS settings from `--tls-certificate`, `--tls-key`, `--tls-verify-peer`, `--tls-ca` and
    /// `--tls-ciphers` (paths as given), with Zeek's rules: the certificate and key go together, and the others
    /// need them.
    static func serverTLS(_ arguments: Arguments) throws(UsageError) -> Cluster.WebSocketTLSOptions {
        let tls = Cluster.WebSocketTLSOptions(
            certFile: arguments.value("--tls-certificate"),
            keyFile: arguments.value("--tls-key"),
            enablePeerVerification: arguments.flag("--tls-verify-peer"),
            caFile: arguments.value("--tls-ca") ?? "",
            ciphers: arguments.value("--tls-ciphers") ?? ""
        )
        do {
            try tls.validate()
        } catch {
            throw UsageError("'--tls-certificate' and '--tls-key' go together (\(error))")
        }
        if !tls.isEnabled, tls.enablePeerVerification || !tls.caFile.isEmpty || !tls.ciphers.isEmpty {
            throw UsageError(
                "'--tls-ca', '--tls-verify-peer' and '--tls-ciphers' need '--tls-certificate' and '--tls-key'"
            )
        }
        return tls
    }

    /// Why node processes could not join a hub over TLS, with a hint when they presented the controller's own
    /// certificate and the hub refused it.
    static func nodeTLSFailure(_ error: WebSocketError, hasNodeCertificate: Bool) -> String {
        let hint =
            !hasNodeCertificate && error.code == .tlsClientCertificateRefused
            ? " (they present the controller's certificate; give them one for client authentication with "
                + "--tls-node-certificate and --tls-node-key)" : ""
        return "node processes could not join the hub over TLS: \(error.message)\(hint)"
    }

    func run(context: CommandContext) async -> ExitStatus {
        let terminal = context.terminal
        let readiness = readyDescriptor.map(ReadinessReporter.init(descriptor:))
        // Every way out before the controller answers says why on standard error and on the readiness descriptor.
        func fail(_ message: String, details: [String] = []) -> ExitStatus {
            terminal.error(message)
            readiness?.report(ControllerReadiness(.failed((details + ["error: " + message]).joined(separator: "\n"))))
            return .failure
        }
        var configuration: Management.Configuration?
        if let file {
            do {
                let startup = try ControllerService.startupConfiguration(loading: context.resolve(file), format: format)
                for issue in startup.issues { terminal.writeError(issue.description + "\n") }
                guard let loaded = startup.configuration else {
                    return fail(
                        "\(file): not starting: the configuration has errors",
                        details: startup.issues.map(\.description)
                    )
                }
                configuration = loaded
            } catch {
                return fail("\(error)")
            }
        }
        let log: (@Sendable (String) -> Void)? = verbose ? { @Sendable line in terminal.writeOutput(line + "\n") } : nil
        var listen = listen
        listen.tls.certFile = listen.tls.certFile.map(context.resolve)
        listen.tls.keyFile = listen.tls.keyFile.map(context.resolve)
        if !listen.tls.caFile.isEmpty { listen.tls.caFile = context.resolve(listen.tls.caFile) }
        if let tokenFile {
            do {
                listen.bearerToken = try BearerTokenFile.read(context.resolve(tokenFile))
            } catch {
                return fail("\(error)")
            }
        }
        // Events declared in Zeek script join the hub's catalog; one that cannot be read stops the start.
        var declared: [EventCatalog.Signature] = []
        for path in declarationFiles {
            let declarations: EventDeclarations
            do {
                declarations = try EventDeclarations(readingFile: context.resolve(path), named: path)
            } catch {
                return fail("\(path): \(error)")
            }
            guard declarations.issues.isEmpty else {
                for issue in declarations.issues { terminal.writeError("error: \(issue)\n") }
                return fail(
                    "\(path): not starting: \(declarations.issues.count) declaration(s) cannot be read",
                    details: declarations.issues.map(\.description)
                )
            }
            declared += declarations.signatures
        }
        var options = ControllerService.Options(
            webSocket: listen,
            controller: Controller.Options(log: log),
            connectionLog: log,
            allowsRemoteClients: allowsRemoteClients || requiresAuthentication,
            clientLimit: clientLimit,
            nodeLimit: nodeLimit,
            subscriptionTimeout: subscriptionTimeout
        )
        options.declaredEvents = declared
        options.agents = agents
        options.scheme = scheme
        if let nodeTokenFile {
            do {
                options.nodeToken = try BearerTokenFile.read(context.resolve(nodeTokenFile))
            } catch {
                return fail("\(error)")
            }
        }
        options.maxEventQueueSize = maxEventQueueSize
        if let pid = context.environment[ClusterSupervisor.pidEnvironmentKey].flatMap(Int.init), pid > 1 {
            options.supervisorPID = pid
        }
        if agents == .remote, let stateDirectory {
            do {
                let directory = try PrivateDirectory(checking: context.resolve(stateDirectory))
                configuration = try options.keepingDeployments(in: directory.path, deploying: configuration)
            } catch {
                return fail("state directory \(error)")
            }
        }
        var temporaryDirectory: PrivateDirectory?
        var nodeAccess: ProcessNodeHost.HubAccess?
        if processes {
            let directory: PrivateDirectory
            do {
                if let stateDirectory {
                    directory = try PrivateDirectory(checking: context.resolve(stateDirectory))
                } else {
                    directory = try PrivateDirectory.makeTemporary(
                        prefix: "zeekctl-controller-",
                        environment: context.environment
                    )
                    temporaryDirectory = directory
                }
            } catch {
                return fail("state directory \(error)")
            }
            // Nodes join over TLS when the hub uses it, trusting the CAs of --tls-ca and, when the hub verifies its
            // peers, presenting --tls-node-certificate (else the controller's own); the token goes in their
            // environment. A handshake they could not complete is found out now, in memory.
            let verifiesPeers = listen.tls.isEnabled && listen.tls.enablePeerVerification
            let hubAccess = ProcessNodeHost.HubAccess(
                caFile: listen.tls.isEnabled && !listen.tls.caFile.isEmpty ? listen.tls.caFile : nil,
                certificateFile: verifiesPeers ? nodeCertificate?.certificate ?? listen.tls.certFile : nil,
                keyFile: verifiesPeers ? nodeCertificate?.key ?? listen.tls.keyFile : nil,
                bearerToken: listen.bearerToken
            )
            nodeAccess = hubAccess
            options.makeNodeHost = ControllerService.processNodeHosts(
                executablePath: nodeProgram.map(context.resolve) ?? context.executablePath,
                stateDirectory: directory.path,
                environment: context.environment,
                hubAccess: hubAccess,
                scheme: scheme
            )
        }
        defer { temporaryDirectory?.remove() }
        // Checked after the state directory, by the same rules.
        do {
            options.logs = try logs.open(context: context)
        } catch {
            return fail("log directory \(error)")
        }
        let service: ControllerService
        do {
            try TerminationSignals.install()
            service = try ControllerService(options: options)
        } catch let error as ControllerServiceError where error.code == .remoteClientsNotAllowed {
            return fail(
                "\(error); clients must authenticate there (--tls-verify-peer or --token-file), "
                    + "or pass --allow-remote to listen there anyway"
            )
        } catch {
            return fail("\(error)")
        }
        // After the service, whose own TLS files are checked by then: can the node processes join it?
        if let nodeAccess {
            do {
                try nodeAccess.checkTLS(against: listen, host: listen.host)
            } catch {
                await service.shutdown()
                return fail(Self.nodeTLSFailure(error, hasNodeCertificate: nodeCertificate != nil))
            }
        }
        let url = service.url
        let deploying = configuration
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await service.run(deploying: deploying) { results in
                        let deployment = deploying.map { ControllerReadiness.Deployment($0, results: results) }
                        terminal.writeOutput(deployment?.report ?? "")
                        terminal.writeOutput("listening on \(url)\n")
                        readiness?.report(ControllerReadiness(.ready(url: url, deployment: deployment)))
                    }
                }
                group.addTask {
                    guard let signal = await TerminationSignals.next() else { return }
                    terminal.writeOutput("stopping on \(signal == SIGINT ? "SIGINT" : "SIGTERM")\n")
                    await service.shutdown()
                }
                // The first to finish (a signal, or the service failing) ends the other.
                try await group.next()
                group.cancelAll()
                try await group.waitForAll()
            }
        } catch {
            return fail("\(error)")
        }
        return .success
    }
}

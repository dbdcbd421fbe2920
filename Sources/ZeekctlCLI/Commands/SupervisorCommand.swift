import ClusterKit

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl supervisor --state-dir DIR ...`: the supervisor `zeekctl cluster start` runs in the background.
struct SupervisorCommand: ZeekctlCommand {
    static let name = "supervisor"
    static let summary = "supervise a controller, its local agents and their nodes (what 'cluster start' runs)"
    static let usage = """
        usage: zeekctl supervisor --state-dir DIR [--listen HOST:PORT] [--layout FILE | --config INI]
                                  [--timeout SECONDS] [--node-program PATH] [--allow-remote] [--allow-other-users]
                                  [--cluster-backend broker|zeromq] [--max-event-queue-size N] [--ready-fd N]
                                  [--tls-certificate FILE --tls-key FILE [--tls-ca FILE] [--tls-verify-peer]
                                   [--tls-ciphers LIST] [--tls-node-certificate FILE --tls-node-key FILE]]
                                  [--token-file FILE]

        Runs a controller ('zeekctl controller --agents remote') and one local agent per instance of the
        configuration ('zeekctl agent', default instance agent-<hostname>) as supervised children, as Zeek's
        boot.zeek does, and the agents' nodes too, which it creates for them with Zeek's SupervisorControl
        requests over a loopback listener only they can use. A child killed is revived with Zeek's back-off
        (1 s, 1 s, 1 s, 2 s, ...) while the others keep running: nodes join the revived controller, which
        deploys its persisted configuration again without restarting them, and a revived agent takes over
        its running nodes. --layout or --config is deployed through the controller once it listens (within
        --timeout, default 120 s); --ready-fd N gets one JSON line then, as for 'zeekctl controller'.
        Everything goes under --state-dir DIR (a private directory): the node token, controller/, agent/ and
        nodes/. SIGTERM or SIGINT (or 'zeekctl cluster stop') stops the nodes, the agents and the controller.
        --max-event-queue-size, --cluster-backend and the TLS and token options are the controller's (see
        'zeekctl controller'); the agents, the nodes and the
        first deployment reach it with them: trusting --tls-ca, presenting --tls-node-certificate (else the
        controller's certificate) when it verifies peers, sending the token of --token-file. A handshake they
        could not complete stops the start with the reason.

        exit status: 0 stopped, 1 could not start, 64 usage error

        """
    static let options: [Arguments.Option] = [
        .value("--state-dir"), .value("--listen"), .value("--layout"), .value("--config"), .value("--timeout"),
        .value("--node-program"), .flag("--allow-remote"), .flag("--allow-other-users"),
        .value("--cluster-backend"), .value("--max-event-queue-size"), .value("--ready-fd"),
        .value("--tls-certificate"), .value("--tls-key"),
        .value("--tls-ca"), .flag("--tls-verify-peer"), .value("--tls-ciphers"), .value("--tls-node-certificate"),
        .value("--tls-node-key"), .value("--token-file"),
    ]

    var stateDirectory: String
    var file: String?
    var timeout: Duration
    var nodeProgram: String?
    var passThrough: [String] = []
    var scheme: TopicScheme
    var readyDescriptor: Int32?
    /// The controller's listening options with its TLS settings (paths as given).
    var server: WebSocketServer.Options
    /// `--token-file FILE`: the token the controller requires of its clients.
    var clientTokenFile: String?
    var nodeCertificate: (certificate: String, key: String)?

    init(arguments: Arguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else {
            throw UsageError("'zeekctl supervisor' takes no arguments, got '\(arguments.positionals[0])'")
        }
        guard let stateDirectory = arguments.value("--state-dir") else {
            throw UsageError("'zeekctl supervisor' needs '--state-dir DIR'")
        }
        self.stateDirectory = stateDirectory
        let listen = arguments.value("--listen") ?? "127.0.0.1:\(ControllerService.defaultPort)"
        if arguments.value("--layout") != nil && arguments.value("--config") != nil {
            throw UsageError("give '--layout' or '--config', not both")
        }
        file = arguments.value("--layout") ?? arguments.value("--config")
        timeout = try arguments.seconds("--timeout") ?? .seconds(120)
        nodeProgram = arguments.value("--node-program")
        scheme = try NodeCommand.scheme(arguments)
        for flag in ["--allow-remote", "--allow-other-users"] where arguments.flag(flag) { passThrough.append(flag) }
        if let backend = arguments.value("--cluster-backend") { passThrough += ["--cluster-backend", backend] }
        if let size = try ControllerCommand.maxEventQueueSize(arguments) {
            passThrough += ["--max-event-queue-size", "\(size)"]
        }
        readyDescriptor = try arguments.integer("--ready-fd", in: 3...65_535).map(Int32.init)
        server = try ControllerCommand.listenOptions(listen)
        guard server.port != 0 else {
            throw UsageError("'zeekctl supervisor' needs a fixed port in '--listen' (its children must find it)")
        }
        server.tls = try ControllerCommand.serverTLS(arguments)
        nodeCertificate = try ControllerCommand.nodeCertificate(
            arguments,
            allowed: server.tls.isEnabled && server.tls.enablePeerVerification,
            needing: "'--tls-verify-peer'"
        )
        clientTokenFile = arguments.value("--token-file")
    }

    func run(context: CommandContext) async -> ExitStatus {
        let terminal = context.terminal
        let readiness = readyDescriptor.map(ReadinessReporter.init(descriptor:))
        func fail(_ message: String) -> ExitStatus {
            terminal.error(message)
            readiness?.report(ControllerReadiness(.failed("error: " + message)))
            return .failure
        }
        let directory: PrivateDirectory
        let tokenFile: String
        let token = WebSocketAPIServer.makeNodeToken()
        var deployment: Management.Configuration?
        do {
            directory = try PrivateDirectory(checking: context.resolve(stateDirectory))
            tokenFile = try directory.write(Array(token.utf8), toFile: "node-token")
            if let file {
                let startup = try ControllerService.startupConfiguration(loading: context.resolve(file))
                for issue in startup.issues { terminal.writeError(issue.description + "\n") }
                guard let loaded = startup.configuration else {
                    return fail("\(file): not starting: the configuration has errors")
                }
                deployment = loaded
            }
            try TerminationSignals.install()
        } catch {
            return fail("\(error)")
        }
        var controller = server
        controller.tls.certFile = server.tls.certFile.map(context.resolve)
        controller.tls.keyFile = server.tls.keyFile.map(context.resolve)
        if !server.tls.caFile.isEmpty { controller.tls.caFile = context.resolve(server.tls.caFile) }
        do {
            controller.bearerToken = try clientTokenFile.map { try BearerTokenFile.read(context.resolve($0)) }
        } catch {
            return fail("\(error)")
        }
        var configuration = ClusterSupervisor.Configuration(
            executablePath: context.executablePath,
            stateDirectory: directory.path,
            environment: context.environment,
            instance: "agent-" + ControllerService.localHostName(),
            controller: controller,
            nodeToken: token,
            nodeTokenFile: tokenFile
        )
        configuration.controllerTokenFile = clientTokenFile.map(context.resolve)
        configuration.nodeCertificate = nodeCertificate.map {
            ClusterSupervisor.Configuration.NodeCertificate(
                certificate: context.resolve($0.certificate),
                key: context.resolve($0.key)
            )
        }
        configuration.nodeProgram = nodeProgram.map(context.resolve)
        configuration.controllerArguments = passThrough
        configuration.scheme = scheme
        do {
            try configuration.checkNodeTLS()
        } catch {
            return fail(ControllerCommand.nodeTLSFailure(error, hasNodeCertificate: nodeCertificate != nil))
        }
        let url = configuration.controllerURL
        let supervisor = ClusterSupervisor(
            configuration: configuration,
            log: { terminal.writeOutput($0 + "\n") }
        )
        let deploying = deployment
        do {
            try await supervisor.run(
                deploying: deploying,
                timeout: timeout,
                onReady: { outcome in
                    switch outcome {
                    case .deployed(let results):
                        let report = deploying.map { ControllerReadiness.Deployment($0, results: results) }
                        terminal.writeOutput(report?.report ?? "")
                        readiness?.report(ControllerReadiness(.ready(url: url, deployment: report)))
                    case .failed(let error):
                        terminal.error(error)
                        readiness?.report(ControllerReadiness(.failed("error: " + error)))
                    }
                },
                until: { _ = await TerminationSignals.next() }
            )
        } catch {
            return fail("\(error)")
        }
        return .success
    }
}

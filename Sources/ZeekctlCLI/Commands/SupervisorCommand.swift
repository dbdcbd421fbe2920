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
                                  [--cluster-backend broker|zeromq] [--ready-fd N]

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

        exit status: 0 stopped, 1 could not start, 64 usage error

        """
    static let options: [Arguments.Option] = [
        .value("--state-dir"), .value("--listen"), .value("--layout"), .value("--config"), .value("--timeout"),
        .value("--node-program"), .flag("--allow-remote"), .flag("--allow-other-users"),
        .value("--cluster-backend"), .value("--ready-fd"),
    ]

    var stateDirectory: String
    var listen: String
    var file: String?
    var timeout: Duration
    var nodeProgram: String?
    var passThrough: [String] = []
    var scheme: TopicScheme
    var readyDescriptor: Int32?

    init(arguments: Arguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else {
            throw UsageError("'zeekctl supervisor' takes no arguments, got '\(arguments.positionals[0])'")
        }
        guard let stateDirectory = arguments.value("--state-dir") else {
            throw UsageError("'zeekctl supervisor' needs '--state-dir DIR'")
        }
        self.stateDirectory = stateDirectory
        listen = arguments.value("--listen") ?? "127.0.0.1:\(ControllerService.defaultPort)"
        _ = try ControllerCommand.listenOptions(listen)
        if arguments.value("--layout") != nil && arguments.value("--config") != nil {
            throw UsageError("give '--layout' or '--config', not both")
        }
        file = arguments.value("--layout") ?? arguments.value("--config")
        timeout = try arguments.seconds("--timeout") ?? .seconds(120)
        nodeProgram = arguments.value("--node-program")
        scheme = try NodeCommand.scheme(arguments)
        for flag in ["--allow-remote", "--allow-other-users"] where arguments.flag(flag) { passThrough.append(flag) }
        if let backend = arguments.value("--cluster-backend") { passThrough += ["--cluster-backend", backend] }
        readyDescriptor = try arguments.integer("--ready-fd", in: 3...65_535).map(Int32.init)
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
        let host = listen.split(separator: ":").dropLast().joined(separator: ":")
        let port = listen.split(separator: ":").last.map(String.init) ?? "\(ControllerService.defaultPort)"
        let url = "ws://\(host):\(port)\(WebSocketAPIServer.path)"
        var configuration = ClusterSupervisor.Configuration(
            executablePath: context.executablePath,
            stateDirectory: directory.path,
            environment: context.environment,
            instance: "agent-" + ControllerService.localHostName(),
            controllerURL: url,
            nodeToken: token,
            nodeTokenFile: tokenFile
        )
        configuration.nodeProgram = nodeProgram.map(context.resolve)
        configuration.controllerArguments = ["--listen", listen] + passThrough
        configuration.scheme = scheme
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

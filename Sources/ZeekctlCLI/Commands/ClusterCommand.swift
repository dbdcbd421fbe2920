import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl cluster start|status|stop`: a local cluster of node processes in the background.
struct ClusterCommand: ZeekctlCommand {
    static let name = "cluster"
    static let summary = "start, inspect and stop a local cluster of node processes in the background"
    static let usage = """
        usage: zeekctl cluster start [--layout FILE] [--listen HOST:PORT] [--state-dir DIR] [--timeout SECONDS]
                                     [--node-program PATH] [--allow-remote] [--allow-other-users]
                                     [--tls-certificate FILE --tls-key FILE [--tls-ca FILE] [--tls-verify-peer]
                                      [--tls-ciphers LIST] [--tls-node-certificate FILE --tls-node-key FILE]]
                                     [--token-file FILE] [--cluster-backend broker|zeromq]
                                     [--max-event-queue-size N]
               zeekctl cluster status [--controller ws://HOST:PORT] [--format table|json] [ACCESS]
               zeekctl cluster stop [--controller ws://HOST:PORT] [--timeout SECONDS] [ACCESS]

        start runs 'zeekctl supervisor' in the background (its own session), which runs the controller and a
        local agent per instance as supervised children, as Zeek's boot.zeek does, and the agents' nodes, each
        revived with Zeek's back-off when killed while the others run on; the layout is deployed (--layout:
        node.cfg, cluster-layout.zeek or Management INI; default ./cluster-layout.zeek, else ./node.cfg, else the
        built-in example), and start returns once every node has said hello, printing the supervisor's pid, the
        controller's URL and the log file. The log (controller.log) and the nodes' files go to the state
        directory: --state-dir DIR (created with mode 0700 when missing; an existing one must be a real
        directory of yours that nobody else can write), else a fresh private directory
        zeekctl-cluster-XXXXXX under $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp, left in place after stop.
        If nodes fail it prints them, stops what it started and exits 1. Default listen 127.0.0.1:2149;
        --timeout in seconds, default 120, at most 86400; --node-program, --allow-remote,
        --allow-other-users, --cluster-backend, --max-event-queue-size and the TLS and token options as for
        'zeekctl controller'.

        status lists every node process: node, type, state, pid, port, uptime, restarts (JSON:
        {"nodes": {NAME: {"type", "state", "pid", "port", "uptime", "restarts"}}}, uptime in seconds).

        stop has the controller stop every node and itself, and returns when none of those processes is left
        (--timeout in seconds, default 60, at most 86400).

        ACCESS, for a controller at a wss:// URL or with a token: \(ClientAccess.usage)

        'zeekctl dispatch get_id_value ID --controller ws://HOST:PORT' and zeek-client work against the cluster.

        exit status: 0 success, 1 failure (nodes that did not start, controller unreachable, processes left,
        unsafe state directory), 64 usage error

        """
    static let options: [Arguments.Option] =
        [
            .value("--layout"), .value("--listen"), .value("--state-dir"), .value("--timeout"), .value("--controller"),
            .value("--format"), .value("--node-program"), .flag("--allow-remote"), .flag("--allow-other-users"),
            .flag("--tls-verify-peer"), .value("--tls-ciphers"), .value("--tls-node-certificate"),
            .value("--tls-node-key"), .value("--cluster-backend"), .value("--max-event-queue-size"),
        ] + ClientAccess.options

    enum Action: String {
        case start, status, stop
    }

    var action: Action
    var layout: String?
    var listen: String
    var stateDirectory: String?
    var timeout: Duration?
    var controller: String
    var format: String
    var nodeProgram: String?
    var allowsRemoteClients: Bool
    var allowsOtherUsers: Bool
    var access: ClientAccess
    /// The controller's TLS, token, backend and queue options for `start`, as given.
    var serverSecurity: [(option: String, value: String?)] = []

    init(arguments: Arguments) throws(UsageError) {
        guard let word = arguments.positionals.first, arguments.positionals.count == 1 else {
            throw UsageError("'zeekctl cluster' needs one action: start, status or stop")
        }
        guard let action = Action(rawValue: word) else {
            throw UsageError("unknown cluster action '\(word)' (known: start, status, stop)")
        }
        self.action = action
        let allowed: [Action: Set<String>] = [
            .start: [
                "--layout", "--listen", "--state-dir", "--timeout", "--node-program", "--allow-remote",
                "--allow-other-users", "--tls-certificate", "--tls-key", "--tls-ca", "--tls-verify-peer",
                "--tls-ciphers", "--token-file", "--tls-node-certificate", "--tls-node-key", "--cluster-backend",
                "--max-event-queue-size",
            ],
            .status: Set(["--controller", "--format"] + ClientAccess.options.map(\.primaryName)),
            .stop: Set(["--controller", "--timeout"] + ClientAccess.options.map(\.primaryName)),
        ]
        for option in Self.options.map(\.primaryName) where arguments.flag(option) {
            guard allowed[action]?.contains(option) == true else {
                throw UsageError("'\(option)' does not apply to 'zeekctl cluster \(word)'")
            }
        }
        layout = arguments.value("--layout")
        listen = arguments.value("--listen") ?? "127.0.0.1:\(ControllerService.defaultPort)"
        // Checked here, so that a bad address is a usage error.
        _ = try ControllerCommand.listenOptions(listen)
        stateDirectory = arguments.value("--state-dir")
        timeout = try arguments.seconds("--timeout")
        controller = try RemoteBackend.address(
            arguments.value("--controller") ?? "127.0.0.1:\(ControllerService.defaultPort)",
            option: "--controller",
            defaultPort: ControllerService.defaultPort
        )
        format = try arguments.choice("--format", ["table", "json"]) ?? "table"
        nodeProgram = arguments.value("--node-program")
        allowsRemoteClients = arguments.flag("--allow-remote")
        allowsOtherUsers = arguments.flag("--allow-other-users")
        access = try ClientAccess(arguments: arguments, urls: action == .start ? [] : [controller])
        if action == .start {
            _ = try NodeCommand.scheme(arguments)
            _ = try ControllerCommand.maxEventQueueSize(arguments)
            for option in [
                "--tls-certificate", "--tls-key", "--tls-ca", "--tls-ciphers", "--token-file", "--tls-node-certificate",
                "--tls-node-key", "--cluster-backend", "--max-event-queue-size",
            ] {
                if let value = arguments.value(option) { serverSecurity.append((option, value)) }
            }
            if arguments.flag("--tls-verify-peer") { serverSecurity.append(("--tls-verify-peer", nil)) }
        }
    }

    func run(context: CommandContext) async -> ExitStatus {
        do {
            switch action {
            case .start: return try await start(context)
            case .status:
                let statuses = try await LocalCluster.status(
                    controller: controller,
                    access: try access.prepared(context: context)
                )
                let now = Date().timeIntervalSince1970
                context.terminal.writeOutput(
                    format == "json"
                        ? ClusterStatusRenderer.json(statuses, now: now)
                        : ClusterStatusRenderer.table(statuses, now: now)
                )
                return .success
            case .stop:
                let stopped = try await LocalCluster.stop(
                    controller: controller,
                    access: try access.prepared(context: context),
                    timeout: timeout ?? .seconds(60)
                )
                let nodes = stopped.nodeCount
                context.terminal.writeOutput(
                    "stopped the controller and \(nodes) node process\(nodes == 1 ? "" : "es")\n"
                )
                return .success
            }
        } catch {
            context.terminal.error("\(error)")
            return .failure
        }
    }

    private func start(_ context: CommandContext) async throws -> ExitStatus {
        var layoutPath = layout.map(context.resolve)
        if layoutPath == nil, case .file(let path) = ClusterSource.default(in: context.currentDirectory) {
            layoutPath = path
        }
        let started = try await LocalCluster.start(
            LocalCluster.StartOptions(
                executablePath: context.executablePath,
                layoutPath: layoutPath,
                listen: listen,
                stateDirectory: stateDirectory.map(context.resolve),
                environment: context.environment,
                timeout: timeout ?? .seconds(120),
                nodeProgram: nodeProgram.map(context.resolve),
                allowsRemoteClients: allowsRemoteClients,
                allowsOtherUsers: allowsOtherUsers,
                controllerArguments: serverSecurity.flatMap { option, value in
                    guard let value else { return [option] }
                    let isFile = !["--tls-ciphers", "--cluster-backend", "--max-event-queue-size"].contains(option)
                    return [option, isFile ? context.resolve(value) : value]
                }
            )
        )
        context.terminal.writeOutput(
            started.deployment
                + "\nsupervisor pid \(started.pid), controller listening on \(started.url) (log: \(started.logPath))\n"
        )
        return .success
    }
}

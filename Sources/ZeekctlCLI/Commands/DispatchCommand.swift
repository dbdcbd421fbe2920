import ClusterKit

/// `zeekctl dispatch get_id_value ID`: asks every node of a cluster for a script identifier's value.
struct DispatchCommand: ZeekctlCommand {
    static let name = "dispatch"
    static let summary = "ask every node for the value of a script identifier (get_id_value)"
    static let usage = """
        usage: zeekctl dispatch get_id_value ID [--nodes N1,N2,...] [--timeout SECONDS]
                                [--format table|json] [--group]
                                [--layout FILE] [--set ID=JSON]...
                                [--controller ws://HOST:PORT]
                                [--websocket ws://HOST:PORT [--protocol control|management]
                                 [--cluster-backend broker|zeromq]]
                                [--tls-ca FILE] [--tls-certificate FILE --tls-key FILE] [--tls-insecure]
                                [--token-file FILE]

        Asks the nodes of a cluster for the value of the script identifier ID and prints each node's answer.

        Without --controller or --websocket the cluster runs embedded, in this process: every node of the
        layout (--layout FILE, a node.cfg, cluster-layout.zeek or Management INI; default ./cluster-layout.zeek,
        else ./node.cfg, else a built-in example: logger-1, manager, proxy-1, worker-1, worker-2 on
        127.0.0.1) answers through the Management node API with what its Zeek would hold. --set ID=JSON
        sets an identifier on every embedded node (JSON null declares it without a value).

        --controller asks a Management controller (Zeek's or 'zeekctl controller'). --websocket talks to a
        cluster's own WebSocket API: with --protocol control (default) it sends Control::id_value_request to
        each node's topic as ZeekControl's print does, concurrently; with --protocol management it sends the
        Management node dispatch. The layout names the nodes and their types; --cluster-backend picks the
        node topic naming (default broker: zeek/cluster/node/NAME/).

        --timeout is one deadline for the whole request, in seconds (default 10, at most 86400). --format json
        prints what zeek-client get-id-value prints; --group folds nodes with equal values into one row.

        --controller and --websocket take wss:// URLs for TLS. \(ClientAccess.usage)

        exit status: 0 every node replied, 2 some did and some failed or timed out, 1 none did or the request
        could not be made, 64 usage error

        """
    static let options: [Arguments.Option] =
        [
            .value("--nodes"), .value("--timeout"), .value("--format"), .flag("--group"), .value("--layout"),
            .repeated("--set"), .value("--controller"), .value("--websocket"), .value("--protocol"),
            .value("--cluster-backend"),
        ] + ClientAccess.options

    var id: String
    var nodes: [String]?
    var timeout: Duration
    var format: String
    var grouped: Bool
    var layout: String?
    var settings: [String: ZeekValue?]
    var controller: String?
    var webSocket: String?
    var dispatchProtocol: DispatchProtocol
    var scheme: TopicScheme
    var access: ClientAccess

    init(arguments: Arguments) throws(UsageError) {
        let positionals = arguments.positionals
        guard let action = positionals.first else {
            throw UsageError("'zeekctl dispatch' needs an action: get_id_value ID")
        }
        guard action == "get_id_value" else {
            throw UsageError("unknown dispatch action '\(action)' (known: get_id_value)")
        }
        guard positionals.count == 2 else { throw UsageError("'zeekctl dispatch get_id_value' takes exactly one ID") }
        id = positionals[1]
        nodes = arguments.value("--nodes").map { $0.split(separator: ",").map { String($0).trimmingSpaces() } }
        timeout = try arguments.seconds("--timeout") ?? .seconds(10)
        format = try arguments.choice("--format", ["table", "json"]) ?? "table"
        grouped = arguments.flag("--group")
        layout = arguments.value("--layout")
        settings = try arguments.zeekSettings("--set")
        controller = try arguments.value("--controller").map { text throws(UsageError) in
            try RemoteBackend.address(text, option: "--controller", defaultPort: 2149)
        }
        webSocket = try arguments.value("--websocket").map { text throws(UsageError) in
            try RemoteBackend.address(text, option: "--websocket", defaultPort: 27759)
        }
        if controller != nil && (webSocket != nil || layout != nil || !settings.isEmpty) {
            throw UsageError("'--controller' cannot be combined with '--websocket', '--layout' or '--set'")
        }
        if webSocket != nil && !settings.isEmpty { throw UsageError("'--set' applies to the embedded cluster only") }
        let protocolName = try arguments.choice("--protocol", ["control", "management"])
        if protocolName != nil && webSocket == nil { throw UsageError("'--protocol' needs '--websocket'") }
        dispatchProtocol = protocolName == "management" ? .managementNode : .control
        let backend = try arguments.choice("--cluster-backend", ["broker", "zeromq"])
        if backend != nil && webSocket == nil { throw UsageError("'--cluster-backend' needs '--websocket'") }
        scheme = backend == "zeromq" ? .zeroMQ : .broker
        access = try ClientAccess(arguments: arguments, urls: [controller, webSocket].compactMap { $0 })
        if controller == nil, webSocket == nil, access.hasTLSOptions || access.tokenFile != nil {
            throw UsageError("TLS and token options need '--controller' or '--websocket'")
        }
    }

    func run(context: CommandContext) async -> ExitStatus {
        let query: IDValueQuery
        if let controller {
            query = IDValueQuery(id: id, nodes: nodes, target: .controller(url: controller), timeout: timeout)
        } else {
            let source =
                layout.map { ClusterSource.file(context.resolve($0)) } ?? .default(in: context.currentDirectory)
            let loadedLayout: Cluster.Layout
            do {
                let (layout, issues) = try source.load()
                for issue in issues { context.terminal.writeError(issue.description + "\n") }
                guard !issues.containsErrors else { return .failure }
                loadedLayout = layout
            } catch {
                context.terminal.error("\(error)")
                return .failure
            }
            let cluster = EmbeddedCluster(layout: loadedLayout, settings: settings, scheme: scheme)
            let target: IDValueQuery.Target =
                webSocket.map { .webSocket(url: $0, protocol: dispatchProtocol, cluster: cluster) }
                ?? .embedded(cluster)
            query = IDValueQuery(id: id, nodes: nodes, target: target, timeout: timeout)
        }
        let report: DispatchReport
        do {
            let access = try access.prepared(context: context)
            report = try await query.run(makeBackend: { RemoteBackend.make($0, access: access) })
        } catch {
            context.terminal.error("\(error)")
            return .failure
        }
        switch (format, grouped) {
        case ("json", _): context.terminal.writeOutput(DispatchRenderer.json(report))
        case (_, true): context.terminal.writeOutput(DispatchRenderer.grouped(report))
        default: context.terminal.writeOutput(DispatchRenderer.table(report))
        }
        return ExitStatus(report.summary)
    }
}

extension ExitStatus {
    /// 0 when every node replied, 2 for a partial result, 1 when none replied.
    init(_ summary: DispatchSummary) {
        switch summary {
        case .allReplied: self = .success
        case .partial: self = .partial
        case .noneReplied: self = .failure
        }
    }
}

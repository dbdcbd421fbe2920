import ClusterKit

/// `zeekctl nodes FILE`: lists the expanded nodes of a layout.
struct NodesCommand: ZeekctlCommand {
    static let name = "nodes"
    static let summary = "list the expanded nodes of a layout with types, hosts, addresses and ports"
    static let usage = """
        usage: zeekctl nodes FILE [--format table|json|zeekctl] [--input-format node-cfg|layout|ini|zeek-conf]
                                  [--resolve-hosts] [--zeekctl-cfg FILE] [--set OPTION=VALUE]...
                                  [--zeek-version X.Y]

        Lists the nodes of FILE after expansion (lb_procs), with type, host, address, port, metrics port,
        interface and manager; for node.cfg also every ZeekControl key (JSON). --format zeekctl prints the
        lines ZeekControl's own 'nodes' command prints (node.cfg only). Issues go to standard error; with an
        error nothing is listed and the exit status is 1.

        """
    static let options: [Arguments.Option] =
        [.value("--format"), .value("--input-format"), .flag("--resolve-hosts")] + SettingsArguments.options

    var file: String
    var format: String
    var inputFormat: LayoutFormat?
    var resolvesHosts: Bool
    var settings: SettingsArguments

    init(arguments: Arguments) throws(UsageError) {
        guard arguments.positionals.count == 1, let file = arguments.positionals.first else {
            throw UsageError("'zeekctl nodes' takes exactly one FILE")
        }
        self.file = file
        format = try arguments.choice("--format", ["table", "json", "zeekctl"]) ?? "table"
        inputFormat = try arguments.choice("--input-format", LayoutFormat.allCases.map(\.rawValue)).flatMap {
            LayoutFormat(rawValue: $0)
        }
        resolvesHosts = arguments.flag("--resolve-hosts")
        settings = try SettingsArguments(arguments)
    }

    func run(context: CommandContext) async -> ExitStatus {
        guard let (resolved, settingsIssues) = settings.resolve(context: context) else { return .failure }
        let loader = LayoutLoader(
            options: LayoutValidator.Options(
                settings: resolved,
                hostResolver: resolvesHosts ? SystemHostResolver() : nil
            )
        )
        let loaded: LoadedLayout
        do {
            loaded = try loader.load(path: context.resolve(file), format: inputFormat, displayName: file)
        } catch {
            context.terminal.error("\(error)")
            return .failure
        }
        let issues = (loaded.format == .nodeCfg ? settingsIssues : []) + loaded.issues
        for issue in issues { context.terminal.writeError(issue.description + "\n") }
        guard !issues.containsErrors else { return .failure }
        let nodes = loaded.nodeSummaries
        switch format {
        case "json": context.terminal.writeOutput(NodeListRenderer.json(nodes))
        case "zeekctl": context.terminal.writeOutput(NodeListRenderer.zeekctl(nodes))
        default: context.terminal.writeOutput(NodeListRenderer.table(nodes))
        }
        return .success
    }
}

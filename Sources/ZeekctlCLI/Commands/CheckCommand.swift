import ClusterKit

/// `zeekctl check FILE...`: checks layouts and reports every issue.
struct CheckCommand: ZeekctlCommand {
    static let name = "check"
    static let summary =
        "check node.cfg, cluster-layout.zeek/.bro, Management INI or Zeek 9 zeek.conf files; report every issue"
    static let usage = """
        usage: zeekctl check FILE... [--format text|json] [--input-format node-cfg|layout|ini|zeek-conf]
                                     [--resolve-hosts] [--local-addresses A,B,...|auto]
                                     [--zeekctl-cfg FILE] [--set OPTION=VALUE]... [--zeek-version X.Y]

        Checks each FILE and prints every issue, one per line as FILE:LINE: error|warning: MESSAGE, then a
        summary line. The format comes from the file name (*.cfg, *.zeek or *.bro, *.ini, *.conf) unless
        given; a folder is read as a Zeek 9 folder of HOST.zeek.conf files.

        options:
          --format text|json         output format (default text)
          --input-format FORMAT      read every FILE as node-cfg, layout, ini or zeek-conf
          --resolve-hosts            resolve host names (report failed lookups) and check ZeekControl's
                                     "all nodes on localhost when the manager is" rule
          --local-addresses LIST     check that the manager (or standalone node) runs on one of these
                                     addresses; 'auto' uses this machine's interfaces
          --zeekctl-cfg FILE         zeekctl.cfg options for node.cfg files
          --set OPTION=VALUE         a zeekctl.cfg option (repeatable)
          --zeek-version X.Y         the Zeek version to check against (default 8.1)

        exit status: 0 no errors (warnings allowed), 1 errors, 64 usage error

        """
    static let options: [Arguments.Option] =
        [
            .value("--format"), .value("--input-format"), .flag("--resolve-hosts"), .value("--local-addresses"),
        ] + SettingsArguments.options

    var files: [String]
    var json: Bool
    var inputFormat: LayoutFormat?
    var resolvesHosts: Bool
    var localAddresses: (any LocalAddressProbe)?
    var settings: SettingsArguments

    init(arguments: Arguments) throws(UsageError) {
        guard !arguments.positionals.isEmpty else { throw UsageError("'zeekctl check' needs at least one FILE") }
        files = arguments.positionals
        json = try arguments.choice("--format", ["text", "json"]) == "json"
        inputFormat = try arguments.choice("--input-format", LayoutFormat.allCases.map(\.rawValue)).flatMap {
            LayoutFormat(rawValue: $0)
        }
        resolvesHosts = arguments.flag("--resolve-hosts")
        if let list = arguments.value("--local-addresses") {
            localAddresses = try Self.localAddresses(list)
        }
        settings = try SettingsArguments(arguments)
    }

    static func localAddresses(_ list: String) throws(UsageError) -> any LocalAddressProbe {
        if list == "auto" { return SystemLocalAddresses() }
        var addresses: [Broker.Address] = []
        for item in list.split(separator: ",") {
            guard let address = Broker.Address(String(item).trimmingSpaces()) else {
                throw UsageError("invalid address '\(item)' in '--local-addresses'")
            }
            addresses.append(address)
        }
        return StaticLocalAddresses(addresses)
    }

    func run(context: CommandContext) async -> ExitStatus {
        guard let (resolved, settingsIssues) = settings.resolve(context: context) else { return .failure }
        let loader = LayoutLoader(
            options: LayoutValidator.Options(
                settings: resolved,
                hostResolver: resolvesHosts ? SystemHostResolver() : nil,
                localAddresses: localAddresses,
                checksLocalhostRule: resolvesHosts
            )
        )
        var reports: [IssueRenderer.FileReport] = []
        for file in files {
            do {
                let loaded = try loader.load(path: context.resolve(file), format: inputFormat, displayName: file)
                let extra = loaded.format == .nodeCfg ? settingsIssues : []
                reports.append(.init(file: file, format: loaded.format, issues: extra + loaded.issues))
            } catch {
                reports.append(
                    .init(
                        file: file,
                        format: inputFormat ?? LayoutFormat(fileName: file),
                        issues: [],
                        loadError: "\(error)"
                    )
                )
            }
        }
        context.terminal.writeOutput(json ? IssueRenderer.json(reports) : IssueRenderer.text(reports))
        return IssueRenderer.counts(reports).errors > 0 ? .failure : .success
    }
}

extension String {
    /// The string without leading and trailing spaces.
    func trimmingSpaces() -> String {
        let characters = Array(self)
        guard let first = characters.firstIndex(where: { $0 != " " }) else { return "" }
        let last = characters.lastIndex(where: { $0 != " " }) ?? first
        return String(characters[first...last])
    }
}

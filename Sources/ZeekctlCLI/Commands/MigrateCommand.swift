import ClusterKit
import Foundation

/// `zeekctl migrate FILE --to zeek-conf|node-cfg [-o DIR]`: turns a layout into Zeek 9's zeek.conf files, or a
/// zeek.conf back into a node.cfg.
struct MigrateCommand: ZeekctlCommand {
    static let name = "migrate"
    static let summary = "turn a node.cfg or Management INI into Zeek 9 zeek.conf files, or zeek.conf into node.cfg"
    static let usage = """
        usage: zeekctl migrate FILE --to zeek-conf|node-cfg [-o DIR] [--input-format FORMAT]
                               [--zeekctl-cfg FILE] [--set OPTION=VALUE]... [--zeek-version X.Y]

        --to zeek-conf: writes one HOST.zeek.conf per host of a node.cfg (with its zeekctl.cfg settings) or a
        Management INI, or a single zeek.conf for one host, such that Zeek's zeek-cluster-layout-generator
        makes the same hosts, the same number of nodes of each type on each, with the same interfaces and
        worker CPU pinning. Host names are resolved. --to node-cfg: writes a node.cfg for a zeek.conf or a
        folder of HOST.zeek.conf files. What the target cannot express is a warning on standard error, with
        the line it comes from; nothing is dropped silently.

        options:
          --to FORMAT            zeek-conf or node-cfg
          -o, --output DIR       write the files into DIR (created if missing) instead of standard output
          --input-format FORMAT  read FILE as node-cfg, layout, ini or zeek-conf
          --zeekctl-cfg FILE     zeekctl.cfg options for a node.cfg
          --set OPTION=VALUE     a zeekctl.cfg option (repeatable)
          --zeek-version X.Y     the ZeekControl version of a node.cfg (default 8.1)

        Without -o, one file is printed as it is; several are printed each after a line '# ==> NAME <=='.
        An input with errors prints its issues and exits 1 without writing anything.

        """
    static let options: [Arguments.Option] =
        [.value("--to"), .value("--output", "-o"), .value("--input-format")] + SettingsArguments.options

    var file: String
    var target: String
    var output: String?
    var inputFormat: LayoutFormat?
    var settings: SettingsArguments

    init(arguments: Arguments) throws(UsageError) {
        guard arguments.positionals.count == 1, let file = arguments.positionals.first else {
            throw UsageError("'zeekctl migrate' takes exactly one FILE")
        }
        self.file = file
        guard let target = try arguments.choice("--to", ["zeek-conf", "node-cfg"]) else {
            throw UsageError("'zeekctl migrate' needs '--to zeek-conf' or '--to node-cfg'")
        }
        self.target = target
        output = arguments.value("--output")
        inputFormat = try arguments.choice("--input-format", LayoutFormat.allCases.map(\.rawValue)).flatMap {
            LayoutFormat(rawValue: $0)
        }
        settings = try SettingsArguments(arguments)
    }

    func run(context: CommandContext) async -> ExitStatus {
        guard let (resolved, settingsIssues) = settings.resolve(context: context) else { return .failure }
        let loader = LayoutLoader(
            options: LayoutValidator.Options(settings: resolved, hostResolver: SystemHostResolver())
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
        let migration: ZeekConfMigration
        do {
            migration =
                target == "zeek-conf"
                ? try ZeekConfMigration.zeekConf(from: loaded) : try ZeekConfMigration.nodeCfg(from: loaded)
        } catch let error as LayoutGenerationError {
            context.terminal.error(error.message)
            return .failure
        } catch {
            context.terminal.error("\(file): \(error)")
            return .failure
        }
        for warning in migration.warnings { context.terminal.writeError(warning.description + "\n") }
        guard let output else {
            let single = migration.files.count == 1
            context.terminal.writeOutput(
                migration.files.map { (single ? "" : "# ==> \($0.name) <==\n") + $0.text }.joined(separator: "\n")
            )
            return .success
        }
        let directory = context.resolve(output)
        if !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                context.terminal.error("\(output): cannot create the folder")
                return .failure
            }
        }
        for file in migration.files {
            do {
                try LocalFile.writeAtomically(
                    Array(file.text.utf8),
                    to: directory + "/" + file.name,
                    permissions: 0o666
                )
            } catch {
                var shown = error
                shown.path = output + "/" + file.name
                context.terminal.error("\(shown)")
                return .failure
            }
        }
        return .success
    }
}

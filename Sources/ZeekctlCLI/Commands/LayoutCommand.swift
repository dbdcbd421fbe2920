import ClusterKit
import Foundation

/// `zeekctl layout NODE_CFG`: writes the layout ZeekControl would generate.
struct LayoutCommand: ZeekctlCommand {
    static let name = "layout"
    static let summary = "write cluster-layout.zeek or standalone-layout.zeek for a node.cfg, as ZeekControl does"
    static let usage = """
        usage: zeekctl layout NODE_CFG [--zeekctl-cfg FILE] [--set OPTION=VALUE]... [--zeek-version X.Y] [-o FILE]

        Writes the layout ZeekControl writes for NODE_CFG (standalone-layout.zeek for a single standalone
        node, else cluster-layout.zeek), byte for byte, to standard output or FILE. Host names are resolved.

        options:
          --zeekctl-cfg FILE     read zeekctl.cfg options (Option = value lines, # comments)
          --set OPTION=VALUE     set a zeekctl.cfg option (repeatable; wins over --zeekctl-cfg)
          --zeek-version X.Y     reproduce the ZeekControl of this Zeek (5.0 or later; default 8.1)
          -o, --output FILE      write to FILE instead of standard output

        FILE is replaced atomically (a new file in the same directory, mode 0666 less the umask, renamed over
        it): a symbolic link there is replaced, not followed, and a failure leaves the old file as it was.
        An invalid input prints its issues to standard error and exits 1 without writing anything.

        """
    static let options: [Arguments.Option] = SettingsArguments.options + [.value("--output", "-o")]

    var file: String
    var settings: SettingsArguments
    var output: String?

    init(arguments: Arguments) throws(UsageError) {
        guard arguments.positionals.count == 1, let file = arguments.positionals.first else {
            throw UsageError("'zeekctl layout' takes exactly one NODE_CFG file")
        }
        self.file = file
        settings = try SettingsArguments(arguments)
        output = arguments.value("--output")
    }

    func run(context: CommandContext) async -> ExitStatus {
        guard let (resolved, settingsIssues) = settings.resolve(context: context) else { return .failure }
        let loader = LayoutLoader(
            options: LayoutValidator.Options(settings: resolved, hostResolver: SystemHostResolver())
        )
        let loaded: LoadedLayout
        do {
            loaded = try loader.load(path: context.resolve(file), format: .nodeCfg, displayName: file)
        } catch {
            context.terminal.error("\(error)")
            return .failure
        }
        let issues = settingsIssues + loaded.issues
        for issue in issues { context.terminal.writeError(issue.description + "\n") }
        guard !issues.containsErrors else { return .failure }
        let generated: GeneratedLayout
        do {
            generated = try loaded.generatedLayout()
        } catch let error as LayoutGenerationError {
            context.terminal.error("\(file): \(error.message)")
            return .failure
        } catch {
            context.terminal.error("\(file): \(error)")
            return .failure
        }
        guard let output else {
            context.terminal.writeOutput(generated.text)
            return .success
        }
        do {
            try LocalFile.writeAtomically(Array(generated.text.utf8), to: context.resolve(output), permissions: 0o666)
        } catch {
            var shown = error
            shown.path = output
            context.terminal.error("\(shown)")
            return .failure
        }
        return .success
    }
}

/// The zeekctl.cfg options shared by `layout`, `check` and `nodes`.
struct SettingsArguments: Sendable {
    static let options: [Arguments.Option] = [
        .value("--zeekctl-cfg"), .repeated("--set"), .value("--zeek-version"),
    ]

    var zeekctlCfg: String?
    var assignments: [ZeekctlCfg.Option]
    var version: ZeekVersion

    init(_ arguments: Arguments) throws(UsageError) {
        zeekctlCfg = arguments.value("--zeekctl-cfg")
        assignments = []
        for text in arguments.all("--set") {
            guard let option = ZeekctlCfg.option(text, source: "--set") else {
                throw UsageError("invalid value '\(text)' for '--set' (expected OPTION=VALUE)")
            }
            assignments.append(option)
        }
        version = .current
        if let text = arguments.value("--zeek-version") {
            guard let parsed = ZeekVersion(text), parsed >= .oldestSupported else {
                throw UsageError(
                    "invalid value '\(text)' for '--zeek-version' (expected X.Y, \(ZeekVersion.oldestSupported) or later)"
                )
            }
            version = parsed
        }
    }

    /// The settings, or `nil` after printing why the zeekctl.cfg file cannot be read.
    func resolve(context: CommandContext) -> (ZeekctlSettings, [ValidationIssue])? {
        var cfg = ZeekctlCfg()
        if let zeekctlCfg {
            do {
                let bytes = try LocalFile.readRegularFile(context.resolve(zeekctlCfg))
                cfg = ZeekctlCfg.parse(String(decoding: bytes, as: UTF8.self), file: zeekctlCfg)
            } catch {
                context.terminal.error("cannot read file: \(zeekctlCfg): \(error.message)")
                return nil
            }
        }
        cfg.options += assignments
        let (settings, issues) = ZeekctlSettings.resolved(from: cfg, version: version)
        return (settings, issues)
    }
}

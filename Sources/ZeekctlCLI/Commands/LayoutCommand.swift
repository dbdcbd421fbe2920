import ClusterKit
import Foundation

/// `zeekctl layout NODE_CFG|ZEEK_CONF|DIR` or `zeekctl layout --loggers N ...`: writes the layout ZeekControl or
/// Zeek 9's generator would write.
struct LayoutCommand: ZeekctlCommand {
    static let name = "layout"
    static let summary = "write the cluster layout ZeekControl (node.cfg) or Zeek 9's generator (zeek.conf) writes"
    static let usage = """
        usage: zeekctl layout NODE_CFG [--zeekctl-cfg FILE] [--set OPTION=VALUE]... [--zeek-version X.Y] [-o FILE]
               zeekctl layout ZEEK_CONF|DIR [-o FILE]
               zeekctl layout [--loggers N] [--proxies N] [--workers N|'IF:N IF:N'] [--manager 0|1]
                              [--address A] [--port P] [--metrics-port M] [--metrics-address B]
                              [--node-prefix X] [-o FILE]

        Writes the layout ZeekControl writes for NODE_CFG (standalone-layout.zeek for a single standalone
        node, else cluster-layout.zeek), byte for byte, to standard output or FILE. Host names are resolved.

        For a Zeek 9 zeek.conf (a *.conf file), or a folder of <host>.zeek.conf files, writes what Zeek's
        zeek-cluster-layout-generator writes for it (-C), byte for byte. The flag form is the generator's
        (-L -P -W -M -a -p -m -b -x, which are accepted too), with its defaults: a manager, one logger, one
        proxy, one worker, address 127.0.0.1, ports from 27760, metrics ports from 9991.

        options:
          --zeekctl-cfg FILE     read zeekctl.cfg options (Option = value lines, # comments)
          --set OPTION=VALUE     set a zeekctl.cfg option (repeatable; wins over --zeekctl-cfg)
          --zeek-version X.Y     reproduce the ZeekControl of this Zeek (5.0 or later; default 8.1)
          -o, --output FILE      write to FILE instead of standard output

        FILE is replaced atomically (a new file in the same directory, mode 0666 less the umask, renamed over
        it): a symbolic link there is replaced, not followed, and a failure leaves the old file as it was.
        An invalid input prints its issues to standard error and exits 1 without writing anything.

        """
    /// The flag form's options and the generator's letter for each.
    static let generatorFlags: [(name: String, letter: String)] = [
        ("--loggers", "-L"), ("--proxies", "-P"), ("--workers", "-W"), ("--manager", "-M"), ("--address", "-a"),
        ("--port", "-p"), ("--metrics-port", "-m"), ("--metrics-address", "-b"), ("--node-prefix", "-x"),
    ]
    static let options: [Arguments.Option] =
        SettingsArguments.options + [.value("--output", "-o")]
        + generatorFlags.map { .repeated($0.name, $0.letter) }

    var file: String?
    var flags: ZeekLayoutGenerator.Flags?
    var settings: SettingsArguments
    var output: String?

    init(arguments: Arguments) throws(UsageError) {
        let given = Self.generatorFlags.filter { !arguments.all($0.name).isEmpty }
        if !arguments.positionals.isEmpty || !given.isEmpty {
            guard arguments.positionals.count <= 1 else {
                throw UsageError("'zeekctl layout' takes one NODE_CFG, ZEEK_CONF or DIR, or generator flags")
            }
        }
        if let file = arguments.positionals.first, given.isEmpty {
            self.file = file
        } else {
            guard arguments.positionals.isEmpty else {
                throw UsageError("'zeekctl layout' takes either a FILE or generator flags such as '\(given[0].name)'")
            }
            // Repeated flags: the last one wins, as with Zeek's generator, which still checks the earlier ones.
            var occurrences: [(flag: Character, value: String)] = []
            for (name, letter) in Self.generatorFlags {
                for value in arguments.all(name) { occurrences.append((letter.last ?? "?", value)) }
            }
            flags = ZeekLayoutGenerator.Flags(occurrences: occurrences)
        }
        settings = try SettingsArguments(arguments)
        output = arguments.value("--output")
    }

    func run(context: CommandContext) async -> ExitStatus {
        let text: String
        if let flags {
            switch flags.generatedText() {
            case .success(let generated): text = generated
            case .failure(let list):
                for problem in list.problems {
                    let flag = Self.generatorFlags.first { $0.letter == "-\(problem.flag)" }?.name ?? "-\(problem.flag)"
                    context.terminal.error("\(flag): \(problem.message)")
                }
                return .failure
            }
        } else {
            guard let generated = generatedFromFile(context: context) else { return .failure }
            text = generated
        }
        guard let output else {
            context.terminal.writeOutput(text)
            return .success
        }
        do {
            try LocalFile.writeAtomically(Array(text.utf8), to: context.resolve(output), permissions: 0o666)
        } catch {
            var shown = error
            shown.path = output
            context.terminal.error("\(shown)")
            return .failure
        }
        return .success
    }

    /// The layout for the FILE, or `nil` after printing why there is none.
    private func generatedFromFile(context: CommandContext) -> String? {
        guard let file else { return nil }
        guard let (resolved, settingsIssues) = settings.resolve(context: context) else { return nil }
        let loader = LayoutLoader(
            options: LayoutValidator.Options(settings: resolved, hostResolver: SystemHostResolver())
        )
        let path = context.resolve(file)
        if LayoutFormat.generated(path: path, reader: loader.reader) == .zeekConf {
            // Zeek 9: what the generator reports, and writes; no node.cfg settings apply.
            let cluster = loader.readZeekConf(path: path, displayName: file)
            for issue in cluster.generationIssues { context.terminal.writeError(issue.description + "\n") }
            return cluster.generatedText
        }
        let loaded: LoadedLayout
        do {
            loaded = try loader.load(path: path, format: .nodeCfg, displayName: file)
        } catch {
            context.terminal.error("\(error)")
            return nil
        }
        let issues = (loaded.format == .nodeCfg ? settingsIssues : []) + loaded.generationIssues
        for issue in issues { context.terminal.writeError(issue.description + "\n") }
        guard !issues.containsErrors else { return nil }
        do {
            return try loaded.generatedLayout().text
        } catch let error as LayoutGenerationError {
            context.terminal.error("\(file): \(error.message)")
        } catch {
            context.terminal.error("\(file): \(error)")
        }
        return nil
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

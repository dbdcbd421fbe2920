import ClusterKit

/// Turns `argv` into a command.
enum Invocation {
    /// Every subcommand, in the order `--help` lists them.
    static let commands: [any ZeekctlCommand.Type] = [
        CheckCommand.self, LayoutCommand.self, NodesCommand.self, DispatchCommand.self, ControllerCommand.self,
        NodeCommand.self, AgentCommand.self, ClusterCommand.self, SupervisorCommand.self, MigrateCommand.self,
    ]

    /// What the command line asks for.
    enum Parsed: Sendable {
        /// Print this help text.
        case help(String)
        /// Print the version.
        case version
        /// Run a command.
        case command(any ZeekctlCommand)
    }

    /// Parses the arguments after the program name.
    static func parse(_ arguments: [String]) throws(UsageError) -> Parsed {
        guard let first = arguments.first else { return .help(usage) }
        switch first {
        case "-h", "--help", "help":
            if first == "help", arguments.count > 1 {
                guard let command = commands.first(where: { $0.name == arguments[1] }) else {
                    throw UsageError("unknown command '\(arguments[1])'")
                }
                return .help(command.usage)
            }
            return .help(usage)
        case "--version", "-V":
            return .version
        default:
            guard !first.hasPrefix("-") else { throw UsageError("unknown option '\(first)'") }
            guard let type = commands.first(where: { $0.name == first }) else {
                throw UsageError("unknown command '\(first)' (see 'zeekctl --help')")
            }
            let parsed = try Arguments(Array(arguments.dropFirst()), options: type.options, command: type.name)
            if parsed.wantsHelp { return .help(type.usage) }
            return .command(try type.init(arguments: parsed))
        }
    }

    /// The text of `zeekctl --help`.
    static var usage: String {
        var text = """
            zeekctl: check, generate and drive Zeek cluster layouts (ClusterKit \(ClusterKitVersion.current))

            This is ClusterKit's command-line tool, not ZeekControl; where a command shares a name with a
            ZeekControl command it keeps that command's meaning.

            usage: zeekctl COMMAND [options]
                   zeekctl COMMAND --help
                   zeekctl --version

            commands:

            """
        let width = (commands.map { $0.name.count }.max() ?? 0) + 2
        for command in commands {
            text += "  " + command.name.padding(toLength: width) + command.summary + "\n"
        }
        text += """

            exit status: 0 success, 1 failure or validation errors, 2 partial success, 64 usage error

            """
        return text
    }
}

extension String {
    /// The string padded with spaces on the right to `length` characters.
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}

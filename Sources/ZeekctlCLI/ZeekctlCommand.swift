import Foundation

/// What a command gets from the outside world; everything is passed in so tests can replace it.
package struct CommandContext: Sendable {
    /// Where output goes.
    var terminal: any Terminal
    /// The environment variables.
    var environment: [String: String]
    /// The current directory, for relative paths and default files.
    var currentDirectory: String
    /// The path of the running `zeekctl` binary (to start `zeekctl node` processes).
    var executablePath: String

    /// The real process: its terminal, environment, current directory and binary.
    static func standard() -> CommandContext {
        CommandContext(
            terminal: StandardTerminal(),
            environment: ProcessInfo.processInfo.environment,
            currentDirectory: FileManager.default.currentDirectoryPath,
            executablePath: Bundle.main.executablePath ?? CommandLine.arguments.first ?? "zeekctl"
        )
    }

    /// A path made absolute against the current directory.
    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : (currentDirectory as NSString).appendingPathComponent(path)
    }
}

/// One `zeekctl` subcommand: its name, help, accepted options, parsing and running.
protocol ZeekctlCommand: Sendable {
    /// The subcommand word (`check`).
    static var name: String { get }
    /// One line for `zeekctl --help`.
    static var summary: String { get }
    /// The full usage text for `zeekctl NAME --help`, ending in a newline.
    static var usage: String { get }
    /// The options it accepts.
    static var options: [Arguments.Option] { get }

    /// Builds the command from parsed arguments, or throws a usage error naming the bad token.
    init(arguments: Arguments) throws(UsageError)

    /// Runs: load inputs through ClusterKit, call ClusterKit, render, and pick the exit status.
    func run(context: CommandContext) async -> ExitStatus
}

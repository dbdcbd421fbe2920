import ClusterKit

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl`: reads the command line, runs one command, exits with its status (the `zeekctl` executable calls
/// ``main()``).
package enum Zeekctl {
    /// Runs `zeekctl` with the process's arguments and exits with the command's status.
    package static func main() async -> Never {
        // A closed pipe is an error on the write (see StandardTerminal), not the end of the process.
        signal(SIGPIPE, SIG_IGN)
        let status = await run(arguments: Array(CommandLine.arguments.dropFirst()), context: .standard())
        exit(status.rawValue)
    }

    /// Parses and runs; tests call this directly.
    ///
    /// A command that succeeded but could not write its output exits 1.
    package static func run(arguments: [String], context: CommandContext) async -> ExitStatus {
        let status = await parseAndRun(arguments: arguments, context: context)
        return status == .success && context.terminal.hasOutputFailed ? .failure : status
    }

    private static func parseAndRun(arguments: [String], context: CommandContext) async -> ExitStatus {
        do {
            switch try Invocation.parse(arguments) {
            case .help(let text):
                context.terminal.writeOutput(text)
                return .success
            case .version:
                context.terminal.writeOutput("zeekctl (ClusterKit) \(ClusterKitVersion.current)\n")
                return .success
            case .command(let command):
                return await command.run(context: context)
            }
        } catch {
            context.terminal.error(error.message)
            return .usage
        }
    }
}

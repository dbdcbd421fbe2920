import ClusterKit

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl`: reads the command line, runs one command, exits with its status.
@main
enum Zeekctl {
    static func main() async {
        let status = await run(arguments: Array(CommandLine.arguments.dropFirst()), context: .standard())
        exit(status.rawValue)
    }

    /// Parses and runs; tests call this directly.
    static func run(arguments: [String], context: CommandContext) async -> ExitStatus {
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

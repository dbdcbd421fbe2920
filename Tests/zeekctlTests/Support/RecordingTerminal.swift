import ClusterKit

@testable import ZeekctlCLI

/// A terminal that keeps what was written, for assertions.
final class RecordingTerminal: Terminal {
    private let state = Guarded<(output: String, error: String)>(("", ""))

    func writeOutput(_ text: String) { state.withLock { $0.output += text } }
    func writeError(_ text: String) { state.withLock { $0.error += text } }
    var isOutputTerminal: Bool { false }

    var output: String { state.withLock { $0.output } }
    var errorOutput: String { state.withLock { $0.error } }
}

extension CommandContext {
    /// A context for tests: a recording terminal, the given environment and directory.
    static func testing(
        _ terminal: RecordingTerminal,
        environment: [String: String] = [:],
        currentDirectory: String = "/"
    ) -> CommandContext {
        CommandContext(
            terminal: terminal,
            environment: environment,
            currentDirectory: currentDirectory,
            executablePath: ZeekctlBinary.path
        )
    }
}

/// Runs `zeekctl` in process and returns the exit status and what it wrote.
func runZeekctl(
    _ arguments: [String],
    environment: [String: String] = [:],
    currentDirectory: String = "/"
) async -> (status: ExitStatus, output: String, error: String) {
    let terminal = RecordingTerminal()
    let status = await Zeekctl.run(
        arguments: arguments,
        context: .testing(terminal, environment: environment, currentDirectory: currentDirectory)
    )
    return (status, terminal.output, terminal.errorOutput)
}

import Foundation

/// The built `zeekctl` binary next to the test bundle, and a way to run it as a child process.
enum ZeekctlBinary {
    /// The path of the binary `swift build` produced for this test run.
    static var path: String {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("zeekctl").path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("zeekctl").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("zeekctl").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The result of one run.
    struct Run: Sendable {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs the binary with arguments, waiting at most `timeout` for it to exit (then kills it).
    ///
    /// Output goes through files, not pipes: Foundation's pipe readability handlers and `Process`
    /// termination could hang when several binaries run at once in the test process (see `BinaryRunner`).
    static func run(
        _ arguments: [String],
        executable: String? = nil,
        currentDirectory: String? = nil,
        environment: [String: String]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Run {
        let result = try await BinaryRunner.run(
            arguments,
            executable: executable ?? path,
            currentDirectory: currentDirectory,
            environment: environment,
            timeout: timeout
        )
        return Run(status: result.status, output: result.output, error: result.error)
    }
}

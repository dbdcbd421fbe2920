import ClusterKit
import Foundation
import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// A local cluster for a benchmark: the `zeekctl` to run (next to the benchmark, or `--zeekctl PATH`), a temporary
/// directory holding a Management INI (by default one instance of a manager and `nodeCount - 1` workers), and a free
/// loopback port.
struct BenchCluster {
    /// The `zeekctl` binary.
    let zeekctl: String
    /// The temporary directory (the INI, and the state directory under it).
    let directory: String
    /// The port the controller listens on.
    let port: Int

    /// Finds `zeekctl`, writes an INI of one instance with a manager and `nodeCount - 1` workers, and picks the port.
    ///
    /// - Parameters:
    ///   - arguments: The suite's arguments (`--zeekctl PATH`).
    ///   - name: The temporary directory's name, before the pid.
    ///   - nodeCount: The nodes, the manager included.
    /// - Throws: ``ControllerBenchmarkError`` without `zeekctl`; file and socket errors.
    init(arguments: [String], name: String, nodeCount: Int) async throws {
        var ini = "[instances]\nagent-1\n\n[manager]\ninstance = agent-1\nrole = manager\n"
        for index in 1..<nodeCount { ini += "\n[worker-\(index)]\ninstance = agent-1\nrole = worker\n" }
        try await self.init(arguments: arguments, name: name, ini: ini)
    }

    /// Finds `zeekctl`, writes `ini` and picks the port.
    ///
    /// - Parameters:
    ///   - arguments: The suite's arguments (`--zeekctl PATH`).
    ///   - name: The temporary directory's name, before the pid.
    ///   - ini: The Management INI to deploy.
    /// - Throws: ``ControllerBenchmarkError`` without `zeekctl`; file and socket errors.
    init(arguments: [String], name: String, ini: String) async throws {
        let benchDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        zeekctl = value(of: "--zeekctl", in: arguments) ?? benchDirectory + "/zeekctl"
        guard FileManager.default.isExecutableFile(atPath: zeekctl) else {
            throw ControllerBenchmarkError(
                "no zeekctl at \(zeekctl): run 'swift build -c release' first, or pass --zeekctl PATH"
            )
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try ini.write(toFile: directory + "/cluster.ini", atomically: true, encoding: .utf8)
        let probe = try WebSocketServer(options: WebSocketServer.Options(port: 0))
        port = probe.port
        await probe.shutdown()
    }

    /// `zeekctl cluster start` with the INI, on the port, state under the directory.
    func start() async throws -> LocalCluster.Started {
        try await LocalCluster.start(
            LocalCluster.StartOptions(
                executablePath: zeekctl,
                layoutPath: directory + "/cluster.ini",
                listen: "127.0.0.1:\(port)",
                stateDirectory: directory + "/state",
                environment: ProcessInfo.processInfo.environment
            )
        )
    }

    /// Removes the directory.
    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

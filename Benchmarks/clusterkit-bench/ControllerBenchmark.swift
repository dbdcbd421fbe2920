import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The `controller` suite: `get_id_value` round trips through a `zeekctl controller` process.
///
/// `clusterkit-bench controller [--nodes N] [--requests N] [--process-requests N] [--zeekctl PATH]
/// [--zeek-client PATH]` asks for `Cluster::node` over a cluster of N nodes (default 100) deployed by a
/// `zeekctl controller` process, and reports round-trip times:
///
/// - `in-process client`: ``ControllerClient`` over one ``WebSocketBackend`` connection (the protocol cost);
/// - `zeekctl dispatch`: one `zeekctl dispatch get_id_value --controller` process per request;
/// - `zeek-client`: one `zeek-client get-id-value` process per request, against the same controller.
///
/// The last two include each program's start-up, connection and handshake. `zeekctl` is looked up next to
/// this benchmark (`swift build -c release` builds both); `zeek-client` from `--zeek-client`, `$ZEEK_CLIENT`
/// or `.build/zeek-client-venv` (scripts/setup-zeek-client.sh), and skipped when missing.
func runControllerBenchmark(arguments: [String]) async throws {
    let nodeCount = Int(value(of: "--nodes", in: arguments) ?? "") ?? 100
    let requests = Int(value(of: "--requests", in: arguments) ?? "") ?? 500
    let processRequests = Int(value(of: "--process-requests", in: arguments) ?? "") ?? 30
    let benchDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let zeekctl = value(of: "--zeekctl", in: arguments) ?? benchDirectory + "/zeekctl"
    guard FileManager.default.isExecutableFile(atPath: zeekctl) else {
        throw ControllerBenchmarkError(
            "no zeekctl at \(zeekctl): run 'swift build -c release' first, or pass --zeekctl PATH"
        )
    }
    let zeekClient = [
        value(of: "--zeek-client", in: arguments), ProcessInfo.processInfo.environment["ZEEK_CLIENT"],
        ".build/zeek-client-venv/bin/zeek-client",
    ].compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("controller-bench-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var ini = "[instances]\nagent-1\n\n[manager]\ninstance = agent-1\nrole = manager\n"
    for index in 1..<nodeCount { ini += "\n[worker-\(index)]\ninstance = agent-1\nrole = worker\n" }
    let iniPath = directory.appendingPathComponent("cluster.ini").path
    try ini.write(toFile: iniPath, atomically: true, encoding: .utf8)

    print("controller: get_id_value Cluster::node over \(nodeCount) nodes through 'zeekctl controller'")
    let controller = try SpawnedProcess(
        zeekctl,
        ["controller", "--listen", "127.0.0.1:0", "--config", iniPath],
        outputPath: directory.appendingPathComponent("controller.out").path
    )
    defer { controller.stop() }
    let url = try controller.waitForLine(prefix: "listening on ", timeout: .seconds(60))
    let port = url.split(separator: ":").last?.split(separator: "/").first.map(String.init) ?? ""

    let latencies = try await getIDValueRoundTrips(url: url, nodeCount: nodeCount, requests: requests)
    report("in-process client (one connection)", latencies)

    let dispatch = try measureProcesses(processRequests) {
        try SpawnedProcess.run(zeekctl, ["dispatch", "get_id_value", "Cluster::node", "--controller", url])
    }
    report("zeekctl dispatch --controller (process per request)", dispatch)

    if let zeekClient {
        let client = try measureProcesses(processRequests) {
            try SpawnedProcess.run(
                zeekClient,
                ["--controller", "127.0.0.1:\(port)", "get-id-value", "Cluster::node"],
                environment: ["ZEEK_CLIENT_CONFIG_FILE": "/nonexistent"]
            )
        }
        report("zeek-client get-id-value (process per request)", client)
    } else {
        print("  zeek-client: not found (scripts/setup-zeek-client.sh, or --zeek-client PATH); skipped")
    }
}

/// The round-trip times, in milliseconds, of `get_id_value` of `Cluster::node` through a controller.
///
/// `requests` rounds over one connection to `url`, after 20 warm-up rounds; every round must get `nodeCount`
/// successes.
func getIDValueRoundTrips(url: String, nodeCount: Int, requests: Int) async throws -> [Double] {
    let backend = WebSocketBackend(url: url)
    let clock = ContinuousClock()
    do {
        let latencies = try await withDispatcher(backend: backend, protocols: [.managementController]) { dispatcher in
            let client = ControllerClient(dispatcher: dispatcher)
            var latencies: [Double] = []
            for round in 0..<(requests + 20) {
                let start = clock.now
                let results = try await client.getIDValue("Cluster::node")
                let elapsed = clock.now - start
                guard results.count == nodeCount, results.allSatisfy(\.success) else {
                    throw ControllerBenchmarkError(
                        "round \(round): \(results.count) results, not \(nodeCount) successes"
                    )
                }
                if round >= 20 { latencies.append(Measure.seconds(elapsed) * 1000) }
            }
            return latencies
        }
        await backend.close()
        return latencies
    } catch {
        await backend.close()
        throw error
    }
}

private func measureProcesses(_ count: Int, _ run: () throws -> Int32) throws -> [Double] {
    let clock = ContinuousClock()
    var latencies: [Double] = []
    for round in 0..<(count + 2) {
        let start = clock.now
        let status = try run()
        let elapsed = clock.now - start
        guard status == 0 else { throw ControllerBenchmarkError("round \(round): exit status \(status)") }
        if round >= 2 { latencies.append(Measure.seconds(elapsed) * 1000) }
    }
    return latencies
}

func report(_ label: String, _ latencies: [Double]) {
    let p50 = Measure.format(Measure.quantile(latencies, 0.5), digits: 2)
    let p99 = Measure.format(Measure.quantile(latencies, 0.99), digits: 2)
    let maximum = Measure.format(latencies.max() ?? 0, digits: 2)
    print("  \(label): p50 \(p50) ms, p99 \(p99) ms, max \(maximum) ms over \(latencies.count) requests")
}

/// A benchmark that could not run, with the reason.
struct ControllerBenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A child process started with `posix_spawn`, output to a file.
final class SpawnedProcess {
    let pid: pid_t
    let outputPath: String

    init(_ executable: String, _ arguments: [String], outputPath: String, environment: [String: String] = [:]) throws {
        self.outputPath = outputPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var variables = ProcessInfo.processInfo.environment
        for (key, value) in environment { variables[key] = value }
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard status == 0 else {
            throw ControllerBenchmarkError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    /// Runs a program to completion and returns its exit status (output discarded).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Int32 {
        let process = try SpawnedProcess(executable, arguments, outputPath: "/dev/null", environment: environment)
        var status: Int32 = 0
        while waitpid(process.pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// Waits for an output line starting with `prefix` and returns the rest of it.
    func waitForLine(prefix: String, timeout: Duration) throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line.dropFirst(prefix.count))
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw ControllerBenchmarkError("the controller exited: \(text)")
            }
            usleep(10_000)
        }
        throw ControllerBenchmarkError("no '\(prefix)' line from the controller within \(timeout)")
    }

    /// SIGTERM, then SIGKILL after 10 s.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<1000 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }
}

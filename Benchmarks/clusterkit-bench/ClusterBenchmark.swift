import ClusterKit
import Foundation
import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// The `cluster` suite: a local cluster of node processes, started and asked.
///
/// `clusterkit-bench cluster [--nodes N] [--requests N] [--zeekctl PATH]` starts N node processes (default 32)
/// with `zeekctl cluster start` (the time until every node has said hello), then asks all of them for
/// `Cluster::node` through the controller over one connection (p50, p99), then stops the cluster.
func runClusterBenchmark(arguments: [String]) async throws {
    let nodeCount = Int(value(of: "--nodes", in: arguments) ?? "") ?? 32
    let requests = Int(value(of: "--requests", in: arguments) ?? "") ?? 300
    let benchDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let zeekctl = value(of: "--zeekctl", in: arguments) ?? benchDirectory + "/zeekctl"
    guard FileManager.default.isExecutableFile(atPath: zeekctl) else {
        throw ControllerBenchmarkError(
            "no zeekctl at \(zeekctl): run 'swift build -c release' first, or pass --zeekctl PATH"
        )
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-bench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var ini = "[instances]\nagent-1\n\n[manager]\ninstance = agent-1\nrole = manager\n"
    for index in 1..<nodeCount { ini += "\n[worker-\(index)]\ninstance = agent-1\nrole = worker\n" }
    try ini.write(toFile: directory + "/cluster.ini", atomically: true, encoding: .utf8)
    let probe = try WebSocketServer(options: WebSocketServer.Options(port: 0))
    let port = probe.port
    await probe.shutdown()

    print("cluster: \(nodeCount) node processes ('zeekctl cluster start'), get_id_value Cluster::node over them")
    let clock = ContinuousClock()
    let startedAt = clock.now
    let started = try await LocalCluster.start(
        LocalCluster.StartOptions(
            executablePath: zeekctl,
            layoutPath: directory + "/cluster.ini",
            listen: "127.0.0.1:\(port)",
            stateDirectory: directory + "/state",
            environment: ProcessInfo.processInfo.environment
        )
    )
    let startTime = clock.now - startedAt
    print("  start until every node said hello: \(Measure.format(Measure.seconds(startTime) * 1000, digits: 1)) ms")
    do {
        let latencies = try await getIDValueRoundTrips(url: started.url, nodeCount: nodeCount, requests: requests)
        report("get_id_value over \(nodeCount) processes (one connection)", latencies)
    } catch {
        _ = try? await LocalCluster.stop(controller: started.url)
        throw error
    }
    let stopAt = clock.now
    let pids = try await LocalCluster.stop(controller: started.url).pids
    let stopTime = clock.now - stopAt
    print(
        "  stop until no process is left: \(Measure.format(Measure.seconds(stopTime) * 1000, digits: 1)) ms "
            + "(\(pids.count) processes)"
    )
}

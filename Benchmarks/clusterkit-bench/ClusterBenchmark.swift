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
    let cluster = try await BenchCluster(arguments: arguments, name: "cluster-bench", nodeCount: nodeCount)
    defer { cluster.remove() }

    print("cluster: \(nodeCount) node processes ('zeekctl cluster start'), get_id_value Cluster::node over them")
    let clock = ContinuousClock()
    let startedAt = clock.now
    let started = try await cluster.start()
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

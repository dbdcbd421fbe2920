import ClusterKit

/// `clusterkit-bench dispatch [--nodes N] [--dispatches N]`: `get_id_value` of `Cluster::node` over an
/// embedded cluster of N nodes (default 1,000), latency per dispatch (all nodes answered).
func runDispatchBenchmark(arguments: [String]) async throws {
    let nodeCount = Int(value(of: "--nodes", in: arguments) ?? "") ?? 1000
    let dispatches = Int(value(of: "--dispatches", in: arguments) ?? "") ?? 300
    var nodes = [
        Cluster.NamedNode(name: "manager", node: Cluster.Node(nodeType: .manager, ip: .ipv4Loopback, p: .tcp(27763)))
    ]
    for index in 1..<nodeCount {
        nodes.append(
            Cluster.NamedNode(
                name: "worker-\(index)",
                node: Cluster.Node(
                    nodeType: .worker,
                    ip: .ipv4Loopback,
                    p: .tcp(UInt16(27763 + index % 30000)),
                    manager: "manager"
                )
            )
        )
    }
    let cluster = EmbeddedCluster(layout: Cluster.Layout(nodes: nodes))
    let clock = ContinuousClock()
    let setupStart = clock.now
    let latencies = try await cluster.run { hub in
        try await withDispatcher(backend: hub.makeBackend(name: "bench"), protocols: [.managementNode]) { dispatcher in
            var latencies: [Double] = []
            let targets = cluster.targets
            for round in 0..<(dispatches + 20) {
                let start = clock.now
                let report = try await dispatcher.getIDValue(
                    "Cluster::node",
                    nodes: targets,
                    allNodes: true,
                    via: .managementNode
                )
                let elapsed = clock.now - start
                guard report.summary == .allReplied else {
                    throw BenchmarkFailure(
                        message: "dispatch \(round) was not answered by every node: \(report.summary)"
                    )
                }
                if round >= 20 { latencies.append(Measure.seconds(elapsed) * 1000) }  // the first rounds warm up
            }
            return latencies
        }
    }
    let setup = Measure.seconds(clock.now - setupStart) * 1000
    print(
        "get_id_value Cluster::node over \(nodeCount) embedded nodes, \(dispatches) dispatches: "
            + "p50 \(Measure.format(Measure.quantile(latencies, 0.5), digits: 2)) ms, "
            + "p99 \(Measure.format(Measure.quantile(latencies, 0.99), digits: 2)) ms, "
            + "max \(Measure.format(latencies.max() ?? 0, digits: 2)) ms (run incl. start-up \(Measure.format(setup)) ms)"
    )
}

/// The value after `name` in `arguments`.
func value(of name: String, in arguments: [String]) -> String? {
    guard let position = arguments.firstIndex(of: name), position + 1 < arguments.count else { return nil }
    return arguments[position + 1]
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

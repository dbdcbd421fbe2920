import ClusterKit
import Foundation
import Testing

/// `zeekctl controller --processes --cluster-backend zeromq`: node processes answer on ZeroMQ's topic names.
@Suite(.timeLimit(.minutes(2))) struct ClusterBackendEndToEndTests {
    /// Publishes `Control::id_value_request("Cluster::node")` on `topic` and collects the nodes that answer within a
    /// second of the first answer (or five seconds without one).
    static func answers(to topic: String, controller: RunningController) async throws -> Set<String> {
        let backend = WebSocketBackend(url: controller.url)
        try await backend.subscribe("zeek/control/id_value_response/")
        try await backend.connect()
        defer { Task { await backend.close() } }
        try await backend.publish(
            Broker.Event("Control::id_value_request", [.string("Cluster::node")]),
            to: Topic(topic)
        )
        let collected = Guarded<Set<String>>([])
        let reader = Task {
            for try await received in backend.events {
                guard received.event.name == "Control::id_value_response",
                    received.event.arguments.count == 2, case .string(let text) = received.event.arguments[1]
                else { continue }
                collected.withLock { _ = $0.insert(text.replacingOccurrences(of: "\"", with: "")) }
            }
        }
        for _ in 0..<50 where collected.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .seconds(1))
        reader.cancel()
        return collected.withLock { $0 }
    }

    @Test func nodesAnswerOnZeroMQsNodeAndTypeTopics() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withController(
                ["--processes", "--cluster-backend", "zeromq", "--layout", directory + "/node.cfg"]
            ) { controller in
                let proxy = try await Self.answers(to: "zeek.cluster.node.proxy-1.", controller: controller)
                #expect(proxy == ["proxy-1"])
                let workers = try await Self.answers(to: "zeek.cluster.worker", controller: controller)
                #expect(workers == ["worker-1-1", "worker-1-2"])
                // Broker's names reach nobody there.
                let broker = try await Self.answers(to: "zeek/cluster/node/proxy-1/", controller: controller)
                #expect(broker.isEmpty)
            }
        }
    }

    /// In-process nodes too (a controller without `--processes`): ZeroMQ's names, and `Cluster::backend` says so.
    @Test func inProcessNodesFollowTheBackendAndSayWhichItIs() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withController(["--cluster-backend", "zeromq", "--layout", directory + "/node.cfg"]) {
                controller in
                let workers = try await Self.answers(to: "zeek.cluster.worker", controller: controller)
                #expect(workers == ["worker-1-1", "worker-1-2"])
                let run = try await BinaryRunner.run(
                    [
                        "dispatch", "get_id_value", "Cluster::backend", "--controller", "127.0.0.1:\(controller.port)",
                        "--format", "json",
                    ]
                )
                #expect(run.status == 0, "\(run.error)")
                let values = try JSONValue.parse(run.output)["results"]
                #expect(values?["manager"] == .string("Cluster::CLUSTER_BACKEND_ZEROMQ"), "\(run.output)")
            }
        }
    }

    @Test func brokerNamingIsTheDefault() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withController(["--processes", "--layout", directory + "/node.cfg"]) { controller in
                let workers = try await Self.answers(to: "zeek/cluster/worker", controller: controller)
                #expect(workers == ["worker-1-1", "worker-1-2"])
            }
        }
    }

    @Test func anUnknownBackendIsAUsageError() async throws {
        let run = try await BinaryRunner.run(["controller", "--cluster-backend", "kafka"])
        #expect(run.status == 64)
        #expect(run.error.contains("invalid value 'kafka' for '--cluster-backend' (expected broker or zeromq)"))
    }
}

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct DispatcherTests {
    @Test func embeddedClusterAnswersFromEveryNodeInZeekControlOrder() async throws {
        let cluster = EmbeddedCluster(layout: EmbeddedCluster.example)
        let report = try await cluster.getIDValue("Cluster::node")
        #expect(report.entries.map(\.node) == ["logger-1", "manager", "proxy-1", "worker-1", "worker-2"])
        #expect(report["worker-2"] == .replied(#""worker-2""#))
        #expect(report.summary == .allReplied)
        #expect(report.errors.isEmpty)
        #expect(
            report.zeekClientDocument.text(style: .python(indent: 2, sortKeys: true)) == """
                {
                  "errors": [],
                  "results": {
                    "logger-1": "logger-1",
                    "manager": "manager",
                    "proxy-1": "proxy-1",
                    "worker-1": "worker-1",
                    "worker-2": "worker-2"
                  }
                }
                """
        )
    }

    @Test func nodesFailWithTheirErrorsAndUnknownNodesAreNamed() async throws {
        var cluster = EmbeddedCluster(layout: EmbeddedCluster.example)
        cluster.settings["Site::answer"] = .count(42)
        let report = try await cluster.getIDValue("Site::answer", nodes: ["worker-1", "ghost", "manager"])
        #expect(report.entries.map(\.node) == ["manager", "worker-1", "ghost"])
        #expect(report["worker-1"] == .replied("42"))
        #expect(report["ghost"] == .failed("unknown cluster node"))
        #expect(report.summary == .partial)
        let unknown = try await cluster.getIDValue("No::such")
        #expect(unknown.summary == .noneReplied)
        #expect(unknown.entries.allSatisfy { $0.outcome == .failed("unknown id") })
        #expect(
            unknown.grouped == [
                DispatchReport.Group(
                    outcome: .failed("unknown id"),
                    nodes: ["logger-1", "manager", "proxy-1", "worker-1", "worker-2"]
                )
            ]
        )
    }

    @Test func aSilentNodeTimesOutAtTheDeadlineNamingTheNodeAndTheLimit() async throws {
        let hub = InMemoryBackend.Hub()
        // A real clock: with a manual one, the test could only advance it once the sweeper sleeps, which may come
        // before the live nodes' answers arrive (it did, under ThreadSanitizer's slowdown). One second is ample for
        // two in-memory answers and short enough to wait.
        let cluster = EmbeddedCluster(layout: EmbeddedCluster.example)
        // Two live nodes, and one that subscribes but never answers.
        let nodes = cluster.makeNodes(on: hub).filter { ["manager", "worker-1"].contains($0.name) }
        for node in nodes { try await node.start() }
        let silent = hub.makeBackend(name: "worker-2")
        try await silent.subscribe(NodeRuntime.API.topic, eventNames: [NodeRuntime.API.dispatchRequest])
        try await silent.connect()
        let report = try await withThrowingTaskGroup(of: DispatchReport?.self, returning: DispatchReport?.self) {
            group in
            for node in nodes {
                group.addTask {
                    try await node.serve()
                    return nil
                }
            }
            group.addTask {
                try await withDispatcher(
                    backend: hub.makeBackend(name: "agent"),
                    protocols: [.managementNode],
                    options: DispatchOptions(timeout: .seconds(1))
                ) { dispatcher in
                    try await dispatcher.getIDValue(
                        "Cluster::node",
                        nodes: [
                            DispatchTarget("manager", nodeType: .manager),
                            DispatchTarget("worker-1", nodeType: .worker),
                            DispatchTarget("worker-2", nodeType: .worker),
                        ],
                        via: .managementNode
                    )
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            return nil
        }
        let result = try #require(report)
        #expect(result["manager"] == .replied(#""manager""#))
        #expect(result["worker-2"] == .timedOut(after: .seconds(1)))
        #expect(result["worker-2"]?.errorText(node: "worker-2") == "request timed out after 1 s waiting for worker-2")
        #expect(result.summary == .partial)
        await silent.close()
    }

    @Test func controlProtocolAsksEachNodeTopicAndAttributesByReplyTopic() async throws {
        var configured = EmbeddedCluster(layout: EmbeddedCluster.example)
        configured.settings["Log::default_rotation_interval"] = .interval(Broker.Timespan(.seconds(86_400)))
        let cluster = configured
        let report = try await cluster.run { hub in
            try await withDispatcher(backend: hub.makeBackend(name: "zeekctl"), protocols: [.control]) { dispatcher in
                try await dispatcher.getIDValue(
                    "Log::default_rotation_interval",
                    nodes: cluster.targets,
                    unknownNodes: [],
                    via: .control
                )
            }
        }
        #expect(report.entries.count == 5)
        #expect(report.entries.allSatisfy { $0.outcome == .replied("1.0 day") })
        #expect(report.valueEncoding == .text)
        #expect(report.zeekClientDocument["results"]?["proxy-1"] == "1.0 day")
    }

    @Test func reportsSummariseAndDocumentErrorsAsZeekClientDoes() {
        let report = DispatchReport(
            entries: [
                DispatchReport.Entry(node: "worker-1", nodeType: .worker, outcome: .replied("not json")),
                DispatchReport.Entry(node: "manager", nodeType: .manager, outcome: .replied("96")),
                DispatchReport.Entry(node: "proxy-1", nodeType: .proxy, outcome: .unreachable("connection refused")),
            ],
            errors: ["request timed out"]
        )
        #expect(report.entries.map(\.node) == ["manager", "proxy-1", "worker-1"])
        #expect(
            report.zeekClientDocument.text(style: .python(sortKeys: true))
                == #"{"errors": [{"error": "request timed out", "source": null}, {"error": "unreachable: connection refused", "source": "proxy-1"}, {"error": "JSON decode error: byte 0: unexpected 'n', expected 'null'", "source": "worker-1"}], "results": {"manager": 96}}"#
        )
        #expect(report.summary == .partial)
        #expect(DispatchReport(entries: []).summary == .noneReplied)
    }
}

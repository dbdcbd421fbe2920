import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct NodeRuntimeTests {
    static func node(on hub: InMemoryBackend.Hub, name: String = "worker-1") -> NodeRuntime {
        var registry = IDRegistry.clusterNode(name: name, layout: EmbeddedCluster.example)
        registry.set("Site::unset", nil)
        return NodeRuntime(name: name, registry: registry, backend: hub.makeBackend(name: name))
    }

    @Test func startingAnnouncesTheNodeWithNotifyNodeHello() async throws {
        let hub = InMemoryBackend.Hub()
        let agent = hub.makeBackend(name: "agent")
        try await agent.subscribe(NodeRuntime.API.topic)
        try await agent.connect()
        let node = Self.node(on: hub)
        try await node.start()
        var events = agent.events.makeAsyncIterator()
        let hello = try await events.next()
        #expect(
            hello
                == TopicEvent(
                    topic: NodeRuntime.API.topic,
                    event: Broker.Event(NodeRuntime.API.notifyNodeHello, ["worker-1"])
                )
        )
    }

    @Test func theSeedsTwoArgumentDispatchRequestAsksEveryNode() async throws {
        let hub = InMemoryBackend.Hub()
        let agent = hub.makeBackend(name: "agent")
        try await agent.subscribe(NodeRuntime.API.topic, eventNames: [NodeRuntime.API.dispatchResponse])
        try await agent.connect()
        let node = Self.node(on: hub)
        try await node.start()
        let action: Broker.Value = .vector([.string("get_id_value"), .string("Cluster::node")])
        try await agent.publish(
            Broker.Event(NodeRuntime.API.dispatchRequest, ["r-2", action]),
            to: NodeRuntime.API.topic
        )
        try await agent.publish(
            Broker.Event(NodeRuntime.API.dispatchRequest, ["r-3", action, .set([.string("worker-1")])]),
            to: NodeRuntime.API.topic
        )
        try await agent.publish(
            Broker.Event(NodeRuntime.API.dispatchRequest, ["r-x", action, .string("not a set")]),
            to: NodeRuntime.API.topic
        )
        try await agent.publish(Broker.Event("Control::shutdown_request", []), to: "zeek/cluster/node/worker-1/")
        try await node.serve()
        var events = agent.events.makeAsyncIterator()
        var answered: [String] = []
        for _ in 0..<2 {
            let received = try #require(try await events.next())
            if case .string(let reqid)? = received.event.arguments.first { answered.append(reqid) }
            #expect(received.event.name == NodeRuntime.API.dispatchResponse)
        }
        #expect(answered == ["r-2", "r-3"])
        #expect(node.ignoredEvents == 1)
    }

    @Test func controlRequestsGetFmtTextOnTheReplyTopicAndShutdownEndsTheNode() async throws {
        let hub = InMemoryBackend.Hub()
        let tool = hub.makeBackend(name: "tool")
        try await tool.subscribe("zeek/control")
        try await tool.connect()
        let node = Self.node(on: hub)
        try await node.start()
        let topic = Topic("zeek/cluster/node/worker-1/")
        try await tool.publish(Broker.Event("Control::id_value_request", ["No::such"]), to: topic)
        try await tool.publish(Broker.Event("Control::id_value_request", ["Site::unset"]), to: topic)
        try await tool.publish(Broker.Event("Control::id_value_request", ["Cluster::manager_is_logger"]), to: topic)
        try await tool.publish(Broker.Event("Control::peer_status_request", []), to: topic)
        try await tool.publish(Broker.Event("Something::else", []), to: topic)
        try await tool.publish(Broker.Event("Control::id_value_request", [.count(1)]), to: topic)
        try await tool.publish(Broker.Event("Control::shutdown_request", []), to: topic)
        try await node.serve()  // returns after the shutdown request
        #expect(node.ignoredEvents == 2)
        var replies: [TopicEvent] = []
        var events = tool.events.makeAsyncIterator()
        for _ in 0..<5 { if let next = try await events.next() { replies.append(next) } }
        #expect(
            replies.map(\.topic.name) == [
                "zeek/control/id_value_response/worker-1", "zeek/control/id_value_response/worker-1",
                "zeek/control/id_value_response/worker-1", "zeek/control/peer_status_response/worker-1",
                "zeek/control/shutdown_response/worker-1",
            ]
        )
        #expect(
            replies.map(\.event.arguments) == [
                ["No::such", "<unknown id>"], ["Site::unset", "<no ID value>"], ["Cluster::manager_is_logger", "F"],
                [""], [],
            ]
        )
    }

    @Test func settingAnIdentifierChangesTheAnswer() async throws {
        let hub = InMemoryBackend.Hub()
        let node = Self.node(on: hub)
        node.set("Site::answer", .count(7))
        #expect(node.registry.lookup("Site::answer") == .value(.count(7)))
        node.set("Site::answer", nil)
        #expect(node.registry.lookup("Site::answer") == .noValue)
    }
}

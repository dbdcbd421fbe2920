import Testing

@testable import ClusterKitModel
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite(.timeLimit(.minutes(1))) struct AgentLinkTests {
    // MARK: - State machine

    @Test func failedAttemptsBackOffDoublingUpToTheLimit() {
        var link = AgentLinkStateMachine(instance: "agent-x", url: "ws://10.0.0.2:2151/v1/messages/json")
        #expect(
            link.step(.start) == [.log("connecting to agent agent-x at ws://10.0.0.2:2151/v1/messages/json"), .connect]
        )
        var waits: [Duration] = []
        for _ in 0..<7 {
            let actions = link.step(.connectFailed("connection refused"))
            #expect(actions.first == .close)
            guard case .wait(let delay)? = actions.last else {
                Issue.record("no wait in \(actions)")
                return
            }
            waits.append(delay)
            #expect(link.step(.retryDue) == [.connect])
        }
        #expect(waits == [1, 2, 4, 8, 16, 30, 30].map { Duration.seconds($0) })
        #expect(
            link.step(.connectFailed("connection refused"))[1]
                == .log(
                    "cannot reach agent agent-x at ws://10.0.0.2:2151/v1/messages/json: connection refused; "
                        + "trying again in 30 s"
                )
        )
    }

    @Test func aConnectionResetsTheBackOffAndALossReconnectsAfterTheInitialDelay() {
        var link = AgentLinkStateMachine(instance: "a", url: "ws://h:1/", initialDelay: .milliseconds(500))
        _ = link.step(.start)
        _ = link.step(.connectFailed("refused"))
        _ = link.step(.retryDue)
        _ = link.step(.connectFailed("refused"))
        _ = link.step(.retryDue)
        #expect(link.step(.connected) == [.log("connected to agent a at ws://h:1/"), .relay])
        #expect(link.phase == .connected)
        #expect(
            link.step(.connectionLost("closed"))
                == [
                    .close, .log("lost agent a at ws://h:1/: closed; reconnecting in 500 ms"),
                    .wait(.milliseconds(500)),
                ]
        )
        _ = link.step(.retryDue)
        // The count starts again: the first failure waits the initial delay.
        #expect(link.step(.connectFailed("refused")).last == .wait(.milliseconds(500)))
    }

    @Test func stopEndsEveryPhaseAndInputsOutOfPlaceDoNothing() {
        var idle = AgentLinkStateMachine(instance: "a", url: "ws://h:1/")
        #expect(idle.step(.retryDue).isEmpty)
        #expect(idle.step(.connected).isEmpty)
        #expect(idle.step(.stop).isEmpty)
        #expect(idle.phase == .stopped)
        #expect(idle.step(.start).isEmpty)

        var waiting = AgentLinkStateMachine(instance: "a", url: "ws://h:1/")
        _ = waiting.step(.start)
        _ = waiting.step(.connectFailed("refused"))
        #expect(waiting.step(.connectionLost("x")).isEmpty)
        #expect(waiting.step(.stop) == [.close])
        #expect(waiting.step(.retryDue).isEmpty)
        #expect(waiting.step(.stop).isEmpty)
    }

    @Test func theURLOfAnInstanceComesFromItsAddressAndPort() {
        #expect(AgentLinks.url(of: Management.Instance(name: "a")) == nil)
        #expect(
            AgentLinks.url(of: Management.Instance(name: "a", host: "10.0.0.2", listenPort: .tcp(2151)))
                == "ws://10.0.0.2:2151/v1/messages/json"
        )
        #expect(
            AgentLinks.url(of: Management.Instance(name: "a", host: "::1", listenPort: .tcp(2151)), usesTLS: true)
                == "wss://[::1]:2151/v1/messages/json"
        )
    }

    // MARK: - Driver

    @Test func aLinkRelaysTheAgentTopicBothWaysAndNothingElse() async throws {
        let agentHub = InMemoryBackend.Hub()
        let controllerHub = InMemoryBackend.Hub()
        try await withAPIServer(hub: agentHub, clientLimit: 0, nodeToken: "sesame") { server in
            let topic = AgentAPI.topic("agent-x")
            let agent = agentHub.makeBackend(name: "agent-x")
            try await agent.subscribe(topic)
            try await agent.connect()
            let peers = agentHub.peerSubscriptions(to: topic)
            let controller = controllerHub.makeBackend(name: "controller")
            try await controller.subscribe(Topic(AgentAPI.topicPrefix))
            try await controller.subscribe(Topic("elsewhere"))
            try await controller.connect()

            let links = AgentLinks(hub: controllerHub, nodeToken: "sesame")
            let running = Task { await links.run() }
            links.connect([
                Management.Instance(name: "agent-x", host: "127.0.0.1", listenPort: .tcp(UInt16(server.port))),
                Management.Instance(name: "agent-y"),
            ])
            // The agent learns of the link as Zeek's agent of a new peer, and answers with its hello.
            var subscribed = peers.makeAsyncIterator()
            #expect(await subscribed.next() != nil)
            // Only the agent's topic crosses: had this crossed, it would come first.
            try await agent.publish(Broker.Event("not relayed", []), to: Topic("elsewhere"))
            try await agent.publish(Broker.Event("hello", []), to: topic)
            var fromAgent = controller.events.makeAsyncIterator()
            let hello = try await fromAgent.next()
            #expect(hello?.event.name == "hello")
            #expect(hello?.topic == topic)
            #expect(hello.flatMap { $0.origin }.flatMap { controllerHub.remoteAddress(of: $0) } == "127.0.0.1")

            try await controller.publish(Broker.Event("welcome", []), to: topic)
            var toAgent = agent.events.makeAsyncIterator()
            #expect(try await toAgent.next()?.event.name == "welcome")
            #expect(links.status.keys.sorted() == ["agent-x"])
            #expect(links.status["agent-x"]?.isConnected == true)

            links.stopAll()
            running.cancel()
            await running.value
        }
    }

    @Test func aPeerSubscriptionIsReportedForWebSocketClientsOnly() async throws {
        let hub = InMemoryBackend.Hub()
        let topic = Topic("zeek/management/agent/a")
        let peers = hub.peerSubscriptions(to: topic)
        let inProcess = hub.makeBackend(name: "in-process")
        try await inProcess.subscribe(topic)
        let client = hub.makeClientEndpoint(name: "client-1", nodeID: "client-1", isMember: false) {}
        try await client.subscribe(Topic("zeek/other"))
        try await client.subscribe(Topic("zeek/management/agent"))
        var iterator = peers.makeAsyncIterator()
        #expect(await iterator.next() == "client-1")
    }
}

import Testing

@testable import ClusterKit

@Suite struct InMemoryBackendTests {
    static func event(_ name: String = "E", _ arguments: [Broker.Value] = []) -> Broker.Event {
        Broker.Event(name, arguments)
    }

    /// Reads the next event, or fails after a generous real-time limit (the hub delivers synchronously).
    static func next(_ backend: InMemoryBackend) async throws -> TopicEvent? {
        var iterator = backend.events.makeAsyncIterator()
        return try await iterator.next()
    }

    @Test func publicationsReachMatchingPrefixesButNotThePublisher() async throws {
        let hub = InMemoryBackend.Hub()
        let a = hub.makeBackend(name: "a")
        let b = hub.makeBackend(name: "b")
        let c = hub.makeBackend(name: "c")
        try await a.subscribe("zeek/management/controller")
        try await b.subscribe("zeek/management/controller")
        try await c.subscribe("zeek/other")
        for backend in [a, b, c] { try await backend.connect() }
        try await a.publish(Self.event("hello"), to: "zeek/management/controllerX")
        #expect(try await Self.next(b) == TopicEvent(topic: "zeek/management/controllerX", event: Self.event("hello")))
        #expect(hub.hasSubscribers("zeek/management/controller"))
        #expect(!hub.hasSubscribers("zeek/nothing"))
        // Nothing for the publisher itself, nothing for the non-matching subscriber: closing shows empty streams.
        await a.close()
        await c.close()
        #expect(try await Self.next(a) == nil)
        #expect(try await Self.next(c) == nil)
    }

    @Test func publishingBeforeConnectingOrAfterClosingFails() async throws {
        let hub = InMemoryBackend.Hub()
        let backend = hub.makeBackend(name: "n")
        let early = await #expect(throws: BackendError.self) { try await backend.publish(Self.event(), to: "t") }
        #expect(early?.code == .notConnected)
        #expect(early?.description == "in-memory endpoint 'n': endpoint is not connected")
        try await backend.connect()
        await backend.close()
        let late = await #expect(throws: BackendError.self) { try await backend.publish(Self.event(), to: "t") }
        #expect(late?.code == .closed)
        #expect(hub.endpointCount == 0)
    }

    @Test func eventNameFiltersKeepPrefixSemantics() async throws {
        let hub = InMemoryBackend.Hub()
        let node = hub.makeBackend(name: "node")
        let agent = hub.makeBackend(name: "agent")
        try await node.subscribe("zeek/management/node", eventNames: ["request"])
        try await agent.subscribe("zeek/management/node")
        try await node.connect()
        try await agent.connect()
        try await agent.publish(Self.event("response"), to: "zeek/management/node")
        try await agent.publish(Self.event("request"), to: "zeek/management/node/x")
        #expect(try await Self.next(node)?.event.name == "request")
        #expect(hub.hasSubscribers("zeek/other/y", eventName: "request") == false)
        await agent.close()
        #expect(!hub.hasSubscribers("zeek/management/node/y"))
        #expect(hub.hasSubscribers("zeek/management/node/y", eventName: "request"))
        try await node.unsubscribe("zeek/management/node")
        #expect(!hub.hasSubscribers("zeek/management/node/y", eventName: "request"))
    }

    @Test func aSlowConsumerLosesEventsAndIsReportedInsteadOfGrowingMemory() async throws {
        let hub = InMemoryBackend.Hub(inboxLimit: 3)
        let fast = hub.makeBackend(name: "fast")
        let slow = hub.makeBackend(name: "slow")
        try await slow.subscribe("t")
        try await fast.connect()
        try await slow.connect()
        for index in 0..<10 { try await fast.publish(Self.event("e", [.count(UInt64(index))]), to: "t") }
        #expect(
            hub.slowConsumers == [InMemoryBackend.Hub.SlowConsumer(name: "slow", nodeID: slow.nodeID, droppedEvents: 7)]
        )
        var iterator = slow.events.makeAsyncIterator()
        for index in 0..<3 { #expect(try await iterator.next()?.event.arguments == [.count(UInt64(index))]) }
    }
}

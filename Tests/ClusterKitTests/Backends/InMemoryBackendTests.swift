import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite(.timeLimit(.minutes(1))) struct InMemoryBackendTests {
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

    // MARK: - Limits

    /// A WebSocket client's endpoint, as the server makes it, with a counter of overflow calls.
    static func clientEndpoint(
        _ hub: InMemoryBackend.Hub,
        _ name: String,
        overflows: Counter
    ) -> InMemoryBackend {
        hub.makeClientEndpoint(name: name, nodeID: name, isMember: false) { overflows.increment() }
    }

    final class Counter: Sendable {
        private let value = Guarded(0)
        func increment() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    /// Waits (without sleeping) until `condition` holds, yielding to the tasks it waits for; a cancelled wait (the
    /// test's time limit) throws.
    static func until(_ condition: () -> Bool) async throws {
        while !condition() {
            try Task.checkCancellation()
            await Task.yield()
        }
    }

    @Test func inProcessInboxesNeverDropAndOverrunsAreCounted() async throws {
        let hub = InMemoryBackend.Hub(inboxLimit: 3)
        let fast = hub.makeBackend(name: "fast")
        let slow = hub.makeBackend(name: "slow")
        try await slow.subscribe("t")
        try await fast.connect()
        try await slow.connect()
        for index in 0..<10 { try await fast.publish(Self.event("e", [.count(UInt64(index))]), to: "t") }
        #expect(hub.slowConsumers.isEmpty)
        #expect(hub.diagnostics.overruns == 7)
        #expect(hub.diagnostics.overrunEvents == 7)
        #expect(hub.diagnostics.backlogEvents == 10)
        var iterator = slow.events.makeAsyncIterator()
        for index in 0..<10 { #expect(try await iterator.next()?.event.arguments == [.count(UInt64(index))]) }
        #expect(hub.diagnostics.backlogEvents == 0)
        #expect(hub.diagnostics.backlogBytes == 0)
        #expect(hub.diagnostics.overrunEvents == 0)
        #expect(hub.diagnostics.overrunBytes == 0)
    }

    @Test func inProcessEndpointsPublishingToEachOtherNeverWaitSoTheyCannotDeadlock() async throws {
        // The controller and an agent publish to each other while each handles its own inbox: with waiting
        // publishers and full inboxes both would wait for the other for ever. Here neither reads until both
        // have published far past their inbox limit.
        let hub = InMemoryBackend.Hub(options: .init(inboxLimit: 2, inboxByteLimit: 64, overrunLimit: 2))
        let controller = try await participant(hub, "controller", ["zeek/management/controller"])
        let agent = try await participant(hub, "agent", ["zeek/management/agent"])
        let count = 500
        async let requests: Void = {
            for number in 0..<count {
                try await controller.publish(ping(UInt64(number)), to: "zeek/management/agent/a")
            }
        }()
        async let responses: Void = {
            for number in 0..<count {
                try await agent.publish(ping(UInt64(number)), to: "zeek/management/controller")
            }
        }()
        try await requests
        try await responses
        #expect(hub.diagnostics.waits == 0)
        #expect(hub.diagnostics.overruns >= 2 * (count - 2))
        var toAgent = agent.events.makeAsyncIterator()
        var toController = controller.events.makeAsyncIterator()
        for number in 0..<count {
            #expect(try await toAgent.next()?.event == ping(UInt64(number)))
            #expect(try await toController.next()?.event == ping(UInt64(number)))
        }
        #expect(hub.diagnostics.backlogEvents == 0)
    }

    @Test func aClientEndpointWaitsForRoomInAFullInProcessInboxAndLosesNothing() async throws {
        let hub = InMemoryBackend.Hub(inboxLimit: 2)
        let consumer = try await participant(hub, "consumer", ["t"])
        let client = Self.clientEndpoint(hub, "client", overflows: Counter())
        try await client.connect()
        let count = 20
        async let publishing: Void = {
            for number in 0..<count { try await client.publish(ping(UInt64(number)), to: "t") }
        }()
        try await Self.until { hub.diagnostics.waitingPublishers == 1 }
        #expect(hub.diagnostics.backlogEvents == 2)
        var iterator = consumer.events.makeAsyncIterator()
        for number in 0..<count { #expect(try await iterator.next()?.event == ping(UInt64(number))) }
        try await publishing
        #expect(hub.diagnostics.waits >= 1)
        #expect(hub.diagnostics.overruns == 0)
        #expect(hub.diagnostics.waitingPublishers == 0)
    }

    @Test func aWaitingClientPublicationEndsWhenCancelledOrWhenTheFullInboxLeaves() async throws {
        let hub = InMemoryBackend.Hub(inboxLimit: 1)
        let consumer = try await participant(hub, "consumer", ["t"])
        let client = Self.clientEndpoint(hub, "client", overflows: Counter())
        try await client.connect()
        try await client.publish(ping(0), to: "t")
        let cancelled = try await withThrowingTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    try await client.publish(ping(1), to: "t")
                    return nil
                } catch {
                    return error
                }
            }
            try await Self.until { hub.diagnostics.waitingPublishers == 1 }
            group.cancelAll()
            return try await group.next() ?? nil
        }
        #expect(cancelled is CancellationError)
        #expect(hub.diagnostics.waitingPublishers == 0)

        async let again: Void = client.publish(ping(2), to: "t")
        try await Self.until { hub.diagnostics.waitingPublishers == 1 }
        await consumer.close()
        try await again
        #expect(hub.diagnostics.backlogEvents == 0)
    }

    @Test func clientsWaitWhileTheInProcessInboxesTogetherAreOverrunPastTheirBudget() async throws {
        let hub = InMemoryBackend.Hub(options: .init(inboxLimit: 1, overrunLimit: 2))
        let busy = try await participant(hub, "busy", ["busy"])
        let idle = try await participant(hub, "idle", ["idle"])
        let agent = try await participant(hub, "agent", [])
        for number in 0..<3 { try await agent.publish(ping(UInt64(number)), to: "busy") }
        #expect(hub.diagnostics.overrunEvents == 2)
        let client = Self.clientEndpoint(hub, "client", overflows: Counter())
        try await client.connect()
        #expect(
            try client.tryPublish(TopicEvent(topic: "idle", event: ping(9)), size: nil)?.description
                == "the hub's in-process inboxes"
        )
        async let publishing: Void = client.publish(ping(9), to: "idle")
        try await Self.until { hub.diagnostics.waitingPublishers == 1 }
        #expect(try await Self.next(busy)?.event == ping(0))
        try await publishing
        #expect(hub.diagnostics.overrunEvents == 1)
        #expect(try await Self.next(idle)?.event == ping(9))
        // A publication that reaches no in-process inbox never waits for them.
        let other = Self.clientEndpoint(hub, "other", overflows: Counter())
        try await other.subscribe("c2c")
        try await other.connect()
        try await agent.publish(ping(3), to: "busy")
        #expect(hub.diagnostics.overrunEvents == 2)
        #expect(try client.tryPublish(TopicEvent(topic: "c2c", event: ping(5)), size: nil) == nil)
        // The overrun is paid back as the consumer reads, or when it leaves.
        await busy.close()
        #expect(hub.diagnostics.overrunEvents == 0)
        #expect(hub.diagnostics.overrunBytes == 0)
    }

    @Test func aClientEndpointWhoseInboxOverflowsIsClosedAndReported() async throws {
        let hub = InMemoryBackend.Hub(options: .init(inboxLimit: 100, inboxByteLimit: 1_000))
        let publisher = try await participant(hub, "publisher", [])
        let overflows = Counter()
        let client = Self.clientEndpoint(hub, "client", overflows: overflows)
        try await client.subscribe("t")
        try await client.connect()
        let blob = Broker.Event("X::blob", [.string(String(repeating: "z", count: 600))])
        // The first two fit (the inbox is not full before either), the third finds 1,200 bytes waiting.
        for _ in 0..<5 { try await publisher.publish(blob, to: "t") }
        #expect(overflows.count == 1)
        #expect(hub.slowConsumers == [.init(name: "client", nodeID: "client", droppedEvents: 3)])
        #expect(hub.diagnostics.closedForFullInbox == 1)
        let error = await #expect(throws: BackendError.self) { try await Self.next(client) }
        #expect(error?.code == .queueFull)
        #expect(error?.description == "in-memory endpoint 'client': inbox full: 100 events or 1000 bytes waiting")
        await client.close()
        #expect(hub.slowConsumers.isEmpty)
    }

    @Test func aClientEndpointIsFullByEventCountToo() async throws {
        let hub = InMemoryBackend.Hub(inboxLimit: 3)
        let publisher = try await participant(hub, "publisher", [])
        let overflows = Counter()
        let client = Self.clientEndpoint(hub, "client", overflows: overflows)
        try await client.subscribe("t")
        try await client.connect()
        for number in 0..<3 { try await publisher.publish(ping(UInt64(number)), to: "t") }
        #expect(overflows.count == 0)
        try await publisher.publish(ping(3), to: "t")
        #expect(overflows.count == 1)
        try await publisher.publish(ping(4), to: "t")
        #expect(overflows.count == 1)
    }

    @Test func sizesAreEstimatedCheaplyAndWithinBounds() {
        let small = TopicEvent(topic: "t", event: ping(1))
        #expect(small.estimatedSize == 64 + 1 + 7 + 16)
        let text = TopicEvent(topic: "t", event: Broker.Event("E", [.string(String(repeating: "x", count: 1_000))]))
        #expect(text.estimatedSize == 64 + 1 + 1 + 16 + 1_000)
        // A million values: only the first 256 are looked at, the rest count 16 bytes each.
        let huge = TopicEvent(
            topic: "t",
            event: Broker.Event("E", [.vector(Array(repeating: .string("abcd"), count: 1_000_000))])
        )
        let looked = TopicEvent.estimateBudget - 1
        #expect(huge.estimatedSize == 64 + 2 + 16 + looked * 20 + (1_000_000 - looked) * 16)
    }
}

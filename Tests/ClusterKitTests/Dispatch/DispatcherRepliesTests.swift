import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// Replies are credited to the request they answer: late Control replies never answer a later request, and
/// only the first of repeated answers counts.
@Suite struct DispatcherRepliesTests {
    /// A dispatcher on an in-memory hub and a scripted node `worker-1` that answers only when told to.
    struct Harness {
        let hub = InMemoryBackend.Hub()
        let clock = ManualClock()
        let node: InMemoryBackend
        let dispatcher: Dispatcher
        static let target = [DispatchTarget("worker-1", nodeType: .worker)]

        init(options: DispatchOptions) async throws {
            node = hub.makeBackend(name: "worker-1")
            try await node.subscribe(TopicScheme.broker.nodeTopic("worker-1"))
            try await node.subscribe("test/requests")
            try await node.connect()
            let backend = hub.makeBackend(name: "zeekctl")
            try await backend.subscribe(ControlReplyTopic.prefix)
            try await backend.subscribe("test/responses")
            try await backend.connect()
            dispatcher = Dispatcher(backend: backend, clock: clock, options: options)
        }

        /// The node's Control reply for identifier `X`.
        func reply(_ value: String) async throws {
            try await node.publish(
                Broker.Event("Control::id_value_response", ["X", .string(value)]),
                to: TopicScheme.broker.controlReplyTopic(response: "id_value_response", node: "worker-1")
            )
        }

        /// Waits until the dispatcher has dropped `count` late replies.
        func waitForLateReplies(_ count: Int) async {
            while dispatcher.ignoredReplies.late < count { await Task.yield() }
        }
    }

    @Test func aLateControlReplyNeverAnswersTheNextRequest() async throws {
        let harness = try await Harness(options: DispatchOptions(timeout: .seconds(2), controlReplyGrace: .seconds(10)))
        let dispatcher = harness.dispatcher
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            defer { group.cancelAll() }
            var requests = harness.node.events.makeAsyncIterator()

            // A: worker-1 gets the request but answers only after the deadline.
            async let first = dispatcher.getIDValue("X", nodes: Harness.target, via: .control)
            #expect(try await requests.next()?.event.name == "Control::id_value_request")
            await harness.clock.waitForSleepers(1)
            harness.clock.advance(by: .seconds(2))
            #expect(try await first["worker-1"] == .timedOut(after: .seconds(2)))

            // B, while A's reply may still come: worker-1 is not asked again, so that reply cannot answer B.
            let second = try await dispatcher.getIDValue("X", nodes: Harness.target, via: .control)
            #expect(
                second["worker-1"]
                    == .failed(
                        "an earlier Control request for 'X' to this node is still unanswered (the Control framework "
                            + "has no request ids to tell their replies apart)"
                    )
            )

            // A's late reply is dropped, and frees the node and identifier.
            try await harness.reply("old")
            await harness.waitForLateReplies(1)

            // C is sent and gets its own answer (a node named twice is asked once).
            async let third = dispatcher.getIDValue("X", nodes: Harness.target + Harness.target, via: .control)
            #expect(try await requests.next()?.event.name == "Control::id_value_request")
            try await harness.reply("new")
            #expect(try await third.entries.map(\.outcome) == [.replied("new"), .replied("new")])
            #expect(dispatcher.ignoredReplies == Dispatcher.IgnoredReplies(late: 1, duplicates: 0))
        }
    }

    @Test func anUnansweredControlRequestFreesItsNodeAfterTheGracePeriod() async throws {
        let harness = try await Harness(options: DispatchOptions(timeout: .seconds(2), controlReplyGrace: .seconds(10)))
        let dispatcher = harness.dispatcher
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            defer { group.cancelAll() }
            var requests = harness.node.events.makeAsyncIterator()
            async let first = dispatcher.getIDValue("X", nodes: Harness.target, via: .control)
            _ = try await requests.next()
            await harness.clock.waitForSleepers(1)
            harness.clock.advance(by: .seconds(2))
            #expect(try await first["worker-1"] == .timedOut(after: .seconds(2)))
            // The reply never comes; after the grace period the pair is free again.
            await harness.clock.waitForSleepers(1)
            harness.clock.advance(by: .seconds(10))
            while dispatcher.isControlPairTaken(node: "worker-1", id: "X") { await Task.yield() }
            async let again = dispatcher.getIDValue("X", nodes: Harness.target, via: .control)
            #expect(try await requests.next()?.event.name == "Control::id_value_request")
            try await harness.reply("fresh")
            #expect(try await again["worker-1"] == .replied("fresh"))
        }
    }

    @Test func theFirstOfRepeatedAnswersCounts() async throws {
        let harness = try await Harness(options: DispatchOptions(timeout: .seconds(2)))
        let dispatcher = harness.dispatcher
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            defer { group.cancelAll() }
            var requests = harness.node.events.makeAsyncIterator()
            async let answer = dispatcher.request(
                "Test::ping",
                ["hello"],
                on: "test/requests",
                response: "Test::pong"
            )
            let request = try #require(try await requests.next())
            let reqid = try #require(request.event.arguments.first)
            // Two answers back to back: the second used to overwrite the first before it was read.
            try await harness.node.publish(Broker.Event("Test::pong", [reqid, "first"]), to: "test/responses")
            try await harness.node.publish(Broker.Event("Test::pong", [reqid, "second"]), to: "test/responses")
            #expect(try await answer == [reqid, "first"])
            #expect(dispatcher.ignoredReplies.duplicates <= 1)
        }
    }

    @Test func aNegativeTimeoutFailsTheRequestInsteadOfTrapping() async throws {
        let harness = try await Harness(options: DispatchOptions(timeout: .seconds(-1), maximumPendingRequests: 0))
        let error = await #expect(throws: RequestError.self) {
            try await harness.dispatcher.getIDValue("X", nodes: Harness.target, via: .managementNode)
        }
        #expect(error?.code == .invalidTimeout)
    }
}

import Testing

@testable import ClusterKitModel
@testable import ClusterKitRuntime

/// Typed publish and subscribe: events whose arguments are Swift values, through the Codable bridge.
@Suite struct TypedEventsTests {
    struct Rule: Codable, Hashable, Sendable {
        var id: String
        var priority: Int
        var expires: Broker.Timespan?
    }

    final class Mismatches: Sendable {
        private let seen = Guarded<[String]>([])
        func record(_ event: Broker.Event, _ error: Broker.ConversionError) {
            seen.withLock { $0.append("\(event.name): \(error)") }
        }
        var all: [String] { seen.withLock { $0 } }
    }

    @Test func aTypedEventArrivesDecodedAndOneThatDoesNotDecodeIsSkippedAndNamed() async throws {
        let hub = InMemoryBackend.Hub()
        let publisher = hub.makeBackend(name: "publisher")
        let subscriber = hub.makeBackend(name: "subscriber")
        let topic = Topic("site/rules")
        try await subscriber.subscribe(topic)
        try await subscriber.connect()
        try await publisher.connect()

        let mismatches = Mismatches()
        let rules = subscriber.events(
            named: "Site::add_rules",
            as: (String, [Rule]).self,
            onMismatch: mismatches.record
        )
        let rule = Rule(id: "r1", priority: 5, expires: nil)
        // The right name with a wrong argument, another event, then the typed one.
        try await publisher.publish(
            Broker.Event("Site::add_rules", ["req-0", .vector([.vector(["r0", "high"])])]),
            to: topic
        )
        try await publisher.publish(Broker.Event("Site::other", []), to: topic)
        try await publisher.publish("Site::add_rules", ("req-1", [rule]), to: topic)

        var iterator = rules.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(first.0 == "req-1")
        #expect(first.1 == [rule])
        #expect(mismatches.all == ["Site::add_rules: [1][0].priority: expected int, got string"])
        await publisher.close()
        await subscriber.close()
    }

    @Test func publishingWritesEachArgumentWithTheBridge() async throws {
        let hub = InMemoryBackend.Hub()
        let publisher = hub.makeBackend(name: "publisher")
        let subscriber = hub.makeBackend(name: "subscriber")
        try await subscriber.subscribe(Topic("site/"))
        try await subscriber.connect()
        try await publisher.connect()
        try await publisher.publish(
            "Site::one",
            Rule(id: "r", priority: -1, expires: .init(.seconds(2))),
            to: Topic("site/x")
        )
        var events = subscriber.events.makeAsyncIterator()
        let received = try #require(try await events.next())
        #expect(
            received.event
                == Broker.Event("Site::one", [.vector([.string("r"), .integer(-1), .timespan(.init(.seconds(2)))])])
        )
        await publisher.close()
        await subscriber.close()
    }

    @Test func argumentCountsAndTypesAreCheckedWithTheArgumentNamed() throws {
        #expect(throws: Broker.ConversionError.self) {
            try TypedArguments.decode([.string("a")], as: (String, Int).self)
        }
        do {
            _ = try TypedArguments.decode([.string("a"), .string("b")], as: (String, Int).self)
            Issue.record("no error")
        } catch {
            #expect(error.description == "[1]: expected int, got string")
        }
        let decoded = try TypedArguments.decode([.string("a"), .count(3)], as: (String, Int).self)
        #expect(decoded.0 == "a" && decoded.1 == 3)
    }

    @Test func theTypedEventsReadTheBackendsEventsAsTheyAreIteratedAndEndWithThem() async throws {
        let hub = InMemoryBackend.Hub()
        let publisher = hub.makeBackend(name: "publisher")
        let subscriber = hub.makeBackend(name: "subscriber")
        let topic = Topic("site/rules")
        try await subscriber.subscribe(topic)
        try await subscriber.connect()
        try await publisher.connect()
        // Published before the sequence is made: they wait in the backend's own (bounded) inbox.
        try await publisher.publish("Site::rule", Rule(id: "a", priority: 1, expires: nil), to: topic)
        try await publisher.publish("Site::rule", Rule(id: "b", priority: 2, expires: nil), to: topic)
        var rules = subscriber.events(named: "Site::rule", as: Rule.self).makeAsyncIterator()
        #expect(try await rules.next()?.id == "a")
        #expect(try await rules.next()?.id == "b")
        await subscriber.close()
        #expect(try await rules.next() == nil)
        await publisher.close()
    }
}

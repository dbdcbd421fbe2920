import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct TopicRouterTests {
    @Test func prefixMatchesByBytesNotPathComponents() {
        let router = TopicRouter<String>()
        router.subscribe("zeek/management/controller", "client")

        #expect(router.subscribers(matching: "zeek/management/controller") == ["client"])
        #expect(router.subscribers(matching: "zeek/management/controllerX") == ["client"])
        #expect(router.subscribers(matching: "zeek/management/controller/more") == ["client"])
        #expect(router.subscribers(matching: "zeek/management/control").isEmpty)
        #expect(router.subscribers(matching: "zeek/management/agent").isEmpty)
        #expect(router.subscribers(matching: "").isEmpty)
    }

    @Test func emptyPrefixMatchesEveryTopic() {
        let router = TopicRouter<String>()
        router.subscribe(.all, "tap")

        #expect(router.subscribers(matching: "") == ["tap"])
        #expect(router.subscribers(matching: "z") == ["tap"])
        #expect(router.subscribers(matching: "zeek/cluster/node/worker-1/") == ["tap"])
    }

    @Test func overlappingPrefixesDeliverOnce() {
        let router = TopicRouter<String>()
        router.subscribe("zeek/", "a")
        router.subscribe("zeek/cluster/", "a")
        router.subscribe("zeek/cluster/node/worker-1/", "a")
        router.subscribe("zeek/cluster/", "b")
        router.subscribe("", "c")

        #expect(router.subscribers(matching: "zeek/cluster/node/worker-1/") == ["c", "a", "b"])
        #expect(router.subscribers(matching: "zeek/logs/Conn::LOG") == ["c", "a"])
    }

    @Test func orderIsShortestPrefixFirstThenSubscriptionOrder() {
        let router = TopicRouter<Int>()
        router.subscribe("zeek/cluster/worker", 3)
        router.subscribe("zeek/cluster/worker", 1)
        router.subscribe("zeek/", 2)

        #expect(router.subscribers(matching: "zeek/cluster/worker") == [2, 3, 1])
    }

    @Test func subscribingTwiceIsOneSubscription() {
        let router = TopicRouter<String>()

        #expect(router.subscribe("zeek/cluster/manager", "m"))
        #expect(!router.subscribe("zeek/cluster/manager", "m"))
        #expect(router.subscriptionCount == 1)
        #expect(router.subscribers(matching: "zeek/cluster/manager") == ["m"])
    }

    @Test func excludingLeavesOutThePublisher() {
        let router = TopicRouter<String>()
        router.subscribe("zeek/cluster/worker", "worker-1")
        router.subscribe("zeek/cluster/worker", "worker-2")
        router.subscribe("zeek/", "worker-1")

        #expect(router.subscribers(matching: "zeek/cluster/worker", excluding: "worker-1") == ["worker-2"])
        #expect(router.subscribers(matching: "zeek/cluster/worker", excluding: "nobody") == ["worker-1", "worker-2"])
        #expect(router.subscribers(matching: "zeek/cluster/worker") == ["worker-1", "worker-2"])
    }

    @Test func hasSubscribersAnswersWithoutListing() {
        let router = TopicRouter<String>()
        router.subscribe("zeek/cluster/node/manager/", "manager")

        #expect(router.hasSubscribers(matching: "zeek/cluster/node/manager/"))
        #expect(!router.hasSubscribers(matching: "zeek/cluster/node/manager"))
    }

    @Test func unsubscribeRemovesOnlyTheExactPrefix() {
        let router = TopicRouter<String>()
        router.subscribe("zeek/", "a")
        router.subscribe("zeek/cluster/", "a")

        #expect(router.unsubscribe("zeek/", "a"))
        #expect(!router.unsubscribe("zeek/", "a"))
        #expect(!router.unsubscribe("zeek/clus", "a"))
        #expect(!router.unsubscribe("zeek/cluster/", "b"))
        #expect(router.subscribers(matching: "zeek/cluster/x") == ["a"])
        #expect(router.subscribers(matching: "zeek/logs").isEmpty)
        #expect(router.subscriptions(of: "a") == ["zeek/cluster/"])
        #expect(router.isConsistent())
    }

    @Test func unsubscribeAllRemovesEveryPrefixOfOneSubscriber() {
        let router = TopicRouter<String>()
        router.subscribe("zeek/cluster/node/worker-1/", "worker-1")
        router.subscribe("zeek/cluster/worker", "worker-1")
        router.subscribe("zeek/cluster/worker", "worker-2")

        #expect(router.unsubscribeAll("worker-1") == ["zeek/cluster/node/worker-1/", "zeek/cluster/worker"])
        #expect(router.unsubscribeAll("worker-1").isEmpty)
        #expect(router.subscribers(matching: "zeek/cluster/worker") == ["worker-2"])
        #expect(router.subscribers(matching: "zeek/cluster/node/worker-1/").isEmpty)
        #expect(router.subscriberCount == 1)
        #expect(router.subscriptionCount == 1)
        #expect(router.isConsistent())
    }

    @Test func listingIsInByteOrder() {
        let router = TopicRouter<String>()
        router.subscribe("zeek/cluster/worker", "w")
        router.subscribe("zeek/cluster/manager", "m")
        router.subscribe("zeek/cluster/manager", "w")
        router.subscribe("", "tap")

        #expect(
            router.subscriptions == [
                .init(prefix: "", subscriber: "tap"),
                .init(prefix: "zeek/cluster/manager", subscriber: "m"),
                .init(prefix: "zeek/cluster/manager", subscriber: "w"),
                .init(prefix: "zeek/cluster/worker", subscriber: "w"),
            ]
        )
        #expect(router.prefixes == ["", "zeek/cluster/manager", "zeek/cluster/worker"])
        #expect(router.subscriptions(of: "w") == ["zeek/cluster/manager", "zeek/cluster/worker"])
        #expect(router.isSubscribed("zeek/cluster/manager", "w"))
        #expect(!router.isSubscribed("zeek/cluster/manage", "w"))
    }

    @Test func emptiedRouterShrinksBackToTheRoot() {
        let router = TopicRouter<Int>()
        let topics: [Topic] = ["a", "ab", "abc", "abd", "b", "ba", "zeek/x", "zeek/y", ""]
        for (index, topic) in topics.enumerated() { router.subscribe(topic, index) }
        for (index, topic) in topics.enumerated().reversed() {
            #expect(router.unsubscribe(topic, index))
            #expect(router.isConsistent())
        }
        #expect(router.nodeCount == 1)
        #expect(router.subscriptionCount == 0)
        #expect(router.subscriberCount == 0)
    }

    @Test func multiByteCharactersMatchByBytes() {
        let router = TopicRouter<String>()
        router.subscribe("zeek/caf\u{E9}", "precomposed")
        router.subscribe("zeek/cafe\u{301}", "decomposed")

        #expect(router.subscribers(matching: "zeek/caf\u{E9}/x") == ["precomposed"])
        #expect(router.subscribers(matching: "zeek/cafe\u{301}/x") == ["decomposed"])
        #expect(router.subscribers(matching: "zeek/caf") == [])
        #expect(router.prefixes.count == 2)
    }
}

// MARK: - Hooks

extension TopicRouterTests {
    final class Recorder: Sendable {
        let calls = Guarded<[String]>([])
        func record(_ text: String) { calls.withLock { $0.append(text) } }
        var all: [String] { calls.withLock { $0 } }
    }

    @Test func hooksRunBeforeTheChangeForEveryCall() {
        let router = TopicRouter<String>()
        let recorder = Recorder()
        router.onSubscribe { prefix, subscriber in
            let already = router.isSubscribed(prefix, subscriber)
            recorder.record("subscribe \(prefix) \(subscriber) already=\(already)")
        }
        router.onUnsubscribe { prefix, subscriber in
            let present = router.isSubscribed(prefix, subscriber)
            recorder.record("unsubscribe \(prefix) \(subscriber) present=\(present)")
        }

        router.subscribe("zeek/a", "x")
        router.subscribe("zeek/a", "x")
        router.unsubscribe("zeek/a", "x")
        router.unsubscribe("zeek/a", "x")

        #expect(
            recorder.all == [
                "subscribe zeek/a x already=false",
                "subscribe zeek/a x already=true",
                "unsubscribe zeek/a x present=true",
                "unsubscribe zeek/a x present=false",
            ]
        )
    }

    @Test func hooksRunInTheOrderTheyWereAdded() {
        let router = TopicRouter<String>()
        let recorder = Recorder()
        router.onSubscribe { _, _ in recorder.record("first") }
        let second = router.onSubscribe { _, _ in recorder.record("second") }
        router.onSubscribe { _, _ in recorder.record("third") }

        router.subscribe("t", "s")
        #expect(router.removeHook(second))
        #expect(!router.removeHook(second))
        router.subscribe("t", "s")

        #expect(recorder.all == ["first", "second", "third", "first", "third"])
    }

    @Test func unsubscribeAllRunsTheHookForEachPrefix() {
        let router = TopicRouter<String>()
        let recorder = Recorder()
        router.subscribe("b", "s")
        router.subscribe("a", "s")
        router.subscribe("a", "other")
        router.onUnsubscribe { prefix, subscriber in
            recorder.record("\(prefix) \(subscriber) \(router.subscriptionCount)")
        }

        router.unsubscribeAll("s")
        router.unsubscribeAll("nobody")

        #expect(recorder.all == ["a s 3", "b s 3"])
    }
}

// MARK: - Against an oracle

extension TopicRouterTests {
    /// A small deterministic generator so failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomTopic(_ generator: inout SplitMix) -> Topic {
        let alphabet = Array("ab/.z")
        let length = Int.random(in: 0...7, using: &generator)
        return Topic(String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }))
    }

    struct Pair: Hashable {
        var prefix: Topic
        var subscriber: Int
    }

    @Test(arguments: [1, 2, 3])
    func thousandsOfSubscriptionsMatchLikeABruteForceOracle(seed: UInt64) {
        var generator = SplitMix(state: seed)
        let router = TopicRouter<Int>()
        var oracle: Set<Pair> = []

        var wrongAnswers = 0
        for step in 0..<6000 {
            var pair = Pair(
                prefix: Self.randomTopic(&generator),
                subscriber: Int.random(in: 0..<200, using: &generator)
            )
            if step % 3 == 2, let victim = oracle.randomElement(using: &generator) {
                // Remove an existing subscription, or try a random one.
                if Bool.random(using: &generator) { pair = victim }
                let existed = oracle.remove(pair) != nil
                if router.unsubscribe(pair.prefix, pair.subscriber) != existed { wrongAnswers += 1 }
            } else {
                let isNew = oracle.insert(pair).inserted
                if router.subscribe(pair.prefix, pair.subscriber) != isNew { wrongAnswers += 1 }
            }
        }
        #expect(wrongAnswers == 0)
        #expect(router.isConsistent())
        #expect(router.subscriptionCount == oracle.count)

        let oracleBytes = oracle.map { (bytes: Array($0.prefix.name.utf8), subscriber: $0.subscriber) }
        var mismatches: [Topic] = []
        for _ in 0..<1000 {
            let topic = Self.randomTopic(&generator)
            let bytes = Array(topic.name.utf8)
            let expected = Set(oracleBytes.filter { bytes.starts(with: $0.bytes) }.map(\.subscriber))
            let actual = router.subscribers(matching: topic)
            if actual.count != expected.count || Set(actual) != expected { mismatches.append(topic) }
        }
        #expect(mismatches.isEmpty)

        let listing = Set(router.subscriptions.map { Pair(prefix: $0.prefix, subscriber: $0.subscriber) })
        #expect(listing == oracle)
        #expect(router.prefixes == Set(oracle.map(\.prefix)).sorted())
    }

    @Test func manySubscribersOnLongTopicsMatchTheOracle() {
        var generator = SplitMix(state: 42)
        let router = TopicRouter<Int>()
        var topics: [Topic] = []
        for index in 0..<5000 {
            let topic = Topic("zeek/cluster/nodeid/\(UInt64.random(in: 0...UInt64.max, using: &generator))/")
            topics.append(topic)
            router.subscribe(topic, index)
        }
        router.subscribe("zeek/cluster/nodeid/", -1)
        let before = topics.indices.filter { router.subscribers(matching: topics[$0].appending("x")) != [-1, $0] }
        #expect(before.isEmpty)
        for (index, topic) in topics.enumerated() where index % 2 == 0 {
            router.unsubscribe(topic, index)
        }
        #expect(router.isConsistent())
        let after = topics.indices.filter {
            router.subscribers(matching: topics[$0]) != ($0 % 2 == 0 ? [-1] : [-1, $0])
        }
        #expect(after.isEmpty)
    }
}

// MARK: - Limits

extension TopicRouterTests {
    @Test func aFullRouterRefusesWithAnErrorAndChangesNothing() throws {
        let router = TopicRouter<String>(limits: TopicTrie.Limits(maximumLabelBytes: 16, maximumNodes: 64))
        let calls = Guarded<[String]>([])
        router.onSubscribe { prefix, _ in calls.withLock { $0.append(prefix.name) } }
        #expect(try router.trySubscribe("zeek/cluster/abc", "a"))  // 16 bytes: exactly the limit
        #expect(try router.trySubscribe("zeek/cluster/abc", "b"))  // an existing prefix needs no room
        let error = try #require(throws: TopicRouterError.self) { try router.trySubscribe("zeek/x", "c") }
        #expect(error.code == .full)
        #expect(
            error.description
                == "the topic router is full: a new prefix of 6 bytes would pass its limit of 16 bytes of distinct "
                + "prefixes or 64 tree nodes"
        )
        #expect(!router.subscribe("zeek/x", "c"))
        #expect(router.subscriptions(of: "c").isEmpty)
        #expect(router.subscribers(matching: "zeek/cluster/abc/1") == ["a", "b"])
        #expect(router.isConsistent())
        // The hooks ran for every call, refused ones included.
        #expect(calls.withLock { $0 } == ["zeek/cluster/abc", "zeek/cluster/abc", "zeek/x", "zeek/x"])
        // Room comes back when prefixes go.
        router.unsubscribeAll("a")
        router.unsubscribeAll("b")
        #expect(try router.trySubscribe("zeek/x", "c"))
        #expect(router.subscribers(matching: "zeek/x/1") == ["c"])
    }

    @Test func subscriberIDsAreBoundedToo() throws {
        let router = TopicRouter<Int>(limits: .standard, maximumSubscribers: 2)
        #expect(router.subscribe("a", 1))
        #expect(router.subscribe("b", 2))
        #expect(router.subscribe("c", 2))  // a known subscriber needs no new id
        #expect(throws: TopicRouterError.self) { try router.trySubscribe("a", 3) }
        router.unsubscribeAll(1)
        #expect(router.subscribe("a", 3))  // a freed id is reused
        #expect(router.subscribers(matching: "a") == [3])
    }
}

import ClusterKit
import ClusterKitModel
import Testing

@Suite struct RequestTrackerTests {
    typealias Tracker = RequestTracker<String>

    /// Collects finish callbacks in the order they run.
    final class Finishes: Sendable {
        private let entries = Guarded<[(id: RequestID, outcome: Tracker.Outcome)]>([])

        var handler: Tracker.FinishHandler {
            { id, outcome in self.entries.withLock { $0.append((id, outcome)) } }
        }

        var all: [(id: RequestID, outcome: Tracker.Outcome)] { entries.withLock { $0 } }
        var ids: [RequestID] { all.map(\.id) }
        func outcome(of id: RequestID) -> Tracker.Outcome? { all.first { $0.id == id }?.outcome }
    }

    static func makeTracker(_ clock: ManualClock, options: RequestTrackerOptions = .standard) -> Tracker {
        Tracker(options: options, clock: clock, makeID: .sequential(prefix: "r-"))
    }

    static let agent1Nodes: [RequestTarget] = [
        .node("worker-1", instance: "agent-1"), .node("worker-2", instance: "agent-1"),
    ]

    // MARK: - Completing

    @Test func completesWhenEveryTargetAnswered() throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock)
        let finishes = Finishes()
        let id = try tracker.start(awaiting: Self.agent1Nodes, onFinish: finishes.handler)

        #expect(id == "r-1")
        #expect(tracker.record("96", for: id, from: .node("worker-2", instance: "agent-1")) == .recorded(remaining: 1))
        #expect(finishes.all.isEmpty)
        #expect(tracker.record("97", for: id, from: .node("worker-1", instance: "agent-1")) == .completed)

        #expect(finishes.ids == ["r-1"])
        #expect(finishes.outcome(of: id) == .completed(["96", "97"]))
        #expect(tracker.lookup(id).isNull)
        #expect(tracker.pendingCount == 0)
    }

    @Test func unexpectedAndDuplicateAnswersAreDropped() throws {
        let tracker = Self.makeTracker(ManualClock())
        let id = try tracker.start("req", awaiting: [.node("worker-1"), .node("worker-2")])

        #expect(tracker.record("a", for: id, from: .node("worker-1")) == .recorded(remaining: 1))
        #expect(tracker.record("b", for: id, from: .node("worker-1")) == .duplicateAnswer)
        #expect(tracker.record("c", for: id, from: .node("worker-9")) == .unexpectedTarget)
        #expect(tracker.record("d", for: id, from: .node("worker-1", instance: "agent-1")) == .unexpectedTarget)
        #expect(tracker.record("e", for: "nope", from: .node("worker-2")) == .unknownRequest)

        let snapshot = tracker.lookup(id)
        #expect(snapshot.results == ["a"])
        #expect(snapshot.answered == [.node("worker-1")])
        #expect(snapshot.unanswered == [.node("worker-2")])
    }

    @Test func resultsWithoutATargetAreKeptWithoutCompleting() throws {
        let finishes = Finishes()
        let tracker = Self.makeTracker(ManualClock())
        let id = try tracker.start(onFinish: finishes.handler)

        #expect(tracker.record("x", for: id) == .recorded(remaining: 0))
        #expect(tracker.record("y", for: id) == .recorded(remaining: 0))
        #expect(finishes.all.isEmpty)
        #expect(tracker.finish(id))
        #expect(finishes.outcome(of: id) == .completed(["x", "y"]))
    }

    @Test func markAnsweredCountsWithoutAResult() throws {
        let finishes = Finishes()
        let tracker = Self.makeTracker(ManualClock())
        let id = try tracker.start(awaiting: [.instance("agent-1")], onFinish: finishes.handler)

        #expect(tracker.markAnswered(.instance("agent-1"), for: id) == .completed)
        #expect(finishes.outcome(of: id) == .completed([]))
    }

    @Test func requestCanWaitForItsCallerToFinish() throws {
        let finishes = Finishes()
        let tracker = Self.makeTracker(ManualClock())
        let id = try tracker.start(awaiting: [.node("m")], finishesWhenAllAnswered: false, onFinish: finishes.handler)

        #expect(tracker.record("v", for: id, from: .node("m")) == .recorded(remaining: 0))
        #expect(tracker.isPending(id))
        #expect(tracker.finish(id))
        #expect(finishes.outcome(of: id) == .completed(["v"]))
    }

    @Test func finishingTwiceIsReportedAndCallsBackOnce() throws {
        let finishes = Finishes()
        let tracker = Self.makeTracker(ManualClock())
        let id = try tracker.start(onFinish: finishes.handler)

        #expect(tracker.finish(id))
        #expect(!tracker.finish(id))
        #expect(!tracker.finish("never-started"))
        #expect(finishes.ids == [id])
    }

    @Test func duplicateTargetsCountOnce() throws {
        let tracker = Self.makeTracker(ManualClock())
        let id = try tracker.start(awaiting: [.node("a"), .node("a"), .node("b")])

        #expect(tracker.lookup(id).targets == [.node("a"), .node("b")])
    }

    // MARK: - Looking up

    @Test func unknownIDGivesZeeksNullRequest() {
        let tracker = Self.makeTracker(ManualClock())
        let snapshot = tracker.lookup("no-such-request")

        #expect(snapshot.isNull)
        #expect(snapshot.id == "")
        #expect(snapshot.isFinished)
        #expect(snapshot == Tracker.Snapshot.null)
        #expect(!tracker.isPending("no-such-request"))
    }

    @Test func lookupShowsAPendingRequest() throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock, options: .agent)
        let parent = try tracker.start("p")
        let id = try tracker.start("c", parent: parent, awaiting: Self.agent1Nodes)
        tracker.record("r", for: id, from: .node("worker-1", instance: "agent-1"))

        let snapshot = tracker.lookup(id)
        #expect(snapshot.id == "c")
        #expect(snapshot.parentID == "p")
        #expect(snapshot.results == ["r"])
        #expect(snapshot.targets == Self.agent1Nodes)
        #expect(snapshot.answered == [.node("worker-1", instance: "agent-1")])
        #expect(snapshot.unanswered == [.node("worker-2", instance: "agent-1")])
        #expect(snapshot.timeout == .seconds(5))
        #expect(!snapshot.isFinished)
        #expect(tracker.lookup(parent).children == ["c"])
    }

    // MARK: - Starting

    @Test func startRejectsWhatItCannotTrack() throws {
        let tracker = Self.makeTracker(ManualClock(), options: RequestTrackerOptions(maximumPendingRequests: 2))
        try tracker.start("a")

        let duplicate = #expect(throws: RequestError.self) { try tracker.start("a") }
        #expect(duplicate?.code == .duplicateID)
        #expect(duplicate?.description == "request 'a': a request with this id is pending")

        let orphan = #expect(throws: RequestError.self) { try tracker.start("b", parent: "gone") }
        #expect(orphan?.code == .unknownParent)
        #expect(orphan?.description == "request 'b': parent 'gone' is not pending")

        let negative = #expect(throws: RequestError.self) { try tracker.start("c", timeout: .seconds(-1)) }
        #expect(negative?.code == .invalidTimeout)

        try tracker.start("d")
        let full = #expect(throws: RequestError.self) { try tracker.start("e") }
        #expect(full?.code == .tooManyPendingRequests)
        #expect(tracker.pendingCount == 2)
    }

    @Test func presetsUseZeeksTimeouts() {
        #expect(RequestTrackerOptions.controller.defaultTimeout == .seconds(10))
        #expect(RequestTrackerOptions.agent.defaultTimeout == .seconds(5))
        #expect(RequestTrackerOptions.standard == .controller)
        #expect(RequestTimeout.zeekMessage == "request timed out")
    }

    @Test func generatedIDsAreOpaqueAndDistinct() {
        let random = RequestIDGenerator.random
        let ids = (0..<1000).map { _ in random.next() }
        let alphabet = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { !$0.rawValue.isEmpty && $0.rawValue.count <= 17 })
        #expect(ids.allSatisfy { $0.rawValue.allSatisfy(alphabet.contains) })

        let sequential = RequestIDGenerator.sequential(prefix: "req-")
        #expect([sequential.next(), sequential.next()] == ["req-1", "req-2"])
    }
}

// MARK: - Timeouts with expire(now:)

extension RequestTrackerTests {
    @Test func timeoutFiresAtTheDeadlineAndNotBefore() throws {
        let clock = ManualClock()
        let finishes = Finishes()
        let tracker = Self.makeTracker(clock)
        let id = try tracker.start("r-42", awaiting: Self.agent1Nodes, onFinish: finishes.handler)

        clock.advance(by: .seconds(10) - .nanoseconds(1))
        #expect(tracker.expire(now: clock.now) == 0)
        #expect(tracker.isPending(id))

        clock.advance(by: .nanoseconds(1))
        #expect(tracker.expire(now: clock.now) == 1)

        let timeout = try #require(finishes.outcome(of: id)?.timeout)
        #expect(timeout.waited == .seconds(10))
        #expect(timeout.unanswered == Self.agent1Nodes)
        #expect(
            timeout.description
                == "request 'r-42' timed out after 10 s waiting for worker-1, worker-2 (instance 'agent-1')"
        )
        #expect(!tracker.isPending(id))
        #expect(tracker.expire() == 0)
    }

    @Test func timeoutKeepsThePartialResults() throws {
        let clock = ManualClock()
        let finishes = Finishes()
        let tracker = Self.makeTracker(clock)
        let id = try tracker.start(
            "r-7",
            awaiting: Self.agent1Nodes,
            timeout: .milliseconds(1500),
            onFinish: finishes.handler
        )
        tracker.record("96", for: id, from: .node("worker-1", instance: "agent-1"))
        tracker.record("note", for: id)

        clock.advance(by: .seconds(2))
        tracker.expire()

        let outcome = try #require(finishes.outcome(of: id))
        let expected = RequestTimeout(
            requestID: "r-7",
            waited: .milliseconds(1500),
            unanswered: [.node("worker-2", instance: "agent-1")],
            answered: [.node("worker-1", instance: "agent-1")]
        )
        #expect(outcome == .timedOut(expected, partialResults: ["96", "note"]))
        #expect(outcome.results == ["96", "note"])
        #expect(expected.description == "request 'r-7' timed out after 1.5 s waiting for worker-2 (instance 'agent-1')")
    }

    @Test func requestsExpireInDeadlineOrder() throws {
        let clock = ManualClock()
        let finishes = Finishes()
        let tracker = Self.makeTracker(clock)
        try tracker.start("late", timeout: .seconds(3), onFinish: finishes.handler)
        try tracker.start("early", timeout: .seconds(1), onFinish: finishes.handler)
        try tracker.start("tie-1", timeout: .seconds(2), onFinish: finishes.handler)
        try tracker.start("tie-2", timeout: .seconds(2), onFinish: finishes.handler)
        try tracker.start("done", timeout: .seconds(1), onFinish: finishes.handler)
        tracker.finish("done")

        clock.advance(by: .seconds(5))
        #expect(tracker.expire() == 4)
        #expect(finishes.ids == ["done", "early", "tie-1", "tie-2", "late"])
    }

    @Test func answersDoNotExtendTheDeadline() throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock)
        let id = try tracker.start(awaiting: [.node("a"), .node("b")], timeout: .seconds(10))

        clock.advance(by: .seconds(9))
        tracker.record("x", for: id, from: .node("a"))
        clock.advance(by: .seconds(1))

        #expect(tracker.expire() == 1)
    }

    @Test func zeroTimeoutExpiresAtTheNextSweep() throws {
        let tracker = Self.makeTracker(ManualClock())
        try tracker.start("now", timeout: .zero)

        #expect(tracker.expire() == 1)
    }
}

// MARK: - Parents and children

extension RequestTrackerTests {
    @Test func finishingAParentCompletesItsChildrenFirst() throws {
        let finishes = Finishes()
        let tracker = Self.makeTracker(ManualClock())
        let parent = try tracker.start("p", onFinish: finishes.handler)
        let first = try tracker.start(
            "c1",
            parent: parent,
            awaiting: [.instance("agent-1")],
            onFinish: finishes.handler
        )
        let second = try tracker.start(
            "c2",
            parent: parent,
            awaiting: [.instance("agent-2")],
            onFinish: finishes.handler
        )
        let grandchild = try tracker.start("g", parent: second, onFinish: finishes.handler)
        tracker.record("from-1", for: first, from: .instance("agent-1"))
        tracker.record("partial", for: grandchild)

        #expect(tracker.lookup(parent).children == ["c2"])
        #expect(tracker.finish(parent))

        #expect(finishes.ids == ["c1", "g", "c2", "p"])
        #expect(finishes.outcome(of: "g") == .completed(["partial"]))
        #expect(finishes.outcome(of: "c2") == .completed([]))
        #expect(tracker.pendingCount == 0)
        #expect(!tracker.finish(second))
    }

    @Test func parentTimeoutEndsItsChildrenWithIt() throws {
        let clock = ManualClock()
        let finishes = Finishes()
        let tracker = Self.makeTracker(clock)
        let parent = try tracker.start(
            "p",
            awaiting: [.instance("agent-1")],
            timeout: .seconds(10),
            onFinish: finishes.handler
        )
        clock.advance(by: .seconds(2))
        let child = try tracker.start(
            "c",
            parent: parent,
            awaiting: [.node("worker-1", instance: "agent-1")],
            timeout: .seconds(20),
            onFinish: finishes.handler
        )

        clock.advance(by: .seconds(8))
        #expect(tracker.expire() == 2)

        #expect(finishes.ids == ["c", "p"])
        let childTimeout = try #require(finishes.outcome(of: child)?.timeout)
        #expect(childTimeout.parentID == "p")
        #expect(childTimeout.waited == .seconds(8))
        #expect(
            childTimeout.description
                == "request 'c' timed out after 8 s waiting for worker-1 (instance 'agent-1'); parent 'p' timed out"
        )
        #expect(finishes.outcome(of: parent)?.timeout?.parentID == nil)
    }

    @Test func childTimingOutFirstLeavesItsParent() throws {
        let clock = ManualClock()
        let finishes = Finishes()
        let tracker = Self.makeTracker(clock)
        let parent = try tracker.start("p", timeout: .seconds(10), onFinish: finishes.handler)
        try tracker.start("c", parent: parent, timeout: .seconds(5), onFinish: finishes.handler)

        clock.advance(by: .seconds(5))
        #expect(tracker.expire() == 1)
        #expect(finishes.ids == ["c"])
        #expect(tracker.lookup(parent).children.isEmpty)

        clock.advance(by: .seconds(5))
        #expect(tracker.expire() == 1)
        #expect(finishes.ids == ["c", "p"])
    }

    @Test func callbackMayUseTheTracker() throws {
        let tracker = Self.makeTracker(ManualClock())
        let parent = try tracker.start("p", awaiting: [.instance("agent-1")])
        try tracker.start("c", parent: parent, awaiting: [.node("w")]) { _, outcome in
            for result in outcome.results { tracker.record(result, for: parent) }
            tracker.markAnswered(.instance("agent-1"), for: parent)
        }
        #expect(tracker.record("value", for: "c", from: .node("w")) == .completed)
        #expect(!tracker.isPending(parent))
    }
}

// MARK: - Timeout text

extension RequestTrackerTests {
    @Test(arguments: [
        (Duration.seconds(10), "10 s"), (.milliseconds(1500), "1.5 s"), (.milliseconds(250), "250 ms"),
        (.microseconds(1500), "1.5 ms"), (.microseconds(12), "12 us"), (.nanoseconds(7), "7 ns"),
        (.zero, "0 ns"), (.seconds(90), "90 s"),
    ])
    func timeoutTextNamesHowLong(waited: Duration, text: String) {
        #expect(RequestTimeout(requestID: "r", waited: waited).description == "request 'r' timed out after \(text)")
    }

    @Test func timeoutTextGroupsNodesByInstance() {
        let timeout = RequestTimeout(
            requestID: "r-1",
            waited: .seconds(10),
            unanswered: [
                .node("worker-1", instance: "agent-1"), .node("worker-3", instance: "agent-2"),
                .node("worker-2", instance: "agent-1"), .node("manager"), .instance("agent-3"), .instance("agent-4"),
            ]
        )

        #expect(
            timeout.description
                == "request 'r-1' timed out after 10 s waiting for worker-1, worker-2 (instance 'agent-1'); "
                + "worker-3 (instance 'agent-2'); manager; instances 'agent-3', 'agent-4'"
        )
        #expect(
            RequestTimeout(requestID: "r-2", waited: .seconds(5), unanswered: [.instance("agent-1")]).description
                == "request 'r-2' timed out after 5 s waiting for instance 'agent-1'"
        )
        #expect(RequestTarget.node("w", instance: "a").description == "w (instance 'a')")
    }
}

// MARK: - The sweeper

extension RequestTrackerTests {
    /// Finish callbacks as an async sequence, so a test can wait for the sweeper without sleeping.
    struct FinishStream: Sendable {
        let stream: AsyncStream<(RequestID, Tracker.Outcome)>
        let continuation: AsyncStream<(RequestID, Tracker.Outcome)>.Continuation

        init() {
            (stream, continuation) = AsyncStream.makeStream()
        }

        var handler: Tracker.FinishHandler {
            { [continuation] id, outcome in continuation.yield((id, outcome)) }
        }

        func next() async -> (RequestID, Tracker.Outcome)? {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
    }

    @Test func sweeperFiresAtTheDeadlineAndNotBefore() async throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock)
        let finishes = FinishStream()
        try tracker.start("r-42", awaiting: Self.agent1Nodes, onFinish: finishes.handler)
        try tracker.start("later", timeout: .seconds(11))

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await tracker.run() }
            await clock.waitForSleepers(1)

            clock.advance(by: .seconds(10) - .nanoseconds(1))
            await clock.waitForSleepers(1)
            #expect(tracker.isPending("r-42"))

            clock.advance(by: .nanoseconds(1))
            let finished = await finishes.next()
            #expect(finished?.0 == "r-42")
            #expect(finished?.1.timeout?.waited == .seconds(10))
            #expect(clock.now == ManualClock.Instant(offset: .seconds(10)))

            await clock.waitForSleepers(1)
            #expect(tracker.isPending("later"))
            group.cancelAll()
        }
    }

    @Test func earlierDeadlineWakesTheSweeper() async throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock)
        let finishes = FinishStream()
        try tracker.start("slow", timeout: .seconds(60))

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await tracker.run() }
            await clock.waitForSleepers(1)

            let fast = try? tracker.start("fast", timeout: .seconds(1), onFinish: finishes.handler)
            #expect(fast == "fast")
            // The sweeper leaves its 60 s sleep and goes back to sleep until the 1 s deadline.
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))

            let finished = await finishes.next()
            #expect(finished?.0 == "fast")
            #expect(tracker.isPending("slow"))
            group.cancelAll()
        }
    }

    @Test func requestStartedDuringAShortSleepFiresWhenItEnds() async throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock)
        let finishes = FinishStream()
        try tracker.start("near", timeout: .microseconds(800), onFinish: finishes.handler)

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await tracker.run() }
            await clock.waitForSleepers(1)
            let nearer = try? tracker.start("nearer", timeout: .microseconds(300), onFinish: finishes.handler)
            #expect(nearer == "nearer")

            // The sweeper is in a sleep shorter than 1 ms: it finishes it before looking again.
            clock.advance(by: .microseconds(500))
            await clock.waitForSleepers(1)
            #expect(tracker.isPending("nearer"))

            clock.advance(by: .microseconds(300))
            let first = await finishes.next()
            let second = await finishes.next()
            #expect([first?.0, second?.0] == ["nearer", "near"])
            group.cancelAll()
        }
    }

    @Test func idleSweeperWakesForTheFirstRequest() async throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock)
        let finishes = FinishStream()

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await tracker.run() }
            let first = try? tracker.start("first", timeout: .seconds(3), onFinish: finishes.handler)
            #expect(first == "first")
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(3))

            let finished = await finishes.next()
            #expect(finished?.0 == "first")
            group.cancelAll()
        }
    }

    @Test func cancellingRunReturnsPromptlyAndKeepsRequests() async throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock)
        try tracker.start("pending", timeout: .seconds(60))

        let sweeping = Task { await tracker.run() }
        await clock.waitForSleepers(1)
        sweeping.cancel()
        await sweeping.value

        #expect(clock.sleepers() == 0)
        #expect(tracker.isPending("pending"))

        let idle = Task { await Self.makeTracker(clock).run() }
        idle.cancel()
        await idle.value
    }

    @Test func secondRunReturnsAtOnce() async throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock)
        try tracker.start("pending")

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await tracker.run() }
            await clock.waitForSleepers(1)
            await tracker.run()
            #expect(clock.sleepers() == 1)
            group.cancelAll()
        }

        // Once the first has stopped, the tracker can be swept again.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await tracker.run() }
            await clock.waitForSleepers(1)
            group.cancelAll()
        }
    }

    @Test func hundredThousandRequestsExpireOnTimeWithOneSweeper() async throws {
        let clock = ManualClock()
        let tracker = Self.makeTracker(clock)
        let count = 100_000
        let steps = 1000
        let fired = Guarded<(count: Int, early: Int, late: Int)>((0, 0, 0))
        for index in 0..<count {
            let timeout = Duration.milliseconds(index % steps + 1)
            try tracker.start(RequestID("r-\(index)"), timeout: timeout) { _, outcome in
                let now = clock.now.offset
                fired.withLock { fired in
                    fired.count += 1
                    if now < timeout { fired.early += 1 }
                    if now > timeout { fired.late += 1 }
                    if outcome.timeout?.waited != timeout { fired.late += 1 }
                }
            }
        }
        // Keeps the sweeper asleep on the clock after the last step.
        try tracker.start("sentinel", timeout: .seconds(3600))

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await tracker.run() }
            await clock.waitForSleepers(1)
            #expect(clock.sleepers() == 1)

            var mismatches = 0
            for step in 1...steps {
                clock.advance(by: .milliseconds(1))
                await clock.waitForSleepers(1)
                if fired.withLock({ $0.count }) != step * (count / steps) { mismatches += 1 }
            }
            #expect(mismatches == 0)
            group.cancelAll()
        }

        let result = fired.withLock { $0 }
        #expect(result.count == count)
        #expect(result.early == 0)
        #expect(result.late == 0)
        #expect(tracker.pendingCount == 1)
    }
}

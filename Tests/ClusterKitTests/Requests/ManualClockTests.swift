import ClusterKit
import Testing

@Suite struct ManualClockTests {
    @Test func sleeperWakesOnlyOnceTheDeadlineIsReached() async throws {
        let clock = ManualClock()
        try await withThrowingTaskGroup(of: ManualClock.Instant.self) { group in
            group.addTask {
                try await clock.sleep(until: .zero.advanced(by: .seconds(5)))
                return clock.now
            }
            await clock.waitForSleepers(1)

            clock.advance(by: .seconds(4))
            #expect(clock.sleepers() == 1)

            clock.advance(by: .seconds(1))
            #expect(clock.sleepers() == 0)
            let wokenAt = try await group.next()
            #expect(wokenAt == ManualClock.Instant(offset: .seconds(5)))
        }
    }

    @Test func advancingWakesOnlyTheSleepersThatAreDue() async throws {
        let clock = ManualClock()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for second in 1...3 {
                group.addTask {
                    try await clock.sleep(for: .seconds(second))
                    return second
                }
            }
            await clock.waitForSleepers(3)

            clock.advance(to: ManualClock.Instant(offset: .seconds(2)))
            #expect(clock.sleepers() == 1)
            let first = try await group.next()
            let second = try await group.next()
            #expect([first, second].compactMap { $0 }.sorted() == [1, 2])

            clock.advance(by: .seconds(10))
            let third = try await group.next()
            #expect(third == 3)
            #expect(clock.now == ManualClock.Instant(offset: .seconds(12)))
        }
    }

    @Test func deadlineNotInTheFutureReturnsAtOnce() async throws {
        let clock = ManualClock(now: ManualClock.Instant(offset: .seconds(3)))

        try await clock.sleep(until: ManualClock.Instant(offset: .seconds(3)))
        try await clock.sleep(until: .zero)
        #expect(clock.sleepers() == 0)
    }

    @Test func cancellationResumesTheSleeperWithCancellationError() async {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(until: .zero.advanced(by: .seconds(60))) }
        await clock.waitForSleepers(1)

        sleeper.cancel()
        let result = await sleeper.result

        #expect(throws: CancellationError.self) { try result.get() }
        #expect(clock.sleepers() == 0)
        #expect(clock.now == .zero)
    }

    @Test func cancelledTaskDoesNotStartSleeping() async {
        let clock = ManualClock()
        await withTaskGroup(of: Bool.self) { group in
            group.cancelAll()
            group.addTask {
                do {
                    try await clock.sleep(until: .zero.advanced(by: .seconds(1)))
                    return false
                } catch {
                    return error is CancellationError
                }
            }
            let wasCancelled = await group.next()
            #expect(wasCancelled == true)
        }
        #expect(clock.sleepers() == 0)
    }

    @Test func timeNeverRunsBackwards() {
        let clock = ManualClock(now: ManualClock.Instant(offset: .seconds(5)))

        clock.advance(to: ManualClock.Instant(offset: .seconds(1)))
        clock.advance(by: .seconds(-2))

        #expect(clock.now == ManualClock.Instant(offset: .seconds(5)))
    }

    @Test func waitForSleepersReturnsAtOnceWhenEnoughAreAsleep() async throws {
        let clock = ManualClock()
        await clock.waitForSleepers(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await clock.sleep(for: .seconds(1)) }
            group.addTask { try await clock.sleep(for: .seconds(1)) }
            await clock.waitForSleepers(2)
            await clock.waitForSleepers(1)
            #expect(clock.sleepers() == 2)
            clock.advance(by: .seconds(1))
            try await group.waitForAll()
        }
    }

    @Test func waitForSleepersReturnsWhenCancelled() async {
        let clock = ManualClock()
        let waiter = Task { await clock.waitForSleepers(1) }

        waiter.cancel()
        await waiter.value

        #expect(clock.sleepers() == 0)
    }

    @Test func instantsMeasureDurations() {
        let start = ManualClock.Instant(offset: .seconds(2))
        let end = start.advanced(by: .milliseconds(1500))

        #expect(start.duration(to: end) == .milliseconds(1500))
        #expect(end.duration(to: start) == .milliseconds(-1500))
        #expect(start < end)
        #expect(ManualClock().minimumResolution == .zero)
    }
}

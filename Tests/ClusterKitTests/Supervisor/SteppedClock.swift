import ClusterKitModel

/// A clock that moves only when a test advances it, for the supervisor's timer tests.
///
/// Unlike the library's `ManualClock` it lets a test wait, with a real-time limit, until a sleeper with a given
/// deadline exists. Sleepers wake when ``advance(by:)`` reaches their deadline; ``pendingDeadlines`` shows who sleeps until when, so a
/// test can wait until a timer has been set and can tell that it has not fired yet.
final class SteppedClock: Clock, Sendable {
    struct Instant: InstantProtocol, CustomStringConvertible {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        var description: String { "\(offset)" }
    }

    private struct Sleeper: Sendable {
        let deadline: Duration
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State: Sendable {
        var now = Duration.zero
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Guarded(State())
    /// The deadlines of the current sleepers, sorted.
    let pendingDeadlines = Observed<[Duration]>([])

    var now: Instant { Instant(offset: state.withLock { $0.now }) }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline.offset <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline.offset, continuation: continuation)
                    publish(state)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                defer { publish(state) }
                return state.sleepers.removeValue(forKey: id)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward and wakes every sleeper whose deadline has come, earliest first.
    func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now += duration
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            publish(state)
            return due.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves the clock to a time since its start.
    func advance(to offset: Duration) {
        advance(by: offset - state.withLock { $0.now })
    }

    /// Waits until someone sleeps until `deadline` (time since the clock's start).
    func waitForSleeper(until deadline: Duration) async throws {
        try await pendingDeadlines.wait(for: "a sleeper until \(deadline)") { $0.contains(deadline) }
    }

    /// Publishes the sleepers' deadlines; called under the clock's lock so that updates stay in order.
    private func publish(_ state: State) {
        let deadlines = state.sleepers.values.map(\.deadline).sorted()
        pendingDeadlines.update { $0 = deadlines }
    }
}

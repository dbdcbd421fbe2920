import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// A clock that moves only when told to, for testing code that waits.
///
/// Time starts at ``Instant/zero`` (or a given instant) and stands still until ``advance(by:)`` or
/// ``advance(to:)`` moves it; every sleeper whose deadline has then passed resumes, earliest deadline first.
/// A sleeper whose task is cancelled resumes at once with `CancellationError`.
///
/// Tests never race the code under test: ``waitForSleepers(_:)`` suspends until that many tasks are
/// asleep on the clock, so a test can advance time knowing the code has reached its wait.
///
/// ```swift
/// let clock = ManualClock()
/// let tracker = RequestTracker<String>(clock: clock)
/// // ... start the tracker's run() in a task, start a request ...
/// await clock.waitForSleepers(1)
/// clock.advance(by: .seconds(10))
/// ```
///
/// The clock keeps its state behind a `Mutex` and may be used from any task.
public final class ManualClock: Clock, Sendable {
    /// A point in a manual clock's time: an offset from its zero.
    public struct Instant: InstantProtocol, Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The time since zero.
        public var offset: Duration

        /// Creates an instant.
        ///
        /// - Parameter offset: The time since zero.
        public init(offset: Duration) {
            self.offset = offset
        }

        /// The clock's zero.
        public static let zero = Instant(offset: .zero)

        /// The instant `duration` later.
        ///
        /// - Parameter duration: How much later (negative for earlier).
        /// - Returns: The later instant.
        public func advanced(by duration: Duration) -> Instant {
            Instant(offset: offset + duration)
        }

        /// The time from this instant to `other`.
        ///
        /// - Parameter other: Another instant.
        /// - Returns: `other - self`, negative when `other` is earlier.
        public func duration(to other: Instant) -> Duration {
            other.offset - offset
        }

        /// Orders by offset.
        ///
        /// - Parameters:
        ///   - lhs: An instant.
        ///   - rhs: Another instant.
        /// - Returns: Whether `lhs` is earlier.
        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            lhs.offset < rhs.offset
        }

        /// The offset, as in `10.0 seconds`.
        public var description: String { "\(offset)" }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Waiter {
        var count: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var now: Instant
        var sleepers: [UInt64: Sleeper] = [:]
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0

        mutating func makeID() -> UInt64 {
            nextID += 1
            return nextID
        }

        /// Removes and returns the waiters satisfied by the current number of sleepers.
        mutating func takeSatisfiedWaiters() -> [CheckedContinuation<Void, Never>] {
            let ready = waiters.filter { $0.value.count <= sleepers.count }
            for id in ready.keys { waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
    }

    private let state: Guarded<State>

    /// Creates a clock standing at `now`.
    ///
    /// - Parameter now: The starting instant; ``Instant/zero`` by default.
    public init(now: Instant = .zero) {
        state = Guarded(State(now: now))
    }

    /// The current instant; it changes only through ``advance(by:)`` and ``advance(to:)``.
    public var now: Instant {
        state.withLock { $0.now }
    }

    /// The smallest step the clock distinguishes: none, any instant can be reached exactly.
    public var minimumResolution: Duration { .zero }

    /// Suspends until the clock has been advanced to `deadline` or past it.
    ///
    /// Returns at once when `deadline` is not in the future.
    ///
    /// - Parameters:
    ///   - deadline: The instant to wait for.
    ///   - tolerance: Ignored: a manual clock wakes sleepers exactly.
    /// - Throws: `CancellationError` when the task is cancelled before or while it sleeps.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id = state.withLock { $0.makeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Action {
                    case resume
                    case cancel
                    case wake([CheckedContinuation<Void, Never>])
                }
                let action = state.withLock { state -> Action in
                    if deadline <= state.now { return .resume }
                    if Task.isCancelled { return .cancel }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return .wake(state.takeSatisfiedWaiters())
                }
                switch action {
                case .resume:
                    continuation.resume()
                case .cancel:
                    continuation.resume(throwing: CancellationError())
                case .wake(let waiters):
                    for waiter in waiters { waiter.resume() }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward and wakes every sleeper whose deadline has passed.
    ///
    /// - Parameter duration: How far to move; zero or negative durations change nothing.
    public func advance(by duration: Duration) {
        let target = state.withLock { $0.now.advanced(by: duration) }
        advance(to: target)
    }

    /// Moves the clock to `instant` and wakes every sleeper whose deadline has passed, earliest first.
    ///
    /// - Parameter instant: The new time; an instant not after ``now`` changes nothing (time never runs
    ///   backwards).
    public func advance(to instant: Instant) {
        let due = state.withLock { state -> [Sleeper] in
            guard instant > state.now else { return [] }
            state.now = instant
            let due = state.sleepers.filter { $0.value.deadline <= instant }.sorted {
                ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key)
            }
            for (id, _) in due { state.sleepers[id] = nil }
            return due.map(\.value)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// The number of tasks asleep on the clock now.
    ///
    /// - Returns: The number of pending ``sleep(until:tolerance:)`` calls.
    public func sleepers() -> Int {
        state.withLock { $0.sleepers.count }
    }

    /// Suspends until at least `count` tasks are asleep on the clock.
    ///
    /// Returns at once when enough are asleep already, and when the waiting task is cancelled.
    ///
    /// - Parameter count: The number of sleepers to wait for.
    public func waitForSleepers(_ count: Int) async {
        let id = state.withLock { $0.makeID() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isReady = state.withLock { state -> Bool in
                    if state.sleepers.count >= count || Task.isCancelled { return true }
                    state.waiters[id] = Waiter(count: count, continuation: continuation)
                    return false
                }
                if isReady { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }
}

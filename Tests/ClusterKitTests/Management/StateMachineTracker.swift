import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// A ``RequestTracker`` on a ``ManualClock`` for the controller's and the agents' state-machine tests, with no
/// backend: it performs the machines' tracker effects, and keeps the finish callbacks for the test to feed back
/// as inputs.
final class StateMachineTracker: Sendable {
    typealias Outcome = RequestTracker<Management.Result>.Outcome

    let clock = ManualClock()
    let tracker: RequestTracker<Management.Result>
    private let finished = Guarded<[(id: RequestID, outcome: Outcome)]>([])

    init(timeout: Duration, maximumPendingRequests: Int = 1_000_000) {
        tracker = RequestTracker(
            options: RequestTrackerOptions(defaultTimeout: timeout, maximumPendingRequests: maximumPendingRequests),
            clock: clock
        )
    }

    /// Starts tracking as the drivers do; the callback is kept for ``takeFinished()``.
    func start(_ id: RequestID, awaiting targets: [RequestTarget], finishesWhenAllAnswered: Bool) throws {
        try tracker.start(id, awaiting: targets, finishesWhenAllAnswered: finishesWhenAllAnswered) { id, outcome in
            self.finished.withLock { $0.append((id, outcome)) }
        }
    }

    /// The callbacks that ran since the last call, in order.
    func takeFinished() -> [(id: RequestID, outcome: Outcome)] {
        finished.withLock { finished in
            defer { finished = [] }
            return finished
        }
    }

    /// Moves the clock on and ends every request whose deadline passed.
    func advance(by duration: Duration) {
        clock.advance(by: duration)
        tracker.expire()
    }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Request bookkeeping with deadlines, as Zeek's Management framework keeps it (`management/request.zeek`).
///
/// A request has an id, an optional parent, the targets (nodes, instances) it waits for, the results
/// collected so far, a deadline, and an optional finish callback. It ends exactly once, in one of two ways:
///
/// - **completed**: ``finish(_:)`` was called, or, by default, the last awaited target answered through
///   ``record(_:for:from:)`` or ``markAnswered(_:for:)``;
/// - **timed out**: its deadline passed first. The outcome keeps the results collected so far and a
///   ``RequestTimeout`` naming what did not answer and for how long.
///
/// The finish callback runs once with the outcome, outside the tracker's lock, after the request has left
/// the tracker. Like Zeek, the tracker forgets finished requests: ``lookup(_:)`` then gives the null
/// request (empty id, finished).
///
/// **Parents and children.** A request may name a pending parent. A parent that ends, completed or timed
/// out, first ends each of its unfinished children (recursively, in the order they started) in the same
/// way: `.completed` with the child's results so far, or `.timedOut` with a ``RequestTimeout`` whose
/// ``RequestTimeout/parentID`` names the parent. Their callbacks run before the parent's. So no child is
/// left behind, and no callback is lost. A child that ends first simply leaves its parent's list of children.
///
/// **Deadlines.** Each request's deadline is its start time on the injected clock plus its timeout
/// (``RequestTrackerOptions/defaultTimeout`` unless given). As Zeek's `&create_expire`, answers do not
/// extend it. All deadlines sit in one min-heap; one sweeper, ``run()``, sleeps on the clock until the
/// earliest, ends everything due, and sleeps again. A request started with an earlier deadline wakes it.
/// ``expire(now:)`` does one sweep synchronously. 100,000 pending requests cost one heap entry each, not
/// one timer or task each.
///
/// The tracker keeps its state behind a `Mutex`; every method may be called from any task.
public final class RequestTracker<Payload: Sendable>: Sendable {
    /// How a request ended.
    public enum Outcome: Sendable {
        /// It was finished, or every awaited target answered; with the results collected.
        case completed([Payload])
        /// Its deadline, or its parent's, passed first; with what did not answer and the results collected.
        case timedOut(RequestTimeout, partialResults: [Payload])

        /// The results collected, complete or partial.
        public var results: [Payload] {
            switch self {
            case .completed(let results): results
            case .timedOut(_, let results): results
            }
        }

        /// The timeout report, when the request timed out.
        public var timeout: RequestTimeout? {
            if case .timedOut(let timeout, _) = self { return timeout }
            return nil
        }
    }

    /// A finish callback: it receives the request's id and how it ended, exactly once.
    public typealias FinishHandler = @Sendable (_ id: RequestID, _ outcome: Outcome) -> Void

    /// What recording an answer did.
    public enum Recording: Sendable, Hashable {
        /// The answer was kept; `remaining` awaited targets have not answered yet.
        case recorded(remaining: Int)
        /// The answer was kept and was the last one awaited: the request completed.
        case completed
        /// No pending request has this id (never started, or finished already); nothing was kept.
        case unknownRequest
        /// The request does not wait for this target; nothing was kept, as Zeek's agent ignores it.
        case unexpectedTarget
        /// The target answered before; nothing was kept, as Zeek's agent ignores it.
        case duplicateAnswer
    }

    /// The state of a pending request, or the null request.
    public struct Snapshot: Sendable {
        /// The id; empty for the null request.
        public var id: RequestID
        /// The parent's id, if the request has a parent.
        public var parentID: RequestID?
        /// The unfinished children, in the order they started.
        public var children: [RequestID]
        /// The results collected so far, in the order they were recorded.
        public var results: [Payload]
        /// Every awaited target, in the order given.
        public var targets: [RequestTarget]
        /// The targets that answered, in the order they answered.
        public var answered: [RequestTarget]
        /// The targets that have not answered, in the order given.
        public var unanswered: [RequestTarget]
        /// The request's timeout.
        public var timeout: Duration
        /// A Boolean value indicating whether the request has ended; only the null request reports `true`,
        /// since the tracker forgets finished requests.
        public var isFinished: Bool

        /// A Boolean value indicating whether this is the null request, Zeek's answer for an unknown id.
        public var isNull: Bool { id.rawValue.isEmpty }

        /// Zeek's null request: empty id, finished, nothing else.
        public static var null: Snapshot {
            Snapshot(
                id: RequestID(""),
                parentID: nil,
                children: [],
                results: [],
                targets: [],
                answered: [],
                unanswered: [],
                timeout: .zero,
                isFinished: true
            )
        }
    }

    /// The tracker's settings.
    public let options: RequestTrackerOptions

    private let clock: TimeSource
    private let makeID: RequestIDGenerator
    private let state = Guarded(State())

    /// Creates a tracker.
    ///
    /// - Parameters:
    ///   - options: Default timeout and limits; ``RequestTrackerOptions/standard`` (10 s) by default.
    ///   - clock: The clock deadlines are kept on; `ContinuousClock()` by default, a ``ManualClock`` in tests.
    ///   - makeID: Makes ids for requests started without one; random Zeek-like ids by default.
    public init(
        options: RequestTrackerOptions = .standard,
        clock: any Clock<Duration> = ContinuousClock(),
        makeID: RequestIDGenerator = .random
    ) {
        self.options = options
        self.clock = TimeSource(clock)
        self.makeID = makeID
    }

    // MARK: - Starting and answering

    /// Starts tracking a request.
    ///
    /// - Parameters:
    ///   - id: The request's id; `nil` to make one with the tracker's generator.
    ///   - parent: A pending request this one belongs to, if any.
    ///   - targets: The nodes and instances to wait for; duplicates count once.
    ///   - timeout: How long to wait from now; `nil` for the tracker's default timeout.
    ///   - finishesWhenAllAnswered: Whether the request completes by itself when the last target answers.
    ///     A request without targets never completes by itself.
    ///   - onFinish: Called once, outside the tracker's lock, when the request ends.
    /// - Returns: The request's id.
    /// - Throws: ``RequestError`` when the id is pending already, the parent is not pending, the timeout is
    ///   negative, or the tracker is full.
    @discardableResult
    public func start(
        _ id: RequestID? = nil,
        parent: RequestID? = nil,
        awaiting targets: [RequestTarget] = [],
        timeout: Duration? = nil,
        finishesWhenAllAnswered: Bool = true,
        onFinish: FinishHandler? = nil
    ) throws -> RequestID {
        let id = id ?? makeID.next()
        let timeout = timeout ?? options.defaultTimeout
        guard timeout >= .zero else {
            throw RequestError(.invalidTimeout, "timeout \(timeout.textForPeople) is negative", requestID: id)
        }
        let now = clock.now()
        let request = Request(
            id: id,
            parentID: parent,
            targets: targets,
            startedAt: now,
            timeout: timeout,
            finishesWhenAllAnswered: finishesWhenAllAnswered,
            onFinish: onFinish
        )
        let wake = try state.withLock { state in
            try state.start(request, limit: options.maximumPendingRequests)
        }
        wake?.resume()
        return id
    }

    /// Records a result for a pending request, from one of its targets or from nowhere in particular.
    ///
    /// When `target` is given it counts as answered; when it is the last awaited target and the request
    /// finishes when all answered, the request completes now and its callback runs before this returns.
    ///
    /// - Parameters:
    ///   - result: The result to keep.
    ///   - id: The request.
    ///   - target: Who answered; `nil` to keep the result without marking anyone.
    /// - Returns: What happened; unexpected and duplicate answers are dropped, as Zeek's agent drops them.
    @discardableResult
    public func record(_ result: Payload, for id: RequestID, from target: RequestTarget? = nil) -> Recording {
        answer(id, from: target, result: result)
    }

    /// Marks a target as answered without keeping a result.
    ///
    /// - Parameters:
    ///   - target: Who answered.
    ///   - id: The request.
    /// - Returns: What happened, as for ``record(_:for:from:)``.
    @discardableResult
    public func markAnswered(_ target: RequestTarget, for id: RequestID) -> Recording {
        answer(id, from: target, result: nil)
    }

    private func answer(_ id: RequestID, from target: RequestTarget?, result: Payload?) -> Recording {
        let now = clock.now()
        let (recording, notifications) = state.withLock { state in
            state.answer(id, from: target, result: result, now: now)
        }
        Self.deliver(notifications)
        return recording
    }

    /// Finishes a pending request as completed, with the results collected so far.
    ///
    /// Its unfinished children complete first, with their own results so far (see the type's discussion).
    /// Callbacks run before this returns.
    ///
    /// - Parameter id: The request.
    /// - Returns: `true` when the request finished now; `false` when it was unknown or had finished already.
    @discardableResult
    public func finish(_ id: RequestID) -> Bool {
        let now = clock.now()
        let notifications = state.withLock { state in state.end(id, .completed, now: now) }
        guard let notifications else { return false }
        Self.deliver(notifications)
        return true
    }

    // MARK: - Looking up

    /// The state of a pending request; Zeek's null request when the id is unknown or finished.
    ///
    /// - Parameter id: The request.
    /// - Returns: A snapshot, or ``Snapshot/null`` (check ``Snapshot/isNull``).
    public func lookup(_ id: RequestID) -> Snapshot {
        state.withLock { $0.snapshot(of: id) } ?? .null
    }

    /// Whether a request is pending.
    ///
    /// - Parameter id: The request.
    /// - Returns: `true` when the request has started and not ended.
    public func isPending(_ id: RequestID) -> Bool {
        state.withLock { $0.requests[id] != nil }
    }

    /// The number of pending requests.
    public var pendingCount: Int {
        state.withLock { $0.requests.count }
    }

    // MARK: - Deadlines

    /// Ends every pending request whose deadline is not after `now`, earliest deadline first.
    ///
    /// Each ends with `.timedOut`, its children with it; callbacks run before this returns.
    ///
    /// - Parameter now: An instant of the clock the tracker was created with.
    /// - Returns: The number of requests that timed out, children ended with their parent included.
    @discardableResult
    public func expire(now: some InstantProtocol<Duration>) -> Int {
        guard let offset = clock.offset(now) else {
            preconditionFailure("expire(now:) needs an instant of the tracker's own clock")
        }
        return expire(offset: offset)
    }

    /// Ends every pending request whose deadline has passed on the tracker's clock.
    ///
    /// - Returns: The number of requests that timed out.
    @discardableResult
    public func expire() -> Int {
        expire(offset: clock.now())
    }

    private func expire(offset: Duration) -> Int {
        let notifications = state.withLock { $0.expire(now: offset) }
        Self.deliver(notifications.list)
        return notifications.count
    }

    /// Sweeps deadlines until the calling task is cancelled: the tracker's one timer.
    ///
    /// Sleeps on the clock until the earliest deadline, ends everything due, and repeats; with nothing
    /// pending it sleeps until a request starts. Starting a request with an earlier deadline than the one
    /// it sleeps for wakes it, except during sleeps shorter than 1 ms, which it finishes first (so such a
    /// request can fire up to 1 ms late, never early). Returns promptly when cancelled; pending requests
    /// stay pending.
    ///
    /// Run it once per tracker, for example in a task group beside the code that uses the tracker; a
    /// second call while one runs returns at once.
    public func run() async {
        guard state.withLock({ $0.beginRunning() }) else { return }
        defer { state.withLock { $0.endRunning() } }
        while !Task.isCancelled {
            expire()
            let wakeAt = state.withLock { $0.armSweeper() }
            if let wakeAt, wakeAt - clock.now() <= Self.shortSleep {
                // Not worth racing a wake-up signal: a request started meanwhile with an even earlier
                // deadline waits at most this short sleep. Keeps dense deadlines cheap.
                state.withLock { $0.disarmSweeper() }
                try? await clock.sleep(wakeAt)
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.waitForEarlierDeadline() }
                if let wakeAt {
                    group.addTask { try? await self.clock.sleep(wakeAt) }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Sleeps shorter than this skip the early wake-up (see ``run()``).
    private static var shortSleep: Duration { .milliseconds(1) }

    /// Suspends until a request starts with a deadline earlier than the sweeper's, or until cancelled.
    private func waitForEarlierDeadline() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isWoken = state.withLock { state in
                    state.parkSweeper(continuation, isCancelled: Task.isCancelled)
                }
                if isWoken { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.unparkSweeper() }?.resume()
        }
    }

    private static func deliver(_ notifications: [Notification]) {
        for notification in notifications {
            notification.handler(notification.id, notification.outcome)
        }
    }
}

extension RequestTracker.Outcome: Equatable where Payload: Equatable {}
extension RequestTracker.Outcome: Hashable where Payload: Hashable {}
extension RequestTracker.Snapshot: Equatable where Payload: Equatable {}
extension RequestTracker.Snapshot: Hashable where Payload: Hashable {}

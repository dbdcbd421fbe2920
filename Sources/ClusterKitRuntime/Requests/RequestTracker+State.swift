import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension RequestTracker {
    /// A pending request as the tracker keeps it.
    struct Request {
        let id: RequestID
        let parentID: RequestID?
        /// Unfinished children, in start order.
        var children: [RequestID] = []
        var results: [Payload] = []
        /// Every awaited target, in the order given, without duplicates.
        let targets: [RequestTarget]
        var pending: Set<RequestTarget>
        var answered: [RequestTarget] = []
        let startedAt: Duration
        let timeout: Duration
        let finishesWhenAllAnswered: Bool
        let onFinish: FinishHandler?
        var sequence: UInt64 = 0

        init(
            id: RequestID,
            parentID: RequestID?,
            targets: [RequestTarget],
            startedAt: Duration,
            timeout: Duration,
            finishesWhenAllAnswered: Bool,
            onFinish: FinishHandler?
        ) {
            var seen = Set<RequestTarget>()
            self.id = id
            self.parentID = parentID
            self.targets = targets.filter { seen.insert($0).inserted }
            self.pending = seen
            self.startedAt = startedAt
            self.timeout = timeout
            self.finishesWhenAllAnswered = finishesWhenAllAnswered
            self.onFinish = onFinish
        }

        var deadline: Duration { startedAt + timeout }

        var unanswered: [RequestTarget] { targets.filter { pending.contains($0) } }
    }

    /// A finish callback to run, outside the lock, with its arguments.
    struct Notification: Sendable {
        let handler: FinishHandler
        let id: RequestID
        let outcome: Outcome
    }

    /// Why a request ends.
    enum Ending {
        case completed
        /// Timed out; `parent` names the ancestor whose deadline passed, `nil` for the request's own.
        case timedOut(parent: RequestID?)
    }

    /// Everything behind the tracker's lock, with no I/O and no callbacks: methods return the callbacks to run.
    struct State {
        var requests: [RequestID: Request] = [:]
        var heap = DeadlineHeap()
        var nextSequence: UInt64 = 0

        // The sweeper (`run()`): whether one runs, the deadline it sleeps until (`nil`: until woken), and
        // how a start with an earlier deadline wakes it.
        var isRunning = false
        var isSweeperArmed = false
        var sweeperWakesAt: Duration?
        var isWakePending = false
        var sweeper: CheckedContinuation<Void, Never>?

        // MARK: Requests

        /// Adds a request; returns the sweeper to wake when its deadline is earlier than the sweeper's.
        mutating func start(_ request: Request, limit: Int) throws -> CheckedContinuation<Void, Never>? {
            guard requests[request.id] == nil else {
                throw RequestError(.duplicateID, "a request with this id is pending", requestID: request.id)
            }
            if let parentID = request.parentID, requests[parentID] == nil {
                throw RequestError(.unknownParent, "parent '\(parentID)' is not pending", requestID: request.id)
            }
            guard requests.count < limit else {
                throw RequestError(
                    .tooManyPendingRequests,
                    "\(limit) requests are pending, the most this tracker allows",
                    requestID: request.id
                )
            }
            var request = request
            nextSequence += 1
            request.sequence = nextSequence
            requests[request.id] = request
            if let parentID = request.parentID { requests[parentID]?.children.append(request.id) }
            heap.insert(.init(deadline: request.deadline, sequence: request.sequence, id: request.id))
            compactHeapIfNeeded()
            return wakeSweeper(ifLaterThan: request.deadline)
        }

        mutating func answer(
            _ id: RequestID,
            from target: RequestTarget?,
            result: Payload?,
            now: Duration
        ) -> (Recording, [Notification]) {
            // Mutate the stored request in place: copying it out would copy its pending set on every answer,
            // making a request to N targets cost O(N²).
            guard let index = requests.index(forKey: id) else { return (.unknownRequest, []) }
            if let target {
                guard requests.values[index].pending.remove(target) != nil else {
                    let duplicate = requests.values[index].answered.contains(target)
                    return (duplicate ? .duplicateAnswer : .unexpectedTarget, [])
                }
                requests.values[index].answered.append(target)
            }
            if let result { requests.values[index].results.append(result) }
            let remaining = requests.values[index].pending.count
            guard target != nil, remaining == 0, requests.values[index].finishesWhenAllAnswered else {
                return (.recorded(remaining: remaining), [])
            }
            return (.completed, end(id, .completed, now: now) ?? [])
        }

        /// Ends a request and its unfinished children; `nil` when it is not pending.
        mutating func end(_ id: RequestID, _ ending: Ending, now: Duration) -> [Notification]? {
            guard requests[id] != nil else { return nil }
            var notifications: [Notification] = []
            remove(id, ending, now: now, into: &notifications)
            compactHeapIfNeeded()
            return notifications
        }

        /// Removes a request, its children first, adding the callbacks to run in that order.
        private mutating func remove(
            _ id: RequestID,
            _ ending: Ending,
            now: Duration,
            into notifications: inout [Notification]
        ) {
            guard let request = requests.removeValue(forKey: id) else { return }
            if let parentID = request.parentID { requests[parentID]?.children.removeAll { $0 == id } }
            let childEnding: Ending
            switch ending {
            case .completed: childEnding = .completed
            case .timedOut(let parent): childEnding = .timedOut(parent: parent ?? id)
            }
            for child in request.children { remove(child, childEnding, now: now, into: &notifications) }
            guard let handler = request.onFinish else { return }
            let outcome: Outcome
            switch ending {
            case .completed:
                outcome = .completed(request.results)
            case .timedOut(let parent):
                let timeout = RequestTimeout(
                    requestID: id,
                    waited: parent == nil ? request.timeout : now - request.startedAt,
                    unanswered: request.unanswered,
                    answered: request.answered,
                    parentID: parent
                )
                outcome = .timedOut(timeout, partialResults: request.results)
            }
            notifications.append(Notification(handler: handler, id: id, outcome: outcome))
        }

        /// Ends every request whose deadline is not after `now`; returns the callbacks and how many ended.
        mutating func expire(now: Duration) -> (list: [Notification], count: Int) {
            var notifications: [Notification] = []
            let before = requests.count
            while let entry = heap.minimum, entry.deadline <= now {
                heap.removeMinimum()
                guard requests[entry.id]?.sequence == entry.sequence else { continue }
                remove(entry.id, .timedOut(parent: nil), now: now, into: &notifications)
            }
            compactHeapIfNeeded()
            return (notifications, before - requests.count)
        }

        /// The earliest deadline of a pending request, dropping stale heap entries on the way.
        mutating func earliestDeadline() -> Duration? {
            while let entry = heap.minimum {
                if requests[entry.id]?.sequence == entry.sequence { return entry.deadline }
                heap.removeMinimum()
            }
            return nil
        }

        /// Rebuilds the heap from the pending requests when stale entries outnumber them.
        private mutating func compactHeapIfNeeded() {
            guard heap.count > 1024, heap.count > 2 * requests.count else { return }
            heap.rebuild(
                from: requests.values.map { .init(deadline: $0.deadline, sequence: $0.sequence, id: $0.id) }
            )
        }

        func snapshot(of id: RequestID) -> Snapshot? {
            guard let request = requests[id] else { return nil }
            return Snapshot(
                id: id,
                parentID: request.parentID,
                children: request.children,
                results: request.results,
                targets: request.targets,
                answered: request.answered,
                unanswered: request.unanswered,
                timeout: request.timeout,
                isFinished: false
            )
        }

        // MARK: Sweeper

        mutating func beginRunning() -> Bool {
            guard !isRunning else { return false }
            isRunning = true
            return true
        }

        mutating func endRunning() {
            isRunning = false
            isSweeperArmed = false
            isWakePending = false
        }

        /// Arms the sweeper for a new sleep; returns the deadline to sleep until (`nil`: until woken).
        mutating func armSweeper() -> Duration? {
            let next = earliestDeadline()
            isSweeperArmed = true
            sweeperWakesAt = next
            isWakePending = false
            return next
        }

        /// Leaves the sweeper unarmed: it sleeps without waiting for a wake-up.
        mutating func disarmSweeper() {
            isSweeperArmed = false
        }

        /// Wakes the armed sweeper when `deadline` is earlier than the one it sleeps until.
        private mutating func wakeSweeper(ifLaterThan deadline: Duration) -> CheckedContinuation<Void, Never>? {
            guard isSweeperArmed else { return nil }
            if let wakesAt = sweeperWakesAt, wakesAt <= deadline { return nil }
            isSweeperArmed = false
            isWakePending = true
            defer { sweeper = nil }
            return sweeper
        }

        /// Stores the sweeper's wake-up continuation; `true` when it must resume at once instead.
        mutating func parkSweeper(_ continuation: CheckedContinuation<Void, Never>, isCancelled: Bool) -> Bool {
            if isWakePending || isCancelled {
                isWakePending = false
                return true
            }
            sweeper = continuation
            return false
        }

        /// Takes the sweeper's wake-up continuation, for cancellation.
        mutating func unparkSweeper() -> CheckedContinuation<Void, Never>? {
            defer { sweeper = nil }
            return sweeper
        }
    }
}

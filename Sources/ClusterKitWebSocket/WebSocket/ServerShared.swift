import ClusterKitModel

/// The part of a server both the application's tasks and the reactor touch, behind one `Mutex`.
final class ServerShared: Sendable {
    private struct AcceptWaiter {
        var id: UInt64
        var continuation: CheckedContinuation<WebSocketConnection?, any Error>
    }

    private struct State {
        var ready: [WebSocketConnection] = []
        var acceptWaiters: [AcceptWaiter] = []
        var isShuttingDown = false
        var isStopped = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var nextWaiterID: UInt64 = 0
        var refusals: [WebSocketServer.Refusal] = []
        var refusalWaiter: (id: UInt64, continuation: CheckedContinuation<WebSocketServer.Refusal?, Never>)?
    }

    private let state = Guarded(State())

    /// Hands an open connection to the oldest waiting `accept`, or queues it.
    func offer(_ connection: WebSocketConnection) {
        let waiter = state.withLock { state -> AcceptWaiter? in
            guard !state.acceptWaiters.isEmpty else {
                state.ready.append(connection)
                return nil
            }
            return state.acceptWaiters.removeFirst()
        }
        waiter?.continuation.resume(returning: connection)
    }

    /// The next open connection; `nil` once the server shuts down.
    func accept() async throws -> WebSocketConnection? {
        let waiterID = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<WebSocketConnection?, any Error>) in
                let result = state.withLock { state -> Result<WebSocketConnection?, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if !state.ready.isEmpty { return .success(state.ready.removeFirst()) }
                    if state.isShuttingDown { return .success(nil) }
                    state.acceptWaiters.append(AcceptWaiter(id: waiterID, continuation: continuation))
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> AcceptWaiter? in
                guard let index = state.acceptWaiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.acceptWaiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Marks the server shutting down; waiting `accept` calls return `nil`, unaccepted connections go.
    func beginShutdown() {
        let (waiters, dropped, refusalWaiter) = state.withLock { state in
            state.isShuttingDown = true
            defer {
                state.acceptWaiters = []
                state.ready = []
                state.refusalWaiter = nil
            }
            return (state.acceptWaiters, state.ready, state.refusalWaiter)
        }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        refusalWaiter?.continuation.resume(returning: nil)
        _ = dropped
    }

    // MARK: - Refusals

    /// Keeps a refusal for ``nextRefusal()``, or hands it to the waiting reader; beyond
    /// ``WebSocketServer/refusalBacklogLimit`` unread ones it is dropped.
    func report(_ refusal: WebSocketServer.Refusal) {
        let waiter = state.withLock { state -> CheckedContinuation<WebSocketServer.Refusal?, Never>? in
            if let waiter = state.refusalWaiter {
                state.refusalWaiter = nil
                return waiter.continuation
            }
            if state.refusals.count < WebSocketServer.refusalBacklogLimit { state.refusals.append(refusal) }
            return nil
        }
        waiter?.resume(returning: refusal)
    }

    /// The oldest unread refusal, waiting for one; `nil` once the server shuts down or the task is cancelled.
    func nextRefusal() async -> WebSocketServer.Refusal? {
        let waiterID = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<WebSocketServer.Refusal?, Never>) in
                let result = state.withLock { state -> WebSocketServer.Refusal?? in
                    if !state.refusals.isEmpty { return .some(state.refusals.removeFirst()) }
                    // One reader at a time: a second one, like a cancelled or late one, gets nil.
                    if Task.isCancelled || state.isShuttingDown || state.refusalWaiter != nil { return .some(nil) }
                    state.refusalWaiter = (waiterID, continuation)
                    return nil
                }
                if let result { continuation.resume(returning: result) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<WebSocketServer.Refusal?, Never>? in
                guard let waiter = state.refusalWaiter, waiter.id == waiterID else { return nil }
                state.refusalWaiter = nil
                return waiter.continuation
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Whether a shutdown was asked for; the caller posts the command when this returns `true` the first time.
    func requestShutdown() -> Bool {
        state.withLock { state in
            guard !state.isShuttingDown, !state.isStopped else { return false }
            state.isShuttingDown = true
            return true
        }
    }

    /// Waits until the reactor has closed every socket and stopped.
    func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isStopped = state.withLock { state in
                if !state.isStopped { state.stopWaiters.append(continuation) }
                return state.isStopped
            }
            if isStopped { continuation.resume() }
        }
    }

    /// Called by the reactor after its last descriptor is closed.
    func didStop() {
        let (waiters, acceptWaiters, dropped, refusalWaiter) = state.withLock { state in
            state.isStopped = true
            state.isShuttingDown = true
            defer {
                state.stopWaiters = []
                state.acceptWaiters = []
                state.ready = []
                state.refusalWaiter = nil
            }
            return (state.stopWaiters, state.acceptWaiters, state.ready, state.refusalWaiter)
        }
        refusalWaiter?.continuation.resume(returning: nil)
        for waiter in acceptWaiters { waiter.continuation.resume(returning: nil) }
        for waiter in waiters { waiter.resume() }
        _ = dropped
    }
}

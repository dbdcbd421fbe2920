import ClusterKitModel

/// A failed wait in a test: what was awaited, the limit, and the last value seen.
struct WaitTimeout: Error, CustomStringConvertible {
    var description: String
}

/// A value that tests can wait on: `update` changes it, `wait` suspends until a predicate holds.
///
/// Waits have a real-time limit that is reached only when a test fails; passing tests never sleep.
final class Observed<Value: Sendable>: Sendable {
    private struct Waiter: Sendable {
        let predicate: @Sendable (Value) -> Bool
        let continuation: CheckedContinuation<Value?, Never>
    }

    private struct State: Sendable {
        var value: Value
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Guarded<State>

    init(_ value: Value) {
        state = Guarded(State(value: value))
    }

    var value: Value { state.withLock { $0.value } }

    func update(_ body: @Sendable (inout Value) -> Void) {
        let (value, ready) = state.withLock { state in
            body(&state.value)
            let value = state.value
            let ready = state.waiters.filter { $0.value.predicate(value) }
            for id in ready.keys { state.waiters.removeValue(forKey: id) }
            return (value, Array(ready.values))
        }
        for waiter in ready { waiter.continuation.resume(returning: value) }
    }

    /// Waits until `predicate` holds and returns the value it held for.
    @discardableResult
    func wait(
        for what: String,
        timeout: Duration = .seconds(10),
        until predicate: @escaping @Sendable (Value) -> Bool
    ) async throws -> Value {
        let result = await withTaskGroup(of: Value?.self) { group in
            group.addTask { await self.waitIndefinitely(predicate) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
        guard let result else {
            throw WaitTimeout(description: "timed out after \(timeout) waiting for \(what); last value: \(value)")
        }
        return result
    }

    private func waitIndefinitely(_ predicate: @escaping @Sendable (Value) -> Bool) async -> Value? {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let immediate: Value?? = state.withLock { state in
                    if predicate(state.value) { return .some(state.value) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = Waiter(predicate: predicate, continuation: continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: nil)
        }
    }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
import Synchronization

/// How far the reliable inboxes of an ``InMemoryBackend/Hub`` are over their limits together, and the publishers
/// waiting for room.
///
/// Only the abnormal state costs anything shared: a reliable inbox tells it about an event queued past the inbox's
/// limit (an overrun) and about events taken while the inbox was full, when a waiting publisher may now find room.
/// A WebSocket client's publication that finds no room registers here and is woken by the next event a full
/// reliable inbox hands out (or by any endpoint leaving), then checks again. A waiter reads ``epoch`` after
/// counting itself in ``waiting`` and before it checks for room, and registers only if the epoch is still the one
/// it read, so no wake-up is lost: an event taken after the check sees the waiter counted and bumps the epoch.
final class HubBacklog: Sendable {
    private struct Waiters {
        var epoch: UInt64 = 0
        var nextID: UInt64 = 0
        var continuations: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    /// The events queued in reliable inboxes past their limits, not yet paid back by the consumers.
    let overrunEvents = Atomic<Int>(0)
    /// Their estimated bytes.
    let overrunBytes = Atomic<Int>(0)
    /// Publishers between deciding to wait and being done.
    let waiting = Atomic<Int>(0)
    private let waiters = Guarded(Waiters())

    /// Counts an event a reliable inbox queued past its limit.
    func overran(size: Int) {
        overrunEvents.add(1, ordering: .sequentiallyConsistent)
        overrunBytes.add(size, ordering: .sequentiallyConsistent)
    }

    /// Takes overrun events and bytes back: a full inbox handed events out, or left the hub.
    func paidBack(events count: Int, bytes size: Int) {
        if count > 0 { overrunEvents.subtract(count, ordering: .sequentiallyConsistent) }
        if size > 0 { overrunBytes.subtract(size, ordering: .sequentiallyConsistent) }
    }

    /// Wakes the waiting publishers, if any: a full inbox made room, or an endpoint left.
    func madeRoom() {
        if waiting.load(ordering: .sequentiallyConsistent) > 0 { wake() }
    }

    /// The number of wake-ups so far; read it before checking for room.
    var epoch: UInt64 { waiters.withLock { $0.epoch } }

    /// Wakes every waiting publisher so that it checks again.
    func wake() {
        let continuations = waiters.withLock { waiters in
            waiters.epoch &+= 1
            defer { waiters.continuations = [:] }
            return Array(waiters.continuations.values)
        }
        for continuation in continuations { continuation.resume() }
    }

    /// Suspends until a wake-up after `seen`.
    ///
    /// - Throws: `CancellationError` when the task is cancelled.
    func wait(since seen: UInt64) async throws {
        let id = waiters.withLock { waiters in
            waiters.nextID &+= 1
            return waiters.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isReady = waiters.withLock { waiters -> Bool in
                    if waiters.epoch != seen || Task.isCancelled { return true }
                    waiters.continuations[id] = continuation
                    return false
                }
                if isReady { continuation.resume() }
            }
        } onCancel: {
            waiters.withLock { $0.continuations.removeValue(forKey: id) }?.resume()
        }
        try Task.checkCancellation()
    }
}

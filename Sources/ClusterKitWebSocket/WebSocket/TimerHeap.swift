import ClusterKitModel

/// A min-heap of reactor deadlines (a ``MinHeap``), with lazy removal: the owner ignores entries it no longer
/// expects.
struct TimerHeap {
    /// What a deadline is for: a connection's connect, handshake or close limit, its next ping, or its oldest
    /// waiting sender's limit (the listener's pause uses `deadline`).
    typealias Kind = WebSocketProtocolCore.TimerKind

    /// One deadline.
    struct Entry: MinHeapElement {
        var instant: ContinuousClock.Instant
        var connection: UInt64
        var kind: Kind

        static func precedes(_ lhs: Entry, _ rhs: Entry) -> Bool { lhs.instant < rhs.instant }
    }

    private var heap = MinHeap<Entry>()

    /// The earliest deadline, if any.
    var earliest: ContinuousClock.Instant? { heap.minimum?.instant }

    /// Adds a deadline.
    mutating func insert(_ entry: Entry) {
        heap.insert(entry)
    }

    /// Removes and returns the earliest deadline if it is due.
    mutating func popDue(now: ContinuousClock.Instant) -> Entry? {
        guard let first = heap.minimum, first.instant <= now else { return nil }
        return heap.removeMinimum()
    }
}

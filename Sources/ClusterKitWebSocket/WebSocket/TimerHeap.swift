/// A min-heap of reactor deadlines, with lazy removal: the owner ignores entries it no longer expects.
struct TimerHeap {
    /// What a deadline is for: a connection's connect, handshake or close limit, its next ping, or its oldest
    /// waiting sender's limit (the listener's pause uses `deadline`).
    typealias Kind = WebSocketProtocolCore.TimerKind

    /// One deadline.
    struct Entry {
        var instant: ContinuousClock.Instant
        var connection: UInt64
        var kind: Kind
    }

    private var entries: [Entry] = []

    /// The earliest deadline, if any.
    var earliest: ContinuousClock.Instant? { entries.first?.instant }

    /// Adds a deadline.
    mutating func insert(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].instant < entries[parent].instant else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest deadline if it is due.
    mutating func popDue(now: ContinuousClock.Instant) -> Entry? {
        guard let first = entries.first, first.instant <= now else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = parent * 2 + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].instant < entries[smallest].instant { smallest = left }
            if right < entries.count, entries[right].instant < entries[smallest].instant { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// A binary min-heap of request deadlines, the one structure a ``RequestTracker`` sweeps.
///
/// Entries are never removed from the middle: a finished request leaves its entry behind, and the sweep
/// skips entries whose sequence number no longer names a pending request. ``rebuild(from:)`` drops such
/// entries when they outnumber the live ones.
struct DeadlineHeap {
    struct Entry {
        /// The deadline, as time since the tracker's origin.
        var deadline: Duration
        /// The request's unique start number; breaks ties in start order and detects stale entries.
        var sequence: UInt64
        var id: RequestID

        @inline(__always)
        static func precedes(_ lhs: Entry, _ rhs: Entry) -> Bool {
            lhs.deadline < rhs.deadline || (lhs.deadline == rhs.deadline && lhs.sequence < rhs.sequence)
        }
    }

    private(set) var entries: [Entry] = []

    var count: Int { entries.count }

    var minimum: Entry? { entries.first }

    mutating func insert(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Entry.precedes(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func removeMinimum() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let minimum = entries.removeLast()
        siftDown(from: 0)
        return minimum
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        let count = entries.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var smallest = left
            let right = left + 1
            if right < count, Entry.precedes(entries[right], entries[left]) { smallest = right }
            guard Entry.precedes(entries[smallest], entries[parent]) else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }

    /// Replaces the heap's entries with `live` in O(n).
    mutating func rebuild(from live: [Entry]) {
        entries = live
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
    }
}

/// What a ``MinHeap`` orders by.
package protocol MinHeapElement {
    /// Whether `lhs` comes out of the heap before `rhs`.
    static func precedes(_ lhs: Self, _ rhs: Self) -> Bool
}

/// A binary min-heap: the deadlines of the WebSocket reactor and of the request tracker.
///
/// Entries are never removed from the middle: owners leave stale entries behind and skip them when they come out
/// (lazy removal); ``rebuild(from:)`` drops them all at once in O(n). Inlinable, so that each owner gets a
/// specialised copy in its own module.
package struct MinHeap<Element: MinHeapElement> {
    /// The entries, in heap order.
    @usableFromInline package private(set) var entries: [Element] = []

    /// An empty heap.
    @inlinable package init() {}

    /// How many entries there are, stale ones included.
    @inlinable package var count: Int { entries.count }

    /// The entry that comes out next.
    @inlinable package var minimum: Element? { entries.first }

    /// Adds an entry.
    @inlinable package mutating func insert(_ element: Element) {
        entries.append(element)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Element.precedes(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the entry that comes out next.
    @inlinable @discardableResult package mutating func removeMinimum() -> Element? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let minimum = entries.removeLast()
        siftDown(from: 0)
        return minimum
    }

    /// Replaces the entries with `live` in O(n).
    @inlinable package mutating func rebuild(from live: [Element]) {
        entries = live
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
    }

    @inlinable mutating func siftDown(from start: Int) {
        var parent = start
        let count = entries.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var smallest = left
            let right = left + 1
            if right < count, Element.precedes(entries[right], entries[left]) { smallest = right }
            guard Element.precedes(entries[smallest], entries[parent]) else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

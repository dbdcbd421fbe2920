import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// The request deadlines a ``RequestTracker`` sweeps: a ``MinHeap`` ordered by deadline, then start order.
///
/// Entries are never removed from the middle: a finished request leaves its entry behind, and the sweep skips
/// entries whose sequence number no longer names a pending request. ``MinHeap/rebuild(from:)`` drops such entries
/// when they outnumber the live ones.
typealias DeadlineHeap = MinHeap<DeadlineEntry>

/// One request deadline.
struct DeadlineEntry: MinHeapElement {
    /// The deadline, as time since the tracker's origin.
    var deadline: Duration
    /// The request's unique start number; breaks ties in start order and detects stale entries.
    var sequence: UInt64
    var id: RequestID

    @inline(__always)
    static func precedes(_ lhs: DeadlineEntry, _ rhs: DeadlineEntry) -> Bool {
        lhs.deadline < rhs.deadline || (lhs.deadline == rhs.deadline && lhs.sequence < rhs.sequence)
    }
}

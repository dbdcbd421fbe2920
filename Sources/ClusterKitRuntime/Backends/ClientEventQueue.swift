import Synchronization

/// How many of one WebSocket client's events wait in in-process inboxes: Zeek's `max_event_queue_size`, per client.
///
/// Zeek's WebSocket server queues what its clients send for Zeek's main loop in one queue per server, of
/// `Cluster::WebSocketServerOptions$max_event_queue_size` entries (default
/// `Cluster::default_websocket_max_event_queue_size`, 32; `src/cluster/websocket/WebSocket.cc` hands it to an
/// `OnLoopProcess`, `src/cluster/OnLoop.h`). When that queue is full, the thread reading a client blocks until the
/// main loop has taken the queue: the client is *stalled*, nothing is dropped, refused or logged, and only the
/// metric `zeek_cluster_onloop_queue_blocks_total` counts it; 0 means no limit.
///
/// ClusterKit's equivalent of Zeek's main loop are the in-process participants (controller, agents, in-process
/// nodes), so an event of a client counts here from the moment the hub queues it in an in-process inbox until that
/// inbox hands it out (or its endpoint leaves); an event queued in *k* inboxes counts *k* times. While a client's
/// count is at its limit, its next event for an in-process inbox waits (``InMemoryBackend/Hub/Blocker/eventQueue(limit:)``):
/// its frames are not read meanwhile and TCP slows it down, as in Zeek. Unlike Zeek's one queue per server, each
/// client has its own, so a client that floods the hub stalls itself and nobody else.
///
/// A waiting client is woken once its count has fallen to half the limit, so that a client publishing faster than
/// the in-process side reads moves in batches rather than wakes for every event taken.
final class ClientEventQueue: Sendable {
    /// The most events counted before the client's next event for an in-process inbox waits.
    let limit: Int
    /// Events queued in in-process inboxes and not handed out yet.
    private let count = Atomic<Int>(0)
    /// Whether the client reached the limit and has not yet fallen back to half of it.
    private let stalled = Atomic<Bool>(false)
    private let backlog: HubBacklog

    init(limit: Int, backlog: HubBacklog) {
        self.limit = limit
        self.backlog = backlog
    }

    /// Whether the client's next event for an in-process inbox must wait: from the moment its count reaches the limit
    /// until it has fallen to half the limit, whatever else wakes the waiting publisher meanwhile.
    ///
    /// Asked only for the client's own publications, under the hub's participant lock.
    var mustWait: Bool {
        let current = count.load(ordering: .sequentiallyConsistent)
        if current >= limit {
            stalled.store(true, ordering: .sequentiallyConsistent)
            return true
        }
        guard stalled.load(ordering: .sequentiallyConsistent) else { return false }
        guard current <= limit / 2 else { return true }
        stalled.store(false, ordering: .sequentiallyConsistent)
        return false
    }

    /// The events counted now.
    var waiting: Int { count.load(ordering: .relaxed) }

    /// Counts an event queued in an in-process inbox.
    func queued() {
        count.add(1, ordering: .sequentiallyConsistent)
    }

    /// Takes back `taken` events handed out (or dropped with their inbox); wakes the waiting publishers when the
    /// count falls to half the limit.
    func handedOut(_ taken: Int = 1) {
        guard taken > 0 else { return }
        let after = count.subtract(taken, ordering: .sequentiallyConsistent).newValue
        let half = limit / 2
        if after <= half && after + taken > half { backlog.madeRoom() }
    }
}

import ClusterKitModel
import ClusterKitWebSocket

extension WebSocketAPIServer {
    /// Counters of a server, for diagnostics.
    public struct Diagnostics: Sendable, Hashable {
        /// Client connections counted against ``Options/clientLimit`` now.
        public var clients = 0
        /// Node connections counted against ``Options/nodeLimit`` now.
        public var nodes = 0
        /// Client connections refused because ``Options/clientLimit`` was reached.
        public var refusedClients = 0
        /// Node connections refused because ``Options/nodeLimit`` was reached.
        public var refusedNodes = 0
        /// Connections closed because no valid subscription frame came within ``Options/subscriptionTimeout``.
        public var subscriptionTimeouts = 0
        /// Connections closed because their hub inbox was full (1008 `event queue full`).
        public var closedForFullQueue = 0
        /// Events refused because the connection may not publish them (`not_permitted`).
        public var refusedEvents = 0
        /// Events refused because in-process inboxes had no room within ``Options/publishTimeout``.
        public var publishTimeouts = 0
        /// Client events that had to wait because their connection had ``Options/maxEventQueueSize`` events waiting in
        /// in-process inboxes (Zeek counts such stalls in `zeek_cluster_onloop_queue_blocks_total`).
        public var eventQueueStalls = 0
    }
}

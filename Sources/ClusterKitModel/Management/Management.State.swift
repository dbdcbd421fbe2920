extension Management {
    /// Zeek's `Management::State`: the run state of a node.
    public enum State: String, BrokerEnum, Sendable, Hashable {
        /// `Management::PENDING`: being started.
        case pending = "Management::PENDING"
        /// `Management::RUNNING`.
        case running = "Management::RUNNING"
        /// `Management::STOPPED`.
        case stopped = "Management::STOPPED"
        /// `Management::FAILED`: could not be started.
        case failed = "Management::FAILED"
        /// `Management::CRASHED`: exited unexpectedly.
        case crashed = "Management::CRASHED"
        /// `Management::UNKNOWN`.
        case unknown = "Management::UNKNOWN"

        /// `Management::State`.
        public static let zeekTypeName = "Management::State"
    }

    /// Zeek's `Management::Role`: a process's role in the Management framework.
    public enum Role: String, BrokerEnum, Sendable, Hashable {
        /// `Management::NONE`: an ordinary cluster node.
        case none = "Management::NONE"
        /// `Management::AGENT`.
        case agent = "Management::AGENT"
        /// `Management::CONTROLLER`.
        case controller = "Management::CONTROLLER"
        /// `Management::NODE`.
        case node = "Management::NODE"

        /// `Management::Role`.
        public static let zeekTypeName = "Management::Role"
    }
}

extension Supervisor {
    /// Zeek's `Supervisor::ClusterRole`: a supervised node's role in its cluster.
    public enum ClusterRole: String, BrokerEnum, Sendable, Hashable {
        /// `Supervisor::NONE`.
        case none = "Supervisor::NONE"
        /// `Supervisor::LOGGER`.
        case logger = "Supervisor::LOGGER"
        /// `Supervisor::MANAGER`.
        case manager = "Supervisor::MANAGER"
        /// `Supervisor::PROXY`.
        case proxy = "Supervisor::PROXY"
        /// `Supervisor::WORKER`.
        case worker = "Supervisor::WORKER"

        /// `Supervisor::ClusterRole`.
        public static let zeekTypeName = "Supervisor::ClusterRole"

        /// The cluster node type of this role, one to one (``Cluster/NodeType/none`` for ``none``).
        public var nodeType: Cluster.NodeType {
            switch self {
            case .none: .none
            case .logger: .logger
            case .manager: .manager
            case .proxy: .proxy
            case .worker: .worker
            }
        }
    }
}

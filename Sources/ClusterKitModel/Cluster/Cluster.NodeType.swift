extension Cluster {
    /// Zeek's `Cluster::NodeType`: the role of a node in the cluster.
    public enum NodeType: String, BrokerEnum, Sendable, Hashable, Comparable {
        /// `Cluster::NONE`: not part of a cluster.
        case none = "Cluster::NONE"
        /// `Cluster::CONTROL`: ZeekControl's control endpoint.
        case control = "Cluster::CONTROL"
        /// `Cluster::LOGGER`: receives and writes logs.
        case logger = "Cluster::LOGGER"
        /// `Cluster::MANAGER`: central policy and state.
        case manager = "Cluster::MANAGER"
        /// `Cluster::PROXY`: offloads shared state from workers.
        case proxy = "Cluster::PROXY"
        /// `Cluster::WORKER`: analyses traffic.
        case worker = "Cluster::WORKER"
        /// `Cluster::TIME_MACHINE`: the legacy Time Machine (deprecated in Zeek 6.2, removed in 7.1).
        case timeMachine = "Cluster::TIME_MACHINE"

        /// `Cluster::NodeType`.
        public static let zeekTypeName = "Cluster::NodeType"

        /// The lower-case name ZeekControl uses in `node.cfg` (`worker`), or `nil` for types it has no name for.
        public var zeekctlName: String? {
            switch self {
            case .logger: "logger"
            case .manager: "manager"
            case .proxy: "proxy"
            case .worker: "worker"
            case .none, .control, .timeMachine: nil
            }
        }

        /// The rank in ZeekControl's node order (standalone, logger, manager, proxy, worker).
        package var zeekctlRank: Int {
            switch self {
            case .none: 0
            case .control: 1
            case .logger: 2
            case .manager: 3
            case .proxy: 4
            case .worker: 5
            case .timeMachine: 6
            }
        }

        /// Orders as Zeek's enum declares the values: none, control, logger, manager, proxy, worker, time machine.
        ///
        /// - Parameters:
        ///   - lhs: A type.
        ///   - rhs: Another type.
        /// - Returns: Whether `lhs` comes first.
        public static func < (lhs: NodeType, rhs: NodeType) -> Bool { lhs.zeekctlRank < rhs.zeekctlRank }
    }
}

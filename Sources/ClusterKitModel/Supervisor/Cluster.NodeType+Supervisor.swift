extension Cluster.NodeType {
    /// The Supervisor role of this type (``Supervisor/ClusterRole/none`` for types it has no role for).
    public var supervisorRole: Supervisor.ClusterRole {
        switch self {
        case .logger: .logger
        case .manager: .manager
        case .proxy: .proxy
        case .worker: .worker
        case .none, .control, .timeMachine: .none
        }
    }
}

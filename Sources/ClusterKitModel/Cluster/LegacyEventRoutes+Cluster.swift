extension LegacyEventRoutes.NodeType {
    /// The legacy route node type of a cluster node type; `nil` for ``Cluster/NodeType/none``.
    ///
    /// - Parameter type: The cluster node type.
    public init?(_ type: Cluster.NodeType) {
        switch type {
        case .manager: self = .manager
        case .logger: self = .logger
        case .proxy: self = .proxy
        case .worker: self = .worker
        case .timeMachine: self = .timeMachine
        case .control: self = .control
        case .none: return nil
        }
    }

    /// The cluster node type of this route node type (Zeek 2.x kept a time machine type; modern Zeek does not).
    public var clusterNodeType: Cluster.NodeType {
        switch self {
        case .manager: .manager
        case .logger: .logger
        case .proxy: .proxy
        case .worker: .worker
        case .timeMachine: .timeMachine
        case .control: .control
        }
    }
}

public import ClusterKitModel

/// A node type as ZeekControl's node.cfg spells it; unlike ``Cluster/NodeType`` it has `standalone`.
public enum ZeekctlNodeType: String, Sendable, Hashable, CaseIterable, Comparable {
    /// `standalone`: the only node, not a cluster.
    case standalone
    /// `logger`.
    case logger
    /// `manager`.
    case manager
    /// `proxy`.
    case proxy
    /// `worker`.
    case worker

    /// The cluster node type (`nil` for `standalone`, which has none).
    public var clusterNodeType: Cluster.NodeType? {
        switch self {
        case .standalone: nil
        case .logger: .logger
        case .manager: .manager
        case .proxy: .proxy
        case .worker: .worker
        }
    }

    /// The rank in ZeekControl's order (`node.py` `_typeorder`): standalone, logger, manager, proxy, worker.
    var rank: Int {
        switch self {
        case .standalone: 0
        case .logger: 1
        case .manager: 2
        case .proxy: 3
        case .worker: 4
        }
    }

    /// Orders as ZeekControl sorts nodes: standalone, logger, manager, proxy, worker.
    ///
    /// - Parameters:
    ///   - lhs: A type.
    ///   - rhs: Another type.
    /// - Returns: Whether `lhs` comes first.
    public static func < (lhs: ZeekctlNodeType, rhs: ZeekctlNodeType) -> Bool { lhs.rank < rhs.rank }
}

extension Supervisor {
    /// The `Cluster::nodes` table a supervised node builds from its configuration, or `nil` when the configuration
    /// has no cluster table (then the node is not a supervised cluster node and Zeek falls back to
    /// `cluster-layout.zeek`).
    ///
    /// This is Zeek's `Cluster::Supervisor::__init_cluster_nodes` (LAYOUTS.md §9), applied to the entries in name
    /// order (UTF-8 byte order). Zeek iterates its table in hash order, which matters only for the two quirks
    /// described at ``clusterLayout(from:)``; pass the entries in another order there if needed.
    ///
    /// - Parameter config: The node's configuration.
    /// - Returns: The layout, or `nil` for an empty cluster table.
    public static func clusterLayout(for config: NodeConfig) -> Cluster.Layout? {
        guard !config.cluster.isEmpty else { return nil }
        let entries = config.cluster
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            .map { (name: $0.key, endpoint: $0.value) }
        return clusterLayout(from: entries)
    }

    /// Translates cluster endpoints, in the given order, into `Cluster::nodes` as Zeek's supervised node does.
    ///
    /// Each endpoint becomes `Cluster::Node($node_type=<role>, $ip=host, $p=p)`, in order:
    /// - the node type is the role's (``ClusterRole/nodeType``), except that a role of ``ClusterRole/none`` keeps
    ///   the type of the entry before it (`Cluster::NONE` for the first), a quirk of Zeek's loop;
    /// - every node whose type is not `MANAGER` gets `$manager` = the name of the MANAGER entry (with several
    ///   managers, the last one in the order; none without a manager);
    /// - `$metrics_port` is copied; `interface` and `pcap_file` are not;
    /// - a repeated name replaces the earlier entry.
    ///
    /// `manager_is_logger` is `false` when the result has a `LOGGER` node, otherwise Zeek's default `true`.
    ///
    /// - Parameter entries: The node names and endpoints, in iteration order.
    /// - Returns: The layout.
    public static func clusterLayout(from entries: [(name: String, endpoint: ClusterEndpoint)]) -> Cluster.Layout {
        var managerName = ""
        for entry in entries where entry.endpoint.role == .manager { managerName = entry.name }
        var layout = Cluster.Layout()
        var nodeType = Cluster.NodeType.none
        for entry in entries {
            if entry.endpoint.role != .none { nodeType = entry.endpoint.role.nodeType }
            var node = Cluster.Node(nodeType: nodeType, ip: entry.endpoint.host, p: entry.endpoint.p)
            if !managerName.isEmpty, node.nodeType != .manager { node.manager = managerName }
            node.metricsPort = entry.endpoint.metricsPort
            layout.set(entry.name, node)
        }
        if !layout.nodes(ofType: .logger).isEmpty { layout.managerIsLogger = false }
        return layout
    }
}

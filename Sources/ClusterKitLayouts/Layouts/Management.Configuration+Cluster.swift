public import ClusterKitModel

extension Management.Configuration {
    /// The cluster table every agent hands to the nodes it starts: one `Supervisor::ClusterEndpoint` per
    /// node of the configuration, with its instance's address, its port (`0/unknown` when it has none),
    /// interface and metrics port.
    ///
    /// - Parameter instanceAddresses: Addresses of instances whose agents connect to the controller; others
    ///   use their configured host (`0.0.0.0` when unknown).
    /// - Returns: The table by node name (for repeated names, the last node wins, as in Zeek's table).
    public func clusterEndpoints(
        instanceAddresses: [String: Broker.Address] = [:]
    ) -> [String: Supervisor.ClusterEndpoint] {
        var table: [String: Supervisor.ClusterEndpoint] = [:]
        for node in nodes {
            table[node.name] = Supervisor.ClusterEndpoint(
                role: node.role,
                host: address(of: node.instance, instanceAddresses),
                p: node.p ?? .unset,
                interface: node.interface,
                metricsPort: node.metricsPort
            )
        }
        return table
    }

    private func address(of instance: String, _ overrides: [String: Broker.Address]) -> Broker.Address {
        overrides[instance] ?? instances.first { $0.name == instance }?.host ?? .ipv4Unspecified
    }

    /// The `Cluster::nodes` table a supervised node builds from the cluster table (`supervisor.zeek`).
    ///
    /// Each endpoint becomes a `Cluster::Node` of the same role with its host and port; every node other
    /// than a manager gets `$manager` naming the manager (with several, the last one in name order); the
    /// metrics port is copied, the interface is not. A role of `NONE` takes the type of the node before it
    /// (Zeek's quirk). `manager_is_logger` is `false` when there is a logger. Nodes are in name order.
    ///
    /// - Parameter instanceAddresses: Addresses of instances whose agents connect to the controller.
    /// - Returns: The layout.
    public func clusterLayout(instanceAddresses: [String: Broker.Address] = [:]) -> Cluster.Layout {
        let table = clusterEndpoints(instanceAddresses: instanceAddresses)
        let names = table.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let manager = names.last { table[$0]?.role == .manager }
        var layout = Cluster.Layout(managerIsLogger: !table.values.contains { $0.role == .logger })
        var previousType = Cluster.NodeType.none
        for name in names {
            guard let endpoint = table[name] else { continue }
            let type = endpoint.role == .none ? previousType : endpoint.role.nodeType
            previousType = type
            var node = Cluster.Node(nodeType: type, ip: endpoint.host, p: endpoint.p, metricsPort: endpoint.metricsPort)
            if type != .manager { node.manager = manager }
            layout.append(Cluster.NamedNode(name: name, node: node))
        }
        return layout
    }
}

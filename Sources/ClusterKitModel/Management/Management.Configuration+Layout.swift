extension Management.Configuration {
    /// The configuration a Management controller deploys for a cluster layout, all of it on one instance.
    ///
    /// Each manager, logger, proxy and worker of the layout becomes a node of `instance` with its role,
    /// Broker port (none when the layout's is 0), metrics port and interface. Nodes of other types (the
    /// `control` node ZeekControl adds for itself, time machines) are not run by an agent and are left out,
    /// as the Management framework has no role for them.
    ///
    /// - Parameters:
    ///   - layout: The cluster layout.
    ///   - instance: The instance that runs every node (Zeek's agents default to `agent-<hostname>`).
    ///   - host: The instance's address; default `127.0.0.1`.
    ///   - id: The configuration's id; default a new one.
    public init(
        layout: Cluster.Layout,
        instance: String,
        host: Broker.Address = .ipv4Loopback,
        id: String = Management.Configuration.makeID()
    ) {
        let nodes = layout.nodes.compactMap { named -> Management.Node? in
            let role: Supervisor.ClusterRole
            switch named.node.nodeType {
            case .manager: role = .manager
            case .logger: role = .logger
            case .proxy: role = .proxy
            case .worker: role = .worker
            case .none, .control, .timeMachine: return nil
            }
            return Management.Node(
                name: named.name,
                instance: instance,
                role: role,
                p: named.node.p.number == 0 ? nil : named.node.p,
                interface: named.node.interface,
                metricsPort: named.node.metricsPort
            )
        }
        self.init(id: id, instances: [Management.Instance(name: instance, host: host)], nodes: nodes)
    }
}

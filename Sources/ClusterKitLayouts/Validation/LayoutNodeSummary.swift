import ClusterKitModel

/// One node of a loaded layout as `zeekctl nodes` lists it, the same shape for every format.
public struct LayoutNodeSummary: Sendable, Hashable {
    /// The node's name.
    public var name: String
    /// The type: ZeekControl's word for node.cfg (`standalone`, `worker`, ...), else Zeek's (`WORKER`).
    public var type: String
    /// The host as written (node.cfg), the address (layout scripts), or the instance (INI).
    public var host: String
    /// The address, when known.
    public var address: String?
    /// The Broker port number, when the node has one.
    public var port: Int?
    /// The metrics port number, when the node has one.
    public var metricsPort: Int?
    /// The capture interface, when set.
    public var interface: String?
    /// The manager the node uses, when it has one.
    public var manager: String?
    /// For node.cfg: every ZeekControl attribute (`addr`, `count`, `env_vars`, ...), sorted by key.
    public var zeekctlAttributes: [ZeekctlAttribute]?
    /// For node.cfg: the line ZeekControl's `nodes` command prints.
    public var zeekctlDescription: String?

    /// One ZeekControl node attribute.
    public struct ZeekctlAttribute: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value as ZeekControl prints it.
        public var value: String
    }
}

extension LoadedLayout {
    /// The nodes as `zeekctl nodes` lists them.
    ///
    /// For node.cfg: ZeekControl's expanded nodes in the order its `nodes` command prints (standalone,
    /// loggers, manager, proxies, workers; file order within a type), without the `control` entry. For a
    /// layout script or a zeek.conf: its entries in file order, with the host name where the layout names
    /// hosts (a host Zeek looks up by name has no address here), and for zeek.conf workers their capture
    /// interface. For INI: the READY configuration's nodes (or the staged
    /// one when the controller rejects it) in name order, with the instance as host.
    public var nodeSummaries: [LayoutNodeSummary] {
        if let cluster = zeekctlCluster {
            let manager = cluster.manager?.name
            return cluster.nodes.map { node in
                LayoutNodeSummary(
                    name: node.name,
                    type: node.type.rawValue,
                    host: node.host,
                    address: node.address?.description,
                    port: node.port,
                    metricsPort: node.metricsPort,
                    interface: node.interface.isEmpty ? nil : node.interface,
                    manager: node.type == .proxy || node.type == .worker ? manager : nil,
                    zeekctlAttributes: node.zeekctlAttributes.map { .init(key: $0.key, value: $0.value) },
                    zeekctlDescription: node.zeekctlDescription
                )
            }
        }
        if let configuration = readyConfiguration ?? self.configuration {
            let endpoints = configuration.clusterEndpoints()
            let managerName = layout.nodes.first { $0.node.nodeType == .manager }?.name
            return configuration.nodes.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }.map { node in
                let host = endpoints[node.name]?.host
                return LayoutNodeSummary(
                    name: node.name,
                    type: node.role.shortName,
                    host: node.instance,
                    address: host.flatMap { $0 == .ipv4Unspecified ? nil : $0.description },
                    port: node.p.map { Int($0.number) },
                    metricsPort: node.metricsPort.map { Int($0.number) },
                    interface: node.interface,
                    manager: node.role == .manager ? nil : managerName
                )
            }
        }
        let interfaces = zeekConf?.workerInterfaces ?? [:]
        return layout.nodes.map { entry in
            let node = entry.node
            return LayoutNodeSummary(
                name: entry.name,
                type: String(node.nodeType.rawValue.dropFirst("Cluster::".count)),
                host: nodeHosts[entry.name] ?? node.ip.description,
                address: nodeHosts[entry.name] != nil && node.ip == .ipv4Unspecified ? nil : node.ip.description,
                port: node.p.number == 0 ? nil : Int(node.p.number),
                metricsPort: node.metricsPort.map { Int($0.number) },
                interface: node.interface ?? interfaces[entry.name],
                manager: node.manager
            )
        }
    }
}

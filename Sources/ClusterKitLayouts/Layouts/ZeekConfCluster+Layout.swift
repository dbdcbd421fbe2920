public import ClusterKitModel

extension ZeekConfCluster {
    /// The `Cluster::nodes` the generated layout defines, as Zeek loads it.
    ///
    /// A host without an address (Zeek looks its name up when it loads the layout) gives its nodes the
    /// unspecified address `0.0.0.0`; ``nodeHosts`` tells the hosts apart. A port outside 0-65535 is left
    /// unset (and reported by ``issues``).
    public var layout: Cluster.Layout {
        var layout = Cluster.Layout(managerIsLogger: !nodes.contains { $0.nodeType == .logger })
        let addresses = hosts.map { $0.address.flatMap(Self.brokerAddress) }
        for node in nodes {
            var record = Cluster.Node(nodeType: node.nodeType, ip: addresses[node.host] ?? .ipv4Unspecified)
            if let port = node.port, let number = UInt16(exactly: port) { record.p = Broker.Port(number, .tcp) }
            if let number = UInt16(exactly: node.metricsPort) { record.metricsPort = Broker.Port(number, .tcp) }
            if node.nodeType != .manager { record.manager = "manager" }
            record.interface = nil
            layout.append(Cluster.NamedNode(name: node.name, node: record))
        }
        return layout
    }

    /// Where each node comes from: the line of `manager`, `loggers`, `proxies` or the interface (the first
    /// node when a name repeats).
    public var locations: [String: SourceLocation] {
        var locations: [String: SourceLocation] = [:]
        locations.reserveCapacity(nodes.count)
        for node in nodes where locations[node.name] == nil { locations[node.name] = location(of: node) }
        return locations
    }

    /// The host each node runs on: the host name for a host file, else the address.
    public var nodeHosts: [String: String] {
        var names: [String: String] = [:]
        names.reserveCapacity(nodes.count)
        for node in nodes where names[node.name] == nil {
            let host = hosts[node.host]
            names[node.name] = host.hostName ?? host.address ?? "127.0.0.1"
        }
        return names
    }

    /// The capture source (`interface`) of each worker.
    public var workerInterfaces: [String: String] {
        var sources: [String: String] = [:]
        for node in nodes where node.nodeType == .worker && sources[node.name] == nil {
            sources[node.name] = hosts[node.host].interfaces.first { $0.name == node.interface }?.source
        }
        return sources
    }

    /// The line of the input a node comes from.
    ///
    /// - Parameter node: One of ``nodes``.
    /// - Returns: The file and line.
    public func location(of node: ZeekLayoutGenerator.Node) -> SourceLocation {
        let host = hosts[node.host]
        let line: Int?
        switch node.nodeType {
        case .manager: line = host.keyLines["manager"]
        case .logger: line = host.keyLines["loggers"]
        case .proxy: line = host.keyLines["proxies"]
        default: line = host.interfaces.first { $0.name == node.interface }?.line
        }
        return SourceLocation(file: host.file, line: line)
    }

    /// The address Zeek makes of an address as written (`[IPv6]` without its brackets).
    static func brokerAddress(_ text: String) -> Broker.Address? {
        if text.hasPrefix("["), text.hasSuffix("]") { return Broker.Address(String(text.dropFirst().dropLast())) }
        return Broker.Address(text)
    }

    /// What the generator writes but Zeek cannot run, each reported on the line that causes it.
    ///
    /// A node name twice (across hosts), two listeners on one port of one address, a port outside 0-65535.
    func clusterKitIssues() -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        // Host identities: the address as Zeek reads it, else the host name (looked up by Zeek).
        let identities = hosts.map { host in
            host.address.flatMap(Self.brokerAddress)?.description ?? "host " + (host.hostName ?? "")
        }
        var firstByName: [String: Int] = [:]
        firstByName.reserveCapacity(nodes.count)
        // Hosts with the same identity share a number; a listener is that number and a port, in one Int.
        var identityNumbers: [String: Int] = [:]
        let hostNumbers = identities.map { identity in
            if let known = identityNumbers[identity] { return known }
            identityNumbers[identity] = identityNumbers.count
            return identityNumbers.count - 1
        }
        var listeners: [Int: (node: Int, isMetrics: Bool)] = [:]
        listeners.reserveCapacity(nodes.count * 2)
        func keyLocation(_ node: ZeekLayoutGenerator.Node, _ key: String) -> SourceLocation {
            let host = hosts[node.host]
            guard let line = host.keyLines[key] else { return location(of: node) }
            return SourceLocation(file: host.file, line: line)
        }
        func describe(_ index: Int) -> String {
            let node = nodes[index]
            return "node '\(node.name)' (\(location(of: node)))"
        }
        for index in nodes.indices {
            let node = nodes[index]
            if let first = firstByName[node.name] {
                issues.append(
                    .error(
                        .duplicateNode,
                        "node '\(node.name)' is made twice, also by \(describe(first)): Zeek cannot load a layout "
                            + "with a node name twice (set cluster_node_prefix to tell the hosts' nodes apart)",
                        at: keyLocation(node, "cluster_node_prefix"),
                        node: node.name
                    )
                )
            } else {
                firstByName[node.name] = index
            }
            let ports: [(port: Int, isMetrics: Bool)] =
                (node.port.map { [($0, false)] } ?? []) + (node.metricsPort == 0 ? [] : [(node.metricsPort, true)])
            for (port, isMetrics) in ports {
                let kind = isMetrics ? "metrics port" : "port"
                let key = isMetrics ? "metrics_port" : "port"
                guard (0...65535).contains(port) else {
                    issues.append(
                        .error(
                            .portOutOfRange,
                            "\(kind) \(port)/tcp of node '\(node.name)' is outside 0-65535: Zeek cannot load the "
                                + "layout",
                            at: keyLocation(node, key),
                            node: node.name,
                            key: key
                        )
                    )
                    continue
                }
                let listener = hostNumbers[node.host] << 17 | port
                if let holder = listeners[listener] {
                    let holderKind = holder.isMetrics ? "metrics port" : "port"
                    issues.append(
                        .error(
                            .portConflict,
                            "\(kind) \(port)/tcp of node '\(node.name)' on \(identities[node.host]) is already the "
                                + "\(holderKind) of \(describe(holder.node)): Zeek cannot run both",
                            at: keyLocation(node, key),
                            node: node.name,
                            key: key
                        )
                    )
                } else {
                    listeners[listener] = (index, isMetrics)
                }
            }
        }
        return issues
    }
}

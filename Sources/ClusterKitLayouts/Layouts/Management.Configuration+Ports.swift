public import ClusterKitModel

extension Management.Configuration {
    /// The configuration with the ports the controller assigns when it builds the READY configuration.
    ///
    /// Broker ports (when ``Management/ControllerOptions/autoAssignBrokerPorts``): managers, loggers and
    /// proxies without a port, sorted by (instance, role: manager, logger, proxy, name), get ports from one
    /// counter across all instances starting at ``Management/ControllerOptions/firstBrokerPort``, skipping
    /// every explicit node port and every agent listen port. Workers get none.
    ///
    /// Metrics ports (when ``Management/ControllerOptions/autoAssignMetricsPorts``): every node without one
    /// (workers last in the sort), from one counter per instance address starting at
    /// ``Management/ControllerOptions/firstMetricsPort``, skipping agent ports, that address's Broker ports
    /// and its explicit metrics ports.
    ///
    /// - Note: Derived from the controller's code (LAYOUTS.md §10.3), not checked against a running controller.
    /// - Complexity: O(n log n) in the number of nodes plus the ports skipped, whatever the number of instances.
    /// - Parameters:
    ///   - options: The controller's settings.
    ///   - instanceAddresses: Addresses of instances whose agents connect to the controller (the controller
    ///     uses the address it sees them at); others use their configured host.
    /// - Returns: The configuration with ports filled in.
    public func assigningPorts(
        options: Management.ControllerOptions = .standard,
        instanceAddresses: [String: Broker.Address] = [:]
    ) -> Management.Configuration {
        var result = self
        func rank(_ role: Supervisor.ClusterRole) -> Int {
            switch role {
            case .manager: 0
            case .logger: 1
            case .proxy: 2
            case .worker: 3
            case .none: 4
            }
        }
        let order = nodes.indices.sorted { left, right in
            let a = nodes[left]
            let b = nodes[right]
            if a.instance != b.instance { return a.instance.utf8.lexicographicallyPrecedes(b.instance.utf8) }
            if rank(a.role) != rank(b.role) { return rank(a.role) < rank(b.role) }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        let agentPorts = Set(instances.compactMap { $0.listenPort?.number })
        if options.autoAssignBrokerPorts {
            var used = Set(nodes.compactMap { $0.p?.number }).union(agentPorts)
            var next = Int(options.firstBrokerPort.number)
            for index in order
            where result.nodes[index].p == nil && [.manager, .logger, .proxy].contains(nodes[index].role) {
                while used.contains(UInt16(clamping: next)) && next <= 65535 { next += 1 }
                guard next <= 65535 else { break }
                result.nodes[index].p = .tcp(UInt16(next))
                used.insert(UInt16(next))
                next += 1
            }
        }
        if options.autoAssignMetricsPorts {
            // One dictionary lookup per node (the first instance of a name wins, as `first` would), not a
            // search of the instances for every node.
            var configuredHosts: [String: Broker.Address] = [:]
            for instance in instances where configuredHosts[instance.name] == nil {
                configuredHosts[instance.name] = instance.host
            }
            func address(_ instance: String) -> Broker.Address {
                instanceAddresses[instance] ?? configuredHosts[instance] ?? .ipv4Unspecified
            }
            var used: [Broker.Address: Set<UInt16>] = [:]
            var next: [Broker.Address: Int] = [:]
            for node in result.nodes {
                let host = address(node.instance)
                if let port = node.p { used[host, default: agentPorts].insert(port.number) }
                if let port = node.metricsPort { used[host, default: agentPorts].insert(port.number) }
            }
            for index in order where result.nodes[index].metricsPort == nil {
                let host = address(nodes[index].instance)
                var candidate = next[host] ?? Int(options.firstMetricsPort.number)
                // Each host's set is changed in place: a copy per node would make this quadratic.
                while candidate <= 65535 && used[host, default: agentPorts].contains(UInt16(candidate)) {
                    candidate += 1
                }
                guard candidate <= 65535 else {
                    // Out of ports on this host: later nodes need not search again.
                    next[host] = candidate
                    continue
                }
                result.nodes[index].metricsPort = .tcp(UInt16(candidate))
                used[host, default: agentPorts].insert(UInt16(candidate))
                next[host] = candidate + 1
            }
        }
        return result
    }
}

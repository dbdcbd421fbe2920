/// Checks across the nodes of a `Cluster::nodes` table that neither ZeekControl, `zeek-client`, the
/// Management controller nor Zeek make, plus Zeek's startup checks that can be made without running it.
enum CrossNodeRules {
    /// A listening endpoint that is not a node of the table (ZeroMQ's XPUB/XSUB, the WebSocket server).
    struct Endpoint: Sendable {
        var label: String
        var host: String
        var port: Int
    }

    /// What the checks need besides the table.
    struct Context: Sendable {
        /// The file, for issues without a node.
        var file: String
        /// Where each node is defined.
        var locations: [String: SourceLocation] = [:]
        /// A host identity per node, when the address alone is not it (unresolved host names).
        var hostKeys: [String: String] = [:]
        /// Host identities aligned with the layout's entries (faster than ``hostKeys`` when given).
        var entryHostKeys: [String]?
        /// Locations aligned with the layout's entries (faster than ``locations`` when given).
        var entryLocations: [SourceLocation]?
        /// Other listeners to compare ports with.
        var endpoints: [Endpoint] = []
        /// Nodes whose port could not be evaluated (no "missing port" warning for them).
        var unevaluatedPorts: Set<String> = []
        /// Whether a manager is already required by the format's own rules (node.cfg).
        var managerCheckedElsewhere = false
        /// The Zeek version the layout is for (`nil`: Bro-era `.bro` file, no time machine check).
        var zeekVersion: ZeekVersion? = .current
    }

    static func isListenedTo(_ type: Cluster.NodeType) -> Bool {
        switch type {
        case .manager, .logger, .proxy: true
        default: false
        }
    }

    static func check(_ layout: Cluster.Layout, _ context: Context) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        let fileLocation = SourceLocation(file: context.file)
        let nodes = layout.nodes
        func location(_ name: String) -> SourceLocation {
            if let aligned = context.entryLocations, let index = nodes.firstIndex(where: { $0.name == name }),
                index < aligned.count
            {
                return aligned[index]
            }
            return context.locations[name] ?? fileLocation
        }

        // Repeated names.
        var seen: [String: Cluster.NodeType] = [:]
        seen.reserveCapacity(nodes.count)
        var managerNames: Set<String> = []
        var managerCount = 0
        var loggerCount = 0
        var memberCount = 0
        for index in nodes.indices {
            let name = nodes[index].name
            let type = nodes[index].node.nodeType
            switch type {
            case .manager:
                managerCount += 1
                managerNames.insert(name)
            case .logger:
                loggerCount += 1
                memberCount += 1
            case .proxy, .worker: memberCount += 1
            default: break
            }
            if let firstType = seen[name] {
                if name == "control" && (firstType == .control || type == .control) {
                    continue  // node.cfg reports this as a reserved name
                }
                issues.append(
                    .error(
                        .duplicateNode,
                        "node '\(name)' is defined more than once in Cluster::nodes (the last definition wins)",
                        at: location(name),
                        node: name
                    )
                )
            } else {
                seen[name] = type
            }
        }

        // Ports: Broker and metrics ports of every node and the extra endpoints, per host.
        struct HostPort: Hashable {
            var host: String
            var port: UInt16
        }
        struct Listener {
            /// An endpoint's label, or the node and whether it is its metrics port.
            var endpoint: String?
            var node: String
            var isMetrics: Bool
            var port: Broker.Port

            var label: String {
                endpoint ?? "\(isMetrics ? "metrics port" : "Broker port") \(port) of node '\(node)'"
            }
        }
        var listeners: [HostPort: Listener] = [:]
        listeners.reserveCapacity(layout.nodes.count * 2 + context.endpoints.count)
        for endpoint in context.endpoints where (0...65535).contains(endpoint.port) {
            listeners[HostPort(host: endpoint.host, port: UInt16(endpoint.port))] = Listener(
                endpoint: endpoint.label,
                node: "",
                isMetrics: false,
                port: .tcp(UInt16(endpoint.port))
            )
        }
        func listen(_ entry: Cluster.NamedNode, _ host: String, _ port: Broker.Port, isMetrics: Bool) {
            guard port.number != 0 else { return }
            let key = HostPort(host: host, port: port.number)
            if let other = listeners[key] {
                if other.endpoint == nil && other.node == entry.name && other.isMetrics == isMetrics { return }
                let kind = isMetrics ? "metrics port" : "Broker port"
                issues.append(
                    .error(
                        .portConflict,
                        "\(kind) \(port) of node '\(entry.name)' on \(host) is already used: \(other.label)",
                        at: location(entry.name),
                        node: entry.name,
                        key: isMetrics ? "metrics_port" : "p"
                    )
                )
            } else {
                listeners[key] = Listener(endpoint: nil, node: entry.name, isMetrics: isMetrics, port: port)
            }
        }
        for index in nodes.indices {
            let host: String
            if let aligned = context.entryHostKeys, index < aligned.count {
                host = aligned[index]
            } else {
                host = context.hostKeys[nodes[index].name] ?? nodes[index].node.ip.description
            }
            listen(nodes[index], host, nodes[index].node.p, isMetrics: false)
            if let metrics = nodes[index].node.metricsPort { listen(nodes[index], host, metrics, isMetrics: true) }
        }

        // Managers.
        if managerCount == 0 && memberCount > 0 && !context.managerCheckedElsewhere {
            issues.append(
                .error(
                    .clusterWithoutManager,
                    "the cluster has \(memberCount) logger, proxy and worker node(s) but no manager",
                    at: fileLocation
                )
            )
        }
        var checkedManager: String?
        for index in nodes.indices {
            let type = nodes[index].node.nodeType
            if let manager = nodes[index].node.manager {
                if manager == checkedManager { continue }
                let entry = nodes[index]
                if seen[manager] == nil {
                    issues.append(
                        .error(
                            .unknownManager,
                            "node '\(entry.name)' names manager '\(manager)', which is not a node of the cluster",
                            at: location(entry.name),
                            node: entry.name,
                            key: "manager"
                        )
                    )
                } else if managerNames.contains(manager) {
                    checkedManager = manager
                } else {
                    issues.append(
                        .error(
                            .managerNotAManager,
                            "node '\(entry.name)' names manager '\(manager)', which is a "
                                + "\(seen[manager]?.rawValue ?? "node"), not a Cluster::MANAGER",
                            at: location(entry.name),
                            node: entry.name,
                            key: "manager"
                        )
                    )
                }
            } else if (type == .proxy || type == .worker) && managerCount > 0 {
                let entry = nodes[index]
                issues.append(
                    .warning(
                        .missingManagerField,
                        "\(type == .proxy ? "proxy" : "worker") '\(entry.name)' has no $manager: with the "
                            + "Broker backend it does not connect to the manager",
                        at: location(entry.name),
                        node: entry.name,
                        key: "manager"
                    )
                )
            }
        }

        // manager_is_logger against the loggers present.
        if loggerCount > 0 && layout.managerIsLogger {
            issues.append(
                .warning(
                    .managerIsLoggerWithLoggers,
                    "Cluster::manager_is_logger is T although the cluster has \(loggerCount) logger(s): the "
                        + "manager writes logs too",
                    at: fileLocation,
                    key: "manager_is_logger"
                )
            )
        } else if loggerCount == 0 && !layout.managerIsLogger && managerCount > 0 && memberCount > 0 {
            issues.append(
                .error(
                    .noLogWriter,
                    "Cluster::manager_is_logger is F but the cluster has no logger: no node writes logs (ZeroMQ "
                        + "fails with 'No ZeroMQ connect_log_endpoints configured')",
                    at: fileLocation,
                    key: "manager_is_logger"
                )
            )
        }

        // Nodes others connect to need a port.
        if managerCount > 0 && memberCount > 0 {
            for index in nodes.indices where isListenedTo(nodes[index].node.nodeType) && nodes[index].node.p.number == 0
            {
                let entry = nodes[index]
                guard !context.unevaluatedPorts.contains(entry.name) else { continue }
                issues.append(
                    .warning(
                        .missingPort,
                        "node '\(entry.name)' (\(entry.node.nodeType.rawValue)) has no port, but other nodes "
                            + "connect to it",
                        at: location(entry.name),
                        node: entry.name,
                        key: "p"
                    )
                )
            }
        }

        // Zeek 7.1 removed Cluster::TIME_MACHINE.
        if let version = context.zeekVersion, version >= ZeekVersion(7, 1) {
            for entry in nodes where entry.node.nodeType == .timeMachine {
                issues.append(
                    .error(
                        .timeMachineRemoved,
                        "node '\(entry.name)' is a Cluster::TIME_MACHINE, which Zeek 7.1 removed: Zeek \(version) "
                            + "rejects this layout",
                        at: location(entry.name),
                        node: entry.name,
                        key: "node_type"
                    )
                )
            }
        }
        return issues
    }
}

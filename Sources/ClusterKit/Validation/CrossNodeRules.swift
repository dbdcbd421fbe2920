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
        /// Other listeners to compare ports with.
        var endpoints: [Endpoint] = []
        /// Nodes whose port could not be evaluated (no "missing port" warning for them).
        var unevaluatedPorts: Set<String> = []
        /// Whether a manager is already required by the format's own rules (node.cfg).
        var managerCheckedElsewhere = false
        /// The Zeek version the layout is for (`nil`: Bro-era `.bro` file, no time machine check).
        var zeekVersion: ZeekVersion? = .current
    }

    static func check(_ layout: Cluster.Layout, _ context: Context) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        let fileLocation = SourceLocation(file: context.file)
        func location(_ name: String) -> SourceLocation { context.locations[name] ?? fileLocation }

        // Repeated names.
        var seen: [String: Cluster.NodeType] = [:]
        for entry in layout.nodes {
            if let firstType = seen[entry.name] {
                if entry.name == "control" && (firstType == .control || entry.node.nodeType == .control) {
                    continue  // node.cfg reports this as a reserved name
                }
                issues.append(
                    .error(
                        .duplicateNode,
                        "node '\(entry.name)' is defined more than once in Cluster::nodes (the last definition wins)",
                        at: location(entry.name),
                        node: entry.name
                    )
                )
            } else {
                seen[entry.name] = entry.node.nodeType
            }
        }

        // Ports: Broker and metrics ports of every node and the extra endpoints, per host.
        struct Listener {
            var label: String
            var node: String?
        }
        var listeners: [String: Listener] = [:]
        listeners.reserveCapacity(layout.nodes.count * 2 + context.endpoints.count)
        for endpoint in context.endpoints {
            listeners["\(endpoint.host) \(endpoint.port)"] = Listener(label: endpoint.label, node: nil)
        }
        for entry in layout.nodes {
            let host = context.hostKeys[entry.name] ?? entry.node.ip.description
            let candidates: [(String, Broker.Port?)] = [
                ("Broker port", entry.node.p), ("metrics port", entry.node.metricsPort),
            ]
            for (kind, port) in candidates {
                guard let port, port.number != 0 else { continue }
                let key = "\(host) \(port.number)"
                let label = "\(kind) \(port) of node '\(entry.name)'"
                if let other = listeners[key] {
                    if other.node == entry.name && other.label.hasPrefix(kind) { continue }
                    issues.append(
                        .error(
                            .portConflict,
                            "\(label) on \(host) is already used: \(other.label)",
                            at: location(entry.name),
                            node: entry.name,
                            key: kind == "Broker port" ? "p" : "metrics_port"
                        )
                    )
                } else {
                    listeners[key] = Listener(label: label, node: entry.name)
                }
            }
        }

        // Managers.
        let managers = layout.nodes.filter { $0.node.nodeType == .manager }
        let managerNames = Set(managers.map(\.name))
        let others = layout.nodes.filter { [.logger, .proxy, .worker].contains($0.node.nodeType) }
        if managers.isEmpty && !others.isEmpty && !context.managerCheckedElsewhere {
            issues.append(
                .error(
                    .clusterWithoutManager,
                    "the cluster has \(others.count) logger, proxy and worker node(s) but no manager",
                    at: fileLocation
                )
            )
        }
        for entry in layout.nodes {
            let type = entry.node.nodeType
            if let manager = entry.node.manager {
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
                } else if !managerNames.contains(manager) {
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
            } else if (type == .proxy || type == .worker) && !managers.isEmpty {
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
        let loggers = layout.nodes.filter { $0.node.nodeType == .logger }
        if !loggers.isEmpty && layout.managerIsLogger {
            issues.append(
                .warning(
                    .managerIsLoggerWithLoggers,
                    "Cluster::manager_is_logger is T although the cluster has \(loggers.count) logger(s): the "
                        + "manager writes logs too",
                    at: fileLocation,
                    key: "manager_is_logger"
                )
            )
        } else if loggers.isEmpty && !layout.managerIsLogger && !managers.isEmpty && !others.isEmpty {
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
        if !managers.isEmpty && !others.isEmpty {
            for entry in layout.nodes where [.manager, .logger, .proxy].contains(entry.node.nodeType) {
                guard entry.node.p == .unset || entry.node.p.number == 0,
                    !context.unevaluatedPorts.contains(entry.name)
                else { continue }
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
            for entry in layout.nodes where entry.node.nodeType == .timeMachine {
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

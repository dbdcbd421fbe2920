import ClusterKitModel

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
        /// Host identities aligned with the layout's entries, as indexes into ``hostNames`` (faster than
        /// ``hostKeys`` when given).
        var entryHosts: [Int]?
        /// The host names ``entryHosts`` index.
        var hostNames: [String] = []
        /// Whether names are known to be unique apart from `control` (node.cfg checks them itself).
        var namesAreUnique = false
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
        /// Whether to compare ports (off when the format checks them itself, on its own lines: zeek.conf).
        var checksPorts = true
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
        // The first entry of each name, built when a location is first needed (most layouts need none), so
        // that many issues cost one lookup each rather than a scan of the table each.
        var firstEntry: [String: Int]?
        func location(_ name: String) -> SourceLocation {
            if let aligned = context.entryLocations {
                if firstEntry == nil {
                    var entries: [String: Int] = [:]
                    entries.reserveCapacity(nodes.count)
                    for index in nodes.indices where entries[nodes[index].name] == nil {
                        entries[nodes[index].name] = index
                    }
                    firstEntry = entries
                }
                if let index = firstEntry?[name], index < aligned.count { return aligned[index] }
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
            if context.namesAreUnique { continue }
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
        // Every listener as (host, port, order); sorting groups equal host and port without hashing.
        var hostNames = context.hostNames
        var hostIDs: [String: Int] = [:]
        for (index, name) in hostNames.enumerated() { hostIDs[name] = index }
        func hostID(_ name: String) -> Int {
            if let known = hostIDs[name] { return known }
            hostNames.append(name)
            hostIDs[name] = hostNames.count - 1
            return hostNames.count - 1
        }
        struct Listener {
            var key: Int  // host * 65536 + port
            var order: Int
            var entry: Int  // index into nodes, or -1 - endpoint index
            var isMetrics: Bool
        }
        var listenersByKey: [Listener] = []
        listenersByKey.reserveCapacity(nodes.count * 2 + context.endpoints.count)
        for (index, endpoint) in context.endpoints.enumerated() where (0...65535).contains(endpoint.port) {
            let key = hostID(endpoint.host) << 16 | endpoint.port
            listenersByKey.append(Listener(key: key, order: listenersByKey.count, entry: -1 - index, isMetrics: false))
        }
        for index in nodes.indices where context.checksPorts {
            let host: Int
            if let aligned = context.entryHosts, index < aligned.count {
                host = aligned[index]
            } else {
                host = hostID(context.hostKeys[nodes[index].name] ?? nodes[index].node.ip.description)
            }
            let port = nodes[index].node.p.number
            if port != 0 {
                listenersByKey.append(
                    Listener(key: host << 16 | Int(port), order: listenersByKey.count, entry: index, isMetrics: false)
                )
            }
            if let metrics = nodes[index].node.metricsPort?.number, metrics != 0 {
                listenersByKey.append(
                    Listener(key: host << 16 | Int(metrics), order: listenersByKey.count, entry: index, isMetrics: true)
                )
            }
        }
        listenersByKey.sort { ($0.key, $0.order) < ($1.key, $1.order) }
        func label(_ listener: Listener) -> String {
            if listener.entry < 0 { return context.endpoints[-1 - listener.entry].label }
            let node = nodes[listener.entry]
            let port = listener.isMetrics ? (node.node.metricsPort ?? .unset) : node.node.p
            return "\(listener.isMetrics ? "metrics port" : "Broker port") \(port) of node '\(node.name)'"
        }
        var conflicts: [(order: Int, issue: ValidationIssue)] = []
        var groupStart = 0
        for position in listenersByKey.indices {
            if listenersByKey[position].key != listenersByKey[groupStart].key { groupStart = position }
            guard position != groupStart, listenersByKey[position].entry >= 0 else { continue }
            let holder = listenersByKey[groupStart]
            let listener = listenersByKey[position]
            let name = nodes[listener.entry].name
            if holder.entry >= 0 && nodes[holder.entry].name == name && holder.isMetrics == listener.isMetrics {
                continue
            }
            let kind = listener.isMetrics ? "metrics port" : "Broker port"
            let port =
                listener.isMetrics ? (nodes[listener.entry].node.metricsPort ?? .unset) : nodes[listener.entry].node.p
            conflicts.append(
                (
                    listener.order,
                    .error(
                        .portConflict,
                        "\(kind) \(port) of node '\(name)' on \(hostNames[listener.key >> 16]) is already used: "
                            + label(holder),
                        at: location(name),
                        node: name,
                        key: listener.isMetrics ? "metrics_port" : "p"
                    )
                )
            )
        }
        issues += conflicts.sorted { $0.order < $1.order }.map(\.issue)

        // Managers.
        // Zeek loads a layout without a manager (Zeek 9's zeek.conf writes one for worker-only hosts), so
        // this is a warning; the nodes naming the missing manager are part of it, not errors of their own.
        if managerCount == 0 && memberCount > 0 && !context.managerCheckedElsewhere {
            issues.append(
                .warning(
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
                if manager == checkedManager || managerCount == 0 { continue }
                let entry = nodes[index]
                if context.namesAreUnique && seen.isEmpty && !managerNames.contains(manager) {
                    for other in nodes { seen[other.name] = other.node.nodeType }
                }
                if !managerNames.contains(manager) && seen[manager] == nil {
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

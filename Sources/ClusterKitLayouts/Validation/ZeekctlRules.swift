import ClusterKitModel

/// ZeekControl's checks of the whole node set (`_check_nodestore`), and the checks of the generated layout
/// that ZeekControl does not make (port range, node names that break the script, time machines).
enum ZeekctlRules {
    /// Checks a built cluster.
    ///
    /// - Parameters:
    ///   - cluster: The cluster.
    ///   - droppedSections: How many sections were left out for a missing or unknown type; the "no
    ///     nodes", "no manager" and "no proxy" checks are skipped then, since the dropped node may be it.
    ///   - options: The validator's options (machine checks).
    /// - Returns: The issues, ZeekControl's first.
    static func check(
        _ cluster: ZeekctlCluster,
        droppedSections: Int,
        options: LayoutValidator.Options
    ) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        let file = SourceLocation(file: cluster.file)
        let nodes = cluster.nodes
        if nodes.isEmpty {
            if droppedSections == 0 { issues.append(.error(.noNodes, "no nodes found in node config", at: file)) }
            return issues
        }
        let localAddresses = options.localAddresses?.localAddresses()
        var seenManager = false
        var managerOnLocalhost = false
        let localhost: [Broker.Address] = [.ipv4Loopback, .ipv6Loopback]
        let walk = nodes.indices.filter { nodes[$0].type == .manager || nodes[$0].type == .standalone }
            .sorted { (nodes[$0].location.line ?? 0, $0) < (nodes[$1].location.line ?? 0, $1) }
        for index in walk {
            let node = nodes[index]
            switch node.type {
            case .manager:
                if seenManager {
                    issues.append(
                        .error(
                            .multipleManagers,
                            "only one manager can be defined in node config (node '\(node.name)')",
                            at: node.location,
                            node: node.name
                        )
                    )
                    continue
                }
                seenManager = true
                if let address = node.address, localhost.contains(address) { managerOnLocalhost = true }
                issues += notLocal(node, "manager", localAddresses)
            case .standalone:
                issues += notLocal(node, "standalone", localAddresses)
            case .logger, .proxy, .worker:
                break
            }
        }
        if nodes.contains(where: { $0.type == .standalone }) {
            if nodes.count > 1 {
                issues.append(
                    .error(.standaloneWithOtherNodes, "more than one node defined in standalone node config", at: file)
                )
            }
        } else if droppedSections == 0 {
            if !seenManager {
                issues.append(.error(.noManager, "no manager defined in node config", at: file))
            } else if !nodes.contains(where: { $0.type == .proxy }) {
                issues.append(.error(.noProxy, "no proxy defined in node config", at: file))
            }
        }
        if options.checksLocalhostRule && managerOnLocalhost {
            for node in nodes where node.type != .manager {
                guard let address = node.address, !localhost.contains(address) else { continue }
                issues.append(
                    .error(
                        .localhostMix,
                        "all nodes must use localhost/127.0.0.1/::1 when manager uses it (node '\(node.name)' "
                            + "has address \(address))",
                        at: node.location,
                        node: node.name,
                        key: "host"
                    )
                )
            }
        }
        issues += layoutChecks(cluster)
        return issues
    }

    private static func notLocal(
        _ node: ZeekctlNode,
        _ role: String,
        _ localAddresses: [Broker.Address]?
    ) -> [ValidationIssue] {
        guard let localAddresses, let address = node.address, !localAddresses.contains(address) else { return [] }
        return [
            .error(
                .managerNotLocal,
                "must run zeekctl on same machine as the \(role) node. The \(role) node has IP address "
                    + "\(address) and this machine has IP addresses: "
                    + localAddresses.map(\.description).joined(separator: ", "),
                at: node.location,
                node: node.name,
                key: "host"
            )
        ]
    }

    /// Checks of the generated layout that ZeekControl does not make.
    private static func layoutChecks(_ cluster: ZeekctlCluster) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        let settings = cluster.settings
        let nodes = cluster.nodes
        for index in nodes.indices {
            let nameNeedsCheck = nodes[index].name.utf8.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }
            let reserved = nodes[index].name == "control" || nodes[index].name == "time-machine"
            let outOfRange =
                !ZeekctlSettings.portRange.contains(nodes[index].port ?? 0)
                || !ZeekctlSettings.portRange.contains(nodes[index].metricsPort ?? 0)
            guard nameNeedsCheck || reserved || outOfRange else { continue }
            let node = nodes[index]
            if node.name.unicodeScalars.contains(where: {
                $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
            }) {
                issues.append(
                    .error(
                        .invalidNodeName,
                        "node name '\(node.name)' contains a character that breaks the generated "
                            + "cluster-layout.zeek (a '\"', a backslash or a control character)",
                        at: node.location,
                        node: node.name
                    )
                )
            }
            if !cluster.isStandalone,
                node.name == "control" || (node.name == "time-machine" && !settings.timeMachineHost.isEmpty)
            {
                issues.append(
                    .error(
                        .reservedNodeName,
                        "node name '\(node.name)' clashes with the '\(node.name)' entry ZeekControl writes into "
                            + "cluster-layout.zeek",
                        at: node.location,
                        node: node.name
                    )
                )
            }
            for (label, value) in [("port", node.port), ("metrics port", node.metricsPort)]
            where !ZeekctlSettings.portRange.contains(value ?? 0) {
                let value = value ?? 0
                let setting = label == "port" ? "ZeekPort" : "MetricsPort"
                issues.append(
                    .error(
                        .portOutOfRange,
                        "\(label) \(value) of node '\(node.name)' is outside the valid range ("
                            + (value > 65535
                                ? "ZeekControl's \(setting) counter passed 65535)" : "\(setting) is negative)"),
                        at: node.location,
                        node: node.name,
                        key: setting
                    )
                )
            }
        }
        if let control = cluster.controlPort, !ZeekctlSettings.portRange.contains(control) {
            issues.append(
                .error(
                    .portOutOfRange,
                    "port \(control) of the 'control' entry is outside the valid range (ZeekPort "
                        + "\(settings.zeekPort)\(settings.clusterBackend == .zeroMQ ? " + 2 for ZeroMQ" : ""))",
                    at: SourceLocation(file: cluster.file),
                    key: "ZeekPort"
                )
            )
        }
        if settings.useWebSocket && settings.zeekVersion >= ZeekVersion(8, 0),
            !ZeekctlSettings.portRange.contains(settings.webSocketPort)
        {
            issues.append(
                .error(
                    .portOutOfRange,
                    "WebSocketPort \(settings.webSocketPort) is outside the valid range (0-65535)",
                    at: SourceLocation(file: cluster.file),
                    key: "WebSocketPort"
                )
            )
        }
        if !settings.timeMachineHost.isEmpty && settings.zeekVersion >= ZeekVersion(7, 1) && !cluster.isStandalone {
            issues.append(
                .error(
                    .timeMachineRemoved,
                    "TimeMachineHost is set, but Cluster::TIME_MACHINE was removed in Zeek 7.1: Zeek "
                        + "\(settings.zeekVersion) rejects the generated layout",
                    at: SourceLocation(file: cluster.file),
                    key: "TimeMachineHost"
                )
            )
        }
        if cluster.isStandalone, settings.metricsPort == 0, settings.zeekVersion >= ZeekVersion(7, 0),
            settings.zeekVersion < ZeekVersion(8, 0, 5)
        {
            issues.append(
                .warning(
                    .unsupportedSetting,
                    "MetricsPort = 0 makes the ZeekControl of Zeek \(settings.zeekVersion) crash on a standalone "
                        + "node (fixed in 8.0.5); the metrics line is left out, as later versions do",
                    at: SourceLocation(file: cluster.file),
                    key: "MetricsPort"
                )
            )
        }
        return issues
    }
}

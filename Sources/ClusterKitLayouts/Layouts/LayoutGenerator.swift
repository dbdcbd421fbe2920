import ClusterKitModel

/// A generated layout file: its name as ZeekControl writes it and its text.
public struct GeneratedLayout: Sendable, Hashable {
    /// `cluster-layout.zeek` or `standalone-layout.zeek`.
    public var fileName: String
    /// The file's text, byte for byte as ZeekControl writes it (TABs, final newline).
    public var text: String

    /// Creates a generated file.
    ///
    /// - Parameters:
    ///   - fileName: The file name.
    ///   - text: The text.
    public init(fileName: String, text: String) {
        self.fileName = fileName
        self.text = text
    }
}

/// An error thrown when a layout cannot be generated at all.
public struct LayoutGenerationError: Error, Sendable, Hashable {
    /// The kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// The Zeek version is older than the oldest one the generator writes for.
        case unsupportedVersion
        /// The cluster has no manager (or no node), so there is nothing ZeekControl would write.
        case noManager
        /// A node's host has not been resolved to an address.
        case unresolvedAddress
        /// The input is not a node.cfg, so ZeekControl would not generate anything from it.
        case notNodeCfg
        /// The node.cfg has errors; ZeekControl would refuse it.
        case invalidConfiguration
    }

    /// The kind of problem.
    public var code: Code
    /// A one-line text for people.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: The text.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension LayoutGenerationError: CustomStringConvertible {
    /// The message.
    public var description: String { message }
}

/// Writes `cluster-layout.zeek` or `standalone-layout.zeek` exactly as ZeekControl's `make_layout` does,
/// for the Zeek version in the cluster's settings.
///
/// Differences by version (each from that release's ZeekControl): before 5.2 `ZeekPort` defaults to
/// 47760; before 7.0 loggers come before the manager and there are no metrics ports; 7.0 wraps the table
/// in `@pragma push/pop ignore-deprecations`; up to 7.0 workers carry `$interface`; from 7.2 the standalone
/// metrics redef is guarded by `@if`; from 8.0 the WebSocket block is written when `UseWebSocket` is on;
/// 8.1 defaults to ZeroMQ (first port +2) and WebSocket on.
public enum LayoutGenerator: Sendable {
    /// The generated file for a cluster (standalone when it has exactly one node).
    ///
    /// - Parameter cluster: The cluster, built and checked; its addresses must be resolved.
    /// - Returns: The file name and text.
    /// - Throws: ``LayoutGenerationError`` when the version is unsupported, there is no manager, or an
    ///   address is missing.
    public static func generate(_ cluster: ZeekctlCluster) throws -> GeneratedLayout {
        let settings = cluster.settings
        guard settings.zeekVersion >= .oldestSupported else {
            throw LayoutGenerationError(
                .unsupportedVersion,
                "cannot write layouts for Zeek \(settings.zeekVersion) (oldest supported: \(ZeekVersion.oldestSupported))"
            )
        }
        if let unresolved = cluster.nodes.first(where: { $0.address == nil }) {
            throw LayoutGenerationError(
                .unresolvedAddress,
                "host '\(unresolved.host)' of node '\(unresolved.name)' has no address"
            )
        }
        if cluster.isStandalone, let node = cluster.nodes.first {
            return GeneratedLayout(fileName: "standalone-layout.zeek", text: standaloneText(node, settings))
        }
        guard let manager = cluster.manager else {
            throw LayoutGenerationError(.noManager, "no manager defined in node config")
        }
        return GeneratedLayout(fileName: "cluster-layout.zeek", text: clusterText(cluster, manager: manager))
    }

    static func address(_ address: Broker.Address?) -> String {
        guard let address else { return "0.0.0.0" }
        return address.isIPv4 ? address.description : "[\(address)]"
    }

    private static func standaloneText(_ node: ZeekctlNode, _ settings: ZeekctlSettings) -> String {
        let version = settings.zeekVersion
        var text = "# Automatically generated. Do not edit.\n"
        text += "redef Broker::default_port = \(node.port ?? settings.firstLayoutPort)/tcp;\n"
        if version >= ZeekVersion(7, 2) {
            if let metrics = node.metricsPort {
                text += "@if ( getenv(\"ZEEKCTL_DISABLE_LISTEN\") == \"\" )\n"
                text += "redef Telemetry::metrics_port = \(metrics)/tcp;\n"
                text += "@endif\n"
            }
            text += "\n"
        } else if let metrics = node.metricsPort {
            text += "redef Telemetry::metrics_port = \(metrics)/tcp;\n"
        }
        text += "event zeek_init()\n"
        text += "\t{\n"
        text += "\tif ( getenv(\"ZEEKCTL_DISABLE_LISTEN\") == \"\" )\n"
        text += "\t\tBroker::listen();\n"
        text += "\t}\n"
        text += webSocketBlock(settings)
        return text
    }

    private static func clusterText(_ cluster: ZeekctlCluster, manager: ZeekctlNode) -> String {
        let settings = cluster.settings
        let version = settings.zeekVersion
        let pragma = version >= ZeekVersion(7, 0) && version < ZeekVersion(7, 1)
        let writesInterface = version < ZeekVersion(7, 1)
        var text = "# Automatically generated. Do not edit.\n"
        text.reserveCapacity(128 * (cluster.nodes.count + 8))
        var formatted: [Broker.Address: String] = [:]
        func cachedAddress(_ value: Broker.Address?) -> String {
            guard let value else { return "0.0.0.0" }
            if let known = formatted[value] { return known }
            let text = address(value)
            formatted[value] = text
            return text
        }
        text += "redef Cluster::manager_is_logger = \(cluster.nodes.contains { $0.type == .logger } ? "F" : "T");\n"
        if pragma { text += "@pragma push ignore-deprecations\n" }
        text += "redef Cluster::nodes = {\n"
        text += "\t[\"control\"] = [$node_type=Cluster::CONTROL, $ip=\(address(manager.address)), "
        text += "$p=\(cluster.controlPort ?? settings.firstLayoutPort)/tcp],\n"
        let nodes = cluster.nodes
        for index in cluster.layoutOrder {
            let nodeType = nodes[index].type
            let type: String
            switch nodeType {
            case .manager: type = "MANAGER"
            case .logger: type = "LOGGER"
            case .proxy: type = "PROXY"
            case .worker: type = "WORKER"
            case .standalone: continue
            }
            text += "\t[\""
            text += nodes[index].name
            text += "\"] = [$node_type=Cluster::"
            text += type
            text += ", $ip="
            text += cachedAddress(nodes[index].address)
            text += ", $p="
            text += nodes[index].port.map(String.init) ?? "0"
            text += "/tcp"
            if nodeType == .worker && writesInterface { text += ", $interface=\"\(nodes[index].interface)\"" }
            if nodeType == .proxy || nodeType == .worker {
                text += ", $manager=\""
                text += manager.name
                text += "\""
            }
            if let metrics = nodes[index].metricsPort {
                text += ", $metrics_port="
                text += String(metrics)
                text += "/tcp"
            }
            text += "],\n"
        }
        if !settings.timeMachineHost.isEmpty {
            text += "\t[\"time-machine\"] = [$node_type=Cluster::TIME_MACHINE, $ip=\(settings.timeMachineHost), "
            text += "$p=\(settings.timeMachinePort)],\n"
        }
        text += "};\n"
        if pragma { text += "@pragma pop ignore-deprecations\n" }
        text += webSocketBlock(settings)
        return text
    }

    private static func webSocketBlock(_ settings: ZeekctlSettings) -> String {
        guard settings.useWebSocket, settings.zeekVersion >= ZeekVersion(8, 0) else { return "" }
        return """

            event zeek_init()
            \t{
            \tif ( getenv("ZEEKCTL_DISABLE_LISTEN") == "" && (Cluster::local_node_type() == Cluster::MANAGER || ! Cluster::is_enabled()) )
            \t\t{
            \t\tCluster::listen_websocket([$listen_addr=\(settings.webSocketHost), $listen_port=\(settings.webSocketPort)/tcp]);
            \t\t}
            \t}

            """
    }
}

public import ClusterKitModel

/// Zeek 9's `zeek-cluster-layout-generator`: the nodes it makes of each host and the `cluster-layout.zeek`
/// it writes, byte for byte.
///
/// Nodes are made host by host: the manager (named `manager`, never prefixed), loggers `logger-N`, proxies
/// `proxy-N`, then workers interface by interface (`worker-N`, or `worker-NAME-N` for a named interface);
/// every name but `manager` gets `PREFIX-` when the host has a prefix. Each host counts cluster ports from
/// its first port (manager, loggers and proxies take one; workers none) and metrics ports from its first
/// metrics port (every node takes one; a counter at 0 stays 0).
public enum ZeekLayoutGenerator: Sendable {
    /// What the generator needs of one host.
    public struct Host: Sendable, Hashable {
        /// The host name for the `Cluster::hosts` table, or `nil` when the layout has no hosts table.
        public var name: String?
        /// The address as written in the configuration, or `nil` (a host resolved by name when Zeek loads it).
        public var address: String?
        /// Whether the manager runs here.
        public var hasManager: Bool
        /// The number of loggers.
        public var loggers: Int
        /// The number of proxies.
        public var proxies: Int
        /// The interfaces: name (empty for the unnamed one) and number of workers, in order.
        public var workers: [WorkerGroup]
        /// The node name prefix (empty for none).
        public var prefix: String
        /// The first cluster port.
        public var port: Int
        /// The first metrics port.
        public var metricsPort: Int

        /// Creates a host.
        ///
        /// - Parameters:
        ///   - name: The host name for the hosts table, or `nil`.
        ///   - address: The address as written, or `nil`.
        ///   - hasManager: Whether the manager runs here.
        ///   - loggers: The number of loggers.
        ///   - proxies: The number of proxies.
        ///   - workers: The interfaces and their worker counts.
        ///   - prefix: The node name prefix.
        ///   - port: The first cluster port.
        ///   - metricsPort: The first metrics port.
        public init(
            name: String?,
            address: String?,
            hasManager: Bool,
            loggers: Int,
            proxies: Int,
            workers: [WorkerGroup],
            prefix: String,
            port: Int,
            metricsPort: Int
        ) {
            self.name = name
            self.address = address
            self.hasManager = hasManager
            self.loggers = loggers
            self.proxies = proxies
            self.workers = workers
            self.prefix = prefix
            self.port = port
            self.metricsPort = metricsPort
        }
    }

    /// The workers of one interface.
    public struct WorkerGroup: Sendable, Hashable {
        /// The interface name (empty for a section-less file's interface and a plain `-W` count).
        public var interface: String
        /// The number of workers.
        public var count: Int

        /// Creates a group.
        ///
        /// - Parameters:
        ///   - interface: The interface name.
        ///   - count: The number of workers.
        public init(interface: String, count: Int) {
            self.interface = interface
            self.count = count
        }
    }

    /// One node as the generator writes it.
    public struct Node: Sendable, Hashable {
        /// The node name.
        public var name: String
        /// The node type.
        public var nodeType: Cluster.NodeType
        /// The index of its host.
        public var host: Int
        /// The cluster port, for the manager, loggers and proxies; `nil` for workers.
        public var port: Int?
        /// The metrics port (0 when disabled; may be out of range as the generator writes it).
        public var metricsPort: Int
        /// The interface the worker captures on (its section's name), `nil` for other nodes.
        public var interface: String?
        /// The 0-based index of a worker within its interface.
        public var workerIndex: Int?
    }

    /// The nodes the generator makes of the hosts, in its order.
    ///
    /// - Parameters:
    ///   - hosts: The hosts in order.
    ///   - limit: The most nodes made; the rest are left out (see ``LayoutLimits/maximumNodes``).
    /// - Returns: The nodes.
    public static func nodes(of hosts: [Host], limit: Int = Int.max) -> [Node] {
        var nodes: [Node] = []
        for (index, host) in hosts.enumerated() {
            var port = host.port
            var metrics = host.metricsPort
            let prefix = host.prefix.isEmpty ? "" : host.prefix + "-"
            func add(_ name: String, _ type: Cluster.NodeType, listens: Bool, worker: (String, Int)? = nil) -> Bool {
                guard nodes.count < limit else { return false }
                nodes.append(
                    Node(
                        name: name,
                        nodeType: type,
                        host: index,
                        port: listens ? port : nil,
                        metricsPort: metrics,
                        interface: worker?.0,
                        workerIndex: worker?.1
                    )
                )
                if listens { port += 1 }
                if metrics != 0 { metrics += 1 }
                return true
            }
            if host.hasManager { _ = add("manager", .manager, listens: true) }
            var number = 1
            while number <= host.loggers, add("\(prefix)logger-\(number)", .logger, listens: true) { number += 1 }
            number = 1
            while number <= host.proxies, add("\(prefix)proxy-\(number)", .proxy, listens: true) { number += 1 }
            for group in host.workers {
                let base = group.interface.isEmpty ? "\(prefix)worker-" : "\(prefix)worker-\(group.interface)-"
                number = 1
                while number <= group.count,
                    add(base + String(number), .worker, listens: false, worker: (group.interface, number - 1))
                {
                    number += 1
                }
            }
        }
        return nodes
    }

    /// The `cluster-layout.zeek` the generator writes.
    ///
    /// - Parameters:
    ///   - hosts: The hosts in order.
    ///   - nodes: Their nodes (``nodes(of:limit:)``).
    ///   - managerField: Whether nodes other than the manager get `$manager="manager"` (always for zeek.conf
    ///     input; for the flag form only with a manager).
    /// - Returns: The text.
    public static func text(hosts: [Host], nodes: [Node], managerField: Bool) -> String {
        var text = "# Auto-generated by zeek-cluster-layout-generator\n\n"
        let usesHostsTable = hosts.contains { $0.name != nil }
        if usesHostsTable {
            text += "module Cluster;\n\ntype Host: record {\n\tip: addr;\n};\n\n"
            text += "const hosts: table[string] of Host &redef;\n\nredef Cluster::hosts += {\n"
            for host in hosts {
                let name = host.name ?? ""
                let address = host.address ?? "(blocking_lookup_hostname(\"\(name)\") as vector of addr)[0]"
                text += "\t[\"\(name)\"] = [$ip=\(address)],\n"
            }
            text += "};\n\n"
        }
        text += "redef Cluster::nodes += {\n"
        let ips = hosts.map { host in host.name.map { "hosts[\"\($0)\"]$ip" } ?? host.address ?? "127.0.0.1" }
        var hasManagerOrLogger = false
        var hasLogger = false
        // The node lines are most of the text (about 135 bytes a node): written as bytes, without the cost of
        // string interpolation per piece.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(nodes.count * 140)
        for node in nodes {
            bytes += "    [\"".utf8
            bytes += node.name.utf8
            bytes += "\"] = [$node_type=Cluster::".utf8
            bytes += typeName(node.nodeType).utf8
            bytes += ", $ip=".utf8
            bytes += ips[node.host].utf8
            if let port = node.port {
                bytes += ", $p=".utf8
                bytes += String(port).utf8
                bytes += "/tcp".utf8
            }
            if managerField && node.nodeType != .manager { bytes += ", $manager=\"manager\"".utf8 }
            bytes += ", $metrics_port=".utf8
            bytes += String(node.metricsPort).utf8
            bytes += "/tcp],\n".utf8
            if node.nodeType == .manager || node.nodeType == .logger { hasManagerOrLogger = true }
            if node.nodeType == .logger { hasLogger = true }
        }
        text += String(decoding: bytes, as: UTF8.self)
        text += "};\n\n"
        if hasManagerOrLogger { text += "redef Cluster::manager_is_logger = \(hasLogger ? "F" : "T");\n" }
        text += "\n" + telemetryBlock
        return text
    }

    static func typeName(_ type: Cluster.NodeType) -> String {
        switch type {
        case .manager: "MANAGER"
        case .logger: "LOGGER"
        case .proxy: "PROXY"
        default: "WORKER"
        }
    }

    /// The telemetry block every generated layout ends with.
    public static let telemetryBlock = """
        @load base/frameworks/telemetry/options

        # Either use ZEEK_TELEMETRY_LISTEN_ADDRESS env or the value from node$ip.
        const metrics_address_env = getenv("ZEEK_TELEMETRY_LISTEN_ADDRESS");
        @if ( |metrics_address_env| > 0 )
        redef Telemetry::metrics_address = metrics_address_env;
        @else
        @if ( Cluster::node in Cluster::nodes )
        const my_ip = Cluster::nodes[Cluster::node]$ip;
        const my_ip_str = is_v4_addr(my_ip) ? cat(my_ip) : cat("[", my_ip, "]");
        redef Telemetry::metrics_address = my_ip_str;
        @endif
        @endif

        # Always use the metrics port from the cluster layout for now
        # This can/may change in the future!
        redef Telemetry::metrics_port = Cluster::local_node_metrics_port();

        """
}

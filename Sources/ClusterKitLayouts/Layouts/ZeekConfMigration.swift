public import ClusterKitModel

/// A layout turned into another format: Zeek 9 zeek.conf files from a node.cfg or a Management INI, or a
/// node.cfg from zeek.conf, with a warning (and the source line) for everything the target cannot express.
///
/// To zeek.conf: one file per host (`HOST.zeek.conf`; a single `zeek.conf` when there is one host) such that
/// Zeek's generator makes the same hosts, the same number of managers, loggers, proxies and workers on each,
/// with the same capture interfaces and worker CPU pinning. Each node.cfg worker section (each run of INI
/// workers on one instance and interface) becomes an `[interface NAME]` section. Node names follow zeek.conf's
/// scheme and so change; per-node environments that differ within a role, scripts, options, plugin keys and
/// load balancers other than `af_packet` are warnings.
public struct ZeekConfMigration: Sendable, Hashable {
    /// One file to write.
    public struct File: Sendable, Hashable {
        /// The file name (`zeek.conf`, `HOST.zeek.conf` or `node.cfg`).
        public var name: String
        /// The text.
        public var text: String
    }

    /// The files, in host order.
    public var files: [File]
    /// What the target cannot express, each at the line of the input it comes from.
    public var warnings: [ValidationIssue]

    /// What one host of the zeek.conf files holds.
    struct Host {
        var key: String
        var address: String?
        var manager = false
        var loggers = 0
        var proxies = 0
        var port: Int?
        var metricsPort: Int?
        var roleEnv: [String: [String: String]] = [:]
        var interfaces: [Interface] = []
    }

    /// One `[interface NAME]` section.
    struct Interface {
        var name: String
        var source: String
        var workers: Int
        var cpus: [Int]
        var env: [String: String]
    }

    /// The zeek.conf files for a loaded node.cfg or Management INI.
    ///
    /// - Parameter loaded: The loaded layout, without errors.
    /// - Returns: The files and every warning.
    /// - Throws: ``LayoutGenerationError`` when the layout has errors or is not a node.cfg or INI.
    public static func zeekConf(from loaded: LoadedLayout) throws -> ZeekConfMigration {
        guard !loaded.hasErrors else {
            throw LayoutGenerationError(.invalidConfiguration, "\(loaded.file): the layout has errors")
        }
        var warnings: [ValidationIssue] = []
        let hosts: [Host]
        if let cluster = loaded.zeekctlCluster {
            hosts = Self.hosts(of: cluster, warnings: &warnings)
        } else if let configuration = loaded.readyConfiguration ?? loaded.configuration {
            hosts = Self.hosts(of: configuration, locations: loaded.locations, file: loaded.file, warnings: &warnings)
        } else {
            throw LayoutGenerationError(
                .notNodeCfg,
                "\(loaded.file): only a node.cfg or a Management INI can be migrated to zeek.conf"
            )
        }
        warnings.append(
            .warning(
                .unsupportedSetting,
                "node names follow zeek.conf's scheme (manager, [HOST-]logger-N, [HOST-]proxy-N, "
                    + "[HOST-]worker-INTERFACE-N): scripts that name nodes need updating",
                at: SourceLocation(file: loaded.file)
            )
        )
        let files =
            hosts.count == 1 ? [File(name: "zeek.conf", text: text(of: hosts[0], single: true))] : hostFiles(hosts)
        return ZeekConfMigration(files: files, warnings: warnings)
    }

    private static func hostFiles(_ hosts: [Host]) -> [File] {
        var used: Set<String> = []
        return hosts.map { host in
            var name = fileHostName(host.key)
            if !used.insert(name).inserted {
                var number = 2
                while !used.insert("\(name)-\(number)").inserted { number += 1 }
                name = "\(name)-\(number)"
            }
            return File(name: name + ".zeek.conf", text: text(of: host, single: false))
        }
    }

    /// A host key made into `[a-z0-9][-a-z0-9_]*`.
    static func fileHostName(_ key: String) -> String {
        let bytes = key.asciiLowercased.utf8.map { ZeekConfSyntax.isNameByte($0) ? $0 : UInt8(ascii: "-") }
        var name = String(decoding: bytes, as: UTF8.self)
        if let first = name.utf8.first, !(ZeekConfSyntax.isLower(first) || ZeekConfSyntax.isDigit(first)) {
            name = "h" + name
        }
        return name.isEmpty ? "host" : name
    }

    /// An interface section name made of `[-_a-z0-9]`, unique on its host.
    static func sectionName(_ wanted: String, taken: [Interface]) -> String {
        let base = fileHostName(wanted)
        var name = base
        var number = 2
        while taken.contains(where: { $0.name == name }) {
            name = "\(base)-\(number)"
            number += 1
        }
        return name
    }

    /// The zeek.conf text of one host.
    static func text(of host: Host, single: Bool) -> String {
        var text = "# Written by zeekctl migrate; see Docs/zeek9.md.\n[zeek]\n"
        if host.manager { text += "manager = 1\n" }
        if host.loggers > 0 { text += "loggers = \(host.loggers)\n" }
        if host.proxies > 0 { text += "proxies = \(host.proxies)\n" }
        if let address = host.address { text += "address = \(address)\n" }
        if let port = host.port, port != 27760 { text += "port = \(port)\n" }
        if let metrics = host.metricsPort, metrics != 9991 { text += "metrics_port = \(metrics)\n" }
        for role in ["manager", "logger", "proxy"] {
            if let env = host.roleEnv[role], !env.isEmpty { text += envLines("\(role)_env", env) }
        }
        for interface in host.interfaces {
            text += "\n[interface \(interface.name)]\ninterface = \(interface.source)\nworkers = \(interface.workers)\n"
            if !interface.cpus.isEmpty {
                text += "workers_cpu_list = \(interface.cpus.map(String.init).joined(separator: ","))\n"
            }
            if !interface.env.isEmpty { text += envLines("worker_env", interface.env) }
        }
        return text
    }

    static func envLines(_ key: String, _ env: [String: String]) -> String {
        let entries = env.keys.sorted().map { "\($0)=\(env[$0] ?? "")" }
        return "\(key) =\n" + entries.map { "  \($0)\n" }.joined()
    }

    /// An address as zeek.conf writes it (`[IPv6]`).
    static func zeekConfAddress(_ address: Broker.Address) -> String {
        address.isIPv4 ? address.description : "[\(address.description)]"
    }
}

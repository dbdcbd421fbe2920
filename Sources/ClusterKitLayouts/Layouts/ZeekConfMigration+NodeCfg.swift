import ClusterKitModel

extension ZeekConfMigration {
    /// A node.cfg for a zeek.conf or folder of host files: one section per node Zeek's generator makes, with
    /// the same names, hosts, types, interfaces and CPU pinning.
    ///
    /// Per-role environments become `env_vars`; arguments, nice levels, memory limits, NUMA policies, CPU
    /// sets of other roles, the backend arguments and `${...}` templates in interfaces are warnings.
    ///
    /// - Parameter loaded: A loaded zeek.conf without errors.
    /// - Returns: The node.cfg and every warning.
    /// - Throws: ``LayoutGenerationError`` when the layout has errors or is not a zeek.conf.
    public static func nodeCfg(from loaded: LoadedLayout) throws -> ZeekConfMigration {
        guard let cluster = loaded.zeekConf else {
            throw LayoutGenerationError(.notNodeCfg, "\(loaded.file): only a zeek.conf can be migrated to node.cfg")
        }
        guard !loaded.hasErrors else {
            throw LayoutGenerationError(.invalidConfiguration, "\(loaded.file): the configuration has errors")
        }
        var warnings: [ValidationIssue] = []
        var text = "# Written by zeekctl migrate from \(loaded.file); see Docs/zeek9.md.\n"
        for host in cluster.hosts {
            for option in host.globalOptions {
                let key = option.normalizedKey
                guard !key.hasSuffix("_env") && key != "env" else { continue }
                warnings.append(
                    .warning(
                        .unsupportedSetting,
                        "'\(key)' cannot be expressed in node.cfg and is not migrated",
                        at: SourceLocation(file: host.file, line: option.line),
                        key: key
                    )
                )
            }
            for interface in host.interfaces {
                for option in interface.options where option.normalizedKey != "worker_env" {
                    warnings.append(
                        .warning(
                            .unsupportedSetting,
                            "'\(option.normalizedKey)' cannot be expressed in node.cfg and is not migrated",
                            at: SourceLocation(file: host.file, line: option.line),
                            key: option.normalizedKey
                        )
                    )
                }
                if interface.source.contains("${") {
                    warnings.append(
                        .warning(
                            .unsupportedSetting,
                            "interface '\(interface.source)' holds systemd generator templates, which node.cfg "
                                + "does not expand: it is written as it is",
                            at: SourceLocation(file: host.file, line: interface.line),
                            key: "interface"
                        )
                    )
                }
            }
        }
        if let port = cluster.hosts.first?.port, port != 27760 {
            warnings.append(
                .warning(
                    .unsupportedSetting,
                    "ports come from zeekctl.cfg in ZeekControl: set ZeekPort (here port = \(port)); ZeekControl "
                        + "numbers the ports of all hosts in one sequence",
                    at: SourceLocation(
                        file: cluster.hosts.first?.file ?? loaded.file,
                        line: cluster.hosts.first?.keyLines["port"]
                    ),
                    key: "port"
                )
            )
        }
        for node in cluster.nodes {
            let host = cluster.hosts[node.host]
            let hostText =
                host.address.map { $0.hasPrefix("[") ? String($0.dropFirst().dropLast()) : $0 } ?? host.hostName
                ?? "localhost"
            text +=
                "\n[\(node.name)]\ntype=\(node.nodeType.rawValue.dropFirst("Cluster::".count).lowercased())\nhost=\(hostText)\n"
            let role: String
            switch node.nodeType {
            case .manager: role = "manager"
            case .logger: role = "logger"
            case .proxy: role = "proxy"
            default: role = "worker"
            }
            var env: [String] = []
            for option in host.globalOptions
            where option.normalizedKey == "env" || option.normalizedKey == "\(role)_env" {
                env += option.values.map(\.text).filter { !$0.isEmpty }
            }
            if let interface = host.interfaces.first(where: { $0.name == node.interface }), node.nodeType == .worker {
                text += "interface=\(interface.source)\n"
                if let list = interface.cpuList, let cpus = ZeekConfSyntax.cpus(list), !cpus.isEmpty,
                    let index = node.workerIndex
                {
                    text += "pin_cpus=\(cpus[index % cpus.count])\n"
                }
                for option in interface.options where option.normalizedKey == "worker_env" {
                    env += option.values.map(\.text).filter { !$0.isEmpty }
                }
            }
            if !env.isEmpty { text += "env_vars=\(env.joined(separator: ","))\n" }
        }
        return ZeekConfMigration(files: [File(name: "node.cfg", text: text)], warnings: warnings)
    }
}

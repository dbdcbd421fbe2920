import ClusterKitModel

extension ZeekConfMigration {
    /// The hosts of a node.cfg: ZeekControl's expanded nodes grouped by `host`, in file order.
    static func hosts(of cluster: ZeekctlCluster, warnings: inout [ValidationIssue]) -> [Host] {
        var hosts: [Host] = []
        var positions: [String: Int] = [:]
        // Workers of one section (one location) and interface form one interface section.
        var sectionOf: [String: Int] = [:]
        var roleEnvs: [String: [String: [[String: String]]]] = [:]
        // The processes of one lb_procs section share their settings: one warning per section.
        var warnedSections: Set<SourceLocation> = []
        for node in cluster.nodes {
            let key = node.host
            let position: Int
            if let known = positions[key] {
                position = known
            } else {
                position = hosts.count
                positions[key] = position
                hosts.append(Host(key: key, address: node.address.map(zeekConfAddress)))
                if node.address == nil {
                    warnings.append(
                        .warning(
                            .hostLookupFailed,
                            "host '\(key)' has no resolved address: its zeek.conf has no 'address', so Zeek "
                                + "looks up the file's host name '\(fileHostName(key))'",
                            at: node.location,
                            node: node.name,
                            key: "host"
                        )
                    )
                }
            }
            if let port = node.port, node.type != .worker {
                hosts[position].port = min(hosts[position].port ?? port, port)
            }
            if let metrics = node.metricsPort {
                hosts[position].metricsPort = min(hosts[position].metricsPort ?? metrics, metrics)
            }
            if warnedSections.insert(node.location).inserted { warnUnexpressible(node, &warnings) }
            switch node.type {
            case .standalone:
                hosts[position].manager = true
                warnings.append(
                    .warning(
                        .unsupportedSetting,
                        "standalone node '\(node.name)' has no zeek.conf equivalent: written as a manager"
                            + (node.interface.isEmpty ? "" : " and one worker on '\(node.interface)'"),
                        at: node.location,
                        node: node.name
                    )
                )
                if !node.interface.isEmpty {
                    hosts[position].interfaces.append(
                        Interface(
                            name: sectionName(node.name, taken: []),
                            source: node.interface,
                            workers: 1,
                            cpus: [],
                            env: node.envVars
                        )
                    )
                }
            case .manager:
                hosts[position].manager = true
                roleEnvs[key, default: [:]]["manager", default: []].append(node.envVars)
            case .logger:
                hosts[position].loggers += 1
                roleEnvs[key, default: [:]]["logger", default: []].append(node.envVars)
            case .proxy:
                hosts[position].proxies += 1
                roleEnvs[key, default: [:]]["proxy", default: []].append(node.envVars)
            case .worker:
                let groupKey = "\(node.location.line ?? 0)\u{0}\(node.interface)"
                if let index = sectionOf[key + "\u{0}" + groupKey] {
                    hosts[position].interfaces[index].workers += 1
                    if let cpu = node.pinCPU { hosts[position].interfaces[index].cpus.append(cpu) }
                } else {
                    // The section is named after the interface (`eth0` of `af_packet::eth0`), else the node.
                    let device = node.interface.split(separator: ":").last.map(String.init) ?? ""
                    let name = sectionName(device.isEmpty ? node.name : device, taken: hosts[position].interfaces)
                    sectionOf[key + "\u{0}" + groupKey] = hosts[position].interfaces.count
                    hosts[position].interfaces.append(
                        Interface(
                            name: name,
                            source: node.interface,
                            workers: 1,
                            cpus: node.pinCPU.map { [$0] } ?? [],
                            env: node.envVars
                        )
                    )
                }
            }
        }
        for index in hosts.indices {
            for interface in hosts[index].interfaces
            where !interface.cpus.isEmpty && interface.cpus.count != interface.workers {
                warnings.append(
                    .warning(
                        .invalidPinCPUs,
                        "only some workers of interface section '\(interface.name)' on host '\(hosts[index].key)' "
                            + "are pinned to CPUs: workers_cpu_list pins the first \(interface.cpus.count)",
                        at: SourceLocation(file: cluster.file)
                    )
                )
            }
            for (role, envs) in roleEnvs[hosts[index].key] ?? [:] {
                hosts[index].roleEnv[role] = commonEnv(
                    envs,
                    role: role,
                    host: hosts[index].key,
                    file: cluster.file,
                    &warnings
                )
            }
        }
        return hosts
    }

    /// The environment all nodes of a role share, with a warning when they differ.
    static func commonEnv(
        _ envs: [[String: String]],
        role: String,
        host: String,
        file: String,
        _ warnings: inout [ValidationIssue]
    ) -> [String: String] {
        guard let first = envs.first else { return [:] }
        guard envs.allSatisfy({ $0 == first }) else {
            warnings.append(
                .warning(
                    .unsupportedSetting,
                    "the \(role) nodes on host '\(host)' have different environments, which zeek.conf cannot express "
                        + "(one \(role)_env per host): none is written",
                    at: SourceLocation(file: file),
                    key: "env_vars"
                )
            )
            return [:]
        }
        return first
    }

    /// Warnings for a node.cfg node's settings zeek.conf has no key for.
    static func warnUnexpressible(_ node: ZeekctlNode, _ warnings: inout [ValidationIssue]) {
        func warn(_ what: String, key: String) {
            warnings.append(
                .warning(
                    .unsupportedSetting,
                    "node '\(node.name)': \(what) cannot be expressed in zeek.conf and is not migrated",
                    at: node.location,
                    node: node.name,
                    key: key
                )
            )
        }
        if !node.auxScripts.isEmpty { warn("aux_scripts '\(node.auxScripts)'", key: "aux_scripts") }
        if node.lbMethod == "pf_ring" || node.lbMethod == "myricom" {
            warnings.append(
                .warning(
                    .unsupportedSetting,
                    "node '\(node.name)': lb_method '\(node.lbMethod)' has no zeek.conf equivalent: its workers are "
                        + "written with the interface and environment ZeekControl gives them; check them against "
                        + "the load balancer's documentation",
                    at: node.location,
                    node: node.name,
                    key: "lb_method"
                )
            )
        }
        for (key, value) in node.pluginValues.sorted(by: { $0.key < $1.key }) where !value.isEmpty {
            warn("\(key) = \(value)", key: key)
        }
    }

    /// The hosts of a Management configuration: one per instance, in instance order.
    static func hosts(
        of configuration: Management.Configuration,
        locations: [String: SourceLocation],
        file: String,
        warnings: inout [ValidationIssue]
    ) -> [Host] {
        var hosts: [Host] = []
        var positions: [String: Int] = [:]
        for instance in configuration.instances where positions[instance.name] == nil {
            positions[instance.name] = hosts.count
            let address = instance.host == .ipv4Unspecified ? nil : zeekConfAddress(instance.host)
            hosts.append(Host(key: instance.name, address: address))
        }
        var roleEnvs: [String: [String: [[String: String]]]] = [:]
        for node in configuration.nodes {
            let location = locations[node.name] ?? SourceLocation(file: file)
            if positions[node.instance] == nil {
                positions[node.instance] = hosts.count
                hosts.append(Host(key: node.instance, address: nil))
            }
            let position = positions[node.instance] ?? 0
            if let port = node.p.map({ Int($0.number) }) {
                hosts[position].port = min(hosts[position].port ?? port, port)
            }
            if let metrics = node.metricsPort.map({ Int($0.number) }) {
                hosts[position].metricsPort = min(hosts[position].metricsPort ?? metrics, metrics)
            }
            func warn(_ what: String, key: String) {
                warnings.append(
                    .warning(
                        .unsupportedSetting,
                        "node '\(node.name)': \(what) cannot be expressed in zeek.conf and is not migrated",
                        at: location,
                        node: node.name,
                        key: key
                    )
                )
            }
            if let scripts = node.scripts, !scripts.isEmpty {
                warn("scripts '\(scripts.joined(separator: " "))'", key: "scripts")
            }
            if let options = node.options, !options.isEmpty { warn("options", key: "options") }
            if node.cpuAffinity != nil && node.role != .worker { warn("cpu_affinity", key: "cpu_affinity") }
            switch node.role {
            case .manager: hosts[position].manager = true
            case .logger: hosts[position].loggers += 1
            case .proxy: hosts[position].proxies += 1
            case .worker:
                let source = node.interface ?? ""
                if let last = hosts[position].interfaces.indices.last,
                    hosts[position].interfaces[last].source == source,
                    hosts[position].interfaces[last].env == node.env,
                    hosts[position].interfaces[last].cpus.isEmpty == (node.cpuAffinity == nil)
                {
                    hosts[position].interfaces[last].workers += 1
                    if let cpu = node.cpuAffinity { hosts[position].interfaces[last].cpus.append(cpu) }
                } else {
                    let name = sectionName(source.isEmpty ? node.name : source, taken: hosts[position].interfaces)
                    hosts[position].interfaces.append(
                        Interface(
                            name: name,
                            source: source,
                            workers: 1,
                            cpus: node.cpuAffinity.map { [$0] } ?? [],
                            env: node.env
                        )
                    )
                }
                if source.isEmpty { warn("a worker without an interface (zeek.conf needs one)", key: "interface") }
            default: break
            }
            let role: String? =
                switch node.role {
                case .manager: "manager"
                case .logger: "logger"
                case .proxy: "proxy"
                default: nil
                }
            if let role { roleEnvs[node.instance, default: [:]][role, default: []].append(node.env) }
        }
        for index in hosts.indices {
            for (role, envs) in roleEnvs[hosts[index].key] ?? [:] {
                hosts[index].roleEnv[role] = commonEnv(envs, role: role, host: hosts[index].key, file: file, &warnings)
            }
        }
        return hosts.filter { $0.manager || $0.loggers > 0 || $0.proxies > 0 || !$0.interfaces.isEmpty }
    }
}

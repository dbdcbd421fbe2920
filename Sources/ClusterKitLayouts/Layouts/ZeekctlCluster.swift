public import ClusterKitModel

/// What ZeekControl builds from a node.cfg and zeekctl.cfg: the expanded nodes in ZeekControl's order,
/// with addresses, counts, plugin rewrites and ports, ready for the generator.
public struct ZeekctlCluster: Sendable, Hashable {
    /// The nodes in ZeekControl's order: by type (standalone, logger, manager, proxy, worker), then by
    /// position in the file; `lb_procs` copies stay together.
    public var nodes: [ZeekctlNode]
    /// The settings the ports and plugin rewrites come from.
    public var settings: ZeekctlSettings
    /// The node.cfg file name.
    public var file: String

    /// A Boolean value indicating whether ZeekControl treats this as a standalone setup (exactly one node).
    public var isStandalone: Bool { nodes.count == 1 }

    /// The manager (the first one, as ZeekControl's `manager()`), or the standalone node.
    public var manager: ZeekctlNode? {
        isStandalone ? nodes.first : nodes.first { $0.type == .manager }
    }

    /// The port of ZeekControl's `control` entry (the first layout port), when the cluster has a manager.
    public var controlPort: Int? {
        guard !isStandalone, manager != nil else { return nil }
        return settings.firstLayoutPort
    }

    /// Builds the cluster as ZeekControl's `_read_nodes` and `_check_node` do, reporting every problem
    /// instead of stopping at the first.
    ///
    /// A section with no or an unknown `type` is left out; a name that clashes (case-insensitively) with
    /// an earlier node is left out; other problems are reported and the node is kept as well as it can be.
    ///
    /// - Parameters:
    ///   - nodeCfg: The node.cfg as read.
    ///   - settings: The zeekctl.cfg settings.
    ///   - resolver: Resolves host names; `nil` resolves IP literals only and leaves other hosts without
    ///     an address (and does not report lookups).
    ///   - limits: The most nodes (``LayoutLimits/maximumNodes``) and the largest `lb_procs`
    ///     (``LayoutLimits/maximumProcessesPerSection``); sections past them are reported and not expanded.
    /// - Returns: The cluster and the problems, in ZeekControl's order (section by section).
    public static func build(
        from nodeCfg: NodeCfg,
        settings: ZeekctlSettings = .standard,
        resolver: (any HostResolver)? = nil,
        limits: LayoutLimits = .standard
    ) -> (cluster: ZeekctlCluster, issues: [ValidationIssue], droppedSections: Int) {
        var builder = Builder(file: nodeCfg.file, settings: settings, resolver: resolver, limits: limits)
        let expected = min(nodeCfg.sections.count * 4, max(0, limits.maximumNodes))
        builder.nodes.reserveCapacity(expected)
        builder.lowerNames.reserveCapacity(expected)
        builder.issues = nodeCfg.issues
        for section in nodeCfg.sections {
            builder.add(section)
        }
        let unsorted = builder.nodes
        let order = unsorted.indices.sorted {
            (unsorted[$0].type.rank, unsorted[$0].count) < (unsorted[$1].type.rank, unsorted[$1].count)
        }
        let nodes = order.map { unsorted[$0] }
        var cluster = ZeekctlCluster(nodes: nodes, settings: settings, file: nodeCfg.file)
        cluster.applyPlugins(issues: &builder.issues)
        cluster.assignPorts()
        return (cluster, builder.issues, builder.droppedSections)
    }
}

// MARK: - Reading one section (ZeekControl's `_check_node`)

extension ZeekctlCluster {
    private struct Builder {
        let file: String
        let settings: ZeekctlSettings
        let resolver: (any HostResolver)?
        let limits: LayoutLimits
        /// Whether the node limit was reached (reported once; later sections are left out).
        var reachedNodeLimit = false
        var nodes: [ZeekctlNode] = []
        var issues: [ValidationIssue] = []
        var counts: [ZeekctlNodeType: Int] = [:]
        var lowerNames: [String: String] = [:]
        var droppedSections = 0
        var addressCache: [String: HostResolution] = [:]
        var literalCache: [String: Broker.Address?] = [:]
        var envCache: [String: (variables: [String: String], problems: [EnvVarsProblem])] = [:]
        var pinCache: [String: [Int]?] = [:]

        init(file: String, settings: ZeekctlSettings, resolver: (any HostResolver)?, limits: LayoutLimits) {
            self.file = file
            self.settings = settings
            self.resolver = resolver
            self.limits = limits
        }

        func location(_ section: NodeCfg.Section, _ key: String? = nil) -> SourceLocation {
            SourceLocation(file: file, line: key.flatMap { section.line(of: $0) } ?? section.line)
        }

        mutating func add(_ section: NodeCfg.Section) {
            issues += section.issues
            let name = section.name
            guard !reachedNodeLimit else {
                droppedSections += 1
                return
            }
            guard nodes.count < limits.maximumNodes else {
                issues.append(
                    .error(
                        .tooManyNodes,
                        "more than \(limits.maximumNodes) nodes (LayoutLimits.maximumNodes): node '\(name)' and the "
                            + "sections after it are left out",
                        at: location(section),
                        node: name
                    )
                )
                reachedNodeLimit = true
                droppedSections += 1
                return
            }
            let typeText = section["type"]
            guard !typeText.isEmpty else {
                issues.append(
                    .error(.missingType, "no type given for node \(name)", at: location(section, "type"), node: name)
                )
                droppedSections += 1
                return
            }
            guard let type = ZeekctlNodeType(rawValue: typeText) else {
                issues.append(
                    .error(
                        .unknownType,
                        "unknown node type '\(typeText)' given for node '\(name)'",
                        at: location(section, "type"),
                        node: name,
                        key: "type"
                    )
                )
                droppedSections += 1
                return
            }
            var node = ZeekctlNode(name: name, type: type, host: section["host"], location: location(section))
            node.interface = section["interface"]
            node.lbProcs = section["lb_procs"]
            node.lbMethod = section["lb_method"]
            node.lbInterfaces = section["lb_interfaces"]
            node.auxScripts = section["aux_scripts"]
            node.zoneID = section["zone_id"]
            node.zeekbase = section["zeekbase"]
            node.ether = section["ether"]
            for field in section.fields where field.key.hasPrefix("af_packet_") || field.key == "test_mykey" {
                node.pluginValues[field.key] = field.value
            }

            if node.host.isEmpty {
                issues.append(
                    .error(.missingHost, "no host given for node '\(name)'", at: location(section, "host"), node: name)
                )
            } else {
                node.address = resolve(node.host, section: section)
            }

            let envText = section["env_vars"]
            let parsedEnv: (variables: [String: String], problems: [EnvVarsProblem])
            if let cached = envCache[envText] {
                parsedEnv = cached
            } else {
                parsedEnv = ZeekctlCluster.parseEnvVars(envText)
                envCache[envText] = parsedEnv
            }
            let (envVars, envProblems) = parsedEnv
            node.envVars = envVars
            for problem in envProblems {
                issues.append(
                    .error(
                        problem.code,
                        "node '\(name)' config: \(problem.message)",
                        at: location(section, "env_vars"),
                        node: name,
                        key: "env_vars"
                    )
                )
            }

            counts[type, default: 0] += 1
            node.count = counts[type, default: 0]

            var processes = 0
            if !node.lbProcs.isEmpty {
                if type != .worker {
                    issues.append(
                        .error(
                            .loadBalancingOnNonWorker,
                            "node '\(name)' config: load balancing node config options are only for worker nodes",
                            at: location(section, "lb_procs"),
                            node: name,
                            key: "lb_procs"
                        )
                    )
                } else if let number = TextLines.pythonIntClamped(Substring(node.lbProcs)) {
                    if number < 1 {
                        issues.append(
                            .error(
                                .lbProcsNotPositive,
                                "number of load-balanced processes must be greater than zero for node '\(name)'",
                                at: location(section, "lb_procs"),
                                node: name,
                                key: "lb_procs"
                            )
                        )
                    } else if number > limits.maximumProcessesPerSection {
                        issues.append(
                            .error(
                                .tooManyProcesses,
                                "lb_procs=\(TextLines.strip(Substring(node.lbProcs))) for node '\(name)' is more than "
                                    + "ClusterKit expands (at most \(limits.maximumProcessesPerSection) per node: "
                                    + "LayoutLimits.maximumProcessesPerSection)",
                                at: location(section, "lb_procs"),
                                node: name,
                                key: "lb_procs"
                            )
                        )
                    } else if number > limits.maximumNodes - nodes.count {
                        issues.append(
                            .error(
                                .tooManyProcesses,
                                "lb_procs=\(number) for node '\(name)' would take the layout past \(limits.maximumNodes) "
                                    + "nodes (LayoutLimits.maximumNodes; \(nodes.count) before it)",
                                at: location(section, "lb_procs"),
                                node: name,
                                key: "lb_procs"
                            )
                        )
                    } else {
                        processes = number
                    }
                } else {
                    issues.append(
                        .error(
                            .lbProcsNotInteger,
                            "number of load-balanced processes must be an integer for node '\(name)'",
                            at: location(section, "lb_procs"),
                            node: name,
                            key: "lb_procs"
                        )
                    )
                }
            } else if !node.lbMethod.isEmpty {
                issues.append(
                    .error(
                        .lbMethodWithoutProcs,
                        "number of load-balanced processes not specified for node '\(name)'",
                        at: location(section, "lb_method"),
                        node: name,
                        key: "lb_method"
                    )
                )
            }

            let pinText = section["pin_cpus"]
            var pinCPUs: [Int]?
            let pinKey = pinText + "\u{0}" + String(processes)
            if pinText.isEmpty {
                pinCPUs = []
            } else if let cached = pinCache[pinKey] {
                pinCPUs = cached
            } else {
                pinCPUs = ZeekctlCluster.parsePinCPUs(pinText, processes: processes)
                pinCache[pinKey] = pinCPUs
            }
            if pinCPUs == nil {
                issues.append(
                    .error(
                        .invalidPinCPUs,
                        "pin cpus list must contain only non-negative integers for node '\(name)'",
                        at: location(section, "pin_cpus"),
                        node: name,
                        key: "pin_cpus"
                    )
                )
                pinCPUs = []
            }
            let cpus = pinCPUs ?? []
            node.pinCPU = cpus.first

            var interfaces: [String] = []
            if !node.lbProcs.isEmpty && type == .worker {
                let methods = ["af_packet", "pf_ring", "myricom", "custom", "interfaces"]
                if node.lbMethod.isEmpty {
                    issues.append(
                        .error(
                            .missingLBMethod,
                            "no load balancing method given for node '\(name)'",
                            at: location(section, "lb_procs"),
                            node: name,
                            key: "lb_method"
                        )
                    )
                } else if !methods.contains(node.lbMethod) {
                    issues.append(
                        .error(
                            .unknownLBMethod,
                            "unknown load balancing method '\(node.lbMethod)' given for node '\(name)'",
                            at: location(section, "lb_method"),
                            node: name,
                            key: "lb_method"
                        )
                    )
                } else if node.lbMethod == "interfaces" {
                    if node.lbInterfaces.isEmpty {
                        issues.append(
                            .error(
                                .missingLBInterfaces,
                                "list of load-balanced interfaces not specified for node '\(name)'",
                                at: location(section, "lb_method"),
                                node: name,
                                key: "lb_interfaces"
                            )
                        )
                    } else {
                        interfaces = node.lbInterfaces.split(separator: ",", omittingEmptySubsequences: false)
                            .map { String(TextLines.strip($0)) }
                        if interfaces.count != processes && processes > 0 {
                            issues.append(
                                .error(
                                    .lbInterfacesCountMismatch,
                                    "number of load-balanced interfaces is not same as number of load-balanced "
                                        + "processes for node '\(name)'",
                                    at: location(section, "lb_interfaces"),
                                    node: name,
                                    key: "lb_interfaces"
                                )
                            )
                        }
                    }
                }
            }
            if !node.lbInterfaces.isEmpty && node.lbMethod != "interfaces" {
                issues.append(
                    .warning(
                        .lbInterfacesIgnored,
                        "lb_interfaces of node '\(name)' is ignored: it is used only with lb_method=interfaces",
                        at: location(section, "lb_interfaces"),
                        node: name,
                        key: "lb_interfaces"
                    )
                )
            }

            guard processes > 0 else {
                store(node, section: section)
                return
            }
            let usesInterfaces = node.lbMethod == "interfaces" && !interfaces.isEmpty
            if usesInterfaces { node.interface = interfaces.popLast() ?? "" }
            let original = node.name
            node.name = original + "-1"
            var first = node
            if processes > 1 {
                for number in 2...processes {
                    var copy = first
                    copy.name = original + "-" + String(number)
                    counts[type, default: 0] += 1
                    copy.count = counts[type, default: 0]
                    if !cpus.isEmpty { copy.pinCPU = cpus[number - 1] }
                    if usesInterfaces { copy.interface = interfaces.popLast() ?? "" }
                    store(copy, section: section)
                }
            }
            first.name = node.name
            store(first, section: section)
        }

        /// Adds a node unless its name clashes (case-insensitively) with one already stored.
        mutating func store(_ node: consuming ZeekctlNode, section: NodeCfg.Section) {
            let lower =
                node.name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") || $0 >= 0x80 }
                ? node.name.lowercased() : node.name
            if let existing = lowerNames[lower] {
                issues.append(
                    .error(
                        .duplicateNodeName,
                        "node name \"\(node.name)\" is a duplicate of \"\(existing)\"",
                        at: location(section),
                        node: node.name
                    )
                )
                return
            }
            lowerNames[lower] = node.name
            nodes.append(consume node)
        }

        mutating func resolve(_ host: String, section: NodeCfg.Section) -> Broker.Address? {
            guard let resolver else {
                if let cached = literalCache[host] { return cached }
                let address: Broker.Address?
                if !host.utf8.contains(UInt8(ascii: "%")) {
                    address = Broker.Address(host)
                } else {
                    address = StaticHostResolver.literal(host).flatMap { HostResolution.addresses([$0]).zeekctlAddress }
                }
                literalCache[host] = address
                return address
            }
            let resolution: HostResolution
            if let cached = addressCache[host] {
                resolution = cached
            } else {
                resolution = resolver.resolve(host)
                addressCache[host] = resolution
            }
            if case .failed(let message) = resolution {
                issues.append(
                    .error(
                        .hostLookupFailed,
                        "hostname lookup failed for '\(host)' in node config [\(message)]",
                        at: location(section, "host"),
                        node: section.name,
                        key: "host"
                    )
                )
                return nil
            }
            return resolution.zeekctlAddress
        }
    }

    /// One problem in an `env_vars` value.
    struct EnvVarsProblem: Sendable {
        var code: ValidationIssue.Code
        var message: String
    }

    /// Parses `env_vars` as ZeekControl does: items split at `,`, each at its first `=`, both sides
    /// stripped; an item without `=` or with an empty name is a problem.
    static func parseEnvVars(_ text: String) -> (variables: [String: String], problems: [EnvVarsProblem]) {
        guard !text.isEmpty else { return ([:], []) }
        var variables: [String: String] = [:]
        var problems: [EnvVarsProblem] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let equals = item.firstIndex(of: "=") else {
                problems.append(
                    EnvVarsProblem(
                        code: .envVarsMissingEquals,
                        message: "missing '=' in env_vars option value: \(item)"
                    )
                )
                continue
            }
            let key = TextLines.strip(item[..<equals])
            guard !key.isEmpty else {
                problems.append(
                    EnvVarsProblem(
                        code: .envVarsEmptyName,
                        message: "env_vars option value must contain at least one environment variable name: \(item)"
                    )
                )
                continue
            }
            variables[String(key)] = String(TextLines.strip(item[item.index(after: equals)...]))
        }
        return (variables, problems)
    }

    /// Parses `pin_cpus` as ZeekControl does: integers separated by `,`, none negative, repeated round
    /// robin up to `processes`; `nil` when an item is not a non-negative integer.
    static func parsePinCPUs(_ text: String, processes: Int) -> [Int]? {
        guard !text.isEmpty else { return [] }
        var cpus: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let cpu = TextLines.pythonInt(item), cpu >= 0 else { return nil }
            cpus.append(cpu)
        }
        if processes > cpus.count {
            let base = cpus
            cpus = (0..<processes).map { base[$0 % base.count] }
        }
        return cpus
    }
}

// MARK: - Plugins and ports

extension ZeekctlCluster {
    /// The bundled plugins' rewrites, in ZeekControl's node order: `lb_custom` (interface prefix and
    /// suffix), `af_packet` (the `af_packet::` prefix), `myricom` and `pf_ring` (environment), then
    /// zeekctl.cfg's `env_vars` for every node (node.cfg values win).
    mutating func applyPlugins(issues: inout [ValidationIssue]) {
        for index in nodes.indices where nodes[index].type == .worker && nodes[index].lbMethod == "custom" {
            nodes[index].interface =
                settings.customInterfacePrefix + nodes[index].interface + settings.customInterfaceSuffix
        }
        for index in nodes.indices where nodes[index].type == .worker && nodes[index].lbMethod == "af_packet" {
            if nodes[index].interface.hasPrefix("af_packet::") {
                issues.append(
                    .warning(
                        .afPacketPrefix,
                        "unexpected af_packet:: prefix for interface \(nodes[index].interface) of "
                            + "\(nodes[index].name) (ZeekControl then disables its af_packet plugin)",
                        at: nodes[index].location,
                        node: nodes[index].name,
                        key: "interface"
                    )
                )
                break
            }
            nodes[index].interface = "af_packet::" + nodes[index].interface
        }
        for index in nodes.indices where nodes[index].type == .worker && nodes[index].lbMethod == "myricom" {
            if nodes[index].envVars["SNF_NUM_RINGS"] == nil {
                nodes[index].envVars["SNF_NUM_RINGS"] = nodes[index].lbProcs
            }
            if nodes[index].envVars["SNF_FLAGS"] == nil { nodes[index].envVars["SNF_FLAGS"] = "0x101" }
        }
        if settings.pfRingClusterID != 0 {
            var clusterIDs: [String: Int] = [:]
            var nextID: [String: Int] = [:]
            let tupleVariables = [
                "2-tuple": "PCAP_PF_RING_USE_CLUSTER_PER_FLOW_2_TUPLE",
                "4-tuple": "PCAP_PF_RING_USE_CLUSTER_PER_FLOW_4_TUPLE",
                "5-tuple": "PCAP_PF_RING_USE_CLUSTER_PER_FLOW_5_TUPLE",
                "tcp-5-tuple": "PCAP_PF_RING_USE_CLUSTER_PER_FLOW_TCP_5_TUPLE",
                "6-tuple": "PCAP_PF_RING_USE_CLUSTER_PER_FLOW",
            ]
            for index in nodes.indices where nodes[index].type == .worker && nodes[index].lbMethod == "pf_ring" {
                let host = nodes[index].host
                let key = host + "\u{0}" + nodes[index].interface
                let id: Int
                if let known = clusterIDs[key] {
                    id = known
                } else {
                    id = nextID[host] ?? settings.pfRingClusterID
                    nextID[host] = ZeekctlSettings.saturating(id, plus: 1)
                    clusterIDs[key] = id
                    if !(1...ZeekctlSettings.maximumPFRingClusterID).contains(id) {
                        issues.append(
                            .error(
                                .invalidZeekctlOption,
                                "PF_RING cluster id \(id) of node '\(nodes[index].name)' (PFRINGClusterID plus one per "
                                    + "further interface on host '\(host)') is outside 1-"
                                    + "\(ZeekctlSettings.maximumPFRingClusterID)",
                                at: nodes[index].location,
                                node: nodes[index].name,
                                key: "PFRINGClusterID"
                            )
                        )
                    }
                }
                var environment = nodes[index].envVars
                if environment["PCAP_PF_RING_CLUSTER_ID"] == nil { environment["PCAP_PF_RING_CLUSTER_ID"] = String(id) }
                if environment["PCAP_PF_RING_APPNAME"] == nil {
                    environment["PCAP_PF_RING_APPNAME"] = "zeek-\(nodes[index].interface)"
                }
                if let variable = tupleVariables[settings.pfRingClusterType], environment[variable] == nil {
                    environment[variable] = "1"
                }
                nodes[index].envVars = environment
            }
        }
        if !settings.envVars.isEmpty {
            let (global, problems) = Self.parseEnvVars(settings.envVars)
            for problem in problems {
                issues.append(
                    .error(
                        .invalidZeekctlOption,
                        "zeekctl config: \(problem.message)",
                        at: SourceLocation(file: "zeekctl.cfg"),
                        key: "env_vars"
                    )
                )
            }
            for index in nodes.indices {
                for (key, value) in global where nodes[index].envVars[key] == nil {
                    nodes[index].envVars[key] = value
                }
            }
        }
    }

    /// Gives every node its Broker and metrics port as `make_layout` does for the settings' version.
    ///
    /// Broker ports come from one counter starting at ``ZeekctlSettings/firstLayoutPort``: `control`, then
    /// the manager, loggers, proxies and workers (loggers before the manager before Zeek 7.0). Metrics ports
    /// (Zeek 7.0+, `MetricsPort` ≠ 0) come from a second counter: manager, loggers, proxies, workers. A
    /// standalone node gets the first layout port and the first metrics port. Managers after the first get
    /// no ports: ZeekControl writes only the first.
    mutating func assignPorts() {
        let hasMetrics = settings.zeekVersion >= ZeekVersion(7, 0) && settings.metricsPort != 0
        if isStandalone {
            nodes[0].port = settings.firstLayoutPort
            nodes[0].metricsPort = hasMetrics ? settings.metricsPort : nil
            return
        }
        guard let managerIndex = nodes.firstIndex(where: { $0.type == .manager }) else { return }
        // Counters saturate at Int.max instead of overflowing; ports past 65535 are reported by the validator.
        var port = ZeekctlSettings.saturating(settings.firstLayoutPort, plus: 1)  // `control` takes the first
        var metrics = settings.metricsPort
        let managerFirst = settings.zeekVersion >= ZeekVersion(7, 0)
        var order: [Int] = []
        let loggers = nodes.indices.filter { nodes[$0].type == .logger }
        order += managerFirst ? [managerIndex] + loggers : loggers + [managerIndex]
        order += nodes.indices.filter { nodes[$0].type == .proxy }
        order += nodes.indices.filter { nodes[$0].type == .worker }
        for index in order {
            nodes[index].port = port
            port = ZeekctlSettings.saturating(port, plus: 1)
        }
        if hasMetrics {
            for index in [managerIndex] + loggers
                + order.filter({ nodes[$0].type == .proxy || nodes[$0].type == .worker })
            {
                nodes[index].metricsPort = metrics
                metrics = ZeekctlSettings.saturating(metrics, plus: 1)
            }
        }
    }

    /// The indexes of the nodes in the order the cluster layout lists them (manager, loggers, proxies,
    /// workers; loggers before the manager before Zeek 7.0), only the first manager.
    var layoutOrder: [Int] {
        guard let managerIndex = nodes.firstIndex(where: { $0.type == .manager }) else { return [] }
        let loggers = nodes.indices.filter { nodes[$0].type == .logger }
        var order = settings.zeekVersion >= ZeekVersion(7, 0) ? [managerIndex] + loggers : loggers + [managerIndex]
        order += nodes.indices.filter { nodes[$0].type == .proxy }
        order += nodes.indices.filter { nodes[$0].type == .worker }
        return order
    }

    /// The `Cluster::nodes` table the generated layout defines, as Zeek would read it.
    ///
    /// For a cluster: `control`, the manager, loggers, proxies, workers (in the layout's order) and
    /// `time-machine` when `TimeMachineHost` is an address; `manager_is_logger` is `false` when there is a
    /// logger. A standalone setup defines no nodes. Nodes without a resolved address get `0.0.0.0`; ports
    /// above 65535 become `0/unknown` (both are reported by the validator).
    public var layout: Cluster.Layout { layoutWithSources().layout }

    /// The layout and, for each of its entries, the index of the node it comes from (`nil` for `control`
    /// and `time-machine`).
    func layoutWithSources() -> (layout: Cluster.Layout, sources: [Int?]) {
        var sources: [Int?] = []
        var layout = Cluster.Layout(managerIsLogger: !nodes.contains { $0.type == .logger })
        guard !isStandalone, let manager else { return (layout, sources) }
        sources.reserveCapacity(nodes.count + 2)
        func port(_ number: Int?) -> Broker.Port? {
            guard let number, (0...65535).contains(number) else { return nil }
            return .tcp(UInt16(number))
        }
        let managerAddress = manager.address ?? .ipv4Unspecified
        if let controlPort {
            layout.append(
                Cluster.NamedNode(
                    name: "control",
                    node: Cluster.Node(nodeType: .control, ip: managerAddress, p: port(controlPort) ?? .unset)
                )
            )
            sources.append(nil)
        }
        let managerName = manager.name
        let keepsInterface = settings.zeekVersion < ZeekVersion(7, 1)
        for index in layoutOrder {
            let nodeType = nodes[index].type
            guard let type = nodeType.clusterNodeType else { continue }
            var record = Cluster.Node(
                nodeType: type,
                ip: nodes[index].address ?? .ipv4Unspecified,
                p: port(nodes[index].port) ?? .unset,
                metricsPort: port(nodes[index].metricsPort)
            )
            if nodeType == .proxy || nodeType == .worker { record.manager = managerName }
            if nodeType == .worker && keepsInterface { record.interface = nodes[index].interface }
            layout.append(Cluster.NamedNode(name: nodes[index].name, node: record))
            sources.append(index)
        }
        if !settings.timeMachineHost.isEmpty, let address = Broker.Address(settings.timeMachineHost) {
            layout.append(
                Cluster.NamedNode(
                    name: "time-machine",
                    node: Cluster.Node(
                        nodeType: .timeMachine,
                        ip: address,
                        p: Broker.Port(settings.timeMachinePort) ?? .unset
                    )
                )
            )
            sources.append(nil)
        }
        return (layout, sources)
    }
}

public import ClusterKitModel

/// Checks cluster layouts and returns every problem at once, each a ``ValidationIssue`` with its file
/// and line.
///
/// For node.cfg it makes every ZeekControl check (in ZeekControl's order and words), reports the inputs
/// that make ZeekControl crash as ordinary errors, and checks the generated layout. For Management INI it
/// makes `zeek-client`'s and the controller's checks, assigns ports as the controller does, and checks
/// the cluster the Supervisor would build. For `cluster-layout.zeek` and `.bro` it checks what Zeek
/// checks at startup that can be checked without running it. All formats then get the cross-node checks
/// none of those tools make: two listeners on one host and port, `$manager` naming a missing node or a
/// non-manager, proxies or workers without a manager, and `manager_is_logger` contradicting the loggers.
///
/// Checks that depend on the machine (host name lookup, "the manager must run here", "all nodes on
/// localhost when the manager is") run only when their option is set.
public struct LayoutValidator: Sendable {
    /// What the validator checks against.
    public struct Options: Sendable {
        /// The zeekctl.cfg settings and Zeek version for node.cfg (ports, plugins, generated text).
        public var settings: ZeekctlSettings
        /// Resolves host names; `nil` (the default) resolves IP literals only and skips the lookup check.
        public var hostResolver: (any HostResolver)?
        /// This machine's addresses for "the manager must run here"; `nil` (the default) skips the check.
        public var localAddresses: (any LocalAddressProbe)?
        /// Whether to check "all nodes must use localhost when the manager uses it"; default `false`.
        public var checksLocalhostRule: Bool
        /// The Management controller's settings for INI files.
        public var controller: Management.ControllerOptions
        /// Addresses of Management instances whose agents connect to the controller.
        public var instanceAddresses: [String: Broker.Address]
        /// The local host name, for INI nodes without an instance (`agent-<hostName>`); default `localhost`.
        public var hostName: String
        /// The bounds on file size, node count, `lb_procs` and interpolation; default ``LayoutLimits/standard``.
        public var limits: LayoutLimits

        /// Creates options; the defaults make no machine-dependent check.
        ///
        /// - Parameters:
        ///   - settings: The zeekctl.cfg settings.
        ///   - hostResolver: The host resolver, or `nil`.
        ///   - localAddresses: The local-address probe, or `nil`.
        ///   - checksLocalhostRule: Whether to check the localhost rule.
        ///   - controller: The controller's settings.
        ///   - instanceAddresses: Addresses of connecting agents.
        ///   - hostName: The local host name.
        ///   - limits: The bounds on file size, node count, `lb_procs` and interpolation.
        public init(
            settings: ZeekctlSettings = .standard,
            hostResolver: (any HostResolver)? = nil,
            localAddresses: (any LocalAddressProbe)? = nil,
            checksLocalhostRule: Bool = false,
            controller: Management.ControllerOptions = .standard,
            instanceAddresses: [String: Broker.Address] = [:],
            hostName: String = "localhost",
            limits: LayoutLimits = .standard
        ) {
            self.settings = settings
            self.hostResolver = hostResolver
            self.localAddresses = localAddresses
            self.checksLocalhostRule = checksLocalhostRule
            self.controller = controller
            self.instanceAddresses = instanceAddresses
            self.hostName = hostName
            self.limits = limits
        }

        /// No machine-dependent checks, current ZeekControl defaults.
        public static let standard = Options()
    }

    /// What validating a node.cfg gives.
    public struct NodeCfgResult: Sendable {
        /// The cluster ZeekControl builds (nodes with problems are kept as well as possible).
        public var cluster: ZeekctlCluster
        /// The `Cluster::nodes` of the generated layout (``ZeekctlCluster/layout``).
        public var layout: Cluster.Layout
        /// Every issue, ZeekControl's first, in its order.
        public var issues: [ValidationIssue]
    }

    /// What validating a Management INI gives.
    public struct ManagementResult: Sendable {
        /// The configuration as read (the STAGED form), or `nil` when `zeek-client` rejects the file.
        public var configuration: Management.Configuration?
        /// The configuration with the controller's port assignment (the READY form), or `nil` when the
        /// controller rejects it.
        public var readyConfiguration: Management.Configuration?
        /// The cluster the Supervisor builds from the READY configuration (empty when there is none).
        public var layout: Cluster.Layout
        /// Every issue.
        public var issues: [ValidationIssue]
    }

    /// The options.
    public var options: Options

    /// Creates a validator.
    ///
    /// - Parameter options: What to check against; default ``Options/standard``.
    public init(options: Options = .standard) {
        self.options = options
    }

    /// Checks a node.cfg and builds ZeekControl's cluster from it.
    ///
    /// - Parameter nodeCfg: The node.cfg as read.
    /// - Returns: The cluster and every issue.
    public func validate(_ nodeCfg: NodeCfg) -> NodeCfgResult {
        let built = ZeekctlCluster.build(
            from: nodeCfg,
            settings: options.settings,
            resolver: options.hostResolver,
            limits: options.limits
        )
        var issues = built.issues
        let cluster = built.cluster
        issues += ZeekctlRules.check(cluster, droppedSections: built.droppedSections, options: options)
        guard !cluster.isStandalone, let manager = cluster.manager else {
            return NodeCfgResult(cluster: cluster, layout: cluster.layout, issues: issues)
        }
        // Host identities: the address when resolved, else the host name; numbered for cheap hashing.
        var hostIDs: [String: Int] = [:]
        var hostNames: [String] = []
        var idsByName: [String: Int] = [:]
        var lastHost: (host: String, id: Int)?
        func hostID(_ node: ZeekctlNode) -> Int {
            if let lastHost, lastHost.host == node.host { return lastHost.id }
            let id: Int
            if let known = hostIDs[node.host] {
                id = known
            } else {
                let name = node.address?.description ?? "host " + node.host.lowercased()
                if let existing = idsByName[name] {
                    id = existing
                } else {
                    id = hostNames.count
                    hostNames.append(name)
                    idsByName[name] = id
                }
                hostIDs[node.host] = id
            }
            lastHost = (node.host, id)
            return id
        }
        var context = CrossNodeRules.Context(file: nodeCfg.file)
        context.managerCheckedElsewhere = true
        context.zeekVersion = nil
        context.namesAreUnique = true
        let (layout, sources) = cluster.layoutWithSources()
        let managerID = hostID(manager)
        var entryHosts: [Int] = []
        var entryLocations: [SourceLocation] = []
        entryHosts.reserveCapacity(sources.count)
        entryLocations.reserveCapacity(sources.count)
        for source in sources {
            if let source {
                entryHosts.append(hostID(cluster.nodes[source]))
                entryLocations.append(cluster.nodes[source].location)
            } else {
                entryHosts.append(managerID)
                entryLocations.append(SourceLocation(file: nodeCfg.file))
            }
        }
        if let last = layout.nodes.last, last.node.nodeType == .timeMachine, !entryHosts.isEmpty {
            hostNames.append(last.node.ip.description)
            entryHosts[entryHosts.count - 1] = hostNames.count - 1
        }
        context.entryHosts = entryHosts
        context.entryLocations = entryLocations
        let managerKey = hostNames[managerID]
        let settings = cluster.settings
        if settings.clusterBackend == .zeroMQ {
            context.endpoints.append(
                .init(label: "the ZeroMQ XPUB port (ZeekPort)", host: managerKey, port: settings.zeekPort)
            )
            context.endpoints.append(
                .init(
                    label: "the ZeroMQ XSUB port (ZeekPort + 1)",
                    host: managerKey,
                    port: ZeekctlSettings.saturating(settings.zeekPort, plus: 1)
                )
            )
        }
        if settings.useWebSocket && settings.zeekVersion >= ZeekVersion(8, 0) {
            context.endpoints.append(
                .init(label: "the WebSocket port (WebSocketPort)", host: managerKey, port: settings.webSocketPort)
            )
        }
        context.hostNames = hostNames
        issues += CrossNodeRules.check(layout, context)
        return NodeCfgResult(cluster: cluster, layout: layout, issues: issues)
    }

    /// Checks a `cluster-layout.zeek` or `.bro` script: the reader's issues, Zeek's static startup checks
    /// and the cross-node checks.
    ///
    /// - Parameter script: The script as read.
    /// - Returns: Every issue.
    public func validate(_ script: ClusterLayoutScript) -> [ValidationIssue] {
        var context = CrossNodeRules.Context(file: script.file)
        context.locations = script.locations
        context.unevaluatedPorts = script.unevaluatedPorts
        for (node, host) in script.nodeHosts {
            // A host Zeek looks up by name is told apart from others by its name, not by 0.0.0.0.
            let address = script.hosts[host] ?? nil
            context.hostKeys[node] = address?.description ?? "host " + host
        }
        context.zeekVersion = script.file.hasSuffix(".bro") ? nil : options.settings.zeekVersion
        return script.issues + validate(script.layout, context: context)
    }

    /// Checks any `Cluster::nodes` table with the cross-node checks and Zeek's static startup checks.
    ///
    /// - Parameters:
    ///   - layout: The table.
    ///   - file: The file name for issues.
    ///   - locations: Where each node is defined.
    /// - Returns: Every issue.
    public func validate(
        _ layout: Cluster.Layout,
        file: String,
        locations: [String: SourceLocation] = [:]
    ) -> [ValidationIssue] {
        var context = CrossNodeRules.Context(file: file)
        context.locations = locations
        context.zeekVersion = options.settings.zeekVersion
        return validate(layout, context: context)
    }

    /// ClusterKit's cross-node checks of what a zeek.conf makes, other than the names and ports that
    /// ``ZeekConfCluster/issues`` already reports on the lines that cause them.
    ///
    /// - Parameters:
    ///   - cluster: The zeek.conf or folder as read.
    ///   - layout: Its ``ZeekConfCluster/layout``.
    /// - Returns: Every issue.
    public func validate(_ cluster: ZeekConfCluster, layout: Cluster.Layout) -> [ValidationIssue] {
        var context = CrossNodeRules.Context(file: cluster.path)
        context.entryLocations = cluster.nodes.map { cluster.location(of: $0) }
        context.namesAreUnique = true
        context.zeekVersion = nil
        context.checksPorts = false
        return CrossNodeRules.check(layout, context)
    }

    private func validate(_ layout: Cluster.Layout, context: CrossNodeRules.Context) -> [ValidationIssue] {
        CrossNodeRules.check(layout, context)
    }

    /// Checks a Management INI as `zeek-client`, then the controller (`config_validate`), then the
    /// Supervisor would, assigns the controller's ports, and checks the resulting cluster.
    ///
    /// - Parameter ini: The INI as read.
    /// - Returns: The configuration, its READY form, the cluster, and every issue.
    public func validate(_ ini: ManagementINI) -> ManagementResult {
        var issues = ini.issues
        guard let configuration = ini.configuration else {
            return ManagementResult(
                configuration: nil,
                readyConfiguration: nil,
                layout: Cluster.Layout(),
                issues: issues
            )
        }
        let fileLocation = SourceLocation(file: ini.file)
        func location(_ name: String?) -> SourceLocation { name.flatMap { ini.locations[$0] } ?? fileLocation }
        let controllerErrors = configuration.controllerErrors(options: options.controller)
        for error in controllerErrors {
            issues.append(
                .error(error.code, error.message, at: location(error.node ?? error.instance), node: error.node)
            )
        }
        for node in configuration.nodes where node.name.isEmpty || node.name.contains(" ") {
            let message =
                node.name.isEmpty
                ? "node names must not be an empty string" : "node names must not contain spaces: '\(node.name)'"
            issues.append(
                .error(
                    .invalidSupervisorNodeName,
                    message + " (the Supervisor refuses to create it)",
                    at: location(node.name),
                    node: node.name
                )
            )
        }
        guard controllerErrors.isEmpty else {
            return ManagementResult(
                configuration: configuration,
                readyConfiguration: nil,
                layout: Cluster.Layout(),
                issues: issues
            )
        }
        let ready = configuration.assigningPorts(
            options: options.controller,
            instanceAddresses: options.instanceAddresses
        )
        let layout = ready.clusterLayout(instanceAddresses: options.instanceAddresses)
        var context = CrossNodeRules.Context(file: ini.file)
        context.locations = ini.locations
        context.zeekVersion = nil
        for node in ready.nodes {
            let host =
                options.instanceAddresses[node.instance] ?? ready.instances.first { $0.name == node.instance }?.host
            if let host, host != .ipv4Unspecified {
                context.hostKeys[node.name] = host.description
            } else {
                context.hostKeys[node.name] = "instance " + node.instance
            }
        }
        for instance in ready.instances {
            guard let port = instance.listenPort else { continue }
            let host = instance.host != .ipv4Unspecified ? instance.host.description : "instance " + instance.name
            context.endpoints.append(
                .init(label: "the agent port of instance '\(instance.name)'", host: host, port: Int(port.number))
            )
        }
        issues += CrossNodeRules.check(layout, context)
        return ManagementResult(configuration: configuration, readyConfiguration: ready, layout: layout, issues: issues)
    }
}

extension ValidationIssue {
    /// The kind of an issue; the raw value is the stable code shown in `zeekctl check` JSON output.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        // MARK: INI syntax (Python configparser: node.cfg and Management INI)

        /// Lines with content before the first `[section]` (ZeekControl: `File contains no section headers.`).
        case missingSectionHeader
        /// The same `[section]` twice (a `DuplicateSectionError` traceback in ZeekControl and `zeek-client`).
        case duplicateSection
        /// The same key twice in one section (a `DuplicateOptionError` traceback).
        case duplicateKey
        /// A line that is neither a section header, a `key = value` line nor a comment (a `ParsingError`).
        case syntaxError
        /// A bare `%`, a bad `%(name)s` reference, or references nested more than 10 deep (an interpolation
        /// error traceback).
        case badInterpolation
        /// Interpolation would make a value, or all values of the file together, longer than
        /// ``LayoutLimits/maximumInterpolatedValueSize`` or ``LayoutLimits/maximumInterpolatedTotalSize``.
        case interpolationTooLarge
        /// Text larger than ``LayoutLimits/maximumFileSize``; it is not read.
        case fileTooLarge
        /// More nodes than ``LayoutLimits/maximumNodes`` in a layout file (the ones past the limit are left out),
        /// or more than the controller stages (``Management/ControllerOptions/maximumNodes``).
        case tooManyNodes

        // MARK: node.cfg (ZeekControl's checks, in its order)

        /// An unknown node.cfg key; ZeekControl ignores it.
        case unknownKey
        /// A key that ZeekControl accepts but no longer uses (`zone_id`, `zeekbase`, `ether`, `count`).
        case unusedKey
        /// No `type` (ZeekControl: `no type given for node <name>`).
        case missingType
        /// A `type` other than `standalone`, `logger`, `manager`, `proxy` and `worker`.
        case unknownType
        /// No `host`.
        case missingHost
        /// The host name does not resolve (checked only when host lookup is asked for).
        case hostLookupFailed
        /// An `env_vars` item without `=`.
        case envVarsMissingEquals
        /// An `env_vars` item with an empty name.
        case envVarsEmptyName
        /// `lb_procs` on a node that is not a worker.
        case loadBalancingOnNonWorker
        /// `lb_procs` is not an integer.
        case lbProcsNotInteger
        /// `lb_procs` is below 1.
        case lbProcsNotPositive
        /// `lb_method` without `lb_procs`.
        case lbMethodWithoutProcs
        /// A `pin_cpus` item that is not a non-negative integer.
        case invalidPinCPUs
        /// An `lb_procs` above ``LayoutLimits/maximumProcessesPerSection`` (default 1,024), or one that would
        /// take the layout past ``LayoutLimits/maximumNodes``; the section is not expanded.
        case tooManyProcesses
        /// `lb_procs` without `lb_method`.
        case missingLBMethod
        /// An `lb_method` ZeekControl does not know.
        case unknownLBMethod
        /// `lb_method=interfaces` without `lb_interfaces`.
        case missingLBInterfaces
        /// `lb_interfaces` does not have `lb_procs` items.
        case lbInterfacesCountMismatch
        /// `lb_interfaces` given with another `lb_method`; ZeekControl ignores it.
        case lbInterfacesIgnored
        /// `lb_method=af_packet` with an interface that already has the `af_packet::` prefix.
        case afPacketPrefix
        /// Two nodes whose names differ at most in case (after `lb_procs` expansion).
        case duplicateNodeName
        /// No node at all.
        case noNodes
        /// More than one manager.
        case multipleManagers
        /// The manager (or standalone node) is not on this machine (checked only when asked for).
        case managerNotLocal
        /// A standalone node together with other nodes.
        case standaloneWithOtherNodes
        /// A cluster without a manager.
        case noManager
        /// A ZeekControl cluster without a proxy.
        case noProxy
        /// The manager is on localhost but another node is not (checked only when asked for).
        case localhostMix

        // MARK: zeekctl.cfg

        /// A zeekctl.cfg line without `=`.
        case zeekctlSyntaxError
        /// A zeekctl.cfg value of the wrong type or out of range (ports 0–65535), or wrapped in quotes.
        case invalidZeekctlOption

        // MARK: generated layout

        /// A port number above 65535 (ZeekControl's port counters are never checked).
        case portOutOfRange
        /// Two listeners on one host and port: Broker ports, metrics ports, or ZeekControl's reserved ports.
        case portConflict
        /// A node name that would break the generated script (a `"`, a backslash or a control character).
        case invalidNodeName
        /// A node named like an entry ZeekControl adds itself (`control`, `time-machine`).
        case reservedNodeName
        /// `TimeMachineHost` (or a `Cluster::TIME_MACHINE` node) for a Zeek that no longer has time machines.
        case timeMachineRemoved
        /// A setting the chosen Zeek version's ZeekControl does not have, or handles by crashing.
        case unsupportedSetting

        // MARK: cluster-layout.zeek / .bro

        /// Script text the reader cannot parse.
        case scriptSyntaxError
        /// An expression that cannot be evaluated without running Zeek, such as `to_port(getenv("P"))`.
        case unevaluableExpression
        /// A record field that no Zeek or Bro version's `Cluster::Node` has.
        case unknownField
        /// A field no current Zeek has (`$interface`, `$workers`, ...); kept and reported.
        case legacyField
        /// A required field (`$node_type`, `$ip`) is missing.
        case missingField
        /// A value of the wrong form (an address, a port, a node type).
        case invalidValue
        /// The same node name twice in `Cluster::nodes`.
        case duplicateNode

        // MARK: Management INI (zeek-client)

        /// An `[instances]` entry that is not `host:port`.
        case invalidInstanceSpec
        /// An `[instances]` host that is not an IP address (a `ValueError` traceback in `zeek-client`).
        case invalidInstanceAddress
        /// Some nodes name an instance and some do not.
        case mixedInstances
        /// An `[instances]` section while the nodes name no instances.
        case instancesWithoutNodeInstances
        /// A node without `role` (or `type`).
        case missingRole
        /// A role other than manager, logger, proxy, worker (or none).
        case invalidRole
        /// A value that must be an integer is not.
        case notAnInteger
        /// A metrics port outside 1–65535.
        case metricsPortOutOfRange
        /// An `env` value that is not `K=V ...`.
        case invalidEnv
        /// A `scripts` value that cannot be split.
        case invalidScripts
        /// Keys `zeek-client` does not use.
        case unexpectedKeys
        /// A `state` key, which `zeek-client` ignores.
        case ignoredState

        // MARK: Management controller (`config_validate`)

        /// Two instances with one name.
        case duplicateInstance
        /// A node and an instance with one name.
        case nameCollision
        /// A node names an instance the configuration does not declare.
        case undeclaredInstance
        /// A node's port is its instance's agent port.
        case agentPortConflict
        /// A node's port is the controller's Broker port.
        case controllerPortConflict
        /// Two nodes of one instance use one port.
        case duplicateInstancePort
        /// Ports are missing while Broker port auto-assignment is off.
        case missingPorts

        // MARK: ClusterKit's controller (stricter than Zeek's)

        /// More instances than the controller accepts (``Management/ControllerOptions/maximumInstances``).
        case tooManyInstances
        /// A node or instance name outside `[A-Za-z0-9._-]`, empty, too long, or `.` or `..`.
        case invalidName
        /// A node `env` entry the controller refuses: not a variable name, reserved, or a value with NUL.
        case refusedEnvironmentVariable

        // MARK: Zeek and the Supervisor

        /// A node name the Supervisor refuses (empty, or with a space).
        case invalidSupervisorNodeName

        // MARK: cross-node checks no other tool makes

        /// `$manager` names a node that does not exist.
        case unknownManager
        /// `$manager` names a node that is not a manager.
        case managerNotAManager
        /// A proxy or worker without `$manager`.
        case missingManagerField
        /// A cluster with proxies, workers or loggers but no manager.
        case clusterWithoutManager
        /// `manager_is_logger = F` without any logger: logs go nowhere.
        case noLogWriter
        /// `manager_is_logger = T` although there are loggers.
        case managerIsLoggerWithLoggers
        /// A manager, logger or proxy without a port, which other nodes connect to.
        case missingPort
    }
}

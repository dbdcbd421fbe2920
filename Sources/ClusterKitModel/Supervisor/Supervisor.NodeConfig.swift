extension Supervisor {
    /// Zeek's `Supervisor::NodeConfig`: how to run one supervised node.
    public struct NodeConfig: BrokerRecord, Sendable, Hashable {
        /// The node's name, unique among the supervisor's nodes.
        public var name: String
        /// The capture interface.
        public var interface: String?
        /// A pcap file to read.
        public var pcapFile: String?
        /// The working directory (created when missing).
        ///
        /// ``ProcessSupervisor`` requires it to lie inside its runtime directory, and reads a relative one
        /// against that directory (Zeek's supervisor reads it against its own working directory and allows
        /// any).
        public var directory: String?
        /// A file for the node's standard output (bypasses the output hooks).
        public var stdoutFile: String?
        /// A file for the node's standard error (bypasses the output hooks).
        public var stderrFile: String?
        /// Whether to run in bare mode; unset inherits the supervisor's mode.
        public var bareMode: Bool?
        /// Scripts loaded after the base scripts, before the user's; default empty.
        public var addlBaseScripts: [String]
        /// Scripts loaded after the user's; default empty.
        public var addlUserScripts: [String]
        /// Environment variables for the node; default empty.
        ///
        /// ``ProcessSupervisor`` refuses entries that ``environmentError`` names.
        public var env: [String: String]
        /// The CPU to pin the node to.
        public var cpuAffinity: Int?
        /// The cluster layout the node belongs to, by node name; default empty (not a cluster node).
        public var cluster: [String: ClusterEndpoint]

        /// Creates a configuration with Zeek's defaults.
        ///
        /// - Parameters:
        ///   - name: The node's name.
        ///   - interface: The capture interface.
        ///   - pcapFile: A pcap file.
        ///   - directory: The working directory.
        ///   - stdoutFile: A file for standard output.
        ///   - stderrFile: A file for standard error.
        ///   - bareMode: Whether to run in bare mode.
        ///   - addlBaseScripts: Extra base scripts.
        ///   - addlUserScripts: Extra user scripts.
        ///   - env: Environment variables.
        ///   - cpuAffinity: The CPU to pin to.
        ///   - cluster: The cluster layout.
        public init(
            name: String,
            interface: String? = nil,
            pcapFile: String? = nil,
            directory: String? = nil,
            stdoutFile: String? = nil,
            stderrFile: String? = nil,
            bareMode: Bool? = nil,
            addlBaseScripts: [String] = [],
            addlUserScripts: [String] = [],
            env: [String: String] = [:],
            cpuAffinity: Int? = nil,
            cluster: [String: ClusterEndpoint] = [:]
        ) {
            self.name = name
            self.interface = interface
            self.pcapFile = pcapFile
            self.directory = directory
            self.stdoutFile = stdoutFile
            self.stderrFile = stderrFile
            self.bareMode = bareMode
            self.addlBaseScripts = addlBaseScripts
            self.addlUserScripts = addlUserScripts
            self.env = env
            self.cpuAffinity = cpuAffinity
            self.cluster = cluster
        }

        /// `Supervisor::NodeConfig`.
        public static let zeekTypeName = "Supervisor::NodeConfig"
        /// The fields in declaration order.
        public static let fieldNames = [
            "name", "interface", "pcap_file", "directory", "stdout_file", "stderr_file", "bare_mode",
            "addl_base_scripts", "addl_user_scripts", "env", "cpu_affinity", "cluster",
        ]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                name: try record.required(),
                interface: try record.optional(),
                pcapFile: try record.optional(),
                directory: try record.optional(),
                stdoutFile: try record.optional(),
                stderrFile: try record.optional(),
                bareMode: try record.optional(),
                addlBaseScripts: try record.withDefault([]),
                addlUserScripts: try record.withDefault([]),
                env: try record.withDefault([:]),
                cpuAffinity: try record.optional(),
                cluster: try record.withDefault([:])
            )
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [
                name.brokerValue, interface?.brokerValue ?? .none, pcapFile?.brokerValue ?? .none,
                directory?.brokerValue ?? .none, stdoutFile?.brokerValue ?? .none, stderrFile?.brokerValue ?? .none,
                bareMode?.brokerValue ?? .none, addlBaseScripts.brokerValue, addlUserScripts.brokerValue,
                env.brokerValue, cpuAffinity?.brokerValue ?? .none, cluster.brokerValue,
            ]
        }
    }
}

extension Supervisor.NodeConfig {
    /// Why ``ProcessSupervisor`` refuses the node's ``env``, or `nil` when it accepts it.
    ///
    /// A key must be a variable name, `[A-Za-z_][A-Za-z0-9_]*`: never empty, and never holding `=` (which
    /// would make the entry set another variable, such as one of the supervisor's) or NUL. It must not be one
    /// the supervisor sets itself (``Supervisor/isReservedEnvironmentKey(_:)``: `CLUSTER_NODE` and
    /// `CLUSTERKIT_*`). A value must not hold NUL. Zeek's supervisor checks none of this; ClusterKit's
    /// refuses such a node rather than dropping the entry silently. The first problem in key order is
    /// reported, as in `node 'worker-1' env key 'A=B' is not a variable name`.
    public var environmentError: String? {
        for key in env.keys.sorted() {
            let shown = "node '\(name.escapingControlCharacters)' env key '\(key.escapingControlCharacters)'"
            if !key.isVariableName {
                return "\(shown) is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"
            }
            if Supervisor.isReservedEnvironmentKey(key) { return "\(shown) is reserved for the supervisor" }
            if env[key]?.utf8.contains(0) == true { return "\(shown) has a value holding a NUL byte" }
        }
        return nil
    }
}

extension Supervisor {
    /// Whether the process supervisor sets the environment variable itself, so that a node's
    /// ``NodeConfig/env`` may not: ``clusterNodeEnvironmentKey`` (`CLUSTER_NODE`) and every `CLUSTERKIT_`
    /// variable, such as ``nodeConfigurationEnvironmentKey``.
    ///
    /// - Parameter key: The variable's name.
    /// - Returns: Whether it is reserved.
    public static func isReservedEnvironmentKey(_ key: String) -> Bool {
        key == clusterNodeEnvironmentKey || key.hasPrefix("CLUSTERKIT_")
    }
}

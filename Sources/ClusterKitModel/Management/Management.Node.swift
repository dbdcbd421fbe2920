extension Management {
    /// Zeek's `Management::Node`: one cluster node of a Management configuration.
    public struct Node: BrokerRecord, Sendable, Hashable {
        /// The node's name.
        public var name: String
        /// The instance (agent) that runs it.
        public var instance: String
        /// The node's role.
        public var role: Supervisor.ClusterRole
        /// The node's run state (`zeek-client` always sends ``State/running``).
        public var state: State
        /// The Broker listen port; the controller assigns one to managers, loggers and proxies when unset.
        public var p: Broker.Port?
        /// Extra scripts to load.
        public var scripts: [String]?
        /// Script options to set.
        public var options: Set<Option>?
        /// The capture interface.
        public var interface: String?
        /// The CPU to pin the node to.
        public var cpuAffinity: Int?
        /// Environment variables; default empty (never `none` from Zeek).
        public var env: [String: String]
        /// The Prometheus metrics port (Zeek 7.0+).
        public var metricsPort: Broker.Port?

        /// Creates a node.
        ///
        /// - Parameters:
        ///   - name: The name.
        ///   - instance: The instance.
        ///   - role: The role.
        ///   - state: The run state.
        ///   - p: The listen port.
        ///   - scripts: Extra scripts.
        ///   - options: Script options.
        ///   - interface: The capture interface.
        ///   - cpuAffinity: The CPU to pin to.
        ///   - env: Environment variables.
        ///   - metricsPort: The metrics port.
        public init(
            name: String,
            instance: String,
            role: Supervisor.ClusterRole,
            state: State = .running,
            p: Broker.Port? = nil,
            scripts: [String]? = nil,
            options: Set<Option>? = nil,
            interface: String? = nil,
            cpuAffinity: Int? = nil,
            env: [String: String] = [:],
            metricsPort: Broker.Port? = nil
        ) {
            self.name = name
            self.instance = instance
            self.role = role
            self.state = state
            self.p = p
            self.scripts = scripts
            self.options = options
            self.interface = interface
            self.cpuAffinity = cpuAffinity
            self.env = env
            self.metricsPort = metricsPort
        }

        /// `Management::Node`.
        public static let zeekTypeName = "Management::Node"
        /// Vectors from before Zeek 7.0 lack `metrics_port`.
        public static let minimumFieldCount = 10
        /// The fields in declaration order.
        public static let fieldNames = [
            "name", "instance", "role", "state", "p", "scripts", "options", "interface", "cpu_affinity", "env",
            "metrics_port",
        ]

        /// Reads the fields in order; a 10-element vector (before Zeek 7.0's `metrics_port`) is accepted too.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                name: try record.required(),
                instance: try record.required(),
                role: try record.required(),
                state: try record.required(),
                p: try record.optional(),
                scripts: try record.optional(),
                options: try record.optional(),
                interface: try record.optional(),
                cpuAffinity: try record.optional(),
                env: try record.withDefault([:])
            )
            metricsPort = try record.optional()
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] {
            [
                name.brokerValue, instance.brokerValue, role.brokerValue, state.brokerValue, p?.brokerValue ?? .none,
                scripts?.brokerValue ?? .none, options?.brokerValue ?? .none, interface?.brokerValue ?? .none,
                cpuAffinity?.brokerValue ?? .none, env.brokerValue, metricsPort?.brokerValue ?? .none,
            ]
        }
    }
}

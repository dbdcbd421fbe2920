extension Management {
    /// The Management controller settings that its configuration checks and port auto-assignment use, with
    /// Zeek's defaults.
    public struct ControllerOptions: Sendable, Hashable {
        /// The controller's Broker port (`Management::Controller::default_port`); default `2150/tcp`.
        public var controllerPort: Broker.Port
        /// `Management::Controller::auto_assign_broker_ports`; default `true`.
        public var autoAssignBrokerPorts: Bool
        /// `Management::Controller::auto_assign_broker_start_port`; default `2200/tcp`.
        public var firstBrokerPort: Broker.Port
        /// `Management::Controller::auto_assign_metrics_ports`; default `true`.
        public var autoAssignMetricsPorts: Bool
        /// `Management::Controller::auto_assign_metrics_start_port`; default `9000/tcp`.
        public var firstMetricsPort: Broker.Port
        /// The Zeek version of the controller (the "lack ports" text changed in 7.0); default 8.1.
        public var zeekVersion: ZeekVersion
        /// The most instances a configuration may have; default ``defaultMaximumInstances`` (256).
        ///
        /// Staging a configuration with more fails with `configuration has N instances, more than the limit
        /// of M` (ClusterKit's limit; Zeek has none). Each instance runs an agent, so this also caps the agents
        /// a controller starts, and the agents it accepts hellos from. At least 1.
        public var maximumInstances: Int
        /// The most nodes a configuration may have; default ``defaultMaximumNodes`` (4,096).
        ///
        /// Staging a configuration with more fails with `configuration has N nodes, more than the limit of M`
        /// (ClusterKit's limit; Zeek has none). At least 1.
        public var maximumNodes: Int

        /// Creates options with Zeek's defaults.
        ///
        /// - Parameters:
        ///   - controllerPort: The controller's Broker port.
        ///   - autoAssignBrokerPorts: Whether missing Broker ports are assigned.
        ///   - firstBrokerPort: The first assigned Broker port.
        ///   - autoAssignMetricsPorts: Whether missing metrics ports are assigned.
        ///   - firstMetricsPort: The first assigned metrics port.
        ///   - zeekVersion: The controller's Zeek version.
        ///   - maximumInstances: The most instances a configuration may have; at least 1.
        ///   - maximumNodes: The most nodes a configuration may have; at least 1.
        public init(
            controllerPort: Broker.Port = .tcp(2150),
            autoAssignBrokerPorts: Bool = true,
            firstBrokerPort: Broker.Port = .tcp(2200),
            autoAssignMetricsPorts: Bool = true,
            firstMetricsPort: Broker.Port = .tcp(9000),
            zeekVersion: ZeekVersion = .current,
            maximumInstances: Int = ControllerOptions.defaultMaximumInstances,
            maximumNodes: Int = ControllerOptions.defaultMaximumNodes
        ) {
            precondition(maximumInstances >= 1, "maximumInstances must be at least 1")
            precondition(maximumNodes >= 1, "maximumNodes must be at least 1")
            self.controllerPort = controllerPort
            self.autoAssignBrokerPorts = autoAssignBrokerPorts
            self.firstBrokerPort = firstBrokerPort
            self.autoAssignMetricsPorts = autoAssignMetricsPorts
            self.firstMetricsPort = firstMetricsPort
            self.zeekVersion = zeekVersion
            self.maximumInstances = maximumInstances
            self.maximumNodes = maximumNodes
        }

        /// The default of ``maximumInstances``: 256 instances (agents) per configuration.
        public static let defaultMaximumInstances = 256

        /// The default of ``maximumNodes``: 4,096 nodes per configuration.
        public static let defaultMaximumNodes = 4096

        /// Zeek's defaults.
        public static let standard = ControllerOptions()
    }
}

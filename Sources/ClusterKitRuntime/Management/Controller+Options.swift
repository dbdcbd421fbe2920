import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension Controller {
    /// Controller settings.
    public struct Options: Sendable {
        /// The controller's name (Zeek: `controller-<hostname>` unless `ZEEK_CONTROLLER_NAME` is set).
        public var name: String
        /// How long a request waits for agents; default 10 s (Zeek's controller).
        public var requestTimeout: Duration
        /// Port checks, auto-assignment settings and configuration limits.
        public var controllerOptions: Management.ControllerOptions
        /// Starts agents for instances that have none (in process, or otherwise); `nil` means agents come
        /// from elsewhere.
        public var launchAgents: (@Sendable ([Management.Instance]) async -> Void)?
        /// Stops agents of instances that left the configuration, returning once their nodes are gone; `nil`
        /// sends them Zeek's `agent_standby_request` instead.
        public var stopAgents: (@Sendable ([String]) async -> Void)?
        /// The address a hub endpoint connects from (``TopicEvent/origin``), for the instances `get_instances`
        /// lists; `nil`, or `nil` for an endpoint, keeps the configured host.
        package var endpointAddress: (@Sendable (UInt64) -> Broker.Address?)?
        /// Called with one line for each request the controller handles (for `--verbose`), and for each
        /// request or agent message it drops; control characters are escaped, so each call is one line.
        public var log: (@Sendable (String) -> Void)?
        /// The most requests waiting at once.
        ///
        /// Client requests waiting for agents, agent welcomes and deployments waiting for agents count;
        /// default ``defaultMaximumPendingRequests`` (10,000), at least 1. A client request that would exceed it is answered at once with a failed result,
        /// `get_nodes_request: 10000 requests are pending, the most this tracker allows`, so that a flood of
        /// requests (each `test_timeout_request` with state waits 10 s) cannot grow the controller's memory.
        public var maximumPendingRequests: Int
        /// The controller's management log (Zeek's `management-<name>.log`), or `nil` for none: what arrives and
        /// leaves, timeouts, drops and errors, at Zeek's levels.
        public var managementLog: ManagementLog?
        /// Called with every configuration the controller deploys (a new id), before it goes to the agents: where
        /// it is persisted, as Zeek's controller keeps its deployed configuration in its state directory; default
        /// none.
        public var onDeployed: (@Sendable (Management.Configuration) -> Void)?

        /// Creates options with Zeek's defaults.
        ///
        /// - Parameters:
        ///   - name: The controller's name.
        ///   - requestTimeout: How long requests wait for agents.
        ///   - controllerOptions: Port settings and configuration limits.
        ///   - launchAgents: Starts agents for new instances.
        ///   - stopAgents: Stops agents of removed instances.
        ///   - log: A sink for one line per request.
        ///   - maximumPendingRequests: The most requests waiting at once; at least 1.
        ///   - managementLog: The management log, or `nil`.
        public init(
            name: String = "controller",
            requestTimeout: Duration = .seconds(10),
            controllerOptions: Management.ControllerOptions = .standard,
            launchAgents: (@Sendable ([Management.Instance]) async -> Void)? = nil,
            stopAgents: (@Sendable ([String]) async -> Void)? = nil,
            log: (@Sendable (String) -> Void)? = nil,
            maximumPendingRequests: Int = Options.defaultMaximumPendingRequests,
            managementLog: ManagementLog? = nil
        ) {
            precondition(maximumPendingRequests >= 1, "maximumPendingRequests must be at least 1")
            self.name = name
            self.requestTimeout = requestTimeout
            self.controllerOptions = controllerOptions
            self.launchAgents = launchAgents
            self.stopAgents = stopAgents
            self.log = log
            self.maximumPendingRequests = maximumPendingRequests
            self.managementLog = managementLog
        }

        /// The default of ``maximumPendingRequests``: 10,000 requests.
        public static let defaultMaximumPendingRequests = 10_000
    }
}

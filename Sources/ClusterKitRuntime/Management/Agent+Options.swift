import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension Agent {
    /// Agent settings.
    public struct Options: Sendable, Hashable {
        /// The instance (agent) name.
        public var instance: String
        /// How long deploy and restart wait for nodes; default 5 s (Zeek's agent).
        public var requestTimeout: Duration
        /// The port the agent listens on for the controller, when the controller connects to it.
        public var listenPort: Broker.Port?
        /// The controller's name, when the controller runs on this instance (shown by `get_nodes`).
        public var colocatedController: String?
        /// Identifiers to set on every node beside the cluster framework's.
        public var nodeSettings: [String: ZeekValue?]
        /// The most nodes stopped at once, on standby and before a deployment.
        ///
        /// Default ``defaultMaximumConcurrentStops`` (128); at least 1. Each stop waits until the node is gone, for a node process at most its stop sequence (32 s with
        /// Zeek's values), so stopping them in parallel keeps a redeployment from taking minutes.
        public var maximumConcurrentStops: Int

        /// Creates options.
        ///
        /// - Parameters:
        ///   - instance: The instance name.
        ///   - requestTimeout: How long deploy and restart wait.
        ///   - listenPort: The listen port, when the controller connects to the agent.
        ///   - colocatedController: The controller's name, when on this instance.
        ///   - nodeSettings: Identifiers to set on every node.
        ///   - maximumConcurrentStops: The most nodes stopped at once; at least 1.
        public init(
            instance: String,
            requestTimeout: Duration = .seconds(5),
            listenPort: Broker.Port? = nil,
            colocatedController: String? = nil,
            nodeSettings: [String: ZeekValue?] = [:],
            maximumConcurrentStops: Int = Options.defaultMaximumConcurrentStops
        ) {
            precondition(maximumConcurrentStops >= 1, "maximumConcurrentStops must be at least 1")
            self.instance = instance
            self.requestTimeout = requestTimeout
            self.listenPort = listenPort
            self.colocatedController = colocatedController
            self.nodeSettings = nodeSettings
            self.maximumConcurrentStops = maximumConcurrentStops
        }

        /// The default of ``maximumConcurrentStops``: 128 nodes stopped at once.
        public static let defaultMaximumConcurrentStops = 128
    }
}

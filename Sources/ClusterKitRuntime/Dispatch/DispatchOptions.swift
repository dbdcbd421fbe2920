import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Options of a ``Dispatcher``.
public struct DispatchOptions: Sendable, Hashable {
    /// The deadline of one request, for all its nodes together; default 10 s (Zeek's controller's
    /// `Management::Request::timeout_interval`).
    public var timeout: Duration
    /// The most requests waiting at once; default 100,000.
    public var maximumPendingRequests: Int
    /// How long after a Control request ended without a node's reply that reply is still expected, and
    /// dropped as late when it comes; default 10 s.
    ///
    /// Until then, another Control request for the same node and identifier fails for that node at once
    /// (the Control framework has no request ids; see ``Dispatcher``). A reply later than this could be
    /// taken for the answer to a newer request. Zero or less: no grace period.
    public var controlReplyGrace: Duration

    /// Creates options.
    ///
    /// - Parameters:
    ///   - timeout: The deadline of one request.
    ///   - maximumPendingRequests: The most requests waiting at once.
    ///   - controlReplyGrace: How long a late Control reply is still expected and dropped.
    public init(
        timeout: Duration = .seconds(10),
        maximumPendingRequests: Int = 100_000,
        controlReplyGrace: Duration = .seconds(10)
    ) {
        self.timeout = timeout
        self.maximumPendingRequests = maximumPendingRequests
        self.controlReplyGrace = controlReplyGrace
    }

    /// The defaults.
    public static let standard = DispatchOptions()
}

/// How a ``Dispatcher`` reaches the nodes.
public enum DispatchProtocol: String, Sendable, Hashable, CaseIterable {
    /// The Management node API (`node_dispatch_request` on `zeek/management/node`), as an agent speaks it.
    case managementNode
    /// The Management controller API (`get_id_value_request` on `zeek/management/controller`), as
    /// `zeek-client` speaks it.
    case managementController
    /// The Control framework (`Control::id_value_request` on each node's topic), as ZeekControl's `print`.
    case control
}

/// A node to dispatch to: its name and, when known, its type (for ZeekControl's order).
public struct DispatchTarget: Sendable, Hashable {
    /// The node's name.
    public var name: String
    /// The node's type.
    public var nodeType: Cluster.NodeType?

    /// Creates a target.
    ///
    /// - Parameters:
    ///   - name: The node's name.
    ///   - nodeType: The node's type.
    public init(_ name: String, nodeType: Cluster.NodeType? = nil) {
        self.name = name
        self.nodeType = nodeType
    }
}

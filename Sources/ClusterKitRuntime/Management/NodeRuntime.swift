import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// A cluster node as the Management framework and the Control framework see it, running over any
/// ``ClusterBackend``.
///
/// On ``run()`` it subscribes to `zeek/management/node` and its own node topic, announces itself with
/// `Management::Node::API::notify_node_hello(name)`, and then answers:
/// - `Management::Node::API::node_dispatch_request(reqid, action, nodes)` with
///   `node_dispatch_response(reqid, result)` on `zeek/management/node`, exactly as Zeek's node does
///   (``NodeDispatch``);
/// - the Control framework's `Control::id_value_request(id)` with `Control::id_value_response(id, text)` on
///   `zeek/control/id_value_response/<node>` (`fmt("%s")` text, `<unknown id>` and `<no ID value>` as
///   values), `peer_status_request` with `""` and `configuration_update_request` with an empty response;
///   `shutdown_request` is answered and then ends ``run()``.
///
/// With a ``ClusterMember`` it also takes part in cluster membership: it subscribes to its node id and type topics
/// too, and hands the member every membership event (hellos, the hub's notices) before anything else.
///
/// Events it does not handle, and handled events with the wrong arguments, are ignored and counted.
public final class NodeRuntime: Sendable {
    /// Topics and event names of the Management node API.
    public enum API: Sendable {
        /// `Management::Node::node_topic`.
        public static let topic = Topic("zeek/management/node")
        /// The dispatch request event.
        public static let dispatchRequest = "Management::Node::API::node_dispatch_request"
        /// The dispatch response event.
        public static let dispatchResponse = "Management::Node::API::node_dispatch_response"
        /// The hello event.
        public static let notifyNodeHello = "Management::Node::API::notify_node_hello"
    }

    /// The node's name (`Cluster::node`).
    public let name: String
    /// The backend it talks through.
    public let backend: any ClusterBackend
    /// Topic naming of the cluster backend (for its node topic).
    public let scheme: TopicScheme
    /// The node's cluster membership, when it takes part (pools, `node_up`/`node_down`).
    public let member: ClusterMember?
    private let dispatch: NodeDispatch
    private let state: Guarded<State>

    private struct State {
        var registry: IDRegistry
        var ignoredEvents = 0
        var answeredRequests = 0
    }

    /// Creates a node.
    ///
    /// - Parameters:
    ///   - name: The node's name.
    ///   - registry: The identifiers the node holds.
    ///   - backend: The backend to talk through.
    ///   - scheme: Topic naming; default Broker's.
    ///   - member: The node's cluster membership on the same backend, or `nil` (the default) for none.
    public init(
        name: String,
        registry: IDRegistry,
        backend: any ClusterBackend,
        scheme: TopicScheme = .broker,
        member: ClusterMember? = nil
    ) {
        self.name = name
        self.backend = backend
        self.scheme = scheme
        self.member = member
        self.dispatch = NodeDispatch(nodeName: name)
        self.state = Guarded(State(registry: registry))
    }

    /// The node's identifiers.
    public var registry: IDRegistry { state.withLock { $0.registry } }

    /// Sets an identifier on the node (as a `redef` or a script assignment would); `nil` removes its value.
    ///
    /// - Parameters:
    ///   - id: The identifier.
    ///   - value: The value.
    public func set(_ id: String, _ value: ZeekValue?) {
        state.withLock { $0.registry.set(id, value) }
    }

    /// The node's `Management::Node::API::notify_node_hello(name)`, published on ``API/topic``.
    ///
    /// - Parameter name: The node's name.
    /// - Returns: The event.
    public static func hello(_ name: String) -> Broker.Event {
        Broker.Event(API.notifyNodeHello, [.string(name)])
    }

    /// The number of events received that the node does not handle or that had the wrong arguments.
    public var ignoredEvents: Int { state.withLock { $0.ignoredEvents } }

    /// The number of requests answered.
    public var answeredRequests: Int { state.withLock { $0.answeredRequests } }

    /// Subscribes and announces the node, without waiting for requests.
    ///
    /// - Throws: ``BackendError`` from the backend.
    public func start() async throws {
        // Requests and responses share `zeek/management/node`; the filter spares this node the other nodes'
        // responses and hellos where the backend can filter (each node would otherwise see all of them).
        try await backend.subscribe(API.topic, eventNames: [API.dispatchRequest])
        try await backend.subscribe(scheme.nodeTopic(name))
        try await member?.subscribe()
        try await backend.connect()
        try await backend.publish(Self.hello(name), to: API.topic)
    }

    /// Starts the node and answers requests until the backend's event stream ends, a shutdown request
    /// arrives, or the task is cancelled.
    ///
    /// - Throws: ``BackendError`` when the backend fails; not for cancellation.
    public func run() async throws {
        try await start()
        try await serve()
    }

    /// Answers requests (after ``start()``) until the event stream ends, a shutdown request arrives, or the
    /// task is cancelled.
    ///
    /// - Throws: ``BackendError`` when the backend fails; not for cancellation.
    public func serve() async throws {
        do {
            for try await received in backend.events {
                if try await handle(received) == .stop { return }
            }
        } catch is CancellationError {
            return
        }
    }

    private enum Next { case proceed, stop }

    private func handle(_ received: TopicEvent) async throws -> Next {
        if let member, try await member.handle(received) { return .proceed }
        let event = received.event
        switch event.name {
        case API.dispatchRequest:
            // `nodes` may be left out (the seed's two-argument form): every node is asked.
            guard event.arguments.count == 3 || event.arguments.count == 2, case .string(let reqid) = event.arguments[0]
            else { return ignore() }
            let nodes: Broker.ValueSet
            if event.arguments.count == 3 {
                guard case .set(let given) = event.arguments[2] else { return ignore() }
                nodes = given
            } else {
                nodes = []
            }
            // Zeek's first check, done on the sorted set without converting it: requests for other nodes are
            // ignored before anything else is looked at (a request may name thousands of nodes).
            guard nodes.isEmpty || nodes.contains(.string(name)) else { return .proceed }
            guard let action = try? [String](brokerValue: event.arguments[1]) else { return ignore() }
            let registry = self.registry
            guard let result = dispatch.respond(reqid: reqid, action: action, nodes: [], registry: registry) else {
                return .proceed
            }
            state.withLock { $0.answeredRequests += 1 }
            try await backend.publish(
                Broker.Event(API.dispatchResponse, [.string(reqid), result.brokerValue]),
                to: API.topic
            )
        case "Control::id_value_request":
            guard event.arguments.count == 1, case .string(let id) = event.arguments[0] else { return ignore() }
            let text: String
            switch registry.lookup(id) {
            case .value(let value): text = value.formatted
            case .noValue: text = "<no ID value>"
            case .unknown: text = "<unknown id>"
            }
            try await answerControl("id_value_response", [.string(id), .string(text)])
        case "Control::peer_status_request":
            try await answerControl("peer_status_response", [.string("")])
        case "Control::configuration_update_request":
            try await answerControl("configuration_update_response", [])
        case "Control::shutdown_request":
            try await answerControl("shutdown_response", [])
            return .stop
        default:
            return ignore()
        }
        return .proceed
    }

    private func ignore() -> Next {
        state.withLock { $0.ignoredEvents += 1 }
        return .proceed
    }

    private func answerControl(_ response: String, _ arguments: [Broker.Value]) async throws {
        state.withLock { $0.answeredRequests += 1 }
        try await backend.publish(
            Broker.Event("Control::\(response)", arguments),
            to: scheme.controlReplyTopic(response: response, node: name)
        )
    }
}

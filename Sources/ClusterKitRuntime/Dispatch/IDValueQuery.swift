import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// One `get_id_value` query against a cluster, wherever the cluster is: the library call behind
/// `zeekctl dispatch get_id_value`.
///
/// | target | backend | protocol |
/// | --- | --- | --- |
/// | ``Target/embedded(_:)`` | an in-memory hub with one ``NodeRuntime`` per node | Management node API |
/// | ``Target/controller(url:)`` | a WebSocket connection to a Management controller | controller API |
/// | ``Target/webSocket(url:protocol:cluster:)`` | a WebSocket connection to a cluster's API | Control framework or Management node API |
public struct IDValueQuery: Sendable {
    /// Where the cluster is.
    public enum Target: Sendable {
        /// A cluster run in this process.
        case embedded(EmbeddedCluster)
        /// A Management controller (Zeek's or ClusterKit's) at a WebSocket URL.
        case controller(url: String)
        /// A cluster's own WebSocket API; `cluster` names the nodes to ask and their types (and topic naming).
        case webSocket(url: String, protocol: DispatchProtocol, cluster: EmbeddedCluster)
    }

    /// The identifier to look up.
    public var id: String
    /// The nodes to ask; `nil` or empty means all.
    public var nodes: [String]?
    /// Where the cluster is.
    public var target: Target
    /// The deadline for the whole request; default 10 s.
    public var timeout: Duration

    /// Creates a query.
    ///
    /// - Parameters:
    ///   - id: The identifier.
    ///   - nodes: The nodes to ask; `nil` or empty means all.
    ///   - target: Where the cluster is.
    ///   - timeout: The deadline for the whole request.
    public init(id: String, nodes: [String]? = nil, target: Target, timeout: Duration = .seconds(10)) {
        self.id = id
        self.nodes = nodes
        self.target = target
        self.timeout = timeout
    }

    /// Runs the query.
    ///
    /// - Parameters:
    ///   - makeBackend: Makes the backend for a WebSocket URL (`WebSocketBackend` in practice); not used for
    ///     an embedded target.
    ///   - clock: The clock for the deadline.
    /// - Returns: The per-node report.
    /// - Throws: ``BackendError`` when the request could not be made at all (such as a refused connection).
    public func run(
        makeBackend: @Sendable (String) throws -> any ClusterBackend = { url in
            throw BackendError(.invalidState, "no WebSocket backend available", endpoint: url)
        },
        clock: any Clock<Duration> = ContinuousClock()
    ) async throws -> DispatchReport {
        let options = DispatchOptions(timeout: timeout)
        let id = self.id
        let nodes = self.nodes
        switch target {
        case .embedded(let cluster):
            return try await cluster.getIDValue(id, nodes: nodes, dispatchOptions: options, clock: clock)
        case .controller(let url):
            return try await Self.using(try makeBackend(url)) { backend in
                try await withDispatcher(
                    backend: backend,
                    protocols: [.managementController],
                    clock: clock,
                    // A little longer than asked, so that the controller's own timeout answers first.
                    options: DispatchOptions(timeout: timeout + .seconds(2))
                ) { dispatcher in
                    let targets = (nodes ?? []).map { DispatchTarget($0) }
                    let report = try await dispatcher.getIDValue(id, nodes: targets, via: .managementController)
                    return await Self.typed(report, roles: Self.clusterRoles(dispatcher))
                }
            }
        case .webSocket(let url, let dispatchProtocol, let cluster):
            let (known, unknown) = cluster.targets(named: nodes)
            return try await Self.using(try makeBackend(url)) { backend in
                try await withDispatcher(
                    backend: backend,
                    protocols: [dispatchProtocol],
                    clock: clock,
                    options: options,
                    scheme: cluster.scheme
                ) { dispatcher in
                    try await dispatcher.getIDValue(
                        id,
                        nodes: known,
                        unknownNodes: unknown,
                        allNodes: nodes?.isEmpty ?? true,
                        via: dispatchProtocol
                    )
                }
            }
        }
    }

    /// The cluster role of every node the controller knows (`get_nodes`), so that a controller's answers can
    /// be shown with node types as the embedded ones are; empty when the controller does not answer.
    private static func clusterRoles(_ dispatcher: Dispatcher) async -> [String: Cluster.NodeType] {
        guard let results = try? await ControllerClient(dispatcher: dispatcher).getNodes() else { return [:] }
        var roles: [String: Cluster.NodeType] = [:]
        for result in results {
            guard case .vector(let statuses)? = result.data else { continue }
            for value in statuses {
                guard let status = try? Management.NodeStatus(brokerValue: value) else { continue }
                if status.clusterRole != .none { roles[status.node] = status.clusterRole.nodeType }
            }
        }
        return roles
    }

    /// The report with node types filled in, in ZeekControl's order (by type, then by name: a controller's
    /// answers come in no particular order).
    private static func typed(_ report: DispatchReport, roles: [String: Cluster.NodeType]) -> DispatchReport {
        let entries = report.entries.map { entry in
            var entry = entry
            entry.nodeType = entry.nodeType ?? roles[entry.node]
            return entry
        }.sorted { $0.node < $1.node }
        return DispatchReport(entries: entries, errors: report.errors, valueEncoding: report.valueEncoding)
    }

    /// Runs `body` with `backend` and closes the backend afterwards, whatever happens.
    private static func using<T: Sendable>(
        _ backend: any ClusterBackend,
        _ body: (any ClusterBackend) async throws -> T
    ) async throws -> T {
        do {
            let result = try await body(backend)
            await backend.close()
            return result
        } catch {
            await backend.close()
            throw error
        }
    }
}

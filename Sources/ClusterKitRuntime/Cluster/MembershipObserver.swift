public import ClusterKitModel

/// Watches a hub's cluster membership without taking part in it: what a hub writes to its `cluster.log` about the
/// nodes that come and go.
///
/// It holds a node id topic on the hub, so that every node says `Cluster::hello` to it (the hub's
/// ``InMemoryBackend/Hub/MembershipNotice``s tell them), but it never says hello itself: nodes do not report it as an
/// unexpected node. A hello from a node id not seen before gives `got hello from NAME (ID)`, the hub's notice that
/// the id left gives `node down: NAME`, Zeek's `cluster.log` wording. It knows no layout: any name is logged.
public final class MembershipObserver: Sendable {
    /// The most node ids it remembers (beyond that, new ones are logged but not remembered for their `node down`).
    public static let memberLimit = 65_536

    private let backend: any ClusterBackend
    private let scheme: TopicScheme
    private let nodeID: String
    private let log: @Sendable (String) -> Void
    private let names = Guarded<[String: String]>([:])

    /// Creates an observer.
    ///
    /// - Parameters:
    ///   - backend: Its endpoint on the hub (not yet connected).
    ///   - scheme: The nodes' topic naming.
    ///   - nodeID: Its node id; default the backend's.
    ///   - log: Gets each line, such as `got hello from worker-1 (<id>)`.
    public init(
        backend: any ClusterBackend,
        scheme: TopicScheme = .broker,
        nodeID: String? = nil,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.backend = backend
        self.scheme = scheme
        self.nodeID = nodeID ?? backend.nodeID
        self.log = log
    }

    /// The names of the nodes it saw say hello and not leave, sorted.
    public var nodes: [String] { names.withLock { Array(Set($0.values)) }.sorted() }

    /// Joins the hub and logs membership until cancelled or the backend's events end.
    ///
    /// - Throws: ``BackendError`` from the backend.
    public func run() async throws {
        try await backend.subscribe(scheme.nodeIDTopic(nodeID))
        try await backend.connect()
        do {
            for try await received in backend.events {
                switch MembershipStateMachine.input(from: received.event) {
                case .hello(let name, let id)?:
                    let isNew = names.withLock { names -> Bool in
                        guard names[id] == nil else { return false }
                        if names.count < Self.memberLimit { names[id] = name }
                        return true
                    }
                    if isNew { log("got hello from \(name) (\(id))") }
                case .unsubscriptionObserved(let topic)?:
                    guard let id = scheme.nodeID(inNodeIDTopic: topic),
                        let name = names.withLock({ $0.removeValue(forKey: id) })
                    else { continue }
                    log("node down: \(name)")
                default:
                    continue
                }
            }
        } catch is CancellationError {
            return
        }
    }
}

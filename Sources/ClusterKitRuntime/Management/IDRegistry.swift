import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// The global identifiers a node's Zeek would hold, for `lookup_ID()`: what `get_id_value` and the
/// Control framework's `id_value` read.
///
/// An identifier can be declared without a value (Zeek's `<no ID value>`); an identifier that is not
/// there at all is unknown (`<unknown id>`).
public struct IDRegistry: Sendable, Hashable {
    /// What `lookup_ID()` finds.
    public enum Lookup: Sendable, Hashable {
        /// The identifier has this value.
        case value(ZeekValue)
        /// The identifier is declared but has no value (`<no ID value>`).
        case noValue
        /// There is no such identifier (`<unknown id>`).
        case unknown
    }

    private var values: [String: ZeekValue?]

    /// Creates an empty registry.
    public init() {
        values = [:]
    }

    /// Looks an identifier up.
    ///
    /// - Parameter id: The fully qualified identifier, such as `Cluster::node`.
    /// - Returns: Its value, `noValue` or `unknown`.
    public func lookup(_ id: String) -> Lookup {
        guard let entry = values[id] else { return .unknown }
        guard let value = entry else { return .noValue }
        return .value(value)
    }

    /// Sets an identifier's value; `nil` declares it without a value.
    ///
    /// - Parameters:
    ///   - id: The identifier.
    ///   - value: The value, or `nil` for none.
    public mutating func set(_ id: String, _ value: ZeekValue?) {
        values[id] = .some(value)
    }

    /// Removes an identifier, so that it is unknown.
    ///
    /// - Parameter id: The identifier.
    public mutating func remove(_ id: String) {
        values[id] = nil
    }

    /// The identifiers, sorted.
    public var identifiers: [String] { values.keys.sorted() }

    /// The identifiers a cluster node's Zeek holds for the cluster framework.
    ///
    /// `Cluster::node`, `Cluster::nodes`, `Cluster::manager_is_logger`, every `Cluster::` option of
    /// ``Cluster/Options`` (topics, pool specs, store defaults, WebSocket defaults, `retry_interval`,
    /// `backend`, serializers, `broadcast_topics`), `Cluster::stores` (empty), the `Broker::` clone
    /// intervals, `Management::role` (`Management::NODE`) and `bits_per_uid` (96).
    ///
    /// - Parameters:
    ///   - name: The node's name (`Cluster::node`).
    ///   - layout: The cluster layout (`Cluster::nodes`, `Cluster::manager_is_logger`).
    ///   - options: The cluster options.
    ///   - nodesValue: A prebuilt `Cluster::nodes` value to share between many nodes (copy-on-write), or
    ///     `nil` to build it from `layout`.
    /// - Returns: The registry.
    public static func clusterNode(
        name: String,
        layout: Cluster.Layout,
        options: Cluster.Options = .standard,
        nodesValue: ZeekValue? = nil
    ) -> IDRegistry {
        var registry = IDRegistry()
        registry.set("Cluster::node", .string(name))
        registry.set("Cluster::nodes", nodesValue ?? clusterNodesValue(layout))
        registry.set("Cluster::manager_is_logger", .bool(layout.managerIsLogger))
        registry.set("Cluster::enable_round_robin_logging", .bool(options.enableRoundRobinLogging))
        registry.set("Cluster::logger_topic", .string(options.loggerTopic))
        registry.set("Cluster::manager_topic", .string(options.managerTopic))
        registry.set("Cluster::proxy_topic", .string(options.proxyTopic))
        registry.set("Cluster::worker_topic", .string(options.workerTopic))
        registry.set("Cluster::node_topic_prefix", .string(options.nodeTopicPrefix))
        registry.set("Cluster::nodeid_topic_prefix", .string(options.nodeIDTopicPrefix))
        registry.set("Cluster::broadcast_topics", .set(options.broadcastTopics.sorted().map { .string($0) }))
        registry.set("Cluster::default_master_node", .string(options.defaultMasterNode))
        registry.set("Cluster::default_backend", .enumValue(options.defaultBackend.rawValue))
        registry.set("Cluster::default_persistent_backend", .enumValue(options.defaultPersistentBackend.rawValue))
        registry.set("Cluster::default_store_dir", .string(options.defaultStoreDir))
        registry.set(
            "Cluster::default_websocket_max_event_queue_size",
            .count(options.defaultWebSocketMaxEventQueueSize)
        )
        registry.set(
            "Cluster::default_websocket_ping_interval",
            .interval(Broker.Timespan(options.defaultWebSocketPingInterval))
        )
        registry.set("Cluster::retry_interval", .interval(Broker.Timespan(options.retryInterval)))
        registry.set("Cluster::backend", .enumValue(options.backend.rawValue))
        registry.set("Cluster::event_serializer", .enumValue(options.eventSerializer.rawValue))
        registry.set("Cluster::log_serializer", .enumValue(options.logSerializer.rawValue))
        registry.set("Cluster::logger_pool_spec", .record(options.loggerPoolSpec))
        registry.set("Cluster::proxy_pool_spec", .record(options.proxyPoolSpec))
        registry.set("Cluster::worker_pool_spec", .record(options.workerPoolSpec))
        registry.set("Cluster::stores", .table([]))
        registry.set("Broker::default_clone_resync_interval", .interval(options.defaultCloneResyncInterval))
        registry.set("Broker::default_clone_stale_interval", .interval(options.defaultCloneStaleInterval))
        registry.set(
            "Broker::default_clone_mutation_buffer_interval",
            .interval(options.defaultCloneMutationBufferInterval)
        )
        registry.set("Management::role", .enumValue(Management.Role.node.rawValue))
        registry.set("bits_per_uid", .count(96))
        return registry
    }

    /// `Cluster::nodes` as a Zeek value: a table from node name to `Cluster::Node` record.
    ///
    /// - Parameter layout: The layout.
    /// - Returns: The table value.
    public static func clusterNodesValue(_ layout: Cluster.Layout) -> ZeekValue {
        var seen = Set<String>()
        var entries: [ZeekValue.TableEntry] = []
        entries.reserveCapacity(layout.nodes.count)
        for named in layout.nodes where seen.insert(named.name).inserted {
            entries.append(ZeekValue.TableEntry(.string(named.name), .record(named.node)))
        }
        return .table(entries)
    }
}

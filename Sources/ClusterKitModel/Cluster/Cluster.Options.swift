extension Cluster {
    /// The redefinable options of Zeek's cluster framework, with Zeek 8.0.10's defaults.
    ///
    /// Each property mirrors the `Cluster::` (or `Broker::`) option of the same name. Values that Zeek reads
    /// from the environment (`Cluster::node` from `CLUSTER_NODE`, the `ZEEK_DEFAULT_CONNECT_RETRY` override)
    /// come from an environment dictionary the caller passes in, never from the process.
    public struct Options: Sendable, Hashable {
        /// `Cluster::enable_round_robin_logging`: spread log writes over the loggers; default `true`.
        public var enableRoundRobinLogging: Bool
        /// `Cluster::logger_topic`; default `zeek/cluster/logger`.
        public var loggerTopic: String
        /// `Cluster::manager_topic`; default `zeek/cluster/manager`.
        public var managerTopic: String
        /// `Cluster::proxy_topic`; default `zeek/cluster/proxy`.
        public var proxyTopic: String
        /// `Cluster::worker_topic`; default `zeek/cluster/worker`.
        public var workerTopic: String
        /// `Cluster::node_topic_prefix`; default `zeek/cluster/node/`.
        public var nodeTopicPrefix: String
        /// `Cluster::nodeid_topic_prefix`; default `zeek/cluster/nodeid/`.
        public var nodeIDTopicPrefix: String
        /// `Cluster::default_master_node`: where master stores live; default `""` (the manager).
        public var defaultMasterNode: String
        /// `Cluster::default_backend`: the store backend; default ``Broker/BackendType/memory``.
        public var defaultBackend: Broker.BackendType
        /// `Cluster::default_persistent_backend`; default ``Broker/BackendType/sqlite``.
        public var defaultPersistentBackend: Broker.BackendType
        /// `Cluster::default_store_dir`: where persistent stores go; default `""`.
        public var defaultStoreDir: String
        /// `Cluster::default_websocket_max_event_queue_size`; default 32.
        public var defaultWebSocketMaxEventQueueSize: UInt64
        /// `Cluster::default_websocket_ping_interval`; default 5 s.
        public var defaultWebSocketPingInterval: Duration
        /// `Cluster::manager_is_logger`: the manager writes logs when there is no logger; default `true`.
        public var managerIsLogger: Bool
        /// `Cluster::node`: this process's node name (`getenv("CLUSTER_NODE")`); default `""`.
        public var node: String
        /// `Cluster::retry_interval`: how often failed peerings are retried; default 1 s.
        public var retryInterval: Duration
        /// `Cluster::backend`; default ``BackendTag/broker`` (Zeek 8.0; 8.1 changed it to `none`).
        public var backend: BackendTag
        /// `Cluster::event_serializer`; default ``EventSerializerTag/brokerBinV1``.
        public var eventSerializer: EventSerializerTag
        /// `Cluster::log_serializer`; default ``LogSerializerTag/zeekBinV1``.
        public var logSerializer: LogSerializerTag
        /// `Cluster::logger_pool_spec`; default topic `zeek/cluster/pool/logger`, type logger.
        public var loggerPoolSpec: PoolSpec
        /// `Cluster::proxy_pool_spec`; default topic `zeek/cluster/pool/proxy`, type proxy.
        public var proxyPoolSpec: PoolSpec
        /// `Cluster::worker_pool_spec`; default topic `zeek/cluster/pool/worker`, type worker.
        public var workerPoolSpec: PoolSpec
        /// `Broker::default_clone_resync_interval`; default 10 s.
        public var defaultCloneResyncInterval: Broker.Timespan
        /// `Broker::default_clone_stale_interval`; default 5 min.
        public var defaultCloneStaleInterval: Broker.Timespan
        /// `Broker::default_clone_mutation_buffer_interval`; default 2 min.
        public var defaultCloneMutationBufferInterval: Broker.Timespan

        /// Creates options with Zeek's defaults; `Cluster::node` comes from `CLUSTER_NODE` in `environment`.
        ///
        /// - Parameter environment: The environment Zeek would see; default empty.
        public init(environment: [String: String] = [:]) {
            enableRoundRobinLogging = true
            loggerTopic = "zeek/cluster/logger"
            managerTopic = "zeek/cluster/manager"
            proxyTopic = "zeek/cluster/proxy"
            workerTopic = "zeek/cluster/worker"
            nodeTopicPrefix = "zeek/cluster/node/"
            nodeIDTopicPrefix = "zeek/cluster/nodeid/"
            defaultMasterNode = ""
            defaultBackend = .memory
            defaultPersistentBackend = .sqlite
            defaultStoreDir = ""
            defaultWebSocketMaxEventQueueSize = 32
            defaultWebSocketPingInterval = .seconds(5)
            managerIsLogger = true
            node = environment["CLUSTER_NODE"] ?? ""
            retryInterval = .seconds(1)
            backend = .broker
            eventSerializer = .brokerBinV1
            logSerializer = .zeekBinV1
            loggerPoolSpec = PoolSpec(topic: "zeek/cluster/pool/logger", nodeType: .logger)
            proxyPoolSpec = PoolSpec(topic: "zeek/cluster/pool/proxy", nodeType: .proxy)
            workerPoolSpec = PoolSpec(topic: "zeek/cluster/pool/worker", nodeType: .worker)
            defaultCloneResyncInterval = Broker.Timespan(.seconds(10))
            defaultCloneStaleInterval = Broker.Timespan(.seconds(300))
            defaultCloneMutationBufferInterval = Broker.Timespan(.seconds(120))
        }

        /// Zeek's defaults with no `CLUSTER_NODE`.
        public static let standard = Options()

        /// `Cluster::broadcast_topics`: the four type topics (there is deliberately no "all nodes" topic).
        public var broadcastTopics: [String] { [loggerTopic, managerTopic, proxyTopic, workerTopic] }

        /// The retry interval Broker actually uses for peerings.
        ///
        /// When `ZEEK_DEFAULT_CONNECT_RETRY` is set it wins, read with C `atoi` rules as whole seconds
        /// (`"2.5"` → 2 s, `"x"` → 0); otherwise ``retryInterval`` applies, raised to 1 s when it is between 0
        /// and 1 s, and truncated to whole seconds (1.9 s → 1 s). Zero means "do not retry"; a negative
        /// value is read as zero.
        ///
        /// - Parameter environment: The environment Zeek would see.
        /// - Returns: The interval in whole seconds.
        public func connectRetryInterval(environment: [String: String]) -> Duration {
            if let text = environment["ZEEK_DEFAULT_CONNECT_RETRY"] {
                return .seconds(max(0, Self.atoi(text)))
            }
            var seconds = retryInterval.components.seconds
            if seconds == 0 && retryInterval > .zero { seconds = 1 }
            return .seconds(max(0, seconds))
        }

        /// C's `atoi`: leading white space, an optional sign, then digits up to the first non-digit;
        /// saturates instead of overflowing.
        static func atoi(_ text: String) -> Int64 {
            var bytes = Substring(text).utf8.drop { [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains($0) }
            var sign: Int64 = 1
            if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
                sign = first == UInt8(ascii: "-") ? -1 : 1
                bytes = bytes.dropFirst()
            }
            var value: Int64 = 0
            for byte in bytes {
                guard JSONScanner.isDigit(byte) else { break }
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if overflow || overflow2 { return sign > 0 ? Int64(Int32.max) : Int64(Int32.min) }
                value = sum
            }
            return sign * value
        }
    }
}

extension Cluster {
    /// Zeek's `Cluster::BackendTag`: the cluster backend in use (`Cluster::backend`).
    public enum BackendTag: String, BrokerEnum, Sendable, Hashable {
        /// `Cluster::CLUSTER_BACKEND_NONE` (Zeek 8.1+ default: a cluster node must pick one).
        case none = "Cluster::CLUSTER_BACKEND_NONE"
        /// `Cluster::CLUSTER_BACKEND_BROKER` (Zeek 8.0 default).
        case broker = "Cluster::CLUSTER_BACKEND_BROKER"
        /// `Cluster::CLUSTER_BACKEND_BROKER_WEBSOCKET_SHIM`.
        case brokerWebSocketShim = "Cluster::CLUSTER_BACKEND_BROKER_WEBSOCKET_SHIM"
        /// `Cluster::CLUSTER_BACKEND_ZEROMQ` (ZeekControl's default since Zeek 8.1).
        case zeroMQ = "Cluster::CLUSTER_BACKEND_ZEROMQ"

        /// `Cluster::BackendTag`.
        public static let zeekTypeName = "Cluster::BackendTag"
    }

    /// Zeek's `Cluster::EventSerializerTag`: how node-to-node events are encoded (not the WebSocket format).
    public enum EventSerializerTag: String, BrokerEnum, Sendable, Hashable {
        /// `Cluster::EVENT_SERIALIZER_BROKER_BIN_V1` (default).
        case brokerBinV1 = "Cluster::EVENT_SERIALIZER_BROKER_BIN_V1"
        /// `Cluster::EVENT_SERIALIZER_BROKER_JSON_V1`.
        case brokerJSONV1 = "Cluster::EVENT_SERIALIZER_BROKER_JSON_V1"

        /// `Cluster::EventSerializerTag`.
        public static let zeekTypeName = "Cluster::EventSerializerTag"
    }

    /// Zeek's `Cluster::LogSerializerTag`: how log writes are encoded between nodes.
    public enum LogSerializerTag: String, BrokerEnum, Sendable, Hashable {
        /// `Cluster::LOG_SERIALIZER_ZEEK_BIN_V1` (default).
        case zeekBinV1 = "Cluster::LOG_SERIALIZER_ZEEK_BIN_V1"

        /// `Cluster::LogSerializerTag`.
        public static let zeekTypeName = "Cluster::LogSerializerTag"
    }
}

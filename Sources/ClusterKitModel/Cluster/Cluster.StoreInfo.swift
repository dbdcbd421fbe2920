extension Cluster {
    /// Zeek's `Cluster::StoreInfo`: a cluster-enabled data store and how it is set up.
    ///
    /// The `store` field (an opaque Broker store handle) has no Swift counterpart; it is `none` on the wire.
    public struct StoreInfo: BrokerRecord, Sendable, Hashable {
        /// The store's name.
        public var name: String?
        /// The node holding the master copy; default `Cluster::default_master_node` (`""` = the manager).
        public var masterNode: String
        /// A Boolean value indicating whether this node holds the master copy; default `false`.
        public var master: Bool
        /// The backend; default `Cluster::default_backend` (``Broker/BackendType/memory``).
        public var backend: Broker.BackendType
        /// Backend settings; default `Broker::BackendOptions()`.
        public var options: Broker.BackendOptions
        /// Resync interval passed to clones; default `Broker::default_clone_resync_interval` (10 s).
        public var cloneResyncInterval: Broker.Timespan
        /// Staleness limit passed to clones; default `Broker::default_clone_stale_interval` (5 min).
        public var cloneStaleInterval: Broker.Timespan
        /// Mutation buffer interval passed to clones; default `Broker::default_clone_mutation_buffer_interval`
        /// (2 min).
        public var cloneMutationBufferInterval: Broker.Timespan

        /// Creates store info; defaults come from `options`, as Zeek's `&default` attributes do.
        ///
        /// - Parameters:
        ///   - name: The store's name.
        ///   - options: The cluster options whose defaults apply.
        public init(name: String? = nil, options: Cluster.Options = .standard) {
            self.name = name
            self.masterNode = options.defaultMasterNode
            self.master = false
            self.backend = options.defaultBackend
            self.options = Broker.BackendOptions()
            self.cloneResyncInterval = options.defaultCloneResyncInterval
            self.cloneStaleInterval = options.defaultCloneStaleInterval
            self.cloneMutationBufferInterval = options.defaultCloneMutationBufferInterval
        }

        /// `Cluster::StoreInfo`.
        public static let zeekTypeName = "Cluster::StoreInfo"
        /// The fields in declaration order.
        public static let fieldNames = [
            "name", "store", "master_node", "master", "backend", "options", "clone_resync_interval",
            "clone_stale_interval", "clone_mutation_buffer_interval",
        ]

        /// Reads the fields in order; defaults are Zeek's standard option values.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            let defaults = StoreInfo()
            self = defaults
            name = try record.optional()
            record.skip()
            masterNode = try record.withDefault(defaults.masterNode)
            master = try record.withDefault(defaults.master)
            backend = try record.withDefault(defaults.backend)
            options = try record.withDefault(defaults.options)
            cloneResyncInterval = try record.withDefault(defaults.cloneResyncInterval)
            cloneStaleInterval = try record.withDefault(defaults.cloneStaleInterval)
            cloneMutationBufferInterval = try record.withDefault(defaults.cloneMutationBufferInterval)
        }

        /// The field values in declaration order (`store` is `none`).
        public var fieldValues: [Broker.Value] {
            [
                name?.brokerValue ?? .none, .none, masterNode.brokerValue, master.brokerValue, backend.brokerValue,
                options.brokerValue, cloneResyncInterval.brokerValue, cloneStaleInterval.brokerValue,
                cloneMutationBufferInterval.brokerValue,
            ]
        }
    }
}

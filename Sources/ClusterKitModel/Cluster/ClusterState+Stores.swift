extension Cluster {
    /// A fatal error of `Cluster::create_store` (Zeek terminates on these).
    public struct StoreError: Error, Sendable, Hashable {
        /// The broad kind of problem.
        public enum Code: String, Sendable, Hashable, CaseIterable {
            /// No master node was named and there is no manager to default to.
            case noMasterNode
            /// The master node named does not exist.
            case unknownMasterNode
        }

        /// The broad kind of problem.
        public var code: Code
        /// Zeek's message.
        public var message: String

        /// Creates an error.
        ///
        /// - Parameters:
        ///   - code: The kind of problem.
        ///   - message: Zeek's message.
        public init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }
    }
}

extension Cluster.StoreError: CustomStringConvertible {
    /// Zeek's message.
    public var description: String { message }
}

extension ClusterState {
    /// `Cluster::create_store(name, persistent)` with Zeek's full decision order.
    ///
    /// 1. The entry of `Cluster::stores` (or a fresh default record), named `name`.
    /// 2. With `default_store_dir` set and no SQLite path, the path becomes `<dir>/<name>.sqlite` (plain
    ///    concatenation, for any backend).
    /// 3. `persistent`: `MEMORY` becomes `default_persistent_backend`; `SQLITE` stays.
    /// 4. Not a cluster: a second creation warns `duplicate cluster store creation for <name>` and returns
    ///    the existing record; otherwise this node is the master (no log line).
    /// 5. Cluster: an empty master node defaults to the first manager by name, or fails; an unknown one fails.
    /// 6. This node is the master (`created master store: <name>`) or holds a clone (`created clone store:
    ///    <name>`); there is no duplicate check in cluster mode.
    ///
    /// - Parameters:
    ///   - name: The store's name.
    ///   - persistent: Whether the store must be persistent.
    ///   - now: Network time, for the log record.
    /// - Returns: The store info and the effects (log lines, warnings).
    /// - Throws: ``Cluster/StoreError`` for Zeek's two fatal cases.
    public mutating func createStore(
        _ name: String,
        persistent: Bool = false,
        now: Broker.Timestamp
    ) throws(Cluster.StoreError) -> (info: Cluster.StoreInfo, effects: [Effect]) {
        var info = stores[name] ?? Cluster.StoreInfo(options: options)
        info.name = name
        if !options.defaultStoreDir.isEmpty && info.options.sqlite.path == Broker.SQLiteOptions().path {
            info.options.sqlite.path = options.defaultStoreDir + "/" + name + ".sqlite"
        }
        if persistent && info.backend == .memory {
            info.backend = options.defaultPersistentBackend
        }
        guard isEnabled else {
            if let existing = stores[name], existing.master {
                return (existing, [.warning("duplicate cluster store creation for \(name)")])
            }
            info.master = true
            stores[name] = info
            return (info, [])
        }
        if info.masterNode.isEmpty {
            guard let manager = layout.nodes(ofType: .manager).first else {
                throw Cluster.StoreError(
                    .noMasterNode,
                    "empty master node name for cluster store '\(name)', but there's no manager node to default"
                )
            }
            info.masterNode = manager.name
        } else if layout[info.masterNode] == nil {
            throw Cluster.StoreError(
                .unknownMasterNode,
                "master node '\(info.masterNode)' for cluster store '\(name)' does not exist"
            )
        }
        let isMaster = nodeName == info.masterNode
        info.master = isMaster
        stores[name] = info
        let message = isMaster ? "created master store: \(name)" : "created clone store: \(name)"
        return (info, [.log(Cluster.Info(ts: now, node: nodeName, message: message))])
    }

    /// Sets an entry of `Cluster::stores` before stores are created, as a `redef` would.
    ///
    /// - Parameters:
    ///   - info: The store's settings.
    ///   - name: The store's name.
    public mutating func configureStore(_ info: Cluster.StoreInfo, named name: String) {
        stores[name] = info
    }
}

extension Cluster {
    /// A fatal error while setting up pools (Zeek terminates on these).
    public struct PoolError: Error, Sendable, Hashable {
        /// Zeek's message.
        public var message: String

        /// Creates an error.
        ///
        /// - Parameter message: Zeek's message.
        public init(_ message: String) {
            self.message = message
        }
    }
}

extension Cluster.PoolError: CustomStringConvertible {
    /// Zeek's message.
    public var description: String { message }
}

extension ClusterState {
    /// `Cluster::register_pool(spec)`: adds a pool (members are assigned by ``initializePools()``).
    ///
    /// - Parameter spec: The pool's spec; its topic names it.
    public mutating func registerPool(_ spec: Cluster.PoolSpec) {
        if pools[spec.topic] == nil { poolOrder.append(spec.topic) }
        pools[spec.topic] = Cluster.Pool(spec: spec)
    }

    /// Registers Zeek's three built-in pools (`logger_pool`, `proxy_pool`, `worker_pool`).
    public mutating func registerStandardPools() {
        registerPool(options.workerPoolSpec)
        registerPool(options.proxyPoolSpec)
        registerPool(options.loggerPoolSpec)
    }

    /// Assigns members to the registered pools as `pools.zeek` does at `zeek_init` priority −5.
    ///
    /// Pools in `strcmp` order of their topics; eligible nodes per type sorted by name (the first manager
    /// joins the loggers when `manager_is_logger`); exclusive pools first take their `max_nodes` nodes, which
    /// then leave the eligible lists; the others take `min(max_nodes, eligible)` from a per-type cursor shared
    /// between pools, wrapping. Each member's site id is `fnv1a32("<name>.<n>")` with the smallest `n` that
    /// is unique in the pool; only this node starts alive, and nothing is in the HRW tables until `node_up`.
    ///
    /// - Throws: ``Cluster/PoolError`` with Zeek's fatal messages.
    public mutating func initializePools() throws(Cluster.PoolError) {
        let order = poolOrder.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var eligible: [Cluster.NodeType: [String]] = [:]
        for topic in order {
            guard let type = pools[topic]?.spec.nodeType, eligible[type] == nil else { continue }
            guard [.logger, .manager, .proxy, .worker].contains(type) else {
                throw Cluster.PoolError("invalid pool node type: \(type.rawValue)")
            }
            var names = layout.nodes(ofType: type).map(\.name)
            if type == .logger && layout.managerIsLogger, let manager = layout.nodes(ofType: .manager).first {
                names.append(manager.name)
            }
            eligible[type] = names
        }
        // Exclusive pools first.
        var exclusiveNeeds: [Cluster.NodeType: UInt64] = [:]
        for topic in order {
            guard let spec = pools[topic]?.spec, spec.exclusive else { continue }
            guard let maxNodes = spec.maxNodes else {
                throw Cluster.PoolError(
                    "Cluster::PoolSpec 'max_nodes' field must be set when using the 'exclusive' flag"
                )
            }
            exclusiveNeeds[spec.nodeType, default: 0] += maxNodes
        }
        for (type, need) in exclusiveNeeds where need > UInt64(eligible[type]?.count ?? 0) {
            let name = type.zeekctlName ?? type.rawValue
            throw Cluster.PoolError(
                "not enough \(name) nodes to satisfy pool exclusivity requirements: need \(need) nodes"
            )
        }
        for topic in order {
            guard let spec = pools[topic]?.spec, spec.exclusive, let maxNodes = spec.maxNodes else { continue }
            let taken = Array((eligible[spec.nodeType] ?? []).prefix(Int(maxNodes)))
            eligible[spec.nodeType] = Array((eligible[spec.nodeType] ?? []).dropFirst(taken.count))
            assignMembers(taken, toPool: topic)
        }
        var cursors: [Cluster.NodeType: Int] = [:]
        for topic in order {
            guard let spec = pools[topic]?.spec, !spec.exclusive else { continue }
            let names = eligible[spec.nodeType] ?? []
            guard !names.isEmpty else { continue }
            let count = min(Int(clamping: spec.maxNodes ?? UInt64(names.count)), names.count)
            var taken: [String] = []
            var cursor = cursors[spec.nodeType] ?? 0
            for _ in 0..<count {
                taken.append(names[cursor % names.count])
                cursor += 1
            }
            cursors[spec.nodeType] = cursor % names.count
            assignMembers(taken, toPool: topic)
        }
    }

    private mutating func assignMembers(_ names: [String], toPool topic: String) {
        guard var pool = pools[topic] else { return }
        var siteIDs = Set(pool.members.map(\.siteID))
        var added: [Cluster.Pool.Member] = []
        added.reserveCapacity(names.count)
        for name in names {
            var counter = 0
            var alias = "\(name).\(counter)"
            var siteID = HRW.fnv1a32(alias)
            while siteIDs.contains(siteID) {
                counter += 1
                alias = "\(name).\(counter)"
                siteID = HRW.fnv1a32(alias)
            }
            siteIDs.insert(siteID)
            added.append(
                Cluster.Pool.Member(
                    name: name,
                    alias: alias,
                    siteID: siteID,
                    alive: name == nodeName,
                    topic: nodeTopic(name)
                )
            )
        }
        // One rebuild of the HRW table for the lot (one per member made pools of thousands quadratic).
        pool.appendMembers(added)
        pools[topic] = pool
    }

    /// `Cluster::hrw_topic`: see ``Cluster/Pool/hrwTopic(for:)``.
    ///
    /// - Parameters:
    ///   - pool: The pool's topic.
    ///   - key: The key.
    /// - Returns: The chosen topic, or `nil`.
    public func hrwTopic(pool: String, key: String) -> Topic? { pools[pool]?.hrwTopic(for: key) }

    /// `Cluster::rr_topic`: see ``Cluster/Pool/roundRobinTopic(for:)``.
    ///
    /// - Parameters:
    ///   - pool: The pool's topic.
    ///   - key: The key.
    /// - Returns: The chosen topic, or `nil`.
    public mutating func roundRobinTopic(pool: String, key: String = "") -> Topic? {
        pools[pool]?.roundRobinTopic(for: key)
    }

    /// `Cluster::rr_log_topic(id, path)`: the next alive logger's node topic, else `zeek/logs/<id>`.
    ///
    /// - Parameter logID: The log stream, such as `Conn::LOG`.
    /// - Returns: The topic log writes go to.
    public mutating func roundRobinLogTopic(for logID: String) -> Topic {
        roundRobinTopic(pool: options.loggerPoolSpec.topic, key: "Cluster::rr_log_topic")
            ?? Topic("zeek/logs/" + logID)
    }

    /// The pools' `node_up` handler: the member comes alive and joins the HRW table.
    mutating func nodeUpInPools(_ name: String) {
        for topic in poolOrder {
            // In place: a copy of the pool would copy its members too.
            pools[topic]?.setMember(named: name, alive: true)
        }
    }

    /// The pools' `node_down` handler: the member is marked down and leaves the HRW table.
    mutating func nodeDownInPools(_ name: String) {
        for topic in poolOrder {
            // In place: a copy of the pool would copy its members too.
            pools[topic]?.setMember(named: name, alive: false)
        }
    }
}

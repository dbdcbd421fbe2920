extension Cluster {
    /// Zeek's `Cluster::Pool`: a set of nodes of one type that work is spread over, by HRW or round robin.
    public struct Pool: Sendable, Hashable {
        /// Zeek's `Cluster::PoolNode`: one member.
        public struct Member: Sendable, Hashable {
            /// The node's name.
            public var name: String
            /// `<name>.<n>`: the name hashed into the site id (`n` makes it unique in the pool).
            public var alias: String
            /// `fnv1a32(alias)`.
            public var siteID: UInt32
            /// A Boolean value indicating whether the node is up (initially only the local node).
            public var alive: Bool
            /// The node's topic.
            public var topic: Topic
        }

        /// The pool's spec.
        public var spec: PoolSpec
        /// The members in Zeek's deterministic order.
        public internal(set) var members: [Member] = []
        /// The HRW sites: site ids of the members that came up (a node is absent from its own HRW table).
        public internal(set) var hrwSites: Set<UInt32> = []
        /// Round-robin cursors per key.
        public internal(set) var roundRobinCursors: [String: Int] = [:]

        /// Creates an empty pool.
        ///
        /// - Parameter spec: The spec.
        public init(spec: PoolSpec) {
            self.spec = spec
        }

        /// The number of alive members.
        public var aliveCount: Int { members.filter(\.alive).count }

        /// `Cluster::hrw_topic(pool, key)`: the topic of the member whose HRW weight for `key` is highest,
        /// ties going to the larger site id; `nil` (Zeek's `""`) with no sites.
        ///
        /// - Parameter key: A string key (other Zeek key types hash a binary form that is not portable).
        /// - Returns: The chosen member's topic.
        public func hrwTopic(for key: String) -> Topic? {
            let digest = HRW.fnv1a32(key)
            var best: (weight: UInt32, site: UInt32)?
            for site in hrwSites {
                let weight = HRW.weight(site: site, digest: digest)
                if let current = best, weight < current.weight || (weight == current.weight && site < current.site) {
                    continue
                }
                best = (weight, site)
            }
            guard let site = best?.site else { return nil }
            return members.first { $0.siteID == site }?.topic
        }

        /// `Cluster::rr_topic(pool, key)`: the next alive member after the key's cursor, wrapping; `nil`
        /// (Zeek's `""`) when none is alive or the cursor is past the end.
        ///
        /// - Parameter key: The round-robin key (each key has its own cursor).
        /// - Returns: The chosen member's topic.
        public mutating func roundRobinTopic(for key: String = "") -> Topic? {
            let start = roundRobinCursors[key] ?? 0
            guard start < members.count else { return nil }
            for step in 0..<members.count {
                let position = (start + step) % members.count
                if members[position].alive {
                    roundRobinCursors[key] = (position + 1) % members.count
                    return members[position].topic
                }
            }
            return nil
        }
    }
}

/// Zeek's highest-random-weight hashing (`base/utils/hash_hrw.zeek`).
package enum HRW {
    /// FNV-1a, 32 bits, over the bytes of `text`.
    package static func fnv1a32(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    /// `((A·(((A·s + B) mod 2³²) XOR (d AND 0x7fffffff)) + B) mod 2³²) mod 2³¹`.
    static func weight(site: UInt32, digest: UInt32) -> UInt32 {
        let a: UInt32 = 1_103_515_245
        let b: UInt32 = 12345
        let first = a &* site &+ b
        return (a &* (first ^ (digest & 0x7FFF_FFFF)) &+ b) & 0x7FFF_FFFF
    }
}

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
        public private(set) var members: [Member] = []
        /// The HRW sites: site ids of the members that came up (a node is absent from its own HRW table).
        public private(set) var hrwSites: Set<UInt32> = []
        /// ``hrwSites`` as contiguous site ids with the index of their member, for picking without hashing; in
        /// member order.
        private(set) var hrwTable = HRWTable()
        /// Each member's position in ``members``, by name.
        private var positions: [String: Int] = [:]

        /// Sites in member order, each with its member's index.
        struct HRWTable: Sendable, Hashable {
            var sites: [UInt32] = []
            var firsts: [UInt32] = []
            var members: [Int] = []
        }
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
            guard let position = HRW.pick(HRW.fnv1a32(key), firsts: hrwTable.firsts, sites: hrwTable.sites) else {
                return nil
            }
            return members[hrwTable.members[position]].topic
        }

        /// Adds members after the others (Zeek's order), with one rebuild of the HRW table for all of them.
        mutating func appendMembers(_ added: [Member]) {
            for member in added where positions[member.name] == nil {
                positions[member.name] = members.count
                members.append(member)
            }
            rebuildHRWTable()
        }

        /// Marks the member named `name` up (alive, its site in the HRW table) or down; `false` when it is not a
        /// member.
        ///
        /// The HRW table changes in place, in member order: finding the place takes a binary search, so a pool of
        /// thousands takes each `node_up` or `node_down` in time linear in nothing but the move of the table's tail.
        @discardableResult
        mutating func setMember(named name: String, alive: Bool) -> Bool {
            guard let position = positions[name] else { return false }
            members[position].alive = alive
            let site = members[position].siteID
            // Where the member's site is or goes: after every member before it.
            var low = 0
            var high = hrwTable.members.count
            while low < high {
                let middle = (low + high) / 2
                if hrwTable.members[middle] < position { low = middle + 1 } else { high = middle }
            }
            let present = low < hrwTable.members.count && hrwTable.members[low] == position
            if alive, hrwSites.insert(site).inserted, !present {
                hrwTable.sites.insert(site, at: low)
                hrwTable.firsts.insert(HRW.first(site), at: low)
                hrwTable.members.insert(position, at: low)
            } else if !alive, hrwSites.remove(site) != nil, present {
                hrwTable.sites.remove(at: low)
                hrwTable.firsts.remove(at: low)
                hrwTable.members.remove(at: low)
            }
            return true
        }

        private mutating func rebuildHRWTable() {
            var sites: [UInt32] = []
            var indices: [Int] = []
            for (index, member) in members.enumerated() where hrwSites.contains(member.siteID) {
                sites.append(member.siteID)
                indices.append(index)
            }
            hrwTable = HRWTable(sites: sites, firsts: sites.map(HRW.first), members: indices)
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
        var text = text
        return text.withUTF8 { bytes in
            var hash: UInt32 = 2_166_136_261
            for byte in bytes {
                hash ^= UInt32(byte)
                hash = hash &* 16_777_619
            }
            return hash
        }
    }

    /// The position in `sites` of the site with the highest weight for `digest`, ties going to the larger site id;
    /// `nil` when there is none.
    ///
    /// `firsts` holds each site's `A·s + B` (``first(_:)``), so that a weight costs one multiplication. The sites are
    /// weighed eight at a time in SIMD lanes (weights are below 2³¹, so signed lanes compare them), then found again
    /// the same way: the weight is all Zeek compares but for ties, which the second pass settles by site id.
    package static func pick(_ digest: UInt32, firsts: [UInt32], sites: [UInt32]) -> Int? {
        let count = min(firsts.count, sites.count)
        guard count > 0 else { return nil }
        let masked = digest & 0x7FFF_FFFF
        return firsts.withUnsafeBufferPointer { firsts -> Int? in
            guard let base = firsts.baseAddress else { return nil }
            let raw = UnsafeRawPointer(base)
            let blocks = count / 8
            let lanesDigest = SIMD8<UInt32>(repeating: masked)
            let multiplier = SIMD8<UInt32>(repeating: a)
            let increment = SIMD8<UInt32>(repeating: b)
            let mask = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
            @inline(__always) func weights(_ block: Int) -> SIMD8<Int32> {
                let first = raw.loadUnaligned(fromByteOffset: block * 32, as: SIMD8<UInt32>.self)
                return SIMD8<Int32>(truncatingIfNeeded: ((first ^ lanesDigest) &* multiplier &+ increment) & mask)
            }
            return withUnsafeTemporaryAllocation(of: SIMD8<Int32>.self, capacity: max(blocks, 1)) { weighed in
                var best = SIMD8<Int32>(repeating: -1)
                for block in 0..<blocks {
                    let blockWeights = weights(block)
                    weighed[block] = blockWeights
                    best = pointwiseMax(best, blockWeights)
                }
                var highest = best.max()
                for position in (blocks * 8)..<count {
                    highest = max(highest, Int32(truncatingIfNeeded: weight(first: firsts[position], digest: masked)))
                }
                // Where the highest weight is; among equal weights, the larger site id.
                var chosen: Int?
                func consider(_ position: Int) {
                    if let current = chosen, sites[current] > sites[position] { return }
                    chosen = position
                }
                let target = SIMD8<Int32>(repeating: highest)
                for block in 0..<blocks {
                    let equal = weighed[block] .== target
                    guard any(equal) else { continue }
                    for lane in 0..<8 where equal[lane] { consider(block * 8 + lane) }
                }
                for position in (blocks * 8)..<count
                where Int32(truncatingIfNeeded: weight(first: firsts[position], digest: masked)) == highest {
                    consider(position)
                }
                return chosen
            }
        }
    }

    private static let a: UInt32 = 1_103_515_245
    private static let b: UInt32 = 12345

    /// A site's `A·s + B`, the part of its weight that does not depend on the key.
    package static func first(_ site: UInt32) -> UInt32 { a &* site &+ b }

    /// The weight from a site's ``first(_:)`` and a digest already masked to 31 bits.
    @inline(__always) static func weight(first: UInt32, digest: UInt32) -> UInt32 {
        (a &* (first ^ digest) &+ b) & 0x7FFF_FFFF
    }

    /// `((A·(((A·s + B) mod 2³²) XOR (d AND 0x7fffffff)) + B) mod 2³²) mod 2³¹`.
    static func weight(site: UInt32, digest: UInt32) -> UInt32 {
        weight(first: first(site), digest: digest & 0x7FFF_FFFF)
    }
}

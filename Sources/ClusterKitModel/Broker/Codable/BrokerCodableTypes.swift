/// What the bridge learns about each Swift type the first time it meets it, so that later values of the type
/// need no conformance lookups, no reflection and no key searches: how the type is written or read (its own
/// Broker form, a set, a table, or its `encode(to:)`/`init(from:)`), the keys of its record in the order they
/// came, and, for encoding, its number of stored properties.
///
/// The caches are bounded (``limit`` types each; past it, types are looked at every time, as before caching).
enum BrokerCodableTypes {
    /// How the encoder writes a type.
    enum EncodingKind: Sendable {
        /// Its own ``BrokerConvertible/brokerValue``.
        case convertible(any BrokerConvertible.Type)
        /// A `Set`: a Broker `set`.
        case set
        /// A `Dictionary`: a Broker `table`.
        case table
        /// A ``BrokerStoredRecord``: its stored properties, read from its memory.
        case stored(BrokerStoredLayout)
        /// Whatever its `encode(to:)` writes.
        case plain
    }

    /// How the decoder reads a type.
    enum DecodingKind: Sendable {
        case set(any BrokerDecodableSet.Type)
        case table(any BrokerDecodableTable.Type)
        /// Its own ``BrokerConvertible/init(brokerValue:)``.
        case convertible(any BrokerConvertible.Type)
        /// Whatever its `init(from:)` reads (the standard library's numbers, strings and arrays among them: they
        /// follow the bridge's rules, not their stricter `BrokerConvertible` reading).
        case plain
    }

    struct Encoding: Sendable {
        var kind: EncodingKind
        /// The keys the type's `encode(to:)` wrote the first time, in order; `nil` until a record was written.
        var keys: [String]?
        /// The number of stored properties (`Mirror`'s children); `nil` until a record was written.
        var propertyCount: Int?
    }

    struct Decoding: Sendable {
        var kind: DecodingKind
        /// The keys the type's `init(from:)` asked for the first time, in order; `nil` until then.
        var keys: [String]?
    }

    static let limit = 10_000
    private static let encodings = Guarded<[ObjectIdentifier: Encoding]>([:])
    private static let decodings = Guarded<[ObjectIdentifier: Decoding]>([:])

    /// What the encoder knows about `type` (a value's dynamic type); for a top-level value (`makingRecent`), a
    /// stored record's layout becomes the one ``BrokerStoredLayout`` finds without a lock.
    static func encoding(_ type: Any.Type, makingRecent: Bool = false) -> Encoding {
        let id = ObjectIdentifier(type)
        if let known = encodings.withLock({ $0[id] }) {
            if makingRecent, case .stored(let layout) = known.kind { layout.makeRecent() }
            return known
        }
        let made = Encoding(kind: encodingKind(type))
        // What the cache holds for the type: `made`, or what another thread put there first; `nil` when full.
        let kept = encodings.withLock { cache -> Encoding? in
            if let first = cache[id] { return first }
            guard cache.count < limit else { return nil }
            cache[id] = made
            return made
        }
        // Only a layout the cache holds is made the recent one: any other may be freed.
        if makingRecent, let kept, case .stored(let layout) = kept.kind { layout.makeRecent() }
        return kept ?? made
    }

    /// Adds what writing one record of `type` showed.
    static func learnEncoding(_ type: Any.Type, keys: [String], propertyCount: Int, into info: inout Encoding) {
        if info.keys == nil { info.keys = keys }
        if info.propertyCount == nil { info.propertyCount = propertyCount }
        let learnt = info
        encodings.withLock { cache in
            if cache.count < limit || cache[ObjectIdentifier(type)] != nil { cache[ObjectIdentifier(type)] = learnt }
        }
    }

    /// What the decoder knows about `type`.
    static func decoding(_ type: Any.Type) -> Decoding {
        let id = ObjectIdentifier(type)
        if let known = decodings.withLock({ $0[id] }) { return known }
        let info = Decoding(kind: decodingKind(type))
        decodings.withLock { cache in
            if cache.count < limit, cache[id] == nil { cache[id] = info }
        }
        return info
    }

    /// Adds the keys reading one record of `type` asked for.
    static func learnDecoding(_ type: Any.Type, keys: [String], into info: inout Decoding) {
        guard info.keys == nil else { return }
        info.keys = keys
        let learnt = info
        decodings.withLock { cache in
            if cache.count < limit || cache[ObjectIdentifier(type)] != nil { cache[ObjectIdentifier(type)] = learnt }
        }
    }

    /// The checks the encoder makes of a value, in its order, asked of its type once.
    private static func encodingKind(_ type: Any.Type) -> EncodingKind {
        // (`Date` and `Duration`, next in the encoder's order, are direct types.)
        if let convertible = type as? any BrokerConvertible.Type { return .convertible(convertible) }
        if type is any BrokerCodableSet.Type { return .set }
        if type is any BrokerCodableTable.Type { return .table }
        if type is any BrokerStoredRecord.Type, let layout = BrokerStoredLayout(type) { return .stored(layout) }
        return .plain
    }

    /// The checks the decoder makes of a type, in its order.
    private static func decodingKind(_ type: Any.Type) -> DecodingKind {
        if let set = type as? any BrokerDecodableSet.Type { return .set(set) }
        if let table = type as? any BrokerDecodableTable.Type { return .table(table) }
        if type is any BrokerStandardLibraryValue.Type { return .plain }
        // (`Date` and `Duration`, next in the decoder's order, are direct types.)
        if let convertible = type as? any BrokerConvertible.Type { return .convertible(convertible) }
        return .plain
    }
}

/// Where each field of a record goes when an `encode(to:)` wrote fewer keys than the type has stored properties:
/// the keys in the places of the properties, with `none` for each `nil` optional property that it skipped (the
/// bridge's own `encodeIfPresent` writes `none`, so synthesized code skips none; a hand-written `encode(to:)` may).
enum BrokerRecordLayout {
    static func place(_ fields: [(key: String, value: Broker.Value)], of source: Any) -> [Broker.Value] {
        let children = Mirror(reflecting: source).children
        // Every property written: nothing to place.
        if children.count == fields.count { return fields.map(\.value) }
        var byName: [String: Broker.Value] = [:]
        for field in fields where byName[field.key] == nil { byName[field.key] = field.value }
        var placed: [Broker.Value] = []
        placed.reserveCapacity(children.count)
        var matched = 0
        for child in children {
            // A property wrapper's storage is `_name`.
            let label = child.label.map { $0.hasPrefix("_") ? String($0.dropFirst()) : $0 }
            if let label, let value = byName[label] {
                placed.append(value)
                matched += 1
            } else if (child.value as? any BrokerOptionalProperty)?.isNil == true {
                placed.append(.none)
            }
        }
        if matched == byName.count { return placed }
        // Keys that are not property names (renamed by custom coding keys): the written order, with `none` for
        // each nil optional property in its place.
        placed = []
        var written = fields.makeIterator()
        for child in children {
            if (child.value as? any BrokerOptionalProperty)?.isNil == true {
                placed.append(.none)
            } else if let field = written.next() {
                placed.append(field.value)
            }
        }
        while let field = written.next() { placed.append(field.value) }
        return placed
    }
}

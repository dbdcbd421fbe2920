/// One value being encoded: it holds the one container its `encode(to:)` asks for.
///
/// A record's fields go straight into the vector that becomes its value. When its type's keys are known (from
/// the type's first record), each key is checked against the next known one, one comparison; a key out of that
/// order (a repeat, a skipped key) moves the record to the general bookkeeping, which remembers every key.
///
/// An encoder lends one child encoder for the values below it, one at a time, and takes it back afterwards when
/// nothing else holds it. Its coding path is built from the chain of parents only when asked for. No two encoders
/// hold each other: a lent child holds its parent, and a child taken back is held by its parent and forgets it; a
/// nested encoder waiting for its value is held by its parent until the parent is resolved or its `encode(to:)`
/// fails, and holds it.
///
/// Its state is not checked for exclusive access at run time (`@exclusivity(unchecked)`): only this encoder's own
/// methods touch it, and none calls out while it holds an access. The checks cost a sixth of a record's time.
final class BrokerEncoder: Encoder {
    enum Storage {
        case empty
        case single
        case record
        case vector
    }

    @exclusivity(unchecked) private var parent: BrokerEncoder?
    @exclusivity(unchecked) private var key: (any CodingKey)?
    private let topPath: [any CodingKey]

    @exclusivity(unchecked) private(set) var storage = Storage.empty
    @exclusivity(unchecked) private var single = Broker.Value.none
    /// A record's fields or a vector's elements, in order (placeholders for nested encoders).
    @exclusivity(unchecked) private var values: [Broker.Value] = []
    /// The keys of `values`, once the record is off its type's known order (or its type has none).
    @exclusivity(unchecked) private var keys: [String]?
    /// The keys the record's type wrote before, in order.
    @exclusivity(unchecked) private var expected: [String]?
    /// Nested encoders and the places their values go to, filled when this one is resolved.
    @exclusivity(unchecked) private var pending: [(index: Int, encoder: BrokerEncoder)] = []
    @exclusivity(unchecked) private var spare: BrokerEncoder?
    /// The last type this encoder (or a child it lent) looked up, and what it knows of it.
    @exclusivity(unchecked) private var known: (type: ObjectIdentifier, info: BrokerCodableTypes.Encoding)?

    /// The encoder at the top, at `codingPath`; `knowing` what was already looked up of the type it will encode.
    init(codingPath: [any CodingKey], knowing type: (Any.Type, BrokerCodableTypes.Encoding)? = nil) {
        parent = nil
        topPath = codingPath
        if let (type, info) = type { known = (ObjectIdentifier(type), info) }
    }

    /// An encoder at `key` below `parent` (at `parent`'s path when `key` is `nil`).
    private init(parent: BrokerEncoder, key: (any CodingKey)?) {
        self.parent = parent
        self.key = key
        topPath = []
    }

    var codingPath: [any CodingKey] {
        var reversed: [any CodingKey] = []
        var encoder = self
        while true {
            if let key = encoder.key { reversed.append(key) }
            guard let parent = encoder.parent else { return encoder.topPath + reversed.reversed() }
            encoder = parent
        }
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    // MARK: - Children

    /// Lends the encoder for a value at `key` below this one.
    ///
    /// The child taken back before, if any. Give it back with ``takeBack(_:)``.
    func lend(at key: some CodingKey) -> BrokerEncoder {
        // (Not an optional key: an optional of a type parameter costs a metadata lookup in unspecialized code.)
        lend(key: key)
    }

    /// Lends the encoder for a value at this one's own path.
    func lend() -> BrokerEncoder {
        lend(key: nil)
    }

    private func lend(key: (any CodingKey)?) -> BrokerEncoder {
        guard let child = spare else { return BrokerEncoder(parent: self, key: key) }
        spare = nil
        child.parent = self
        child.key = key
        return child
    }

    /// Takes back a lent child, to lend again, unless something else holds it (a type that kept its encoder).
    func takeBack(_ child: inout BrokerEncoder) {
        guard isKnownUniquelyReferenced(&child) else { return }
        child.parent = nil
        child.key = nil
        child.storage = .empty
        child.single = .none
        child.values = []
        child.keys = nil
        child.expected = nil
        child.pending = []
        spare = child
    }

    /// Lets go of the nested encoders still waiting for their values, after `encode(to:)` failed.
    func abandon() {
        for (_, nested) in pending { nested.abandon() }
        pending = []
    }

    /// A new encoder at `key` below this one, whose value is filled in when this one is resolved.
    private func nested(at key: any CodingKey) -> BrokerEncoder {
        BrokerEncoder(parent: self, key: key)
    }

    /// What the bridge knows of `type`, remembered for the next value of the same type.
    func typeInfo(_ type: Any.Type) -> BrokerCodableTypes.Encoding {
        let id = ObjectIdentifier(type)
        if let known, known.type == id { return known.info }
        let info = parent?.knownInfo(id) ?? BrokerCodableTypes.encoding(type)
        known = (id, info)
        return info
    }

    private func knownInfo(_ id: ObjectIdentifier) -> BrokerCodableTypes.Encoding? {
        guard let known, known.type == id else { return nil }
        return known.info
    }

    /// The keys a record of the type about to be encoded wrote before.
    func expect(_ keys: [String]?) {
        expected = keys
    }

    // MARK: - Storage

    func keyed() {
        guard storage == .empty else { return }
        storage = .record
        if let expected {
            values.reserveCapacity(expected.count)
        } else {
            keys = []
        }
    }

    func unkeyed() {
        if storage == .empty { storage = .vector }
    }

    func store(_ value: Broker.Value) {
        storage = .single
        single = value
    }

    /// Writes a record field; a key written twice keeps its first place (synthesized code writes each once).
    @discardableResult
    func append(_ value: consuming Broker.Value, forKey key: String) -> Int? {
        guard storage == .record else { return nil }
        if keys == nil, let expected, values.count < expected.count, expected[values.count] == key {
            values.append(value)
            return values.count - 1
        }
        var known = keys ?? Array((expected ?? []).prefix(values.count))
        keys = nil
        defer { keys = known }
        if let index = known.firstIndex(of: key) {
            values[index] = value
            pending.removeAll { $0.index == index }
            return index
        }
        known.append(key)
        values.append(value)
        return values.count - 1
    }

    func append(_ value: consuming Broker.Value) {
        guard storage == .vector else { return }
        values.append(value)
    }

    var count: Int { storage == .vector ? values.count : 0 }

    /// A nested encoder for `key`, whose value takes the field's place when this one is resolved.
    func nestedField(at key: any CodingKey, name: String) -> BrokerEncoder {
        let nested = nested(at: key)
        if let index = append(.none, forKey: name) { pending.append((index, nested)) }
        return nested
    }

    /// A nested encoder for the next element.
    func nestedElement() -> BrokerEncoder {
        let nested = nested(at: BrokerIndexKey(count))
        if storage == .vector {
            pending.append((values.count, nested))
            values.append(.none)
        }
        return nested
    }

    // MARK: - Resolving

    /// The value written, for a nested container (no source to place its fields by).
    func resolve() throws -> Broker.Value {
        switch storage {
        case .empty, .single:
            // A value stored after nested containers were made: theirs are not part of it.
            abandon()
            return storage == .single ? single : .none
        case .vector, .record: return .vector(try takeValues())
        }
    }

    /// The value written by `source`'s `encode(to:)`: a record's fields in the places of its stored properties.
    func resolveRecord<T>(of source: T, type: Any.Type, info: inout BrokerCodableTypes.Encoding) throws -> Broker.Value
    {
        guard storage == .record else { return try resolve() }
        // Every stored property written (the common case): the fields as they are.
        if let count = info.propertyCount, count == values.count { return .vector(try takeValues()) }
        let written = keys ?? Array((expected ?? []).prefix(values.count))
        let fields = try takeValues()
        if info.propertyCount == nil {
            let count = Mirror(reflecting: source).children.count
            BrokerCodableTypes.learnEncoding(type, keys: written, propertyCount: count, into: &info)
            known = (ObjectIdentifier(type), info)
            if count == fields.count { return .vector(fields) }
        }
        let keyed = zip(written, fields).map { (key: $0, value: $1) }
        return .vector(BrokerRecordLayout.place(keyed, of: source))
    }

    private func takeValues() throws -> [Broker.Value] {
        for (index, nested) in pending { values[index] = try nested.resolve() }
        pending = []
        let taken = values
        values = []
        return taken
    }
}

extension BrokerEncoder {
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        keyed()
        return KeyedEncodingContainer(BrokerKeyedEncodingContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        unkeyed()
        return BrokerUnkeyedEncodingContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        BrokerSingleValueEncodingContainer(encoder: self)
    }
}

struct BrokerKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: BrokerEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws { encoder.append(.none, forKey: key.stringValue) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { field(.boolean(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { field(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { field(.real(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { field(.real(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { field(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { field(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { field(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { field(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { field(.integer(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { field(.count(UInt64(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { field(.count(UInt64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { field(.count(UInt64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { field(.count(UInt64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { field(.count(value), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        field(try BrokerValueEncoding.encode(value, in: encoder, at: key), key)
    }

    @inline(__always)
    private func field(_ value: Broker.Value, _ key: Key) {
        encoder.append(value, forKey: key.stringValue)
    }

    // Every `encodeIfPresent` writes `none` in the field's place, rather than skipping it: a record keeps every
    // field. (The protocol's defaults for the standard library types skip `nil`, so each is implemented.)
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        guard let value else { return try encodeNil(forKey: key) }
        try encode(value, forKey: key)
    }

    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { field(value.map { .boolean($0) }, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { field(value.map { .string($0) }, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { field(value.map { .real($0) }, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws {
        field(value.map { .real(Double($0)) }, key)
    }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
        field(value.map { .integer(Int64($0)) }, key)
    }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws {
        field(value.map { .integer(Int64($0)) }, key)
    }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws {
        field(value.map { .integer(Int64($0)) }, key)
    }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws {
        field(value.map { .integer(Int64($0)) }, key)
    }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { field(value.map { .integer($0) }, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws {
        field(value.map { .count(UInt64($0)) }, key)
    }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws {
        field(value.map { .count(UInt64($0)) }, key)
    }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws {
        field(value.map { .count(UInt64($0)) }, key)
    }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws {
        field(value.map { .count(UInt64($0)) }, key)
    }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { field(value.map { .count($0) }, key) }

    @inline(__always)
    private func field(_ value: Broker.Value?, _ key: Key) {
        encoder.append(value ?? .none, forKey: key.stringValue)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        encoder.nestedField(at: key, name: key.stringValue).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder.nestedField(at: key, name: key.stringValue).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        encoder.nestedField(at: BrokerNameKey("super"), name: "super")
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.nestedField(at: key, name: key.stringValue)
    }
}

struct BrokerUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: BrokerEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.count }

    mutating func encodeNil() throws { encoder.append(.none) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.append(try BrokerValueEncoding.encode(value, in: encoder, at: BrokerIndexKey(count)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        encoder.nestedElement().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        encoder.nestedElement().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        encoder.nestedElement()
    }
}

struct BrokerSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: BrokerEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.store(.none) }
    mutating func encode(_ value: Bool) throws { encoder.store(.boolean(value)) }
    mutating func encode(_ value: String) throws { encoder.store(.string(value)) }
    mutating func encode(_ value: Double) throws { encoder.store(.real(value)) }
    mutating func encode(_ value: Float) throws { encoder.store(.real(Double(value))) }
    mutating func encode(_ value: Int) throws { encoder.store(.integer(Int64(value))) }
    mutating func encode(_ value: Int8) throws { encoder.store(.integer(Int64(value))) }
    mutating func encode(_ value: Int16) throws { encoder.store(.integer(Int64(value))) }
    mutating func encode(_ value: Int32) throws { encoder.store(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) throws { encoder.store(.integer(value)) }
    mutating func encode(_ value: UInt) throws { encoder.store(.count(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { encoder.store(.count(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { encoder.store(.count(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { encoder.store(.count(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { encoder.store(.count(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.store(try BrokerValueEncoding.encode(value, at: encoder))
    }
}

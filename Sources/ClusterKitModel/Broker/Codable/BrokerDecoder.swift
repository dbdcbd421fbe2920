/// One value being decoded.
///
/// A record's fields are found by the order in which `init(from:)` asks for keys. When its type's keys are
/// known (from the type's first record), each key asked is checked against the next known one, one comparison; a
/// key out of that order (asked twice, or in another order) moves the record to the general bookkeeping, which
/// remembers every key asked.
///
/// A decoder lends one child decoder for the values below it, one at a time, and takes it back afterwards when
/// nothing else holds it. Its coding path is built from the chain of parents only when asked for. No two decoders
/// hold each other: a lent child holds its parent, and a child taken back is held by its parent and forgets it.
///
/// Its state is not checked for exclusive access at run time (`@exclusivity(unchecked)`): only this decoder's own
/// methods touch it, and none calls out while it holds an access. The checks cost a sixth of a record's time.
final class BrokerDecoder: Decoder {
    @exclusivity(unchecked) private var parent: BrokerDecoder?
    @exclusivity(unchecked) private var key: (any CodingKey)?
    private let topPath: [any CodingKey]
    @exclusivity(unchecked) private(set) var value: Broker.Value

    /// Whether a keyed container was made (a second one reads the record afresh, through a twin decoder).
    @exclusivity(unchecked) private var hasRecord = false
    /// The record's fields, for the keyed container (which holds only this decoder: the container is copied for
    /// each field it reads).
    @exclusivity(unchecked) private(set) var fields: [Broker.Value] = []
    /// The keys a record of the type being decoded asked for before, in order.
    @exclusivity(unchecked) private var expected: [String]?
    /// How many of `expected` were asked for, in order, while `asked` is `nil`.
    @exclusivity(unchecked) private var matched = 0
    /// The keys asked for, in order, once the record is off its type's known order (or its type has none).
    @exclusivity(unchecked) private var asked: [String]?
    /// Whether `asked` is the type's first record (to be learnt).
    @exclusivity(unchecked) private var learning = false
    @exclusivity(unchecked) private var spare: BrokerDecoder?
    /// The last type this decoder (or a child it lent) looked up, and what it knows of it.
    @exclusivity(unchecked) private var known: (type: ObjectIdentifier, info: BrokerCodableTypes.Decoding)?

    /// The decoder at the top, at `codingPath`.
    init(value: Broker.Value, codingPath: [any CodingKey]) {
        parent = nil
        topPath = codingPath
        self.value = value
    }

    /// A decoder at `key` below `parent` (at `parent`'s path when `key` is `nil`).
    private init(parent: BrokerDecoder?, key: (any CodingKey)?, topPath: [any CodingKey], value: Broker.Value) {
        self.parent = parent
        self.key = key
        self.topPath = topPath
        self.value = value
    }

    var codingPath: [any CodingKey] {
        var reversed: [any CodingKey] = []
        var decoder = self
        while true {
            if let key = decoder.key { reversed.append(key) }
            guard let parent = decoder.parent else { return decoder.topPath + reversed.reversed() }
            decoder = parent
        }
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    // MARK: - Children

    /// Lends the decoder for `value` at `key` below this one.
    ///
    /// The child taken back before, if any. Give it back with ``takeBack(_:)``.
    func lend(_ value: Broker.Value, at key: some CodingKey) -> BrokerDecoder {
        // (Not an optional key: an optional of a type parameter costs a metadata lookup in unspecialized code.)
        lend(value, key: key)
    }

    /// Lends the decoder for `value` at this one's own path.
    func lend(_ value: Broker.Value) -> BrokerDecoder {
        lend(value, key: nil)
    }

    private func lend(_ value: Broker.Value, key: (any CodingKey)?) -> BrokerDecoder {
        guard let child = spare else { return BrokerDecoder(parent: self, key: key, topPath: [], value: value) }
        spare = nil
        child.parent = self
        child.key = key
        child.value = value
        return child
    }

    /// Takes back a lent child, to lend again, unless something else holds it (a type that kept its decoder).
    func takeBack(_ child: inout BrokerDecoder) {
        guard isKnownUniquelyReferenced(&child) else { return }
        child.parent = nil
        child.key = nil
        child.value = .none
        child.hasRecord = false
        child.fields = []
        child.expected = nil
        child.matched = 0
        child.asked = nil
        child.learning = false
        spare = child
    }

    /// A new decoder for `value` at `key` below this one (for nested containers and super decoders).
    func nested(at key: any CodingKey, value: Broker.Value) -> BrokerDecoder {
        BrokerDecoder(parent: self, key: key, topPath: [], value: value)
    }

    /// What the bridge knows of `type`, remembered for the next value of the same type.
    func typeInfo(_ type: Any.Type) -> BrokerCodableTypes.Decoding {
        let id = ObjectIdentifier(type)
        if let known, known.type == id { return known.info }
        let info = parent?.knownInfo(id) ?? BrokerCodableTypes.decoding(type)
        known = (id, info)
        return info
    }

    private func knownInfo(_ id: ObjectIdentifier) -> BrokerCodableTypes.Decoding? {
        guard let known, known.type == id else { return nil }
        return known.info
    }

    /// The keys a record of the type about to be decoded asked for before.
    func expect(_ keys: [String]?) {
        expected = keys
    }

    /// The keys this decoder's record asked for, when they are its type's first.
    var firstKeys: [String]? { learning ? asked : nil }

    /// Remembers the keys of `type`'s first record.
    func learn(_ keys: [String], of type: Any.Type, into info: inout BrokerCodableTypes.Decoding) {
        BrokerCodableTypes.learnDecoding(type, keys: keys, into: &info)
        known = (ObjectIdentifier(type), info)
    }

    // MARK: - Containers

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .vector(let fields) = value else {
            throw BrokerValueDecoding.mismatch("record (vector)", value, at: codingPath)
        }
        if hasRecord {
            return try BrokerDecoder(parent: parent, key: key, topPath: topPath, value: value).container(keyedBy: type)
        }
        hasRecord = true
        self.fields = fields
        if expected == nil {
            asked = []
            learning = true
        }
        return KeyedDecodingContainer(BrokerKeyedDecodingContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .vector(let elements): return BrokerUnkeyedDecodingContainer(decoder: self, elements: elements)
        case .set(let elements): return BrokerUnkeyedDecodingContainer(decoder: self, elements: elements.elements)
        default: throw BrokerValueDecoding.mismatch("vector", value, at: codingPath)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BrokerSingleValueDecodingContainer(decoder: self)
    }

    /// The record field at `place`, `nil` past the end.
    @inline(__always)
    func field(_ place: Int) -> Broker.Value? {
        place < fields.count ? fields[place] : nil
    }

    /// The record field of `key`: the first key asked for is the first field, the next new key the second; a key
    /// asked again keeps its place.
    func place(of key: String) -> Int {
        if asked == nil, let expected {
            // Synthesized code asks for each key once, in order: the next known key is the likeliest.
            if matched < expected.count, expected[matched] == key {
                matched += 1
                return matched - 1
            }
            if matched > 0, expected[matched - 1] == key { return matched - 1 }
            asked = Array(expected.prefix(matched))
        }
        var keys = asked ?? []
        asked = nil
        defer { asked = keys }
        if let last = keys.last, last == key { return keys.count - 1 }
        if let place = keys.firstIndex(of: key) { return place }
        keys.append(key)
        return keys.count - 1
    }
}

struct BrokerKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: BrokerDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    // Record fields have positions, not names.
    var allKeys: [Key] { [] }

    @inline(__always)
    private func field(_ key: Key) -> Broker.Value? {
        decoder.field(decoder.place(of: key.stringValue))
    }

    private func path(_ key: Key) -> [any CodingKey] { decoder.codingPath + [key] }

    /// A field that must be set.
    @inline(__always)
    private func read<T>(_ key: Key, _ convert: (Broker.Value, () -> [any CodingKey]) throws -> T) throws -> T {
        guard let value = field(key), !value.isNone else { throw BrokerValueDecoding.missing(at: path(key)) }
        return try convert(value) { path(key) }
    }

    /// A field that may be unset.
    @inline(__always)
    private func readIfPresent<T>(
        _ key: Key,
        _ convert: (Broker.Value, () -> [any CodingKey]) throws -> T
    ) throws -> T? {
        guard let value = field(key), !value.isNone else { return nil }
        return try convert(value) { path(key) }
    }

    func contains(_ key: Key) -> Bool { field(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        switch field(key) {
        case nil, .none?: true
        default: false
        }
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try read(key, BrokerValueDecoding.boolean) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try read(key, BrokerValueDecoding.string) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try read(key, BrokerValueDecoding.real) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try read(key, BrokerValueDecoding.real)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try read(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        try read(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        try read(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        try read(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try read(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        try read(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        try read(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        try read(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        try read(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        try read(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let value = field(key) ?? .none
        // A field that is not set is `nil` for an optional asked for with `decode(T?.self, forKey:)`.
        if case .none = value, !(type is any BrokerOptionalProperty.Type) {
            throw BrokerValueDecoding.missing(at: path(key))
        }
        return try BrokerValueDecoding.decode(type, from: value, in: decoder, at: key)
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try readIfPresent(key, BrokerValueDecoding.boolean)
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try readIfPresent(key, BrokerValueDecoding.string)
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try readIfPresent(key, BrokerValueDecoding.real)
    }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try readIfPresent(key, BrokerValueDecoding.real).map { Float($0) }
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try readIfPresent(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        try readIfPresent(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        try readIfPresent(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        try readIfPresent(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try readIfPresent(key) { try BrokerValueDecoding.signed(type, $0, $1) }
    }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        try readIfPresent(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        try readIfPresent(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        try readIfPresent(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try readIfPresent(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try readIfPresent(key) { try BrokerValueDecoding.unsigned(type, $0, $1) }
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = field(key), !value.isNone else { return nil }
        return try BrokerValueDecoding.decode(type, from: value, in: decoder, at: key)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        guard let value = field(key) else { throw BrokerValueDecoding.missing(at: path(key)) }
        return try decoder.nested(at: key, value: value).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard let value = field(key) else { throw BrokerValueDecoding.missing(at: path(key)) }
        return try decoder.nested(at: key, value: value).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder.nested(at: BrokerNameKey("super"), value: decoder.field(decoder.place(of: "super")) ?? .none)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.nested(at: key, value: field(key) ?? .none)
    }
}

struct BrokerUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: BrokerDecoder
    let elements: [Broker.Value]
    private(set) var currentIndex = 0

    init(decoder: BrokerDecoder, elements: [Broker.Value]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// The next element and its index (counted as read even when it then fails to decode).
    private mutating func next() throws -> (value: Broker.Value, key: BrokerIndexKey) {
        let key = BrokerIndexKey(currentIndex)
        guard !isAtEnd else {
            throw Broker.ConversionError(
                .tooFewFields,
                "no element \(currentIndex): the vector has \(elements.count)",
                path: BrokerCodingPath.components(codingPath + [key])
            )
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], key)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .none = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, key) = try next()
        return try BrokerValueDecoding.decode(type, from: value, in: decoder, at: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, key) = try next()
        return try decoder.nested(at: key, value: value).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, key) = try next()
        return try decoder.nested(at: key, value: value).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, key) = try next()
        return decoder.nested(at: key, value: value)
    }
}

struct BrokerSingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: BrokerDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    private func read<T>(_ convert: (Broker.Value, () -> [any CodingKey]) throws -> T) throws -> T {
        try convert(decoder.value) { decoder.codingPath }
    }

    func decodeNil() -> Bool { decoder.value.isNone }
    func decode(_ type: Bool.Type) throws -> Bool { try read(BrokerValueDecoding.boolean) }
    func decode(_ type: String.Type) throws -> String { try read(BrokerValueDecoding.string) }
    func decode(_ type: Double.Type) throws -> Double { try read(BrokerValueDecoding.real) }
    func decode(_ type: Float.Type) throws -> Float { Float(try read(BrokerValueDecoding.real)) }
    func decode(_ type: Int.Type) throws -> Int { try read { try BrokerValueDecoding.signed(type, $0, $1) } }
    func decode(_ type: Int8.Type) throws -> Int8 { try read { try BrokerValueDecoding.signed(type, $0, $1) } }
    func decode(_ type: Int16.Type) throws -> Int16 { try read { try BrokerValueDecoding.signed(type, $0, $1) } }
    func decode(_ type: Int32.Type) throws -> Int32 { try read { try BrokerValueDecoding.signed(type, $0, $1) } }
    func decode(_ type: Int64.Type) throws -> Int64 { try read { try BrokerValueDecoding.signed(type, $0, $1) } }
    func decode(_ type: UInt.Type) throws -> UInt { try read { try BrokerValueDecoding.unsigned(type, $0, $1) } }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try read { try BrokerValueDecoding.unsigned(type, $0, $1) } }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try read { try BrokerValueDecoding.unsigned(type, $0, $1) } }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try read { try BrokerValueDecoding.unsigned(type, $0, $1) } }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try read { try BrokerValueDecoding.unsigned(type, $0, $1) } }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try BrokerValueDecoding.decode(type, from: decoder.value, at: decoder)
    }
}

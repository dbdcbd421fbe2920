import Foundation

extension Broker {
    /// Encodes Swift values as Broker values, the way Zeek's types map (the Codable bridge).
    ///
    /// | Swift | Broker (Zeek) |
    /// | --- | --- |
    /// | a struct or class (keyed container) | a record: a vector of its fields in declaration order |
    /// | `Optional` | `none` (an `&optional` field that is not set) |
    /// | `Array` (unkeyed container) | `vector` |
    /// | `Set` | `set` |
    /// | `Dictionary` | `table` |
    /// | `Bool`, signed integers, unsigned integers, `Double`/`Float`, `String` | `bool`, `int`, `count`, `double`, `string` |
    /// | `Date`, `Duration` | `time`, `interval` (timestamp, timespan) |
    /// | anything ``BrokerConvertible`` (the Broker scalars, ``BrokerEnum`` enums, hand-written records) | its own ``BrokerConvertible/brokerValue`` |
    ///
    /// A record's fields are the keys its `encode(to:)` writes, in that order (synthesized conformances write
    /// them in declaration order), with `none` in the place of each `nil` optional property, which synthesized
    /// code skips; the places come from the type's stored properties. Custom coding keys that rename properties
    /// keep the order in which they are written.
    ///
    /// ```swift
    /// struct Rule: Codable { var id: String; var priority: Int; var expires: Date? }
    /// let value = try Broker.ValueEncoder().encode(Rule(id: "r1", priority: 5, expires: nil))
    /// // .vector([.string("r1"), .integer(5), .none])
    /// ```
    public struct ValueEncoder: Sendable {
        /// Creates an encoder.
        public init() {}

        /// Encodes a value.
        ///
        /// - Parameter value: The value.
        /// - Returns: Its Broker value.
        /// - Throws: ``Broker/ConversionError`` naming the field path, for a value Broker cannot hold (an
        ///   unsigned number past `UInt64`, a non-finite `Float` is fine, a container asked for twice).
        public func encode<T: Encodable>(_ value: T) throws -> Broker.Value {
            try BrokerValueEncoding.encode(value, at: [])
        }
    }
}

/// The encoder's machinery: one ``Encoder`` per value with a container, resolved when its value is done.
enum BrokerValueEncoding {
    /// Encodes the value at `key` of `parent`: the path is built only for what is not a common scalar.
    @inline(__always)
    static func encode<T: Encodable>(
        _ value: T,
        in parent: [any CodingKey],
        at key: any CodingKey
    ) throws
        -> Broker.Value
    {
        if let scalar = scalarValue(value) { return scalar }
        return try encode(value, at: parent + [key])
    }

    static func encode<T: Encodable>(_ value: T, at path: [any CodingKey]) throws -> Broker.Value {
        // The common scalars by type identity first: a comparison of metadata, not a conformance lookup.
        if let scalar = scalarValue(value) { return scalar }
        if let special = try specialValue(value, at: path) { return special }
        let encoder = BrokerEncoder(codingPath: path)
        try value.encode(to: encoder)
        return try encoder.resolve(source: value)
    }

    @inline(__always)
    static func scalarValue<T>(_ value: T) -> Broker.Value? {
        if T.self == String.self { return .string(unsafeBitCast(value, to: String.self)) }
        if T.self == Int.self { return .integer(Int64(unsafeBitCast(value, to: Int.self))) }
        if T.self == Bool.self { return .boolean(unsafeBitCast(value, to: Bool.self)) }
        if T.self == Double.self { return .real(unsafeBitCast(value, to: Double.self)) }
        if T.self == UInt64.self { return .count(unsafeBitCast(value, to: UInt64.self)) }
        if T.self == Int64.self { return .integer(unsafeBitCast(value, to: Int64.self)) }
        return nil
    }

    /// The values that have a Broker form of their own, rather than the one their `encode(to:)` writes.
    private static func specialValue<T: Encodable>(_ value: T, at path: [any CodingKey]) throws -> Broker.Value? {
        switch value {
        case let convertible as any BrokerConvertible: return convertible.brokerValue
        case let date as Date: return .timestamp(timestamp(date))
        case let duration as Duration: return .timespan(Broker.Timespan(duration))
        case let set as any BrokerCodableSet: return .set(Broker.ValueSet(try set.brokerElements(at: path)))
        case let table as any BrokerCodableTable: return .table(Broker.ValueTable(try table.brokerEntries(at: path)))
        default: return nil
        }
    }

    /// A date to the nanosecond, whole seconds and the fraction apart (`seconds * 1e9` in one multiplication
    /// loses the last digits).
    static func timestamp(_ date: Date) -> Broker.Timestamp {
        let interval = date.timeIntervalSince1970
        let seconds = interval.rounded(.down)
        guard abs(seconds) < 9.2e9 else { return Broker.Timestamp(secondsSinceEpoch: interval) }
        let nanoseconds = Int64(seconds) * 1_000_000_000 + Int64(((interval - seconds) * 1e9).rounded())
        return Broker.Timestamp(nanosecondsSinceEpoch: nanoseconds)
    }

    static func error(_ message: String, at path: [any CodingKey]) -> Broker.ConversionError {
        Broker.ConversionError(.invalidValue, message, path: BrokerCodingPath.components(path))
    }
}

/// Where an encoder's value goes: a value, or another encoder whose container is filled later.
final class BrokerEncodingSlot {
    var value: Broker.Value?
    var encoder: BrokerEncoder?

    init(_ value: Broker.Value) { self.value = value }
    init(encoder: BrokerEncoder) { self.encoder = encoder }

    func resolve() throws -> Broker.Value {
        if let value { return value }
        return try encoder?.resolve(source: nil) ?? .none
    }
}

/// One value being encoded: it holds the one container its `encode(to:)` asks for.
final class BrokerEncoder: Encoder {
    enum Storage {
        case empty
        case single(Broker.Value)
        case record([(key: String, slot: BrokerEncodingSlot)])
        case vector([BrokerEncodingSlot])
    }

    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var storage = Storage.empty

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .empty = storage { storage = .record([]) }
        return KeyedEncodingContainer(BrokerKeyedEncodingContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .empty = storage { storage = .vector([]) }
        return BrokerUnkeyedEncodingContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        BrokerSingleValueEncodingContainer(encoder: self)
    }

    func append(_ slot: BrokerEncodingSlot, forKey key: String) {
        guard case .record(var fields) = storage else { return }
        storage = .empty
        // A key written twice keeps its first place (synthesized code writes each once).
        if let index = fields.firstIndex(where: { $0.key == key }) {
            fields[index].slot = slot
        } else {
            fields.append((key, slot))
        }
        storage = .record(fields)
    }

    func append(_ slot: BrokerEncodingSlot) {
        guard case .vector(var items) = storage else { return }
        storage = .empty
        items.append(slot)
        storage = .vector(items)
    }

    var count: Int {
        if case .vector(let items) = storage { return items.count }
        return 0
    }

    /// The value, once `encode(to:)` is done; `source` is the encoded value, for a record's field places.
    func resolve(source: Any?) throws -> Broker.Value {
        switch storage {
        case .empty: return .none
        case .single(let value): return value
        case .vector(let items): return .vector(try items.map { try $0.resolve() })
        case .record(let fields):
            let values = try fields.map { (key: $0.key, value: try $0.slot.resolve()) }
            return .vector(BrokerRecordLayout.place(values, of: source))
        }
    }

    /// A nested encoder for `key` or the next element.
    func nested(at key: any CodingKey) -> BrokerEncoder {
        BrokerEncoder(codingPath: codingPath + [key])
    }
}

struct BrokerKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: BrokerEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws {
        encoder.append(BrokerEncodingSlot(.none), forKey: key.stringValue)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let encoded = try BrokerValueEncoding.encode(value, in: codingPath, at: key)
        encoder.append(BrokerEncodingSlot(encoded), forKey: key.stringValue)
    }

    // Every `encodeIfPresent` writes `none` in the field's place, rather than skipping it: a record keeps every
    // field. (The protocol's defaults for the standard library types skip `nil`, so each is implemented.)
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        guard let value else { return try encodeNil(forKey: key) }
        try encode(value, forKey: key)
    }

    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try present(value, key) }

    private mutating func present<T: Encodable>(_ value: T?, _ key: Key) throws {
        guard let value else { return try encodeNil(forKey: key) }
        try encode(value, forKey: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = encoder.nested(at: key)
        encoder.append(BrokerEncodingSlot(encoder: nested), forKey: key.stringValue)
        return nested.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = encoder.nested(at: key)
        encoder.append(BrokerEncodingSlot(encoder: nested), forKey: key.stringValue)
        return nested.unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let nested = encoder.nested(at: BrokerNameKey("super"))
        encoder.append(BrokerEncodingSlot(encoder: nested), forKey: "super")
        return nested
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let nested = encoder.nested(at: key)
        encoder.append(BrokerEncodingSlot(encoder: nested), forKey: key.stringValue)
        return nested
    }
}

struct BrokerUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: BrokerEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.count }

    private var nextKey: BrokerIndexKey { BrokerIndexKey(count) }

    mutating func encodeNil() throws {
        encoder.append(BrokerEncodingSlot(.none))
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.append(BrokerEncodingSlot(try BrokerValueEncoding.encode(value, in: codingPath, at: nextKey)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = encoder.nested(at: nextKey)
        encoder.append(BrokerEncodingSlot(encoder: nested))
        return nested.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = encoder.nested(at: nextKey)
        encoder.append(BrokerEncodingSlot(encoder: nested))
        return nested.unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let nested = encoder.nested(at: nextKey)
        encoder.append(BrokerEncodingSlot(encoder: nested))
        return nested
    }
}

struct BrokerSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: BrokerEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func store(_ value: Broker.Value) {
        encoder.storage = .single(value)
    }

    mutating func encodeNil() throws { store(.none) }
    mutating func encode(_ value: Bool) throws { store(.boolean(value)) }
    mutating func encode(_ value: String) throws { store(.string(value)) }
    mutating func encode(_ value: Double) throws { store(.real(value)) }
    mutating func encode(_ value: Float) throws { store(.real(Double(value))) }
    mutating func encode(_ value: Int) throws { store(.integer(Int64(value))) }
    mutating func encode(_ value: Int8) throws { store(.integer(Int64(value))) }
    mutating func encode(_ value: Int16) throws { store(.integer(Int64(value))) }
    mutating func encode(_ value: Int32) throws { store(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) throws { store(.integer(value)) }
    mutating func encode(_ value: UInt) throws { store(.count(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { store(.count(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { store(.count(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { store(.count(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { store(.count(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        store(try BrokerValueEncoding.encode(value, at: codingPath))
    }
}

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
    /// keep the order in which they are written. A ``BrokerStoredRecord`` is written from its stored properties
    /// directly, to the same value, without calling its `encode(to:)`.
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
        /// - Throws: The error the value's `encode(to:)` throws; the bridge itself writes any value.
        public func encode<T: Encodable>(_ value: T) throws -> Broker.Value {
            // A run of stored records of one type: one atomic load, before the direct types' comparisons.
            if let record = try BrokerStoredLayout.encodeIfRecent(value) { return record }
            if let direct = BrokerDirectType.of(T.self) { return direct.encode(value) }
            let type = Swift.type(of: value) as Any.Type
            let info = BrokerCodableTypes.encoding(type, makingRecent: true)
            if case .stored(let layout) = info.kind {
                // No encoder unless a property needs one.
                return try withUnsafePointer(to: value) { try layout.encode(at: UnsafeRawPointer($0), in: nil) }
            }
            return try BrokerValueEncoding.encode(value, into: BrokerEncoder(codingPath: [], knowing: (type, info)))
        }
    }
}

/// The encoder's machinery: the values with a fixed Broker form are written directly; the others through a
/// ``BrokerEncoder`` one key below their container's, which it lends again for the next value.
enum BrokerValueEncoding {
    /// Encodes the value at `key` below `parent`.
    @inline(__always)
    static func encode<T: Encodable, Key: CodingKey>(
        _ value: T,
        in parent: BrokerEncoder,
        at key: Key
    ) throws -> Broker.Value {
        if let direct = BrokerDirectType.of(T.self) { return direct.encode(value) }
        var child = parent.lend(at: key)
        defer { parent.takeBack(&child) }
        return try encode(value, into: child)
    }

    /// Encodes the value at `parent`'s own path (for a single-value container).
    static func encode<T: Encodable>(_ value: T, at parent: BrokerEncoder) throws -> Broker.Value {
        if let direct = BrokerDirectType.of(T.self) { return direct.encode(value) }
        var child = parent.lend()
        defer { parent.takeBack(&child) }
        return try encode(value, into: child)
    }

    /// Encodes a value that has no direct form, at `encoder`'s path (a fresh or lent encoder).
    static func encode<T: Encodable>(_ value: T, into encoder: BrokerEncoder) throws -> Broker.Value {
        // The dynamic type: a subclass may have a Broker form its superclass has not.
        let type = Swift.type(of: value) as Any.Type
        var info = encoder.typeInfo(type)
        switch info.kind {
        case .convertible(let convertible):
            if let converted = brokerValue(value, as: convertible) { return converted }
        case .set:
            if let set = value as? any BrokerCodableSet {
                return .set(Broker.ValueSet(try set.brokerElements(in: encoder)))
            }
        case .table:
            if let table = value as? any BrokerCodableTable {
                return .table(Broker.ValueTable(try table.brokerEntries(in: encoder)))
            }
        case .stored(let layout):
            return try withUnsafePointer(to: value) { try layout.encode(at: UnsafeRawPointer($0), in: encoder) }
        case .plain: break
        }
        encoder.expect(info.keys)
        do {
            try value.encode(to: encoder)
        } catch {
            encoder.abandon()
            throw error
        }
        return try encoder.resolveRecord(of: value, type: type, info: &info)
    }

    /// The Broker form of a value of a ``BrokerConvertible`` type (a cast to its own type).
    private static func brokerValue<T, Convertible: BrokerConvertible>(
        _ value: T,
        as type: Convertible.Type
    ) -> Broker.Value? {
        (value as? Convertible)?.brokerValue
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
}

import Foundation

/// The types the bridge writes and reads directly, found by type identity (a comparison of metadata, not a
/// conformance lookup), with the same values and errors as their `encode(to:)`/`init(from:)` or their Broker
/// form would give: the standard library's numbers, strings and `[String]`, `Date`, `Duration`, the Broker
/// scalars and `Broker.Value`.
///
/// A non-generic enum, so that generic code asks "which one" without an optional of its type parameter (whose
/// metadata an unspecialized caller would look up for every value).
enum BrokerDirectType {
    case string
    case int
    case bool
    case double
    case uint64
    case int64
    case address
    case port
    case timespan
    case timestamp
    case subnet
    case value
    case strings
    case date
    case duration
    case int32
    case uint32
    case uint16
    case uint8
    case uint
    case int16
    case int8
    case float

    /// The direct type `T` is, if it is one; the likeliest first.
    @inline(__always)
    static func of<T>(_ type: T.Type) -> BrokerDirectType? {
        if T.self == String.self { return .string }
        if T.self == Int.self { return .int }
        if T.self == Bool.self { return .bool }
        if T.self == Double.self { return .double }
        if T.self == UInt64.self { return .uint64 }
        if T.self == Int64.self { return .int64 }
        return broker(type)
    }

    private static func broker<T>(_ type: T.Type) -> BrokerDirectType? {
        if T.self == Broker.Address.self { return .address }
        if T.self == Broker.Port.self { return .port }
        if T.self == Broker.Timespan.self { return .timespan }
        if T.self == Broker.Timestamp.self { return .timestamp }
        if T.self == Broker.Subnet.self { return .subnet }
        if T.self == Broker.Value.self { return .value }
        if T.self == [String].self { return .strings }
        if T.self == Date.self { return .date }
        if T.self == Duration.self { return .duration }
        return other(type)
    }

    private static func other<T>(_ type: T.Type) -> BrokerDirectType? {
        if T.self == Int32.self { return .int32 }
        if T.self == UInt32.self { return .uint32 }
        if T.self == UInt16.self { return .uint16 }
        if T.self == UInt8.self { return .uint8 }
        if T.self == UInt.self { return .uint }
        if T.self == Int16.self { return .int16 }
        if T.self == Int8.self { return .int8 }
        if T.self == Float.self { return .float }
        return nil
    }

    // MARK: - Encoding

    /// The Broker value of `value`, which is of this type.
    @inline(__always)
    func encode<T>(_ value: T) -> Broker.Value {
        withUnsafePointer(to: value) { encode(at: UnsafeRawPointer($0), optional: false) }
    }

    /// The Broker value of the value of this type at `pointer` (a stored property of a ``BrokerStoredRecord``).
    func encode(at pointer: UnsafeRawPointer) -> Broker.Value {
        encode(at: pointer, optional: false)
    }

    /// The Broker value of the `Optional` of this type at `pointer`: `none` when it is `nil`.
    func encodeOptional(at pointer: UnsafeRawPointer) -> Broker.Value {
        encode(at: pointer, optional: true)
    }

    /// The value at `pointer`, of this type or (`optional`) an `Optional` of it. (Each load is of the type compared
    /// with.)
    private func encode(at pointer: UnsafeRawPointer, optional: Bool) -> Broker.Value {
        @inline(__always)
        func read<Value>(_ type: Value.Type, _ make: (Value) -> Broker.Value) -> Broker.Value {
            if optional { return pointer.load(as: Value?.self).map(make) ?? .none }
            return make(pointer.load(as: Value.self))
        }
        switch self {
        case .string: return read(String.self) { .string($0) }
        case .int: return read(Int.self) { .integer(Int64($0)) }
        case .bool: return read(Bool.self) { .boolean($0) }
        case .double: return read(Double.self) { .real($0) }
        case .uint64: return read(UInt64.self) { .count($0) }
        case .int64: return read(Int64.self) { .integer($0) }
        case .address: return read(Broker.Address.self) { .address($0) }
        case .port: return read(Broker.Port.self) { .port($0) }
        case .timespan: return read(Broker.Timespan.self) { .timespan($0) }
        case .timestamp: return read(Broker.Timestamp.self) { .timestamp($0) }
        case .subnet: return read(Broker.Subnet.self) { .subnet($0) }
        case .value: return read(Broker.Value.self) { $0 }
        case .strings: return read([String].self) { .vector($0.map { .string($0) }) }
        case .date: return read(Date.self) { .timestamp(BrokerValueEncoding.timestamp($0)) }
        case .duration: return read(Duration.self) { .timespan(Broker.Timespan($0)) }
        case .int32: return read(Int32.self) { .integer(Int64($0)) }
        case .uint32: return read(UInt32.self) { .count(UInt64($0)) }
        case .uint16: return read(UInt16.self) { .count(UInt64($0)) }
        case .uint8: return read(UInt8.self) { .count(UInt64($0)) }
        case .uint: return read(UInt.self) { .count(UInt64($0)) }
        case .int16: return read(Int16.self) { .integer(Int64($0)) }
        case .int8: return read(Int8.self) { .integer(Int64($0)) }
        case .float: return read(Float.self) { .real(Double($0)) }
        }
    }

    // MARK: - Decoding

    /// `value` read as `T`, which is of this type; errors name `path`.
    func decode<T>(_ type: T.Type, from value: Broker.Value, at path: () -> [any CodingKey]) throws -> T {
        typealias Scalar = BrokerValueDecoding
        switch self {
        case .string: return unsafeBitCast(try Scalar.string(value, path), to: T.self)
        case .int: return unsafeBitCast(try Scalar.signed(Int.self, value, path), to: T.self)
        case .bool: return unsafeBitCast(try Scalar.boolean(value, path), to: T.self)
        case .double: return unsafeBitCast(try Scalar.real(value, path), to: T.self)
        case .uint64: return unsafeBitCast(try Scalar.unsigned(UInt64.self, value, path), to: T.self)
        case .int64: return unsafeBitCast(try Scalar.signed(Int64.self, value, path), to: T.self)
        case .address: return unsafeBitCast(try Self.convert(Broker.Address.self, value, path), to: T.self)
        case .port: return unsafeBitCast(try Self.convert(Broker.Port.self, value, path), to: T.self)
        case .timespan: return unsafeBitCast(try Self.convert(Broker.Timespan.self, value, path), to: T.self)
        case .timestamp: return unsafeBitCast(try Self.convert(Broker.Timestamp.self, value, path), to: T.self)
        case .subnet: return unsafeBitCast(try Self.convert(Broker.Subnet.self, value, path), to: T.self)
        case .value: return unsafeBitCast(value, to: T.self)
        case .strings: return unsafeBitCast(try Self.strings(value, path), to: T.self)
        case .date: return unsafeBitCast(try Scalar.date(value, path), to: T.self)
        case .duration: return unsafeBitCast(try Scalar.duration(value, path), to: T.self)
        case .int32: return unsafeBitCast(try Scalar.signed(Int32.self, value, path), to: T.self)
        case .uint32: return unsafeBitCast(try Scalar.unsigned(UInt32.self, value, path), to: T.self)
        case .uint16: return unsafeBitCast(try Scalar.unsigned(UInt16.self, value, path), to: T.self)
        case .uint8: return unsafeBitCast(try Scalar.unsigned(UInt8.self, value, path), to: T.self)
        case .uint: return unsafeBitCast(try Scalar.unsigned(UInt.self, value, path), to: T.self)
        case .int16: return unsafeBitCast(try Scalar.signed(Int16.self, value, path), to: T.self)
        case .int8: return unsafeBitCast(try Scalar.signed(Int8.self, value, path), to: T.self)
        case .float: return unsafeBitCast(Float(try Scalar.real(value, path)), to: T.self)
        }
    }

    /// A Broker scalar from its own form; its error gets the path, its description the message (as for any
    /// ``BrokerConvertible`` type the decoder reads).
    @inline(__always)
    static func convert<Convertible: BrokerConvertible>(
        _ convertible: Convertible.Type,
        _ value: Broker.Value,
        _ path: () -> [any CodingKey]
    ) throws -> Convertible {
        do {
            return try Convertible(brokerValue: value)
        } catch let error as Broker.ConversionError {
            throw Broker.ConversionError(error.code, error.description, path: BrokerCodingPath.components(path()))
        }
    }

    /// `[String]`, as `Array`'s `init(from:)` reads it through the bridge: a vector or a set, an element's error
    /// named by its index.
    private static func strings(_ value: Broker.Value, _ path: () -> [any CodingKey]) throws -> [String] {
        let elements: [Broker.Value]
        switch value {
        case .vector(let vector): elements = vector
        case .set(let set): elements = set.elements
        default: throw BrokerValueDecoding.mismatch("vector", value, at: path())
        }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for index in elements.indices {
            guard case .string(let string) = elements[index] else {
                throw BrokerValueDecoding.mismatch("string", elements[index], at: path() + [BrokerIndexKey(index)])
            }
            strings.append(string)
        }
        return strings
    }
}

import Foundation

extension Broker {
    /// Decodes Swift values from Broker values, the way Zeek's types map (the Codable bridge; the table is
    /// ``ValueEncoder``'s).
    ///
    /// A record's fields are read by position: the first key a type's `init(from:)` asks for is the record's first
    /// field, the next new key the second, and so on (synthesized conformances ask in declaration order). A field
    /// that is `none`, or missing at the end of a shorter record (an older Zeek's), reads as `nil` for an optional
    /// property and is an error for any other. `count` reads as a signed integer when it fits, and a
    /// non-negative `int` as an unsigned one; other types must match.
    ///
    /// ```swift
    /// let rule = try Broker.ValueDecoder().decode(Rule.self, from: .vector(["r1", .integer(5), .none]))
    /// ```
    public struct ValueDecoder: Sendable {
        /// Creates a decoder.
        public init() {}

        /// Decodes a value.
        ///
        /// - Parameters:
        ///   - type: The type to read.
        ///   - value: The Broker value.
        /// - Returns: The value.
        /// - Throws: ``Broker/ConversionError`` naming the field path (`rules[2].priority: expected count, got
        ///   string`).
        public func decode<T: Decodable>(_ type: T.Type, from value: Broker.Value) throws -> T {
            try BrokerValueDecoding.decode(type, from: value, at: [])
        }
    }
}

/// The decoder's machinery.
enum BrokerValueDecoding {
    /// Decodes the value at `key` of `parent`: the path is built only for what is not a common scalar.
    @inline(__always)
    static func decode<T: Decodable>(
        _ type: T.Type,
        from value: Broker.Value,
        in parent: [any CodingKey],
        at key: any CodingKey
    ) throws -> T {
        if let scalar = scalar(type, from: value) { return scalar }
        return try decode(type, from: value, at: parent + [key])
    }

    /// The common scalars by type identity: a comparison of metadata, not a conformance lookup. (Each cast is
    /// to the type just compared with.)
    @inline(__always)
    static func scalar<T>(_ type: T.Type, from value: Broker.Value) -> T? {
        switch value {
        case .string(let string) where T.self == String.self: return unsafeBitCast(string, to: T.self)
        case .boolean(let boolean) where T.self == Bool.self: return unsafeBitCast(boolean, to: T.self)
        case .real(let real) where T.self == Double.self: return unsafeBitCast(real, to: T.self)
        case .integer(let integer) where T.self == Int.self: return unsafeBitCast(Int(integer), to: T.self)
        case .integer(let integer) where T.self == Int64.self: return unsafeBitCast(integer, to: T.self)
        case .count(let count) where T.self == UInt64.self: return unsafeBitCast(count, to: T.self)
        default: return nil
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from value: Broker.Value, at path: [any CodingKey]) throws -> T {
        if let scalar = scalar(type, from: value) { return scalar }
        if let special = try specialValue(type, from: value, at: path) { return special }
        return try T(from: BrokerDecoder(value: value, codingPath: path))
    }

    /// The types that have a Broker form of their own, rather than the one their `init(from:)` reads.
    private static func specialValue<T>(
        _ type: T.Type,
        from value: Broker.Value,
        at path: [any CodingKey]
    ) throws
        -> T?
    {
        if let set = type as? any BrokerDecodableSet.Type {
            guard case .set(let elements) = value else { throw mismatch("set", value, at: path) }
            return try set.decodeBrokerSet(elements.elements, at: path) as? T
        }
        if let table = type as? any BrokerDecodableTable.Type {
            guard case .table(let entries) = value else { throw mismatch("table", value, at: path) }
            return try table.decodeBrokerTable(entries, at: path) as? T
        }
        // The standard library's numbers, strings and arrays follow the bridge's own rules (a `count` reads as an
        // `Int` when it fits, an error names the element), not their stricter `BrokerConvertible` reading.
        if type is any BrokerStandardLibraryValue.Type { return nil }
        if let convertible = type as? any BrokerConvertible.Type {
            do {
                return try convertible.init(brokerValue: value) as? T
            } catch let error as Broker.ConversionError {
                throw Broker.ConversionError(error.code, error.description, path: BrokerCodingPath.components(path))
            }
        }
        if type == Date.self {
            guard case .timestamp(let timestamp) = value else { throw mismatch("time", value, at: path) }
            // Whole seconds and the fraction apart: one division of the nanoseconds loses the last digits.
            let (seconds, nanoseconds) = timestamp.nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000_000)
            return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(nanoseconds) / 1e9) as? T
        }
        if type == Duration.self {
            guard case .timespan(let timespan) = value else { throw mismatch("interval", value, at: path) }
            return timespan.duration as? T
        }
        return nil
    }

    static func mismatch(_ expected: String, _ value: Broker.Value, at path: [any CodingKey]) -> Broker.ConversionError
    {
        Broker.ConversionError(
            .typeMismatch,
            "expected \(expected), got \(value.dataType.rawValue)",
            path: BrokerCodingPath.components(path)
        )
    }

    static func missing(at path: [any CodingKey]) -> Broker.ConversionError {
        Broker.ConversionError(.missingField, "the field is not set", path: BrokerCodingPath.components(path))
    }
}

/// One value being decoded.
struct BrokerDecoder: Decoder {
    let value: Broker.Value
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .vector(let fields) = value else {
            throw BrokerValueDecoding.mismatch("record (vector)", value, at: codingPath)
        }
        return KeyedDecodingContainer(BrokerKeyedDecodingContainer<Key>(fields: fields, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .vector(let elements): return BrokerUnkeyedDecodingContainer(elements: elements, codingPath: codingPath)
        case .set(let elements):
            return BrokerUnkeyedDecodingContainer(elements: elements.elements, codingPath: codingPath)
        default: throw BrokerValueDecoding.mismatch("vector", value, at: codingPath)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BrokerSingleValueDecodingContainer(value: value, codingPath: codingPath)
    }
}

/// The places of a record's keys, given in the order `init(from:)` first asks for them; shared by the copies of
/// one container.
final class BrokerFieldPlaces {
    /// The keys in the order they were first asked for: a record has few fields, and comparing a few strings is
    /// cheaper than hashing them.
    private var keys: [String] = []

    init(capacity: Int) {
        keys.reserveCapacity(capacity)
    }

    func place(of key: String) -> Int {
        // Synthesized code asks for each key once, in order: the next place is the likeliest.
        if keys.count > 0, keys[keys.count - 1] == key { return keys.count - 1 }
        if let place = keys.firstIndex(of: key) { return place }
        keys.append(key)
        return keys.count - 1
    }
}

struct BrokerKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [Broker.Value]
    let codingPath: [any CodingKey]
    private let places: BrokerFieldPlaces

    init(fields: [Broker.Value], codingPath: [any CodingKey]) {
        self.fields = fields
        self.codingPath = codingPath
        places = BrokerFieldPlaces(capacity: fields.count)
    }

    // Record fields have positions, not names.
    var allKeys: [Key] { [] }

    private func field(_ key: Key) -> Broker.Value? {
        let place = places.place(of: key.stringValue)
        return place < fields.count ? fields[place] : nil
    }

    func contains(_ key: Key) -> Bool { field(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        switch field(key) {
        case nil, .none?: true
        default: false
        }
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let value = field(key) ?? .none
        // A field that is not set is `nil` for an optional asked for with `decode(T?.self, forKey:)`.
        if case .none = value, !(type is any BrokerOptionalProperty.Type) {
            throw BrokerValueDecoding.missing(at: codingPath + [key])
        }
        return try BrokerValueDecoding.decode(type, from: value, in: codingPath, at: key)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        switch field(key) {
        case nil, .none?: nil
        case let value?: try BrokerValueDecoding.decode(type, from: value, in: codingPath, at: key)
        }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        guard let value = field(key) else { throw BrokerValueDecoding.missing(at: codingPath + [key]) }
        return try BrokerDecoder(value: value, codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard let value = field(key) else { throw BrokerValueDecoding.missing(at: codingPath + [key]) }
        return try BrokerDecoder(value: value, codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = BrokerNameKey("super")
        let place = places.place(of: key.stringValue)
        return BrokerDecoder(value: place < fields.count ? fields[place] : .none, codingPath: codingPath + [key])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        BrokerDecoder(value: field(key) ?? .none, codingPath: codingPath + [key])
    }
}

struct BrokerUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let elements: [Broker.Value]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(elements: [Broker.Value], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> (value: Broker.Value, path: [any CodingKey]) {
        let path = codingPath + [BrokerIndexKey(currentIndex)]
        guard !isAtEnd else {
            throw Broker.ConversionError(
                .tooFewFields,
                "no element \(currentIndex): the vector has \(elements.count)",
                path: BrokerCodingPath.components(path)
            )
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .none = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next()
        return try BrokerValueDecoding.decode(type, from: value, at: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next()
        return try BrokerDecoder(value: value, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next()
        return try BrokerDecoder(value: value, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next()
        return BrokerDecoder(value: value, codingPath: path)
    }
}

struct BrokerSingleValueDecodingContainer: SingleValueDecodingContainer {
    let value: Broker.Value
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool {
        if case .none = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .boolean(let boolean) = value else { throw mismatch("bool") }
        return boolean
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let string) = value else { throw mismatch("string") }
        return string
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .real(let real) = value else { throw mismatch("double") }
        return real
    }

    func decode(_ type: Float.Type) throws -> Float {
        Float(try decode(Double.self))
    }

    func decode(_ type: Int.Type) throws -> Int { try signed(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try signed(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try signed(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try signed(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try signed(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try unsigned(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try unsigned(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try unsigned(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try unsigned(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try unsigned(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try BrokerValueDecoding.decode(type, from: value, at: codingPath)
    }

    private func signed<T: FixedWidthInteger & SignedInteger>(_ type: T.Type) throws -> T {
        let number: T?
        switch value {
        case .integer(let integer): number = T(exactly: integer)
        case .count(let count): number = T(exactly: count)
        default: throw mismatch("int")
        }
        guard let number else { throw outOfRange(type) }
        return number
    }

    private func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) throws -> T {
        let number: T?
        switch value {
        case .count(let count): number = T(exactly: count)
        case .integer(let integer): number = T(exactly: integer)
        default: throw mismatch("count")
        }
        guard let number else { throw outOfRange(type) }
        return number
    }

    private func mismatch(_ expected: String) -> Broker.ConversionError {
        BrokerValueDecoding.mismatch(expected, value, at: codingPath)
    }

    private func outOfRange<T>(_ type: T.Type) -> Broker.ConversionError {
        Broker.ConversionError(
            .invalidValue,
            "\(Broker.JSON.encode(value)) does not fit in \(T.self)",
            path: BrokerCodingPath.components(codingPath)
        )
    }
}

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
            if let direct = BrokerDirectType.of(type) { return try direct.decode(type, from: value, at: { [] }) }
            return try BrokerValueDecoding.decode(type, at: BrokerDecoder(value: value, codingPath: []))
        }
    }
}

/// The decoder's machinery.
///
/// The types with a fixed Broker form are read directly; the others through a ``BrokerDecoder`` one key below their
/// container's, which it lends again for the next value. Paths are built only for errors.
enum BrokerValueDecoding {
    /// Decodes the value at `key` below `parent`.
    @inline(__always)
    static func decode<T: Decodable, Key: CodingKey>(
        _ type: T.Type,
        from value: Broker.Value,
        in parent: BrokerDecoder,
        at key: Key
    ) throws -> T {
        if let direct = BrokerDirectType.of(type) {
            return try direct.decode(type, from: value, at: { parent.codingPath + [key] })
        }
        var child = parent.lend(value, at: key)
        defer { parent.takeBack(&child) }
        return try decode(type, at: child)
    }

    /// Decodes the value at `parent`'s own path (for a single-value container).
    static func decode<T: Decodable>(_ type: T.Type, from value: Broker.Value, at parent: BrokerDecoder) throws -> T {
        if let direct = BrokerDirectType.of(type) {
            return try direct.decode(type, from: value, at: { parent.codingPath })
        }
        var child = parent.lend(value)
        defer { parent.takeBack(&child) }
        return try decode(type, at: child)
    }

    /// Decodes a value whose type has no direct form, at `decoder`'s path (a fresh or lent decoder holding it).
    static func decode<T: Decodable>(_ type: T.Type, at decoder: BrokerDecoder) throws -> T {
        var info = decoder.typeInfo(type)
        let value = decoder.value
        // Each kind's type is `T` itself (the kind was found from `T`): the casts are to the same type.
        switch info.kind {
        case .set(let set):
            guard case .set(let elements) = value else { throw mismatch("set", value, at: decoder.codingPath) }
            if set == T.self { return try decodeSet(set, elements.elements, in: decoder, as: type) }
        case .table(let table):
            guard case .table(let entries) = value else { throw mismatch("table", value, at: decoder.codingPath) }
            if table == T.self { return try decodeTable(table, entries, in: decoder, as: type) }
        case .convertible(let convertible):
            if convertible == T.self { return try convert(convertible, value, as: type, { decoder.codingPath }) }
        case .plain: break
        }
        decoder.expect(info.keys)
        let decoded = try T(from: decoder)
        if info.keys == nil, let keys = decoder.firstKeys { decoder.learn(keys, of: type, into: &info) }
        return decoded
    }

    private static func decodeSet<SetType: BrokerDecodableSet, T>(
        _ set: SetType.Type,
        _ elements: [Broker.Value],
        in decoder: BrokerDecoder,
        as type: T.Type
    ) throws -> T {
        unsafeBitCast(try SetType.decodeBrokerSet(elements, in: decoder), to: T.self)
    }

    private static func decodeTable<TableType: BrokerDecodableTable, T>(
        _ table: TableType.Type,
        _ entries: Broker.ValueTable,
        in decoder: BrokerDecoder,
        as type: T.Type
    ) throws -> T {
        unsafeBitCast(try TableType.decodeBrokerTable(entries, in: decoder), to: T.self)
    }

    /// A value of a ``BrokerConvertible`` type, its error given the path.
    private static func convert<Convertible: BrokerConvertible, T>(
        _ convertible: Convertible.Type,
        _ value: Broker.Value,
        as type: T.Type,
        _ path: () -> [any CodingKey]
    ) throws -> T {
        unsafeBitCast(try BrokerDirectType.convert(convertible, value, path), to: T.self)
    }

    // MARK: - Scalars (shared with the single-value container)

    static func boolean(_ value: Broker.Value, _ path: () -> [any CodingKey]) throws -> Bool {
        guard case .boolean(let boolean) = value else { throw mismatch("bool", value, at: path()) }
        return boolean
    }

    static func string(_ value: Broker.Value, _ path: () -> [any CodingKey]) throws -> String {
        guard case .string(let string) = value else { throw mismatch("string", value, at: path()) }
        return string
    }

    static func real(_ value: Broker.Value, _ path: () -> [any CodingKey]) throws -> Double {
        guard case .real(let real) = value else { throw mismatch("double", value, at: path()) }
        return real
    }

    static func date(_ value: Broker.Value, _ path: () -> [any CodingKey]) throws -> Date {
        guard case .timestamp(let timestamp) = value else { throw mismatch("time", value, at: path()) }
        // Whole seconds and the fraction apart: one division of the nanoseconds loses the last digits.
        let (seconds, nanoseconds) = timestamp.nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000_000)
        return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(nanoseconds) / 1e9)
    }

    static func duration(_ value: Broker.Value, _ path: () -> [any CodingKey]) throws -> Duration {
        guard case .timespan(let timespan) = value else { throw mismatch("interval", value, at: path()) }
        return timespan.duration
    }

    static func signed<T: FixedWidthInteger & SignedInteger>(
        _ type: T.Type,
        _ value: Broker.Value,
        _ path: () -> [any CodingKey]
    ) throws -> T {
        let number: T?
        switch value {
        case .integer(let integer): number = T(exactly: integer)
        case .count(let count): number = T(exactly: count)
        default: throw mismatch("int", value, at: path())
        }
        guard let number else { throw outOfRange(type, value, at: path()) }
        return number
    }

    static func unsigned<T: FixedWidthInteger & UnsignedInteger>(
        _ type: T.Type,
        _ value: Broker.Value,
        _ path: () -> [any CodingKey]
    ) throws -> T {
        let number: T?
        switch value {
        case .count(let count): number = T(exactly: count)
        case .integer(let integer): number = T(exactly: integer)
        default: throw mismatch("count", value, at: path())
        }
        guard let number else { throw outOfRange(type, value, at: path()) }
        return number
    }

    // MARK: - Errors

    static func mismatch(_ expected: String, _ value: Broker.Value, at path: [any CodingKey]) -> Broker.ConversionError
    {
        Broker.ConversionError(
            .typeMismatch,
            "expected \(expected), got \(value.dataType.rawValue)",
            path: BrokerCodingPath.components(path)
        )
    }

    static func outOfRange<T>(_ type: T.Type, _ value: Broker.Value, at path: [any CodingKey]) -> Broker.ConversionError
    {
        Broker.ConversionError(
            .invalidValue,
            "\(Broker.JSON.encode(value)) does not fit in \(T.self)",
            path: BrokerCodingPath.components(path)
        )
    }

    static func missing(at path: [any CodingKey]) -> Broker.ConversionError {
        Broker.ConversionError(.missingField, "the field is not set", path: BrokerCodingPath.components(path))
    }
}

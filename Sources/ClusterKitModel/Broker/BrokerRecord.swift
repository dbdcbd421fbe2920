/// A type with a Broker value form.
public protocol BrokerConvertible: Sendable {
    /// Reads the type from its Broker value.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` when the value does not fit.
    init(brokerValue: Broker.Value) throws

    /// The Broker value form.
    var brokerValue: Broker.Value { get }
}

/// A Zeek enum whose raw values are its fully qualified names, such as `Management::RUNNING`.
///
/// It is `Codable` as its qualified name (the raw value); ``Broker/ValueEncoder`` writes it as an `enum-value`.
public protocol BrokerEnum: BrokerConvertible, RawRepresentable, CaseIterable, Codable where RawValue == String {
    /// The Zeek type name, such as `Management::State`.
    static var zeekTypeName: String { get }
}

extension BrokerEnum {
    /// Reads the enum from an `enum-value` holding one of its qualified names.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type or an unknown name.
    public init(brokerValue: Broker.Value) throws {
        guard case .enumValue(let name) = brokerValue else {
            throw Broker.ConversionError(.typeMismatch, "expected enum-value, got \(brokerValue.dataType.rawValue)")
        }
        guard let match = Self.allCases.first(where: { $0.rawValue == name }) else {
            throw Broker.ConversionError(.invalidValue, "unknown \(Self.zeekTypeName) value '\(name)'")
        }
        self = match
    }

    /// The `enum-value` with the qualified name.
    public var brokerValue: Broker.Value { .enumValue(rawValue) }

    /// The name without its module, as `zeek-client` prints it (`RUNNING` for `Management::RUNNING`).
    public var unqualifiedName: String {
        let parts = rawValue.split(separator: ":", omittingEmptySubsequences: true)
        return parts.last.map(String.init) ?? rawValue
    }
}

/// A Zeek record with a Broker value form: a vector with one element per field, in declaration order.
///
/// Zeek's rules apply both ways: an unset optional field is `none`; a field with a default always carries a
/// value (the default when not set otherwise); reading accepts extra trailing elements (from a newer Zeek)
/// and rejects too few, and `none` for a field with a default gives the default.
///
/// It is `Codable` in its Broker form (``BrokerConvertible/encodeBrokerForm(to:)``), so that it can be a property of
/// a user's `Codable` type.
public protocol BrokerRecord: BrokerFormCodable {
    /// The Zeek type name, such as `Management::Result`.
    static var zeekTypeName: String { get }
    /// The field names in declaration order.
    static var fieldNames: [String] { get }
    /// The fewest elements accepted when reading; default all fields (older Zeek versions may have fewer).
    static var minimumFieldCount: Int { get }
    /// Reads the fields in order.
    ///
    /// - Parameter record: A reader positioned at the first field.
    /// - Throws: ``Broker/ConversionError`` when a field does not fit.
    init(reading record: inout Broker.RecordReader) throws
    /// The field values in declaration order.
    var fieldValues: [Broker.Value] { get }
}

extension BrokerRecord {
    /// All fields are required on the wire unless a record says otherwise.
    public static var minimumFieldCount: Int { fieldNames.count }

    /// Reads the record from its vector.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` naming the record and field that do not fit.
    public init(brokerValue: Broker.Value) throws {
        var reader = try Broker.RecordReader(
            brokerValue,
            typeName: Self.zeekTypeName,
            fieldNames: Self.fieldNames,
            minimumFieldCount: Self.minimumFieldCount
        )
        try self.init(reading: &reader)
    }

    /// The record's vector.
    public var brokerValue: Broker.Value { .vector(fieldValues) }
}

extension Broker {
    /// Reads a record's fields from its vector, one after another, applying Zeek's rules.
    public struct RecordReader: Sendable {
        /// The Zeek type name, for error messages.
        public let typeName: String
        let fieldNames: [String]
        let elements: [Value]
        /// The index of the next field.
        public private(set) var index = 0

        /// Creates a reader over a record vector.
        ///
        /// - Parameters:
        ///   - value: The value; must be a vector with at least `fieldNames.count` elements.
        ///   - typeName: The Zeek type name.
        ///   - fieldNames: The field names in order.
        ///   - minimumFieldCount: The fewest elements accepted; default all fields. Fields past the end read as `none`.
        /// - Throws: ``Broker/ConversionError`` for a non-vector or too few elements.
        public init(_ value: Value, typeName: String, fieldNames: [String], minimumFieldCount: Int? = nil) throws {
            guard case .vector(let elements) = value else {
                throw ConversionError(
                    .typeMismatch,
                    "\(typeName) must be a vector, got \(value.dataType.rawValue)"
                )
            }
            let required = minimumFieldCount ?? fieldNames.count
            guard elements.count >= required else {
                throw ConversionError(
                    .tooFewFields,
                    "\(typeName) needs \(required) fields, got \(elements.count)"
                )
            }
            self.typeName = typeName
            self.fieldNames = fieldNames
            // Fields an older version did not have read as unset.
            self.elements = elements + Array(repeating: .none, count: max(0, fieldNames.count - elements.count))
        }

        private var fieldName: String { index < fieldNames.count ? fieldNames[index] : "#\(index + 1)" }

        private mutating func next<T>(_ read: (Value) throws -> T) throws -> T {
            let element = elements[index]
            do {
                let value = try read(element)
                index += 1
                return value
            } catch let error as ConversionError {
                throw error.within("\(typeName).\(fieldName)")
            }
        }

        /// Reads a field without a default; `none` is an error.
        ///
        /// - Parameter type: The field's Swift type.
        /// - Returns: The value.
        /// - Throws: ``Broker/ConversionError``.
        public mutating func required<T: BrokerConvertible>(_ type: T.Type = T.self) throws -> T {
            try next { element in
                if element.isNone { throw ConversionError(.missingField, "field is not set") }
                return try T(brokerValue: element)
            }
        }

        /// Reads an `&optional` field; `none` gives `nil`.
        ///
        /// - Parameter type: The field's Swift type.
        /// - Returns: The value or `nil`.
        /// - Throws: ``Broker/ConversionError``.
        public mutating func optional<T: BrokerConvertible>(_ type: T.Type = T.self) throws -> T? {
            try next { element in element.isNone ? nil : try T(brokerValue: element) }
        }

        /// Reads a field with a `&default`; `none` gives the default.
        ///
        /// - Parameter defaultValue: The field's default.
        /// - Returns: The value or the default.
        /// - Throws: ``Broker/ConversionError``.
        public mutating func withDefault<T: BrokerConvertible>(_ defaultValue: @autoclosure () -> T) throws -> T {
            try next { element in element.isNone ? defaultValue() : try T(brokerValue: element) }
        }

        /// Reads a field as a raw Broker value (Zeek's `any`); `none` gives `nil`.
        ///
        /// - Returns: The value, or `nil` for `none`.
        public mutating func any() -> Value? {
            let element = elements[index]
            index += 1
            return element.isNone ? nil : element
        }

        /// The elements after the fields read so far (extra trailing elements included).
        public var remaining: ArraySlice<Value> { elements[index...] }

        /// Skips a field that has no Swift counterpart (such as an opaque store handle).
        public mutating func skip() {
            index += 1
        }
    }
}

// MARK: - Standard conformances

extension Broker.ConversionError {
    @usableFromInline
    static func mismatch(_ expected: Broker.DataType, _ value: Broker.Value) -> Broker.ConversionError {
        Broker.ConversionError(.typeMismatch, "expected \(expected.rawValue), got \(value.dataType.rawValue)")
    }
}

extension Broker.Value: BrokerConvertible {
    /// Wraps any value as itself.
    ///
    /// - Parameter brokerValue: The value.
    public init(brokerValue: Broker.Value) { self = brokerValue }
    /// The value itself.
    public var brokerValue: Broker.Value { self }
}

extension String: BrokerConvertible {
    /// Reads a `string`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .string(let text) = brokerValue else { throw Broker.ConversionError.mismatch(.string, brokerValue) }
        self = text
    }
    /// The `string`.
    public var brokerValue: Broker.Value { .string(self) }
}

extension Bool: BrokerConvertible {
    /// Reads a `boolean`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .boolean(let flag) = brokerValue else {
            throw Broker.ConversionError.mismatch(.boolean, brokerValue)
        }
        self = flag
    }
    /// The `boolean`.
    public var brokerValue: Broker.Value { .boolean(self) }
}

extension UInt64: BrokerConvertible {
    /// Reads a `count`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .count(let number) = brokerValue else { throw Broker.ConversionError.mismatch(.count, brokerValue) }
        self = number
    }
    /// The `count`.
    public var brokerValue: Broker.Value { .count(self) }
}

extension Int64: BrokerConvertible {
    /// Reads an `integer`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .integer(let number) = brokerValue else {
            throw Broker.ConversionError.mismatch(.integer, brokerValue)
        }
        self = number
    }
    /// The `integer`.
    public var brokerValue: Broker.Value { .integer(self) }
}

extension Int: BrokerConvertible {
    /// Reads an `integer` (Zeek's `int`).
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .integer(let number) = brokerValue else {
            throw Broker.ConversionError.mismatch(.integer, brokerValue)
        }
        self = Int(number)
    }
    /// The `integer`.
    public var brokerValue: Broker.Value { .integer(Int64(self)) }
}

extension Double: BrokerConvertible {
    /// Reads a `real`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .real(let number) = brokerValue else { throw Broker.ConversionError.mismatch(.real, brokerValue) }
        self = number
    }
    /// The `real`.
    public var brokerValue: Broker.Value { .real(self) }
}

extension Broker.Address: BrokerConvertible {
    /// Reads an `address`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .address(let address) = brokerValue else {
            throw Broker.ConversionError.mismatch(.address, brokerValue)
        }
        self = address
    }
    /// The `address`.
    public var brokerValue: Broker.Value { .address(self) }
}

extension Broker.Subnet: BrokerConvertible {
    /// Reads a `subnet`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .subnet(let subnet) = brokerValue else {
            throw Broker.ConversionError.mismatch(.subnet, brokerValue)
        }
        self = subnet
    }
    /// The `subnet`.
    public var brokerValue: Broker.Value { .subnet(self) }
}

extension Broker.Port: BrokerConvertible {
    /// Reads a `port`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .port(let port) = brokerValue else { throw Broker.ConversionError.mismatch(.port, brokerValue) }
        self = port
    }
    /// The `port`.
    public var brokerValue: Broker.Value { .port(self) }
}

extension Broker.Timestamp: BrokerConvertible {
    /// Reads a `timestamp`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .timestamp(let timestamp) = brokerValue else {
            throw Broker.ConversionError.mismatch(.timestamp, brokerValue)
        }
        self = timestamp
    }
    /// The `timestamp`.
    public var brokerValue: Broker.Value { .timestamp(self) }
}

extension Broker.Timespan: BrokerConvertible {
    /// Reads a `timespan`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type.
    public init(brokerValue: Broker.Value) throws {
        guard case .timespan(let timespan) = brokerValue else {
            throw Broker.ConversionError.mismatch(.timespan, brokerValue)
        }
        self = timespan
    }
    /// The `timespan`.
    public var brokerValue: Broker.Value { .timespan(self) }
}

extension Array: BrokerConvertible where Element: BrokerConvertible {
    /// Reads a `vector` (a `set` is accepted too, in its sorted order).
    ///
    /// Inlinable, as the `Set` and `Dictionary` forms below, so that a module using it gets a copy specialized for
    /// its element type: unspecialized, every element cost a generic-metadata lookup (decision record 0005).
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type or a bad element.
    @inlinable
    public init(brokerValue: Broker.Value) throws {
        switch brokerValue {
        case .vector(let items): self = try Self.converting(items)
        case .set(let set): self = try Self.converting(set.elements)
        default: throw Broker.ConversionError.mismatch(.vector, brokerValue)
        }
    }

    /// Converts `elements` one by one; a bad one throws with its position in the path.
    @inlinable
    static func converting(_ elements: [Broker.Value]) throws -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for position in elements.indices {
            do {
                result.append(try Element(brokerValue: elements[position]))
            } catch let error as Broker.ConversionError {
                throw error.within("[\(position)]")
            }
        }
        return result
    }

    /// The `vector`.
    @inlinable
    public var brokerValue: Broker.Value { .vector(map { $0.brokerValue }) }
}

extension Set: BrokerConvertible where Element: BrokerConvertible {
    /// Reads a `set` (a `vector` is accepted too).
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type or a bad element.
    @inlinable
    public init(brokerValue: Broker.Value) throws {
        switch brokerValue {
        case .set(let set): self = Set(try [Element].converting(set.elements))
        case .vector(let items): self = Set(try [Element].converting(items))
        default: throw Broker.ConversionError.mismatch(.set, brokerValue)
        }
    }
    /// The `set`, sorted by Broker's order.
    @inlinable
    public var brokerValue: Broker.Value { .set(Broker.ValueSet(map { $0.brokerValue })) }
}

extension Dictionary: BrokerConvertible where Key: BrokerConvertible, Value: BrokerConvertible {
    /// Reads a `table`.
    ///
    /// - Parameter brokerValue: The value.
    /// - Throws: ``Broker/ConversionError`` for another type or a bad key or value.
    @inlinable
    public init(brokerValue: Broker.Value) throws {
        guard case .table(let table) = brokerValue else { throw Broker.ConversionError.mismatch(.table, brokerValue) }
        var result: [Key: Value] = [:]
        for entry in table.entries {
            do {
                result[try Key(brokerValue: entry.key)] = try Value(brokerValue: entry.value)
            } catch let error as Broker.ConversionError {
                throw error.within("[\(Broker.JSON.encode(entry.key))]")
            }
        }
        self = result
    }
    /// The `table`, sorted by key.
    @inlinable
    public var brokerValue: Broker.Value {
        .table(Broker.ValueTable(map { (key: $0.key.brokerValue, value: $0.value.brokerValue) }))
    }
}

extension Broker {
    /// One piece of Broker data: any of Broker's fifteen types.
    ///
    /// Sets and tables keep their elements sorted by ``Broker/Value``'s order and without duplicates, so two
    /// values compare equal exactly when Broker would consider them equal, whatever order they were built in.
    public enum Value: Sendable, Hashable {
        /// No value (`none`): an unset optional field.
        case none
        /// `boolean`.
        case boolean(Bool)
        /// `count`: an unsigned 64-bit integer.
        case count(UInt64)
        /// `integer`: a signed 64-bit integer.
        case integer(Int64)
        /// `real`: a double.
        case real(Double)
        /// `string`.
        case string(String)
        /// `enum-value`: a fully qualified enum name such as `Management::RUNNING`.
        case enumValue(String)
        /// `address`.
        case address(Address)
        /// `subnet`.
        case subnet(Subnet)
        /// `port`.
        case port(Port)
        /// `timestamp`.
        case timestamp(Timestamp)
        /// `timespan`.
        case timespan(Timespan)
        /// `vector`: an ordered list (also the form of every Zeek record).
        case vector([Value])
        /// `set`: sorted, without duplicates.
        case set(ValueSet)
        /// `table`: keys sorted, each key once.
        case table(ValueTable)
    }

    /// The names of Broker's data types as `@data-type` writes them.
    public enum DataType: String, Sendable, Hashable, CaseIterable {
        /// `none`.
        case none
        /// `boolean`.
        case boolean
        /// `count`.
        case count
        /// `integer`.
        case integer
        /// `real`.
        case real
        /// `string`.
        case string
        /// `enum-value`.
        case enumValue = "enum-value"
        /// `address`.
        case address
        /// `subnet`.
        case subnet
        /// `port`.
        case port
        /// `timestamp`.
        case timestamp
        /// `timespan`.
        case timespan
        /// `vector`.
        case vector
        /// `set`.
        case set
        /// `table`.
        case table
    }
}

extension Broker.Value {
    /// The Broker data type of this value.
    public var dataType: Broker.DataType {
        switch self {
        case .none: .none
        case .boolean: .boolean
        case .count: .count
        case .integer: .integer
        case .real: .real
        case .string: .string
        case .enumValue: .enumValue
        case .address: .address
        case .subnet: .subnet
        case .port: .port
        case .timestamp: .timestamp
        case .timespan: .timespan
        case .vector: .vector
        case .set: .set
        case .table: .table
        }
    }

    /// A Boolean value indicating whether this is `none`.
    public var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// The string, when this is a `string`.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The elements, when this is a `vector`.
    public var vectorValue: [Broker.Value]? {
        if case .vector(let elements) = self { return elements }
        return nil
    }

    /// Creates a set value from elements in any order, dropping duplicates.
    ///
    /// - Parameter elements: The elements.
    /// - Returns: The `set`.
    public static func set(_ elements: [Broker.Value]) -> Broker.Value { .set(Broker.ValueSet(elements)) }

    /// Creates a table value from entries in any order; for a repeated key the last entry wins.
    ///
    /// - Parameter entries: The keys and values.
    /// - Returns: The `table`.
    public static func table(_ entries: [(key: Broker.Value, value: Broker.Value)]) -> Broker.Value {
        .table(Broker.ValueTable(entries))
    }
}

extension Broker.Value: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral {
    /// Creates a `string`.
    ///
    /// - Parameter value: The string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Creates a `boolean`.
    ///
    /// - Parameter value: The Boolean.
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    /// Creates a `vector`.
    ///
    /// - Parameter elements: The elements.
    public init(arrayLiteral elements: Broker.Value...) { self = .vector(elements) }
}

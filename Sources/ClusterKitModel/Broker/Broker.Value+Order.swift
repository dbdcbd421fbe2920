extension Broker.Value: Comparable {
    /// Broker's rank of each type: the order of the alternatives in `broker::data`.
    var typeRank: Int {
        switch self {
        case .none: 0
        case .boolean: 1
        case .count: 2
        case .integer: 3
        case .real: 4
        case .string: 5
        case .address: 6
        case .subnet: 7
        case .port: 8
        case .timestamp: 9
        case .timespan: 10
        case .enumValue: 11
        case .set: 12
        case .table: 13
        case .vector: 14
        }
    }

    /// Orders values as Broker does, as a strict total order that agrees with `==`.
    ///
    /// First by type, then by value (strings and enum names by bytes, containers element by element). Sets and
    /// tables are kept and written in this order.
    ///
    /// Reals: every NaN sorts after every other real and is equal to every NaN (whatever its sign and
    /// payload); `-0.0` and `0.0` are equal. IEEE 754's `<` makes NaN unordered, which no sorted set
    /// survives, and Broker writes every NaN as `nan` anyway.
    ///
    /// - Parameters:
    ///   - lhs: A value.
    ///   - rhs: Another value.
    /// - Returns: Whether `lhs` sorts first.
    public static func < (lhs: Broker.Value, rhs: Broker.Value) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): false
        case (.boolean(let a), .boolean(let b)): !a && b
        case (.count(let a), .count(let b)): a < b
        case (.integer(let a), .integer(let b)): a < b
        case (.real(let a), .real(let b)): b.isNaN ? !a.isNaN : a < b
        case (.string(let a), .string(let b)): a.utf8.lexicographicallyPrecedes(b.utf8)
        case (.enumValue(let a), .enumValue(let b)): a.utf8.lexicographicallyPrecedes(b.utf8)
        case (.address(let a), .address(let b)): a < b
        case (.subnet(let a), .subnet(let b)): a < b
        case (.port(let a), .port(let b)): a < b
        case (.timestamp(let a), .timestamp(let b)): a < b
        case (.timespan(let a), .timespan(let b)): a < b
        case (.vector(let a), .vector(let b)): a.lexicographicallyPrecedes(b)
        case (.set(let a), .set(let b)): a.elements.lexicographicallyPrecedes(b.elements)
        case (.table(let a), .table(let b)):
            a.entries.lexicographicallyPrecedes(b.entries) { x, y in
                x.key < y.key || (x.key == y.key && x.value < y.value)
            }
        default: lhs.typeRank < rhs.typeRank
        }
    }

    /// A Boolean value indicating whether two values are equal, as the order (``<(_:_:)``) sees them.
    ///
    /// Strings and enum names are equal when their bytes are (as Broker compares them, and unlike Swift's
    /// `String` equality, which merges canonically equivalent spellings); every NaN equals every NaN;
    /// `-0.0` equals `0.0`.
    ///
    /// - Parameters:
    ///   - lhs: A value.
    ///   - rhs: Another value.
    /// - Returns: Whether they are equal.
    public static func == (lhs: Broker.Value, rhs: Broker.Value) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): true
        case (.boolean(let a), .boolean(let b)): a == b
        case (.count(let a), .count(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.real(let a), .real(let b)): a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
        case (.enumValue(let a), .enumValue(let b)): a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
        case (.address(let a), .address(let b)): a == b
        case (.subnet(let a), .subnet(let b)): a == b
        case (.port(let a), .port(let b)): a == b
        case (.timestamp(let a), .timestamp(let b)): a == b
        case (.timespan(let a), .timespan(let b)): a == b
        case (.vector(let a), .vector(let b)): a == b
        case (.set(let a), .set(let b)): a == b
        case (.table(let a), .table(let b)): a == b
        default: false
        }
    }

    /// Hashes the value consistently with `==`: every NaN hashes alike, and so do `-0.0` and `0.0`.
    ///
    /// - Parameter hasher: The hasher.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(typeRank)
        switch self {
        case .none: break
        case .boolean(let value): hasher.combine(value)
        case .count(let value): hasher.combine(value)
        case .integer(let value): hasher.combine(value)
        // `Double`'s own hash already treats -0.0 and 0.0 alike; NaNs differ by payload, so use one NaN.
        case .real(let value): hasher.combine(value.isNaN ? Double.nan : value)
        case .string(let value): hasher.combine(value)
        case .enumValue(let value): hasher.combine(value)
        case .address(let value): hasher.combine(value)
        case .subnet(let value): hasher.combine(value)
        case .port(let value): hasher.combine(value)
        case .timestamp(let value): hasher.combine(value)
        case .timespan(let value): hasher.combine(value)
        case .vector(let value): hasher.combine(value)
        case .set(let value): hasher.combine(value)
        case .table(let value): hasher.combine(value)
        }
    }
}

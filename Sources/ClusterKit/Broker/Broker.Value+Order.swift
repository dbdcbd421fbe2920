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

    /// Orders values as Broker does.
    ///
    /// First by type, then by value (strings and enum names by bytes, containers element by element). Sets and
    /// tables are kept and written in this order.
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
        case (.real(let a), .real(let b)): a.isTotallyOrdered(belowOrEqualTo: b) && a != b
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
}

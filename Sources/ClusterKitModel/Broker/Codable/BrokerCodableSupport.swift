/// A coding key for a vector element or table entry.
struct BrokerIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }

    init(_ index: Int) { intValue = index }
    init?(stringValue: String) {
        guard let index = Int(stringValue) else { return nil }
        intValue = index
    }
    init?(intValue: Int) { self.intValue = intValue }
}

/// A coding key by name, for the places the bridge names itself (`super`, a table's `key` and `value`).
struct BrokerNameKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Coding paths as the bridge's errors name them: `rules[2].priority`.
enum BrokerCodingPath {
    static func text(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue, key is BrokerIndexKey || key.stringValue == "Index \(index)" {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }

    /// The path as one ``Broker/ConversionError`` component (none at the top).
    static func components(_ path: [any CodingKey]) -> [String] {
        path.isEmpty ? [] : [text(path)]
    }
}

/// `Set`, which the bridge writes as a Broker `set` rather than the array its `encode(to:)` writes.
protocol BrokerCodableSet {
    func brokerElements(at path: [any CodingKey]) throws -> [Broker.Value]
}

extension Set: BrokerCodableSet where Element: Encodable {
    func brokerElements(at path: [any CodingKey]) throws -> [Broker.Value] {
        var elements: [Broker.Value] = []
        elements.reserveCapacity(count)
        for (index, element) in enumerated() {
            elements.append(try BrokerValueEncoding.encode(element, at: path + [BrokerIndexKey(index)]))
        }
        return elements
    }
}

/// `Dictionary`, which the bridge writes as a Broker `table` (its `encode(to:)` writes a keyed container for
/// `String` and `Int` keys, an array of alternating keys and values otherwise).
protocol BrokerCodableTable {
    func brokerEntries(at path: [any CodingKey]) throws -> [(key: Broker.Value, value: Broker.Value)]
}

extension Dictionary: BrokerCodableTable where Key: Encodable, Value: Encodable {
    func brokerEntries(at path: [any CodingKey]) throws -> [(key: Broker.Value, value: Broker.Value)] {
        var entries: [(key: Broker.Value, value: Broker.Value)] = []
        entries.reserveCapacity(count)
        for (key, value) in self {
            let keyValue = try BrokerValueEncoding.encode(key, at: path + [BrokerNameKey("key")])
            let place = path + [BrokerNameKey("\(keyValue)")]
            entries.append((keyValue, try BrokerValueEncoding.encode(value, at: place)))
        }
        return entries
    }
}

/// `Set` for the decoder: made from decoded elements.
protocol BrokerDecodableSet {
    static func decodeBrokerSet(_ elements: [Broker.Value], at path: [any CodingKey]) throws -> Self
}

extension Set: BrokerDecodableSet where Element: Decodable {
    static func decodeBrokerSet(_ elements: [Broker.Value], at path: [any CodingKey]) throws -> Set<Element> {
        var set = Set<Element>(minimumCapacity: elements.count)
        for (index, element) in elements.enumerated() {
            set.insert(try BrokerValueDecoding.decode(Element.self, from: element, at: path + [BrokerIndexKey(index)]))
        }
        return set
    }
}

/// `Dictionary` for the decoder: made from a Broker `table`.
protocol BrokerDecodableTable {
    static func decodeBrokerTable(_ table: Broker.ValueTable, at path: [any CodingKey]) throws -> Self
}

extension Dictionary: BrokerDecodableTable where Key: Decodable, Value: Decodable {
    static func decodeBrokerTable(_ table: Broker.ValueTable, at path: [any CodingKey]) throws -> [Key: Value] {
        var dictionary: [Key: Value] = [:]
        dictionary.reserveCapacity(table.count)
        for entry in table {
            let key = try BrokerValueDecoding.decode(Key.self, from: entry.key, at: path + [BrokerNameKey("key")])
            let place = path + [BrokerNameKey("\(entry.key)")]
            dictionary[key] = try BrokerValueDecoding.decode(Value.self, from: entry.value, at: place)
        }
        return dictionary
    }
}

/// `Optional`, recognised in a stored property without knowing its wrapped type.
protocol BrokerOptionalProperty {
    var isNil: Bool { get }
}

extension Optional: BrokerOptionalProperty {
    var isNil: Bool { self == nil }
}

/// Where each field of a record goes: the keys an `encode(to:)` wrote, in the places of the type's stored
/// properties, with `none` for each `nil` optional property that it skipped (the bridge's own `encodeIfPresent`
/// writes `none`, so synthesized code skips none; a hand-written `encode(to:)` may).
enum BrokerRecordLayout {
    /// The number of stored properties of each type seen, so that the common case (every property written, as
    /// synthesized code with the bridge's `encodeIfPresent` does) needs no reflection.
    private static let propertyCounts = Guarded<[ObjectIdentifier: Int]>([:])

    static func place(_ fields: [(key: String, value: Broker.Value)], of source: Any?) -> [Broker.Value] {
        guard let source else { return fields.map(\.value) }
        let type = ObjectIdentifier(Swift.type(of: source))
        if let count = propertyCounts.withLock({ $0[type] }), count == fields.count { return fields.map(\.value) }
        let children = Mirror(reflecting: source).children
        propertyCounts.withLock { counts in
            if counts.count < 10_000 { counts[type] = children.count }
        }
        // Every property written: nothing to place.
        if children.count == fields.count { return fields.map(\.value) }
        var byName: [String: Broker.Value] = [:]
        for field in fields where byName[field.key] == nil { byName[field.key] = field.value }
        var placed: [Broker.Value] = []
        placed.reserveCapacity(children.count)
        var matched = 0
        for child in children {
            // A property wrapper's storage is `_name`.
            let label = child.label.map { $0.hasPrefix("_") ? String($0.dropFirst()) : $0 }
            if let label, let value = byName[label] {
                placed.append(value)
                matched += 1
            } else if (child.value as? any BrokerOptionalProperty)?.isNil == true {
                placed.append(.none)
            }
        }
        if matched == byName.count { return placed }
        // Keys that are not property names (renamed by custom coding keys): the written order, with `none` for
        // each nil optional property in its place.
        placed = []
        var written = fields.makeIterator()
        for child in children {
            if (child.value as? any BrokerOptionalProperty)?.isNil == true {
                placed.append(.none)
            } else if let field = written.next() {
                placed.append(field.value)
            }
        }
        while let field = written.next() { placed.append(field.value) }
        return placed
    }
}

/// The standard library types that are ``BrokerConvertible`` but that the decoder reads by its own rules.
protocol BrokerStandardLibraryValue {}
extension Int: BrokerStandardLibraryValue {}
extension Int64: BrokerStandardLibraryValue {}
extension UInt64: BrokerStandardLibraryValue {}
extension Double: BrokerStandardLibraryValue {}
extension Bool: BrokerStandardLibraryValue {}
extension String: BrokerStandardLibraryValue {}
extension Array: BrokerStandardLibraryValue {}

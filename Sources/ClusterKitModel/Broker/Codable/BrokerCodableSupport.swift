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

/// Coding paths as the bridge names them in errors: `rules[2].priority`.
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
    /// The elements, each encoded one key (its index) below `encoder`.
    func brokerElements(in encoder: BrokerEncoder) throws -> [Broker.Value]
}

extension Set: BrokerCodableSet where Element: Encodable {
    func brokerElements(in encoder: BrokerEncoder) throws -> [Broker.Value] {
        var elements: [Broker.Value] = []
        elements.reserveCapacity(count)
        for (index, element) in enumerated() {
            elements.append(try BrokerValueEncoding.encode(element, in: encoder, at: BrokerIndexKey(index)))
        }
        return elements
    }
}

/// `Dictionary`, which the bridge writes as a Broker `table` (its `encode(to:)` writes a keyed container for
/// `String` and `Int` keys, an array of alternating keys and values otherwise).
protocol BrokerCodableTable {
    /// The entries: each key encoded below `encoder` at `key`, its value at the key's Broker value.
    func brokerEntries(in encoder: BrokerEncoder) throws -> [(key: Broker.Value, value: Broker.Value)]
}

extension Dictionary: BrokerCodableTable where Key: Encodable, Value: Encodable {
    func brokerEntries(in encoder: BrokerEncoder) throws -> [(key: Broker.Value, value: Broker.Value)] {
        var entries: [(key: Broker.Value, value: Broker.Value)] = []
        entries.reserveCapacity(count)
        for (key, value) in self {
            let keyValue = try BrokerValueEncoding.encode(key, in: encoder, at: BrokerNameKey("key"))
            let place = BrokerNameKey("\(keyValue)")
            entries.append((keyValue, try BrokerValueEncoding.encode(value, in: encoder, at: place)))
        }
        return entries
    }
}

/// `Set` for the decoder: made from decoded elements.
protocol BrokerDecodableSet: SendableMetatype {
    /// The set of `elements`, each decoded one key (its index) below `decoder`.
    static func decodeBrokerSet(_ elements: [Broker.Value], in decoder: BrokerDecoder) throws -> Self
}

extension Set: BrokerDecodableSet where Element: Decodable {
    static func decodeBrokerSet(_ elements: [Broker.Value], in decoder: BrokerDecoder) throws -> Set<Element> {
        var set = Set<Element>(minimumCapacity: elements.count)
        for (index, element) in elements.enumerated() {
            set.insert(
                try BrokerValueDecoding.decode(Element.self, from: element, in: decoder, at: BrokerIndexKey(index))
            )
        }
        return set
    }
}

/// `Dictionary` for the decoder: made from a Broker `table`.
protocol BrokerDecodableTable: SendableMetatype {
    /// The dictionary of `table`'s entries, decoded below `decoder` as ``BrokerCodableTable`` encodes them.
    static func decodeBrokerTable(_ table: Broker.ValueTable, in decoder: BrokerDecoder) throws -> Self
}

extension Dictionary: BrokerDecodableTable where Key: Decodable, Value: Decodable {
    static func decodeBrokerTable(_ table: Broker.ValueTable, in decoder: BrokerDecoder) throws -> [Key: Value] {
        var dictionary: [Key: Value] = [:]
        dictionary.reserveCapacity(table.count)
        for entry in table {
            let key = try BrokerValueDecoding.decode(Key.self, from: entry.key, in: decoder, at: BrokerNameKey("key"))
            let place = BrokerNameKey("\(entry.key)")
            dictionary[key] = try BrokerValueDecoding.decode(Value.self, from: entry.value, in: decoder, at: place)
        }
        return dictionary
    }
}

/// `Optional`, recognised in a stored property without knowing its wrapped type.
protocol BrokerOptionalProperty {
    var isNil: Bool { get }
    /// The type it wraps.
    static var brokerWrappedType: Any.Type { get }
}

extension Optional: BrokerOptionalProperty {
    var isNil: Bool { self == nil }
    static var brokerWrappedType: Any.Type { Wrapped.self }
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

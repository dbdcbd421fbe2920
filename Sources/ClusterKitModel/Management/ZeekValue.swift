/// A Zeek script value, typed as Zeek types it, so that it renders exactly as Zeek renders it.
///
/// Broker's data model loses what `to_json` and `fmt("%s")` need (record field names, `time` versus
/// `double`, patterns), so a node's ID registry holds these instead. ``toJSON()`` renders as Zeek's
/// `to_json()` BIF; ``formatted`` as `fmt("%s", value)`.
public enum ZeekValue: Sendable, Hashable {
    /// `bool`.
    case bool(Bool)
    /// `int`.
    case int(Int64)
    /// `count`.
    case count(UInt64)
    /// `double`.
    case double(Double)
    /// `time`.
    case time(Broker.Timestamp)
    /// `interval`.
    case interval(Broker.Timespan)
    /// `string`.
    case string(String)
    /// `pattern`, by its text (without slashes).
    case pattern(String)
    /// `port`.
    case port(Broker.Port)
    /// `addr`.
    case addr(Broker.Address)
    /// `subnet`.
    case subnet(Broker.Subnet)
    /// An enum value by its fully qualified name (`Cluster::WORKER`).
    case enumValue(String)
    /// A `set`; elements of a multi-index set are ``list(_:)`` values.
    case set([ZeekValue])
    /// A `table`.
    case table([TableEntry])
    /// A `vector`; `nil` elements are holes.
    case vector([ZeekValue?])
    /// A `record`.
    case record(Record)
    /// A composite index (`[a, b]` of a multi-index set or table).
    case list([ZeekValue])
    /// A function, by name.
    case function(String)
    /// A value supplied as JSON by a caller (such as `zeekctl dispatch --set`): rendered as given.
    case json(JSONValue)

    /// One entry of a table.
    public struct TableEntry: Sendable, Hashable {
        /// The index; a ``ZeekValue/list(_:)`` for a multi-index table.
        public var key: ZeekValue
        /// The value.
        public var value: ZeekValue

        /// Creates an entry.
        ///
        /// - Parameters:
        ///   - key: The index.
        ///   - value: The value.
        public init(_ key: ZeekValue, _ value: ZeekValue) {
            self.key = key
            self.value = value
        }
    }

    /// A record value: its type name and its fields in declaration order, `nil` for unset optional fields.
    public struct Record: Sendable, Hashable {
        /// One field.
        public struct Field: Sendable, Hashable {
            /// The field name.
            public var name: String
            /// The value, or `nil` when unset.
            public var value: ZeekValue?

            /// Creates a field.
            ///
            /// - Parameters:
            ///   - name: The name.
            ///   - value: The value, or `nil` when unset.
            public init(_ name: String, _ value: ZeekValue?) {
                self.name = name
                self.value = value
            }
        }

        /// The Zeek type name, such as `Cluster::Node`; `""` for an anonymous record.
        public var typeName: String
        /// The fields in declaration order.
        public var fields: [Field]

        /// Creates a record.
        ///
        /// - Parameters:
        ///   - typeName: The Zeek type name.
        ///   - fields: The fields in order.
        public init(_ typeName: String, _ fields: [Field]) {
            self.typeName = typeName
            self.fields = fields
        }

        /// The value of a field, or `nil` when unset or absent.
        ///
        /// - Parameter name: The field name.
        public subscript(name: String) -> ZeekValue? {
            fields.first { $0.name == name }?.value
        }
    }
}

extension ZeekValue {
    /// Reads a caller-supplied JSON value as Zeek would most naturally type it: booleans as `bool`,
    /// non-negative integers as `count`, negative ones as `int`, other numbers as `double`, strings as
    /// `string`, arrays as `vector`, objects as anonymous records; `null` has no value.
    ///
    /// - Parameter json: The JSON value.
    /// - Returns: The value, or `nil` for `null`.
    public static func from(json: JSONValue) -> ZeekValue? {
        switch json {
        case .null: nil
        case .bool(let flag): .bool(flag)
        case .integer(let number): number >= 0 ? .count(UInt64(number)) : .int(number)
        case .unsignedInteger(let number): .count(number)
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .array(let elements): .vector(elements.map { from(json: $0) })
        case .object(let members): .record(Record("", members.map { Record.Field($0.key, from(json: $0.value)) }))
        }
    }

    /// Reads a Broker value as the Zeek value it carries (records become vectors, as on the wire).
    ///
    /// - Parameter broker: The Broker value.
    /// - Returns: The value, or `nil` for `none`.
    public static func from(broker: Broker.Value) -> ZeekValue? {
        switch broker {
        case .none: nil
        case .boolean(let flag): .bool(flag)
        case .count(let number): .count(number)
        case .integer(let number): .int(number)
        case .real(let number): .double(number)
        case .string(let text): .string(text)
        case .enumValue(let name): .enumValue(name)
        case .address(let address): .addr(address)
        case .subnet(let subnet): .subnet(subnet)
        case .port(let port): .port(port)
        case .timestamp(let timestamp): .time(timestamp)
        case .timespan(let timespan): .interval(timespan)
        case .vector(let elements): .vector(elements.map { from(broker: $0) })
        case .set(let set): .set(set.elements.compactMap { from(broker: $0) })
        case .table(let table):
            .table(
                table.entries.compactMap { entry in
                    guard let key = from(broker: entry.key), let value = from(broker: entry.value) else { return nil }
                    return TableEntry(key, value)
                }
            )
        }
    }

    /// Builds a record value from a typed record's field names and values.
    ///
    /// Nested records come out as vectors (their Broker form); types with nested records build their own
    /// ``ZeekValue`` instead.
    ///
    /// - Parameter record: The typed record.
    /// - Returns: The record value.
    public static func record(_ record: some BrokerRecord) -> ZeekValue {
        let names = type(of: record).fieldNames
        let values = record.fieldValues
        let fields = names.indices.map { position in
            Record.Field(names[position], position < values.count ? from(broker: values[position]) : nil)
        }
        return .record(Record(type(of: record).zeekTypeName, fields))
    }
}

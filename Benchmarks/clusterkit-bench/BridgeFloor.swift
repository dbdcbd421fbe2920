import ClusterKit

/// The least any `Encoder`/`Decoder` can cost for a record.
///
/// A coder that only appends each field's value in order (encoding) or takes the next one (decoding), with no key
/// checks, no nested values and no errors beyond a type mismatch. `clusterkit-bench bridge` measures it beside the
/// bridge, so that the cost of Codable's own dispatch (a container box, and a box call, a witness call and a key copy
/// per field) is told apart from the bridge's.
///
/// It handles only what the benchmark's record holds (the standard scalars, `[String]` and three Broker scalars, the
/// latter by type identity).
enum BridgeFloor {
    final class Encoder: Swift.Encoder {
        @exclusivity(unchecked) var values: [Broker.Value] = []
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        init() { values.reserveCapacity(10) }

        /// The record's value.
        func encoding(_ value: some Encodable) throws -> Broker.Value {
            try value.encode(to: self)
            return .vector(values)
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Keyed<Key>(encoder: self))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer { Unkeyed() }
        func singleValueContainer() -> any SingleValueEncodingContainer { Unkeyed() }

        struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
            let encoder: Encoder
            var codingPath: [any CodingKey] { [] }

            mutating func encodeNil(forKey key: Key) { encoder.values.append(.none) }
            mutating func encode(_ value: String, forKey key: Key) { encoder.values.append(.string(value)) }
            mutating func encode(_ value: Int, forKey key: Key) { encoder.values.append(.integer(Int64(value))) }
            mutating func encode(_ value: UInt64, forKey key: Key) { encoder.values.append(.count(value)) }
            mutating func encode(_ value: Double, forKey key: Key) { encoder.values.append(.real(value)) }
            mutating func encode(_ value: Bool, forKey key: Key) { encoder.values.append(.boolean(value)) }
            mutating func encodeIfPresent(_ value: String?, forKey key: Key) {
                encoder.values.append(value.map { .string($0) } ?? .none)
            }
            mutating func encode<T: Encodable>(_ value: T, forKey key: Key) {
                encoder.values.append(BridgeFloor.brokerValue(value))
            }
            mutating func nestedContainer<NestedKey: CodingKey>(
                keyedBy keyType: NestedKey.Type,
                forKey key: Key
            ) -> KeyedEncodingContainer<NestedKey> {
                Encoder().container(keyedBy: keyType)
            }
            mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { Unkeyed() }
            mutating func superEncoder() -> any Swift.Encoder { Encoder() }
            mutating func superEncoder(forKey key: Key) -> any Swift.Encoder { Encoder() }
        }

        /// Nothing the record needs.
        struct Unkeyed: UnkeyedEncodingContainer, SingleValueEncodingContainer {
            var codingPath: [any CodingKey] { [] }
            var count: Int { 0 }
            mutating func encodeNil() {}
            mutating func encode<T: Encodable>(_ value: T) {}
            mutating func nestedContainer<NestedKey: CodingKey>(
                keyedBy keyType: NestedKey.Type
            ) -> KeyedEncodingContainer<NestedKey> {
                Encoder().container(keyedBy: keyType)
            }
            mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { self }
            mutating func superEncoder() -> any Swift.Encoder { Encoder() }
        }
    }

    final class Decoder: Swift.Decoder {
        let fields: [Broker.Value]
        @exclusivity(unchecked) var next = 0
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        init(_ value: Broker.Value) {
            guard case .vector(let fields) = value else {
                self.fields = []
                return
            }
            self.fields = fields
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Keyed<Key>(decoder: self))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw BridgeFloorError() }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { throw BridgeFloorError() }

        /// The record.
        func decoding<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }

        func take() -> Broker.Value {
            defer { next += 1 }
            return next < fields.count ? fields[next] : .none
        }

        struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
            let decoder: Decoder
            var codingPath: [any CodingKey] { [] }
            var allKeys: [Key] { [] }

            func contains(_ key: Key) -> Bool { true }
            func decodeNil(forKey key: Key) -> Bool { decoder.take().isNone }
            func decode(_ type: String.Type, forKey key: Key) throws -> String {
                try String(brokerValue: decoder.take())
            }
            func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Int(brokerValue: decoder.take()) }
            func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
                try UInt64(brokerValue: decoder.take())
            }
            func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
                try Double(brokerValue: decoder.take())
            }
            func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Bool(brokerValue: decoder.take()) }
            func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
                let value = decoder.take()
                return value.isNone ? nil : try String(brokerValue: value)
            }
            func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
                try BridgeFloor.value(type, from: decoder.take())
            }
            func nestedContainer<NestedKey: CodingKey>(
                keyedBy type: NestedKey.Type,
                forKey key: Key
            ) throws -> KeyedDecodingContainer<NestedKey> {
                throw BridgeFloorError()
            }
            func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
                throw BridgeFloorError()
            }
            func superDecoder() throws -> any Swift.Decoder { throw BridgeFloorError() }
            func superDecoder(forKey key: Key) throws -> any Swift.Decoder { throw BridgeFloorError() }
        }
    }

    struct BridgeFloorError: Error {}

    /// The record's other field types, by type identity.
    static func brokerValue<T>(_ value: T) -> Broker.Value {
        if T.self == [String].self { return .vector(unsafeBitCast(value, to: [String].self).map { .string($0) }) }
        if T.self == Broker.Address.self { return .address(unsafeBitCast(value, to: Broker.Address.self)) }
        if T.self == Broker.Port.self { return .port(unsafeBitCast(value, to: Broker.Port.self)) }
        if T.self == Broker.Timespan.self { return .timespan(unsafeBitCast(value, to: Broker.Timespan.self)) }
        return .none
    }

    static func value<T>(_ type: T.Type, from value: Broker.Value) throws -> T {
        if T.self == [String].self { return unsafeBitCast(try [String](brokerValue: value), to: T.self) }
        if T.self == Broker.Address.self { return unsafeBitCast(try Broker.Address(brokerValue: value), to: T.self) }
        if T.self == Broker.Port.self { return unsafeBitCast(try Broker.Port(brokerValue: value), to: T.self) }
        if T.self == Broker.Timespan.self { return unsafeBitCast(try Broker.Timespan(brokerValue: value), to: T.self) }
        throw BridgeFloorError()
    }
}

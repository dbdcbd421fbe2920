import Foundation

extension BrokerConvertible {
    /// Encodes the value in its Broker form: through ``Broker/ValueEncoder``, its ``brokerValue``; through any
    /// other encoder (`JSONEncoder`, say), its Broker JSON text as one string.
    ///
    /// The Broker scalars and records use it for their `Encodable` conformance, so that they can be properties
    /// of a user's `Codable` type.
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encodeBrokerForm(to encoder: any Encoder) throws {
        if let broker = encoder as? BrokerEncoder {
            broker.store(brokerValue)
            return
        }
        var container = encoder.singleValueContainer()
        try container.encode(Broker.JSON.encode(brokerValue))
    }

    /// Decodes the value from its Broker form, as ``encodeBrokerForm(to:)`` wrote it.
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: ``Broker/ConversionError`` when the value does not fit; the decoder's error otherwise.
    public init(decodingBrokerForm decoder: any Decoder) throws {
        if let broker = decoder as? BrokerDecoder {
            try self.init(brokerValue: broker.value)
            return
        }
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(brokerValue: Broker.JSON.decode(utf8: Array(text.utf8)))
    }
}

/// A type that is `Codable` in its Broker form: through ``Broker/ValueEncoder``, its ``BrokerConvertible/brokerValue``;
/// through any other coder, its Broker JSON text (``BrokerConvertible/encodeBrokerForm(to:)``).
///
/// The Broker scalars, `Broker.Value` and every ``BrokerRecord`` are, so that they can be properties of a user's
/// `Codable` type.
public protocol BrokerFormCodable: BrokerConvertible, Codable {}

extension BrokerFormCodable {
    /// Encodes the value in its Broker form (``BrokerConvertible/encodeBrokerForm(to:)``).
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws {
        try encodeBrokerForm(to: encoder)
    }

    /// Decodes the value from its Broker form (``BrokerConvertible/init(decodingBrokerForm:)``).
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: ``Broker/ConversionError`` when the value does not fit; the decoder's error otherwise.
    public init(from decoder: any Decoder) throws {
        try self.init(decodingBrokerForm: decoder)
    }
}

extension Broker.Value: BrokerFormCodable {}
extension Broker.Address: BrokerFormCodable {}
extension Broker.Subnet: BrokerFormCodable {}
extension Broker.Port: BrokerFormCodable {}
extension Broker.Timestamp: BrokerFormCodable {}
extension Broker.Timespan: BrokerFormCodable {}

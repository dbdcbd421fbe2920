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
            broker.storage = .single(brokerValue)
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

extension BrokerRecord {
    /// Encodes the record in its Broker form (``BrokerConvertible/encodeBrokerForm(to:)``).
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws {
        try encodeBrokerForm(to: encoder)
    }

    /// Decodes the record from its Broker form (``BrokerConvertible/init(decodingBrokerForm:)``).
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: ``Broker/ConversionError`` when the value does not fit; the decoder's error otherwise.
    public init(from decoder: any Decoder) throws {
        try self.init(decodingBrokerForm: decoder)
    }
}

extension Broker.Value: Codable {
    /// Encodes the value as itself (``BrokerConvertible/encodeBrokerForm(to:)``).
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws { try encodeBrokerForm(to: encoder) }

    /// Decodes a value (``BrokerConvertible/init(decodingBrokerForm:)``).
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: The decoder's error.
    public init(from decoder: any Decoder) throws { try self.init(decodingBrokerForm: decoder) }
}

extension Broker.Address: Codable {
    /// Encodes it in its Broker form (``BrokerConvertible/encodeBrokerForm(to:)``).
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws { try encodeBrokerForm(to: encoder) }

    /// Decodes it from its Broker form (``BrokerConvertible/init(decodingBrokerForm:)``).
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: ``Broker/ConversionError`` when the value does not fit; the decoder's error otherwise.
    public init(from decoder: any Decoder) throws { try self.init(decodingBrokerForm: decoder) }
}

extension Broker.Subnet: Codable {
    /// Encodes it in its Broker form (``BrokerConvertible/encodeBrokerForm(to:)``).
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws { try encodeBrokerForm(to: encoder) }

    /// Decodes it from its Broker form (``BrokerConvertible/init(decodingBrokerForm:)``).
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: ``Broker/ConversionError`` when the value does not fit; the decoder's error otherwise.
    public init(from decoder: any Decoder) throws { try self.init(decodingBrokerForm: decoder) }
}

extension Broker.Port: Codable {
    /// Encodes it in its Broker form (``BrokerConvertible/encodeBrokerForm(to:)``).
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws { try encodeBrokerForm(to: encoder) }

    /// Decodes it from its Broker form (``BrokerConvertible/init(decodingBrokerForm:)``).
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: ``Broker/ConversionError`` when the value does not fit; the decoder's error otherwise.
    public init(from decoder: any Decoder) throws { try self.init(decodingBrokerForm: decoder) }
}

extension Broker.Timestamp: Codable {
    /// Encodes it in its Broker form (``BrokerConvertible/encodeBrokerForm(to:)``).
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws { try encodeBrokerForm(to: encoder) }

    /// Decodes it from its Broker form (``BrokerConvertible/init(decodingBrokerForm:)``).
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: ``Broker/ConversionError`` when the value does not fit; the decoder's error otherwise.
    public init(from decoder: any Decoder) throws { try self.init(decodingBrokerForm: decoder) }
}

extension Broker.Timespan: Codable {
    /// Encodes it in its Broker form (``BrokerConvertible/encodeBrokerForm(to:)``).
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws { try encodeBrokerForm(to: encoder) }

    /// Decodes it from its Broker form (``BrokerConvertible/init(decodingBrokerForm:)``).
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: ``Broker/ConversionError`` when the value does not fit; the decoder's error otherwise.
    public init(from decoder: any Decoder) throws { try self.init(decodingBrokerForm: decoder) }
}

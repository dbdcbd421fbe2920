/// An error thrown while reading JSON text, Broker JSON v1 included.
///
/// The error names what was wrong and the byte offset, counted from 0 in the UTF-8 input, at which the
/// problem starts.
public struct JSONError: Error, Sendable, Hashable {
    /// The broad kind of problem, for programs to branch on.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The text is not well-formed JSON.
        case invalidJSON
        /// The input is larger than the configured limit.
        case inputTooLarge
        /// Arrays and objects are nested deeper than the configured limit.
        case nestingTooDeep
        /// A Broker value object names a `@data-type` that Broker does not have.
        case unknownDataType
        /// A Broker value object lacks `@data-type` or `data`, or an envelope lacks a required key.
        case missingKey
        /// An object repeats a key.
        case duplicateKey
        /// An object has a key that does not belong there.
        case unexpectedKey
        /// A payload has the wrong JSON type for its `@data-type` (for example a string for a `count`).
        case wrongPayloadType
        /// A number is out of range, negative where it must not be, or fractional where it must be whole.
        case invalidNumber
        /// An address is not IPv4 or IPv6 text.
        case invalidAddress
        /// A subnet is not `address/length` with a valid length.
        case invalidSubnet
        /// A port is not `number/protocol` with a number from 0 to 65535.
        case invalidPort
        /// A timestamp is not in Broker's ISO 8601 form.
        case invalidTimestamp
        /// A timespan is not an integer followed by `ns`, `us`, `ms`, `s`, `min` or `h`.
        case invalidTimespan
        /// A value is well-formed Broker data but not the expected event or message shape.
        case invalidMessage
    }

    /// The broad kind of problem.
    public var code: Code
    /// A short text for people, naming the offending value.
    public var message: String
    /// The 0-based byte offset in the UTF-8 input where the problem starts.
    public var offset: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: A short text for people.
    ///   - offset: The 0-based byte offset of the problem.
    public init(_ code: Code, _ message: String, at offset: Int) {
        self.code = code
        self.message = message
        self.offset = offset
    }
}

extension JSONError: CustomStringConvertible {
    /// The offset followed by the message, as in `byte 17: unknown @data-type 'cnt'`.
    public var description: String { "byte \(offset): \(message)" }
}

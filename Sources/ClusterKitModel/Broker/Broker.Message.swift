extension Broker {
    /// One frame of Zeek's WebSocket API after the handshake.
    public enum Message: Sendable, Hashable {
        /// A value published on a topic, both ways.
        case data(DataMessage)
        /// The server's answer to the subscription frame.
        case ack(Ack)
        /// An error the server reports; the connection usually stays open.
        case error(ErrorMessage)
    }

    /// A data message: a topic and a Broker value (usually an event).
    public struct DataMessage: Sendable, Hashable {
        /// The topic it is published on.
        public var topic: String
        /// The payload.
        public var value: Value

        /// Creates a data message.
        ///
        /// - Parameters:
        ///   - topic: The topic.
        ///   - value: The payload.
        public init(topic: String, value: Value) {
            self.topic = topic
            self.value = value
        }

        /// Creates a data message carrying an event.
        ///
        /// - Parameters:
        ///   - topic: The topic.
        ///   - event: The event.
        public init(topic: String, event: Event) {
            self.init(topic: topic, value: event.value)
        }

        /// The payload read as an event.
        ///
        /// - Returns: The event.
        /// - Throws: ``Broker/ConversionError`` when the payload is not an event.
        public func event() throws -> Event { try Event(value) }
    }

    /// The handshake acknowledgement: `{"type":"ack","endpoint":…,"version":…}`.
    public struct Ack: Sendable, Hashable {
        /// The server's endpoint id for this connection.
        public var endpoint: String
        /// The server's version (Zeek's or Broker's).
        public var version: String

        /// Creates an ack.
        ///
        /// - Parameters:
        ///   - endpoint: The endpoint id.
        ///   - version: The version text.
        public init(endpoint: String, version: String) {
            self.endpoint = endpoint
            self.version = version
        }
    }

    /// An error frame: `{"type":"error","code":…,"context":…}`.
    public struct ErrorMessage: Sendable, Hashable {
        /// The error code, such as `deserialization_failed` or `invalid_uri`.
        public var code: String
        /// The context text, such as `failed to decode JSON object`.
        public var context: String

        /// Creates an error frame.
        ///
        /// - Parameters:
        ///   - code: The error code.
        ///   - context: The context text.
        public init(code: String, context: String) {
            self.code = code
            self.context = context
        }
    }
}

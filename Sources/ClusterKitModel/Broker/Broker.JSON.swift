extension Broker {
    /// Broker's JSON v1 encoding, as Zeek's WebSocket API speaks it.
    ///
    /// Every value is `{"@data-type": <type>, "data": <payload>}`. Writing follows Broker exactly (compact,
    /// `@data-type` first) with the rules of PROTOCOL.md §2.2: reals always carry a decimal point (`1.0`,
    /// `1.5`, `1.0e-07`), timespans use the largest lossless unit (`1500ms`), timestamps are UTC to the
    /// millisecond without a zone, sets and tables are sorted, `none` is `{}`. Reading accepts any key order
    /// and whitespace, timespans in `min` and `h`, timestamps with fractions and zones, and Broker's own
    /// non-JSON quirks (`\v` escapes, raw control bytes in strings, `nan`/`inf` reals).
    ///
    /// Decoding is linear in the input whatever the key order: a `data` member before its `@data-type` is
    /// skipped once and decoded once, at any depth.
    ///
    /// Limits: by default an input may be at most 64 MiB and nest 128 levels deep (``JSONValue/Limits``);
    /// beyond either the decoder throws instead of growing memory or the stack.
    public enum JSON: Sendable {
        /// Size and nesting limits for decoding.
        public typealias Limits = JSONValue.Limits

        /// Decodes one Broker value from JSON text.
        ///
        /// - Parameter text: The JSON text of one value object.
        /// - Returns: The value.
        /// - Throws: ``JSONError`` naming what is wrong and at which byte.
        public static func decode(_ text: String) throws -> Value {
            try decode(text, limits: .standard)
        }

        /// Decodes one Broker value from JSON text with explicit limits.
        ///
        /// - Parameters:
        ///   - text: The JSON text of one value object.
        ///   - limits: Size and depth limits.
        /// - Returns: The value.
        /// - Throws: ``JSONError`` naming what is wrong and at which byte.
        public static func decode(_ text: String, limits: Limits) throws -> Value {
            var text = text
            return try text.withUTF8 { bytes in try decodeValue(bytes, validatesUTF8: false, limits: limits) }
        }

        /// Decodes one Broker value from UTF-8 bytes (invalid UTF-8 inside strings is an error).
        ///
        /// - Parameters:
        ///   - bytes: The UTF-8 JSON text.
        ///   - limits: Size and depth limits.
        /// - Returns: The value.
        /// - Throws: ``JSONError`` naming what is wrong and at which byte.
        public static func decode(utf8 bytes: [UInt8], limits: Limits = .standard) throws -> Value {
            try bytes.withUnsafeBufferPointer { buffer in try decodeValue(buffer, validatesUTF8: true, limits: limits) }
        }

        private static func decodeValue(
            _ bytes: UnsafeBufferPointer<UInt8>,
            validatesUTF8: Bool,
            limits: Limits
        ) throws(JSONError) -> Value {
            var decoder = try BrokerJSONDecoder(bytes: bytes, validatesUTF8: validatesUTF8, limits: limits)
            let value = try decoder.decodeValue(depth: 0)
            try decoder.scanner.expectEnd()
            return value
        }

        /// Encodes a value as compact JSON text.
        ///
        /// - Parameter value: The value.
        /// - Returns: The JSON text.
        public static func encode(_ value: Value) -> String {
            String(decoding: encodeUTF8(value), as: UTF8.self)
        }

        /// Encodes a value as compact JSON text in UTF-8 bytes.
        ///
        /// - Parameter value: The value.
        /// - Returns: The UTF-8 bytes.
        public static func encodeUTF8(_ value: Value) -> [UInt8] {
            var encoder = BrokerJSONEncoder()
            encoder.encode(value)
            return encoder.output
        }

        // MARK: Messages

        /// Decodes one WebSocket frame: a data message, an ack or an error.
        ///
        /// A frame with a topic and a value but no `type` is read as a data message, as Zeek's server does.
        ///
        /// - Parameters:
        ///   - text: The frame text.
        ///   - limits: Size and depth limits.
        /// - Returns: The message.
        /// - Throws: ``JSONError`` naming what is wrong and at which byte.
        public static func decodeMessage(_ text: String, limits: Limits = .standard) throws -> Message {
            var text = text
            return try text.withUTF8 { bytes in try decodeMessage(bytes, validatesUTF8: false, limits: limits) }
        }

        /// Decodes one WebSocket frame given as UTF-8 bytes.
        ///
        /// - Parameters:
        ///   - bytes: The frame payload.
        ///   - limits: Size and depth limits.
        /// - Returns: The message.
        /// - Throws: ``JSONError`` naming what is wrong and at which byte.
        public static func decodeMessage(utf8 bytes: [UInt8], limits: Limits = .standard) throws -> Message {
            try bytes.withUnsafeBufferPointer { buffer in
                try decodeMessage(buffer, validatesUTF8: true, limits: limits)
            }
        }

        private static func decodeMessage(
            _ bytes: UnsafeBufferPointer<UInt8>,
            validatesUTF8: Bool,
            limits: Limits
        ) throws(JSONError) -> Message {
            var decoder = try BrokerJSONDecoder(bytes: bytes, validatesUTF8: validatesUTF8, limits: limits)
            let message = try decoder.decodeMessage()
            try decoder.scanner.expectEnd()
            return message
        }

        /// Encodes a message as one compact JSON frame.
        ///
        /// - Parameter message: The message.
        /// - Returns: The frame text.
        public static func encode(_ message: Message) -> String {
            String(decoding: encodeUTF8(message), as: UTF8.self)
        }

        /// Encodes a message as one compact JSON frame in UTF-8 bytes.
        ///
        /// - Parameter message: The message.
        /// - Returns: The frame payload.
        public static func encodeUTF8(_ message: Message) -> [UInt8] {
            var encoder = BrokerJSONEncoder()
            encoder.encode(message)
            return encoder.output
        }

        /// Decodes the first frame a client sends Zeek's WebSocket API: an array of topic prefixes.
        ///
        /// - Parameters:
        ///   - text: The frame text.
        ///   - limits: Size and depth limits.
        /// - Returns: The topic prefixes, possibly none.
        /// - Throws: ``JSONError``; for a well-formed frame of the wrong shape its message is Zeek's own
        ///   error context, `subscriptions not an array` or `individual subscription not a string`.
        public static func decodeSubscriptions(_ text: String, limits: Limits = .standard) throws -> [String] {
            var text = text
            return try text.withUTF8 { bytes throws(JSONError) in
                var decoder = try BrokerJSONDecoder(bytes: bytes, validatesUTF8: false, limits: limits)
                return try decoder.decodeSubscriptions()
            }
        }

        /// Encodes a subscription frame: a JSON array of topic strings.
        ///
        /// - Parameter topics: The topic prefixes.
        /// - Returns: The frame text.
        public static func encodeSubscriptions(_ topics: [String]) -> String {
            var encoder = BrokerJSONEncoder()
            encoder.output.append(UInt8(ascii: "["))
            for (position, topic) in topics.enumerated() {
                if position > 0 { encoder.output.append(UInt8(ascii: ",")) }
                encoder.appendString(topic)
            }
            encoder.output.append(UInt8(ascii: "]"))
            return String(decoding: encoder.output, as: UTF8.self)
        }
    }
}

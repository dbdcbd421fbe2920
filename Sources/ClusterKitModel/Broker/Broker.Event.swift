extension Broker {
    /// A Zeek event as Broker carries it: `[1, 1, [name, args, metadata?]]`.
    ///
    /// The first `1` is the format version, the second the message type (event). `metadata` is `nil` when
    /// the inner vector has two elements, and a possibly empty list when it has three.
    public struct Event: Sendable, Hashable {
        /// One metadata entry: a numeric key and a value (key 1 is the network timestamp).
        public struct MetadataEntry: Sendable, Hashable {
            /// The key; 1–199 are reserved for Zeek.
            public var key: UInt64
            /// The value.
            public var value: Value

            /// Creates an entry.
            ///
            /// - Parameters:
            ///   - key: The key.
            ///   - value: The value.
            public init(key: UInt64, value: Value) {
                self.key = key
                self.value = value
            }

            /// The key of Zeek's network timestamp.
            public static let networkTimestampKey: UInt64 = 1
        }

        /// The fully qualified event name, such as `Management::Controller::API::get_nodes_request`.
        public var name: String
        /// The arguments, one per declared parameter.
        public var arguments: [Value]
        /// The metadata, or `nil` when the event carries none (two-element inner vector).
        public var metadata: [MetadataEntry]?

        /// Creates an event.
        ///
        /// - Parameters:
        ///   - name: The fully qualified name.
        ///   - arguments: The arguments.
        ///   - metadata: The metadata, or `nil` for none.
        public init(_ name: String, _ arguments: [Value], metadata: [MetadataEntry]? = nil) {
            self.name = name
            self.arguments = arguments
            self.metadata = metadata
        }

        /// Reads an event from its value form.
        ///
        /// Accepts the inner vector with two or three elements; extra trailing elements after the metadata
        /// are ignored, as Zeek does.
        ///
        /// - Parameter value: The value `[1, 1, [name, args, metadata?]]`.
        /// - Throws: ``Broker/ConversionError`` naming what does not fit.
        public init(_ value: Value) throws {
            guard case .vector(let outer) = value else {
                throw ConversionError(.typeMismatch, "event must be a vector, got \(value.dataType.rawValue)")
            }
            guard outer.count >= 3 else {
                throw ConversionError(.tooFewFields, "event vector has \(outer.count) elements, expected 3")
            }
            guard case .count(1) = outer[0] else {
                throw ConversionError(
                    .invalidValue,
                    "event format version must be count 1, got \(Self.describe(outer[0]))"
                )
            }
            guard case .count(1) = outer[1] else {
                throw ConversionError(
                    .invalidValue,
                    "message type must be count 1 (event), got \(Self.describe(outer[1]))"
                )
            }
            guard case .vector(let inner) = outer[2] else {
                throw ConversionError(
                    .typeMismatch,
                    "event content must be a vector, got \(outer[2].dataType.rawValue)"
                )
            }
            guard inner.count >= 2 else {
                throw ConversionError(.tooFewFields, "event content has \(inner.count) elements, expected 2 or 3")
            }
            guard case .string(let name) = inner[0] else {
                throw ConversionError(.typeMismatch, "event name must be a string, got \(inner[0].dataType.rawValue)")
            }
            guard case .vector(let arguments) = inner[1] else {
                throw ConversionError(
                    .typeMismatch,
                    "arguments of '\(name)' must be a vector, got \(inner[1].dataType.rawValue)"
                )
            }
            var metadata: [MetadataEntry]?
            if inner.count >= 3 {
                guard case .vector(let entries) = inner[2] else {
                    throw ConversionError(
                        .typeMismatch,
                        "metadata of '\(name)' must be a vector, got \(inner[2].dataType.rawValue)"
                    )
                }
                metadata = try entries.map { entry in
                    guard case .vector(let pair) = entry, pair.count >= 2, case .count(let key) = pair[0] else {
                        throw ConversionError(
                            .invalidValue,
                            "metadata entries of '\(name)' must be [count, value] pairs"
                        )
                    }
                    return MetadataEntry(key: key, value: pair[1])
                }
            }
            self.init(name, arguments, metadata: metadata)
        }

        private static func describe(_ value: Value) -> String {
            if case .count(let number) = value { return "count \(number)" }
            return value.dataType.rawValue
        }

        /// The value form `[1, 1, [name, args, metadata?]]`.
        public var value: Value {
            var inner: [Value] = [.string(name), .vector(arguments)]
            if let metadata {
                inner.append(.vector(metadata.map { .vector([.count($0.key), $0.value]) }))
            }
            return .vector([.count(1), .count(1), .vector(inner)])
        }

        /// The network timestamp from the metadata, when present.
        public var networkTimestamp: Timestamp? {
            for entry in metadata ?? [] where entry.key == MetadataEntry.networkTimestampKey {
                if case .timestamp(let timestamp) = entry.value { return timestamp }
            }
            return nil
        }
    }
}

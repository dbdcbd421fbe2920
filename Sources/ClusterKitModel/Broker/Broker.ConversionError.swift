extension Broker {
    /// An error thrown when a Broker value does not have the shape a typed record or event expects.
    public struct ConversionError: Error, Sendable, Hashable {
        /// The broad kind of problem.
        public enum Code: String, Sendable, Hashable, CaseIterable {
            /// The value has another Broker type than expected.
            case typeMismatch
            /// A record vector has fewer elements than the record has fields.
            case tooFewFields
            /// A field without a default is `none`.
            case missingField
            /// The value has the right type but an invalid content (unknown enum name, out-of-range number).
            case invalidValue
        }

        /// The broad kind of problem.
        public var code: Code
        /// A short text for people.
        public var message: String
        /// Where the problem is, outermost first: record fields as `Type.field`, elements as `[index]`.
        public var path: [String]

        /// Creates an error.
        ///
        /// - Parameters:
        ///   - code: The kind of problem.
        ///   - message: A short text for people.
        ///   - path: Where the problem is, outermost first.
        public init(_ code: Code, _ message: String, path: [String] = []) {
            self.code = code
            self.message = message
            self.path = path
        }

        /// A copy with `component` added in front of the path.
        @usableFromInline
        package func within(_ component: String) -> ConversionError {
            var copy = self
            copy.path.insert(component, at: 0)
            return copy
        }
    }
}

extension Broker.ConversionError: CustomStringConvertible {
    /// The path and the message, as in `Management::Node.role: unknown Supervisor::ClusterRole value 'X'`.
    public var description: String {
        var location = ""
        for component in path {
            if component.hasPrefix("[") || location.isEmpty {
                location += component
            } else {
                location += ": " + component
            }
        }
        return location.isEmpty ? message : "\(location): \(message)"
    }
}

extension Cluster {
    /// An error thrown when cluster options or records break one of Zeek's rules.
    public struct ConfigurationError: Error, Sendable, Hashable {
        /// The broad kind of problem.
        public enum Code: String, Sendable, Hashable, CaseIterable {
            /// `WebSocketTLSOptions` has only one of `cert_file` and `key_file`.
            case invalidTLSOptions
            /// `WebSocketServerOptions` has both or neither of `listen_addr` and `listen_host`.
            case invalidListenAddress
            /// A value is outside its valid range.
            case invalidValue
        }

        /// The broad kind of problem.
        public var code: Code
        /// A short text for people.
        public var message: String

        /// Creates an error.
        ///
        /// - Parameters:
        ///   - code: The kind of problem.
        ///   - message: A short text for people.
        public init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }
    }
}

extension Cluster.ConfigurationError: CustomStringConvertible {
    /// The message.
    public var description: String { message }
}

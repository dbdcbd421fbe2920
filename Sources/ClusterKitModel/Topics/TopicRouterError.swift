/// An error thrown when a ``TopicRouter`` cannot take a subscription.
public struct TopicRouterError: Error, Sendable, Hashable {
    /// The kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// The router holds as many prefixes, tree nodes or subscribers as it can.
        case full
    }

    /// The kind of problem, for programs to branch on.
    public var code: Code
    /// A one-line text for people.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: The text.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension TopicRouterError: CustomStringConvertible {
    /// The message.
    public var description: String { message }
}

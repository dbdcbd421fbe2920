/// An error from the process supervisor or from reading a supervised node's configuration.
///
/// A node that fails to start is not an error thrown to the caller: it is reported as a
/// ``ProcessSupervisor/Event/spawnFailed(node:error:)`` event carrying this type. Thrown errors mean the whole
/// operation could not run, such as ``ProcessSupervisor/shutdown(timeout:)`` running out of time.
public struct SupervisorError: Error, Sendable, Hashable {
    /// The broad kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// A node process could not be started (pipe, fork, or writing its configuration file failed).
        case spawnFailed
        /// A wait reached its limit; the message names what was awaited and the limit.
        case timedOut
        /// A supervised node's configuration could not be found or decoded.
        case invalidNodeConfiguration
    }

    /// The broad kind of problem, for programs to branch on.
    public var code: Code
    /// A short text for people, naming the offending value.
    public var message: String
    /// The node concerned, when there is one.
    public var node: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: The text for people.
    ///   - node: The node concerned.
    public init(_ code: Code, _ message: String, node: String? = nil) {
        self.code = code
        self.message = message
        self.node = node
    }
}

extension SupervisorError: CustomStringConvertible {
    /// The node (when there is one) followed by the message, as in `node 'worker-1': fork failed: ...`.
    public var description: String {
        guard let node else { return message }
        return "node '\(node)': \(message)"
    }
}

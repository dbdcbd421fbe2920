import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// An error that keeps a ``ControllerService`` from being created.
public struct ControllerServiceError: Error, Sendable, Hashable {
    /// The broad kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// The listening address is not a loopback address and remote clients are not allowed
        /// (``ControllerService/Options/allowsRemoteClients``).
        case remoteClientsNotAllowed
        /// The file of the deployed configuration (``ControllerService/Options/deployedConfigurationFile``) cannot
        /// be read or written.
        case unreadablePersistedConfiguration
    }

    /// The broad kind of problem, for programs to branch on.
    public var code: Code
    /// A short text for people, naming the offending value.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: The text for people.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension ControllerServiceError: CustomStringConvertible {
    /// The message, as in `refusing to listen on '0.0.0.0': not a loopback address, ...`.
    public var description: String { message }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// An error of a ``ClusterBackend``: what happened, and where.
public struct BackendError: Error, Sendable, Hashable {
    /// The broad kind of problem.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The endpoint is not connected yet.
        case notConnected
        /// The endpoint was closed.
        case closed
        /// Nothing accepted the connection.
        case connectionRefused
        /// The server refused the handshake (with the server's error text).
        case handshakeRejected
        /// The connection was closed by the other side (with its code and reason).
        case connectionClosed
        /// A wait ran out.
        case timedOut
        /// The peer sent something that breaks the protocol.
        case protocolViolation
        /// A bounded queue was full.
        case queueFull
        /// The operation is not possible in the current state.
        case invalidState
        /// TLS could not be set up (OpenSSL missing, a certificate or key that cannot be used) or failed (a
        /// certificate refused, a broken TLS handshake).
        case tlsFailed
    }

    /// The broad kind of problem.
    public var code: Code
    /// A short text for people.
    public var message: String
    /// Where: an endpoint, a URL or a node name.
    public var endpoint: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: A short text for people.
    ///   - endpoint: Where it happened.
    public init(_ code: Code, _ message: String, endpoint: String) {
        self.code = code
        self.message = message
        self.endpoint = endpoint
    }
}

extension BackendError: CustomStringConvertible {
    /// `endpoint: message`, as in `ws://127.0.0.1:2149/v1/messages/json: connection refused`.
    public var description: String { endpoint.isEmpty ? message : "\(endpoint): \(message)" }
}

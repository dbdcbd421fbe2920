import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// An error thrown when a request cannot be started.
public struct RequestError: Error, Sendable, Hashable {
    /// The broad kind of problem.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// A request with the same id is pending.
        case duplicateID
        /// The parent id names no pending request.
        case unknownParent
        /// The tracker holds its maximum number of pending requests.
        case tooManyPendingRequests
        /// The timeout is negative.
        case invalidTimeout
    }

    /// The broad kind of problem, for programs to branch on.
    public var code: Code
    /// A short text for people.
    public var message: String
    /// The request that could not be started.
    public var requestID: RequestID

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: A short text for people.
    ///   - requestID: The request that could not be started.
    public init(_ code: Code, _ message: String, requestID: RequestID) {
        self.code = code
        self.message = message
        self.requestID = requestID
    }
}

extension RequestError: CustomStringConvertible {
    /// The request and the message, as in `request 'r-1': a request with this id is pending`.
    public var description: String { "request '\(requestID)': \(message)" }
}

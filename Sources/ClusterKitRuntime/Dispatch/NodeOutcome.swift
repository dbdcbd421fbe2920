import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// What one node did with a dispatched action.
public enum NodeOutcome: Sendable, Hashable {
    /// The node answered with a value: Zeek's `to_json` text (Management) or `fmt("%s")` text (Control).
    case replied(String)
    /// The node answered with an error, such as `unknown id`, or the node is not part of the cluster
    /// (`unknown cluster node`).
    case failed(String)
    /// The node did not answer before the request's deadline.
    case timedOut(after: Duration)
    /// The request could not reach the node; the text says why.
    case unreachable(String)

    /// A Boolean value indicating whether the node replied with a value.
    public var isReplied: Bool {
        if case .replied = self { return true }
        return false
    }

    /// The error text for a node that did not reply with a value, naming the node and, for a timeout,
    /// the limit: `request timed out after 2 s waiting for worker-2`.
    ///
    /// - Parameter node: The node's name.
    /// - Returns: The text, or `nil` for a reply.
    public func errorText(node: String) -> String? {
        switch self {
        case .replied: nil
        case .failed(let error): error
        case .timedOut(let limit):
            "\(RequestTimeout.zeekMessage) after \(limit.textForPeople) waiting for \(node)"
        case .unreachable(let reason): "unreachable: \(reason)"
        }
    }
}

/// The overall result of a dispatch, for choosing an exit status.
public enum DispatchSummary: Sendable, Hashable {
    /// Every node replied with a value and there was no request-level error.
    case allReplied
    /// Some nodes replied with a value, others did not (or there was a request-level error).
    case partial
    /// No node replied with a value.
    case noneReplied
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension RequestError {
    /// Throws what ``RequestTracker/start(_:parent:awaiting:timeout:finishesWhenAllAnswered:onFinish:)`` would
    /// throw for a request it cannot start: a negative timeout, or a full tracker.
    ///
    /// The controller's and the agents' state machines count the requests they hand their tracker and decide
    /// a refusal in the same step as the request, with the tracker's own error.
    ///
    /// - Parameters:
    ///   - id: The request's id.
    ///   - pending: The requests pending already.
    ///   - limit: The tracker's ``RequestTrackerOptions/maximumPendingRequests``.
    ///   - timeout: The request's timeout.
    /// - Throws: ``RequestError`` with code `invalidTimeout` or `tooManyPendingRequests`.
    static func checkStart(_ id: RequestID, pending: Int, limit: Int, timeout: Duration) throws(RequestError) {
        guard timeout >= .zero else {
            throw RequestError(.invalidTimeout, "timeout \(timeout.textForPeople) is negative", requestID: id)
        }
        guard pending < limit else {
            throw RequestError(
                .tooManyPendingRequests,
                "\(limit) requests are pending, the most this tracker allows",
                requestID: id
            )
        }
    }
}

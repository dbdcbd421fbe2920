import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// What a request that timed out was waiting for, and for how long.
///
/// Its ``description`` is one line for people, such as
/// `request 'r-42' timed out after 10 s waiting for worker-1, worker-2 (instance 'agent-1')`. Zeek's own
/// Management controller puts ``zeekMessage`` into the error of the `Result` it adds on a timeout.
public struct RequestTimeout: Sendable, Hashable {
    /// The request that timed out.
    public var requestID: RequestID
    /// How long it had waited: its own timeout when its deadline passed; the time since it started when its
    /// parent's deadline passed first (see ``parentID``).
    public var waited: Duration
    /// The targets that had not answered, in the order they were given.
    public var unanswered: [RequestTarget]
    /// The targets that had answered, in the order they answered.
    public var answered: [RequestTarget]
    /// The parent whose timeout ended this request, or `nil` when its own deadline passed.
    public var parentID: RequestID?

    /// Creates a timeout report.
    ///
    /// - Parameters:
    ///   - requestID: The request that timed out.
    ///   - waited: How long it had waited.
    ///   - unanswered: The targets that had not answered.
    ///   - answered: The targets that had answered.
    ///   - parentID: The parent whose timeout ended the request, if that is what happened.
    public init(
        requestID: RequestID,
        waited: Duration,
        unanswered: [RequestTarget] = [],
        answered: [RequestTarget] = [],
        parentID: RequestID? = nil
    ) {
        self.requestID = requestID
        self.waited = waited
        self.unanswered = unanswered
        self.answered = answered
        self.parentID = parentID
    }

    /// The error text of Zeek's Management framework for a timed-out request: `request timed out`.
    ///
    /// A controller's `request_expired` handler appends `Result(reqid, success=F, error="request timed out")`
    /// (no instance, no node) to the results it collected and sends the response.
    public static let zeekMessage = "request timed out"
}

extension RequestTimeout: CustomStringConvertible {
    /// One line naming the request, how long it waited and what did not answer.
    ///
    /// `request 'r-42' timed out after 10 s waiting for worker-1, worker-2 (instance 'agent-1')`; with a
    /// parent timeout, `...; parent 'r-1' timed out` follows.
    public var description: String {
        var text = "request '\(requestID)' timed out after \(waited.textForPeople)"
        if !unanswered.isEmpty { text += " waiting for " + unanswered.listedForPeople }
        if let parentID { text += "; parent '\(parentID)' timed out" }
        return text
    }
}

extension Duration {
    /// The duration in the largest unit that keeps it short: `10 s`, `1.5 s`, `250 ms`, `12 us`, `7 ns`.
    package var textForPeople: String {
        let (seconds, attoseconds) = components
        let nanoseconds = Int128(seconds) * 1_000_000_000 + Int128(attoseconds / 1_000_000_000)
        let magnitude = nanoseconds.magnitude
        let (unit, scale): (String, UInt128) =
            switch magnitude {
            case 1_000_000_000...: ("s", 1_000_000_000)
            case 1_000_000...: ("ms", 1_000_000)
            case 1000...: ("us", 1000)
            default: ("ns", 1)
            }
        var text = nanoseconds < 0 ? "-" : ""
        text += String(magnitude / scale)
        let fraction = magnitude % scale
        if fraction != 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: String(scale).count - 1 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + " " + unit
    }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Settings of a ``RequestTracker``.
///
/// Copy a preset and set what differs: `var options = RequestTrackerOptions.agent; options.maximumPendingRequests = 10_000`.
public struct RequestTrackerOptions: Sendable, Hashable {
    /// The timeout of a request started without its own: Zeek's `Management::Request::timeout_interval`.
    ///
    /// Zeek's default is 10 s; Management agents redefine it to 5 s so that they time out before their
    /// controller. Must not be negative.
    public var defaultTimeout: Duration
    /// The most requests pending at once; starting one more throws ``RequestError/Code/tooManyPendingRequests``.
    ///
    /// At least 1; default 1,000,000.
    public var maximumPendingRequests: Int

    /// Creates options.
    ///
    /// - Parameters:
    ///   - defaultTimeout: The timeout of requests started without their own; default 10 s.
    ///   - maximumPendingRequests: The most requests pending at once; default 1,000,000.
    public init(defaultTimeout: Duration = .seconds(10), maximumPendingRequests: Int = 1_000_000) {
        precondition(defaultTimeout >= .zero, "defaultTimeout must not be negative")
        precondition(maximumPendingRequests >= 1, "maximumPendingRequests must be at least 1")
        self.defaultTimeout = defaultTimeout
        self.maximumPendingRequests = maximumPendingRequests
    }

    /// A Management controller's settings: 10 s timeout.
    public static let controller = RequestTrackerOptions(defaultTimeout: .seconds(10))

    /// A Management agent's settings: 5 s timeout (`agent/main.zeek` redefines `timeout_interval`).
    public static let agent = RequestTrackerOptions(defaultTimeout: .seconds(5))

    /// The preset `zeekctl` uses: ``controller``.
    public static let standard = controller
}

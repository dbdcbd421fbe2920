import ClusterKitModel

extension WebSocketServer {
    /// A connection the server answered with an HTTP error instead of upgrading it, for the server's log.
    ///
    /// Every refusal counts, whether decided at accept time (another local user, too many connections) or from
    /// the request (a malformed upgrade, a missing bearer token, a cross-origin page, a TLS handshake sent to a
    /// server without TLS). Connections dropped without an answer (over the refusal limit, silent until the
    /// handshake limit) are not reported.
    public struct Refusal: Sendable, Hashable, CustomStringConvertible {
        /// The peer's address literal.
        public var remoteAddress: String
        /// The peer's port.
        public var remotePort: Int
        /// The HTTP status sent, such as 400.
        public var status: Int
        /// Its reason phrase, such as `Bad Request`.
        public var reasonPhrase: String
        /// The plain-text body sent, which says why.
        public var reason: String

        /// Creates a refusal.
        ///
        /// - Parameters:
        ///   - remoteAddress: The peer's address.
        ///   - remotePort: The peer's port.
        ///   - status: The HTTP status.
        ///   - reasonPhrase: The reason phrase.
        ///   - reason: The body.
        public init(remoteAddress: String, remotePort: Int, status: Int, reasonPhrase: String, reason: String) {
            self.remoteAddress = remoteAddress
            self.remotePort = remotePort
            self.status = status
            self.reasonPhrase = reasonPhrase
            self.reason = reason
        }

        /// One log line, with control characters escaped (the reason may quote the peer):
        /// `WebSocket client (127.0.0.1:40002) refused with 400 Bad Request: TLS handshake on a server without TLS: …`.
        public var description: String {
            let host = remoteAddress.contains(":") ? "[\(remoteAddress)]" : remoteAddress
            return "WebSocket client (\(host):\(remotePort)) refused with \(status) \(reasonPhrase): \(reason)"
                .escapingControlCharacters
        }
    }

    /// The most refusals kept until ``nextRefusal()`` takes them; more are not reported.
    public static let refusalBacklogLimit = 64

    /// Waits for the next connection the server refused with an HTTP error.
    ///
    /// Refusals are kept in order, at most ``refusalBacklogLimit`` of them; nobody has to read them.
    ///
    /// - Returns: The refusal, or `nil` once the server is shutting down or the task is cancelled.
    public func nextRefusal() async -> Refusal? {
        await shared.nextRefusal()
    }
}

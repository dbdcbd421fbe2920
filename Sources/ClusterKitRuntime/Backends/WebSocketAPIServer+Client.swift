import ClusterKitModel
import ClusterKitWebSocket

extension WebSocketAPIServer {
    /// A client whose subscriptions are active.
    public struct Client: Sendable, Hashable {
        /// The client's endpoint id, as its ack carries it: `<node id>-websocket-<n>`.
        public var endpoint: String
        /// The client's IP address.
        public var remoteAddress: String
        /// The client's TCP port.
        public var remotePort: Int
        /// The `X-Application-Name` it sent, or `nil` (Zeek's metrics then say `unknown`).
        public var applicationName: String?
        /// Its topic prefixes, sorted by bytes and without duplicates.
        public var subscriptions: [String]
        /// A Boolean value indicating whether the connection carried the node token: one of the cluster's nodes.
        public var isNode: Bool

        /// Creates a client description.
        ///
        /// - Parameters:
        ///   - endpoint: The endpoint id.
        ///   - remoteAddress: The IP address.
        ///   - remotePort: The TCP port.
        ///   - applicationName: The `X-Application-Name`, or `nil`.
        ///   - subscriptions: The topic prefixes.
        ///   - isNode: Whether it is one of the cluster's nodes; default `false`.
        public init(
            endpoint: String,
            remoteAddress: String,
            remotePort: Int,
            applicationName: String?,
            subscriptions: [String],
            isNode: Bool = false
        ) {
            self.endpoint = endpoint
            self.remoteAddress = remoteAddress
            self.remotePort = remotePort
            self.applicationName = applicationName
            self.subscriptions = subscriptions
            self.isNode = isNode
        }
    }
}

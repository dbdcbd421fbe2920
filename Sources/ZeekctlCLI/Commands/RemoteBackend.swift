import ClusterKit

/// The backend `zeekctl` uses for a WebSocket URL.
enum RemoteBackend {
    /// Makes a ``WebSocketBackend`` for `url` (already completed by ``address(_:option:defaultPort:)``),
    /// announcing itself as `zeekctl` in `X-Application-Name`.
    static func make(_ url: String) throws -> any ClusterBackend {
        WebSocketBackend(url: url, options: WebSocketBackend.Options(applicationName: "zeekctl"))
    }

    /// The full URL for an address given to `option`, or a usage error naming the option.
    static func address(_ text: String, option: String, defaultPort: Int) throws(UsageError) -> String {
        do {
            return try WebSocketAPIServer.url(normalizing: text, defaultPort: defaultPort)
        } catch {
            throw UsageError("\(error) for '\(option)'")
        }
    }
}

import ClusterKit

/// The backend `zeekctl` uses for a WebSocket URL.
enum RemoteBackend {
    /// Makes the backend for `url`.
    static func make(_ url: String) throws -> any ClusterBackend {
        throw BackendError(.invalidState, "WebSocket targets are not available in this build", endpoint: url)
    }
}

import ClusterKitModel

// The permission sets name the Management and Control APIs, so they live beside those APIs: the hub itself
// (`Backends/`) knows events only as names.
extension WebSocketAPIServer {
    /// The events only nodes send, which clients may not publish when a node token is set: the Management node
    /// API's `node_dispatch_response` and `notify_node_hello`, the Control framework's responses, and
    /// `Cluster::hello`.
    public static let standardNodeOnlyEvents: Set<String> = [
        NodeRuntime.API.dispatchResponse, NodeRuntime.API.notifyNodeHello, "Control::id_value_response",
        "Control::peer_status_response", "Control::net_stats_response", "Control::configuration_update_response",
        "Control::shutdown_response", "Cluster::hello",
    ]

    /// The events only in-process participants send, which no WebSocket connection may publish when a node
    /// token is set: the whole Management agent API (agents run in the controller's process), the Supervisor's
    /// `notify_node_exit`, and the controller's responses and notifications (Zeek's and ClusterKit's).
    public static let standardInProcessOnlyEvents: Set<String> = {
        var names = Set(EventCatalog.managementAgent.signatures.keys)
        names.formUnion(
            EventCatalog.managementController.signatures.keys.filter {
                $0.hasSuffix("_response") || $0.hasSuffix("::notify_agents_ready")
            }
        )
        names.formUnion(ClusterKitControllerAPI.catalog.signatures.keys.filter { $0.hasSuffix("_response") })
        names.insert("Management::Supervisor::API::notify_node_exit")
        names.insert(InMemoryBackend.Hub.MembershipNotice.subscription)
        names.insert(InMemoryBackend.Hub.MembershipNotice.unsubscription)
        return names
    }()
}

import ClusterKitModel
import ClusterKitWebSocket

extension WebSocketMessage {
    /// The topic and event of a compact event frame (see ``BrokerJSONDecoder/compactEvent(_:)``), or `nil`
    /// when the frame needs the general decoder.
    func compactEvent() -> (topic: String, event: Broker.Event)? {
        guard case .text(var text) = self else { return nil }
        return text.withUTF8 { BrokerJSONDecoder.compactEvent($0) }
    }
}

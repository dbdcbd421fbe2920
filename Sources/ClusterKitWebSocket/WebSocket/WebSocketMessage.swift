/// A complete WebSocket data message, reassembled from its frames.
public enum WebSocketMessage: Sendable, Hashable {
    /// A text message; its UTF-8 was validated on receipt.
    case text(String)
    /// A binary message.
    case binary([UInt8])

    /// The text, or `nil` for a binary message.
    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The payload size in bytes.
    public var byteCount: Int {
        switch self {
        case .text(let text): text.utf8.count
        case .binary(let bytes): bytes.count
        }
    }
}

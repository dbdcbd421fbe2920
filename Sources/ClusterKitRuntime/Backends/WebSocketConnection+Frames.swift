import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension WebSocketConnection {
    /// Sends one Broker message (data, ack or error) as a compact JSON text frame.
    func send(_ message: Broker.Message) async throws {
        try await send(utf8Text: Broker.JSON.encodeUTF8(message))
    }
}

extension WebSocketMessage {
    /// Decodes the message as one Broker WebSocket frame; binary messages are read as UTF-8 text, as Zeek's
    /// server does.
    func brokerMessage() throws -> Broker.Message {
        switch self {
        case .text(let text): try Broker.JSON.decodeMessage(text)
        case .binary(let bytes): try Broker.JSON.decodeMessage(utf8: bytes)
        }
    }

    /// The message as text; binary messages are read as UTF-8 with invalid bytes replaced.
    var textContent: String {
        switch self {
        case .text(let text): text
        case .binary(let bytes): String(decoding: bytes, as: UTF8.self)
        }
    }
}

extension WebSocketCloseInfo {
    /// `code 1001 and reason 'Terminating'`, or `code 1000` without a reason.
    var codeAndReason: String {
        reason.isEmpty ? "code \(code)" : "code \(code) and reason '\(reason)'"
    }
}

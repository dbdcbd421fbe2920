extension WebSocketConnection {
    /// Sends a text message whose UTF-8 bytes are already encoded, without making a `String` first.
    ///
    /// The Broker JSON encoder writes UTF-8 from Swift strings, so the bytes are valid UTF-8; going through
    /// ``send(text:)`` would copy and validate them once more per message.
    ///
    /// - Parameter bytes: The message's UTF-8 bytes.
    /// - Throws: ``WebSocketError`` as ``send(text:)`` does.
    package func send(utf8Text bytes: [UInt8]) async throws {
        let step = bytes.withUnsafeBytes { shared.enqueue(opcode: .text, payload: $0) }
        try await shared.complete(step)
    }
}

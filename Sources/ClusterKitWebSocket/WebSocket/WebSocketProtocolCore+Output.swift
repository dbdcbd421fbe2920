extension WebSocketProtocolCore {
    /// The bytes a connection has to write: handshake heads, control frames, and the application's frames.
    ///
    /// Bytes in `bytes[offset...]` are not written yet. A close frame that must follow the application's queued
    /// frames is held back until they are moved in (``appendQueuedFrames(_:)``).
    struct OutputBuffer {
        /// The buffered bytes; those before `offset` are written.
        private(set) var bytes: [UInt8] = []
        /// How many of `bytes` are written.
        private(set) var offset = 0
        /// Whether the writing half of the socket should be, or was, shut down.
        var didShutDownWrite = false
        /// A close frame waiting for the application's queued frames to go before it.
        private var heldCloseFrame: [UInt8]?
        /// Whether frames are masked (a client's are).
        private let masks: Bool
        /// The masking keys of this side's control frames.
        private var maskingKeys: MaskingKeys

        /// Creates an empty buffer.
        ///
        /// - Parameters:
        ///   - role: Which end of the connection this is; a client masks its frames.
        ///   - random: Where masking keys come from.
        init(role: ConnectionShared.Role, random: @escaping MaskingKeys.Source) {
            self.masks = role == .client
            self.maskingKeys = MaskingKeys(source: random)
        }

        /// The bytes not written yet.
        var unwrittenCount: Int { bytes.count - offset }

        /// Appends bytes as they are (a handshake head or an HTTP answer).
        mutating func append(_ data: [UInt8]) {
            bytes.append(contentsOf: data)
        }

        /// Appends a ping or pong.
        mutating func appendControlFrame(_ opcode: WebSocketFrame.Opcode, payload: UnsafeRawBufferPointer) {
            WebSocketFrame.encode(
                fin: true,
                opcode: opcode.rawValue,
                maskingKey: masks ? maskingKeys.next() : nil,
                payload: payload,
                into: &bytes
            )
        }

        /// Encodes a close frame and holds it until ``appendQueuedFrames(_:)``; the reason is cut to 123 bytes.
        mutating func holdCloseFrame(code: WebSocketCloseCode, reason: String) {
            var payload: [UInt8] = []
            if code != .noStatus {
                payload = [UInt8(truncatingIfNeeded: code.rawValue >> 8), UInt8(truncatingIfNeeded: code.rawValue)]
                payload.append(contentsOf: WebSocketProtocolCore.truncatedReason(reason))
            }
            var frame: [UInt8] = []
            payload.withUnsafeBytes { payload in
                WebSocketFrame.encode(
                    fin: true,
                    opcode: WebSocketFrame.Opcode.close.rawValue,
                    maskingKey: masks ? maskingKeys.next() : nil,
                    payload: payload,
                    into: &frame
                )
            }
            heldCloseFrame = frame
        }

        /// Lets `move` append the application's queued frames, then appends the close frame held for them.
        mutating func appendQueuedFrames(_ move: (inout [UInt8]) -> Void) {
            move(&bytes)
            if let frame = heldCloseFrame {
                bytes.append(contentsOf: frame)
                heldCloseFrame = nil
            }
        }

        /// Calls `body` with the bytes not written yet.
        func withUnwritten<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            bytes.withUnsafeBytes { buffer in body(UnsafeRawBufferPointer(rebasing: buffer[offset...])) }
        }

        /// Counts `count` more bytes written.
        mutating func wrote(_ count: Int) {
            offset += count
        }

        /// Empties the written buffer, keeping its memory unless it grew large (over 8 MiB).
        mutating func reset() {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 8 << 20)
            offset = 0
        }

        /// Lets `take` swap the application's queued frames into the empty buffer.
        ///
        /// - Returns: What `take` returns: whether frames were queued.
        mutating func refill(_ take: (inout [UInt8]) -> Bool) -> Bool {
            take(&bytes)
        }
    }

    /// The reason's UTF-8, cut at a character boundary to fit a close frame (123 bytes).
    static func truncatedReason(_ reason: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for character in reason {
            let encoded = Array(character.utf8)
            guard bytes.count + encoded.count <= 123 else { break }
            bytes.append(contentsOf: encoded)
        }
        return bytes
    }

    // MARK: - Writing

    /// The output bytes not written yet.
    var unwrittenByteCount: Int { output.unwrittenCount }

    /// Whether the application's queued frames are written in this phase (after the handshake).
    var takesApplicationFrames: Bool {
        switch phase {
        case .open, .closeSent, .finishing: true
        default: false
        }
    }

    /// Gets the output ready for a write: appends the owed pong once less than the send queue limit is
    /// unwritten, and empties the buffer once everything is written.
    ///
    /// - Returns: Whether there are bytes to write.
    mutating func prepareOutput() -> Bool {
        if owedPong != nil, output.unwrittenCount < options.sendQueueLimit { appendOwedPong() }
        guard output.unwrittenCount == 0 else { return true }
        output.reset()
        return false
    }

    /// Moves the application's queued frames into the emptied output, when this phase writes them.
    ///
    /// - Parameter take: Swaps the queued frames into the empty buffer it is given; returns whether there were
    ///   any.
    /// - Returns: Whether there are bytes to write now.
    mutating func refillOutput(from take: (inout [UInt8]) -> Bool) -> Bool {
        guard takesApplicationFrames, output.unwrittenCount == 0 else { return false }
        return output.refill(take)
    }

    /// Calls `body` with the bytes to write.
    ///
    /// - Parameter body: Writes some of the bytes and returns what it wants to.
    /// - Returns: What `body` returns.
    func withUnwrittenOutput<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        output.withUnwritten(body)
    }

    /// Handles `count` bytes the owner wrote from ``withUnwrittenOutput(_:)``.
    ///
    /// - Parameter count: The number of bytes written.
    mutating func wrote(_ count: Int) {
        output.wrote(count)
    }

    /// Whether the owner must now shut the writing half of the socket down.
    ///
    /// That is while finishing, once everything is written; it returns `true` once.
    mutating func takeWriteShutdown() -> Bool {
        guard case .finishing = phase, output.unwrittenCount == 0, !output.didShutDownWrite else { return false }
        output.didShutDownWrite = true
        return true
    }

    /// Moves the application's queued frames into the output as ``Action/beginClosing(_:error:keepsQueuedFrames:)``
    /// asked, followed by the close frame held for them.
    ///
    /// - Parameter move: Appends the queued frames (or nothing) to the buffer it is given.
    mutating func takeQueuedFrames(_ move: (inout [UInt8]) -> Void) {
        output.appendQueuedFrames(move)
    }

    // MARK: - Pings and pongs

    /// Answers a ping: at once while less than the send queue limit is unwritten; otherwise only the latest
    /// ping is kept (RFC 6455 §5.5.3) and reading stops until the backlog has drained below the limit.
    mutating func answerPing(_ payload: UnsafeRawBufferPointer) {
        if owedPong == nil, output.unwrittenCount < options.sendQueueLimit {
            output.appendControlFrame(.pong, payload: payload)
            needsFlush = true
            return
        }
        if owedPong == nil { owedPong = [] }
        owedPong?.removeAll(keepingCapacity: true)
        owedPong?.append(contentsOf: payload)
    }

    /// Appends the pong owed for the latest ping; reading resumes.
    private mutating func appendOwedPong() {
        guard let payload = owedPong else { return }
        owedPong = nil
        guard case .open = phase else { return }
        payload.withUnsafeBytes { output.appendControlFrame(.pong, payload: $0) }
    }
}

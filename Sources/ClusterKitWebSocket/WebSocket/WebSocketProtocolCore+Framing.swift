import ClusterKitModel

extension WebSocketProtocolCore {
    // MARK: - Frames

    /// Parses the frames in the input buffer until it runs out, reading pauses, or the connection fails.
    ///
    /// A frame that makes the core ask for something (a delivery, the start of the close handshake) suspends
    /// parsing, so that the owner performs it, and learns whether the receive queue is full, before the next
    /// frame is parsed. Pongs are appended as pings are parsed and written together at the end.
    mutating func readFrames() {
        while !isPaused, !isDeliveryPending, !isClosed {
            let available = receive.unreadCount
            guard available >= 2, let header = receive.frameHeader() else { break }
            if let violation = check(header) {
                fail(violation)
                break
            }
            let total = header.headerLength + Int(header.payloadLength)
            guard available >= total else {
                // Room for what may come next, not for what the header declares: the buffer grows with the
                // bytes that arrive (at most doubling each time), up to the frame's size.
                if let violation = receive.reserve(min(total - available, max(ReceiveBuffers.readChunk, available))) {
                    fail(violation)
                }
                break
            }
            let actionCount = actions.count
            let start = receive.start + header.headerLength
            var input = receive.lendInput()
            let violation = input.withUnsafeMutableBytes { buffer -> Violation? in
                let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<start + Int(header.payloadLength)])
                if let key = header.maskingKey { WebSocketFrame.applyMask(key, to: payload) }
                return handleFrame(header, payload: UnsafeRawBufferPointer(payload))
            }
            receive.returnInput(input)
            receive.consume(total)
            if let violation {
                fail(violation)
                break
            }
            if batchBytes >= options.receiveQueueLimit / 4
                || batch.count >= max(1, options.receiveQueueMessageLimit / 4)
            {
                deliverBatch()
            }
            if actions.count != actionCount {
                suspend()
                return
            }
        }
        deliverBatch()
        if needsFlush {
            needsFlush = false
            emit(.flush)
        }
    }

    /// A violation of the protocol: close code 1002 with `text` as the reason.
    static func protocolError(_ text: String) -> Violation {
        Violation(
            code: .protocolError,
            reason: text,
            error: WebSocketError(.protocolViolation, "protocol violation: \(text)", closeCode: .protocolError)
        )
    }

    /// A frame or message over a limit: close code 1009, `message too big`.
    static func tooBig(_ text: String) -> Violation {
        Violation(
            code: .messageTooBig,
            reason: "message too big",
            error: WebSocketError(.messageTooBig, text, closeCode: .messageTooBig, closeReason: "message too big")
        )
    }

    /// Invalid UTF-8 in a text message or close reason: close code 1007.
    static func invalidText(in place: String) -> Violation {
        Violation(
            code: .invalidPayload,
            reason: "invalid UTF-8 in \(place)",
            error: WebSocketError(
                .protocolViolation,
                "protocol violation: invalid UTF-8 in \(place)",
                closeCode: .invalidPayload
            )
        )
    }

    /// The message-size violation.
    private var messageTooBig: Violation {
        Self.tooBig("message exceeds the limit of \(options.maximumMessageSize) bytes")
    }

    /// Checks a frame's header before its payload is read or buffered.
    func check(_ header: WebSocketFrame.Header) -> Violation? {
        if header.reserved != 0 { return Self.protocolError("reserved bits set without an extension") }
        guard let opcode = WebSocketFrame.Opcode(rawValue: header.opcode) else {
            return Self.protocolError("unknown opcode \(header.opcode)")
        }
        if opcode.isControl {
            if !header.fin { return Self.protocolError("fragmented control frame") }
            if header.payloadLength > 125 { return Self.protocolError("control frame larger than 125 bytes") }
        }
        switch role {
        case .server where header.maskingKey == nil: return Self.protocolError("unmasked frame from client")
        case .client where header.maskingKey != nil: return Self.protocolError("masked frame from server")
        default: break
        }
        if header.payloadLength > UInt64(options.maximumFrameSize) {
            return Self.tooBig(
                "frame of \(header.payloadLength) bytes exceeds the limit of \(options.maximumFrameSize)"
            )
        }
        switch opcode {
        case .continuation where fragmentOpcode == nil:
            return Self.protocolError("continuation frame without a message to continue")
        case .text where fragmentOpcode != nil, .binary where fragmentOpcode != nil:
            return Self.protocolError("new message before the previous one ended")
        case .continuation, .text, .binary:
            // Known from the header: refuse before reading (and buffering) the payload.
            let size = (opcode == .continuation ? UInt64(receive.fragment.count) : 0) + header.payloadLength
            if size > UInt64(options.maximumMessageSize) { return messageTooBig }
            return nil
        default:
            return nil
        }
    }

    /// Handles one complete frame whose payload is unmasked.
    private mutating func handleFrame(_ header: WebSocketFrame.Header, payload: UnsafeRawBufferPointer) -> Violation? {
        guard let opcode = WebSocketFrame.Opcode(rawValue: header.opcode) else { return nil }
        switch opcode {
        case .text, .binary:
            if header.fin { return queueMessage(opcode, payload) }
            if payload.count > options.maximumMessageSize { return messageTooBig }
            receive.clearFragment()
            if let violation = receive.reserveFragment(payload.count) { return violation }
            fragmentOpcode = opcode
            receive.appendFragment(payload)
        case .continuation:
            guard let fragmentOpcode else { return nil }
            if receive.fragment.count + payload.count > options.maximumMessageSize { return messageTooBig }
            if let violation = receive.reserveFragment(receive.fragment.count + payload.count) { return violation }
            receive.appendFragment(payload)
            guard header.fin else { return nil }
            self.fragmentOpcode = nil
            let violation = queueReassembledMessage(fragmentOpcode)
            receive.releaseFragment()
            return violation
        case .ping:
            if case .open = phase { answerPing(payload) }
        case .pong:
            isAwaitingPong = false
        case .close:
            return closeFrameReceived(payload)
        }
        return nil
    }

    // MARK: - Messages

    /// Queues a message received in one frame for delivery; dropped once the connection is closing.
    private mutating func queueMessage(_ opcode: WebSocketFrame.Opcode, _ payload: UnsafeRawBufferPointer) -> Violation?
    {
        if payload.count > options.maximumMessageSize { return messageTooBig }
        guard case .open = phase else { return nil }
        guard let message = Self.message(opcode, payload) else { return Self.invalidText(in: "text message") }
        queue(message, payloadCount: payload.count)
        return nil
    }

    /// Queues the message in the reassembly buffer for delivery; dropped once the connection is closing.
    private mutating func queueReassembledMessage(_ opcode: WebSocketFrame.Opcode) -> Violation? {
        if receive.fragment.count > options.maximumMessageSize { return messageTooBig }
        guard case .open = phase else { return nil }
        let message = receive.fragment.withUnsafeBytes { Self.message(opcode, $0) }
        guard let message else { return Self.invalidText(in: "text message") }
        queue(message, payloadCount: receive.fragment.count)
        return nil
    }

    /// The message a payload makes, or `nil` when a text payload is not valid UTF-8.
    private static func message(_ opcode: WebSocketFrame.Opcode, _ payload: UnsafeRawBufferPointer) -> WebSocketMessage?
    {
        guard opcode == .text else { return .binary(Array(payload)) }
        let text = payload.withMemoryRebound(to: UInt8.self) { String(validatingUTF8Bytes: $0) }
        return text.map { .text($0) }
    }

    /// Adds a message to the batch, counting its payload plus the queue entry overhead.
    private mutating func queue(_ message: WebSocketMessage, payloadCount: Int) {
        let size = payloadCount + WebSocketConnection.Options.receiveQueueEntryOverhead
        batch.append((message, size))
        batchBytes += size
    }

    // MARK: - Close frames

    /// Handles the peer's close frame: answers it when the peer started the close, completes the handshake when
    /// this side did.
    private mutating func closeFrameReceived(_ payload: UnsafeRawBufferPointer) -> Violation? {
        var code = WebSocketCloseCode.noStatus
        var reason = ""
        if payload.count == 1 { return Self.protocolError("close frame with a 1-byte payload") }
        if payload.count >= 2 {
            code = WebSocketCloseCode(rawValue: UInt16(payload[0]) << 8 | UInt16(payload[1]))
            guard code.isSendable else { return Self.protocolError("invalid close code \(code.rawValue)") }
            let text = UnsafeRawBufferPointer(rebasing: payload[2...]).withMemoryRebound(to: UInt8.self) {
                String(validatingUTF8Bytes: $0)
            }
            guard let text else { return Self.invalidText(in: "close reason") }
            reason = text
        }
        switch phase {
        case .open:
            deliverBatch()
            owedPong = nil
            let isClean = code == .normalClosure || code == .goingAway || code == .noStatus
            emit(
                .beginClosing(
                    WebSocketCloseInfo(code: code, reason: reason, initiator: .peer, wasClean: true),
                    error: isClean ? nil : .closedByPeer(code: code, reason: reason),
                    keepsQueuedFrames: true
                )
            )
            output.holdCloseFrame(code: code, reason: "")
            phase = .finishing
            setDeadline(after: options.closeTimeout)
            emit(.flush)
        case .closeSent:
            emit(.markClean)
            phase = .finishing
            emit(.flush)
        default:
            break
        }
        return nil
    }
}

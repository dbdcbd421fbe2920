#if canImport(Glibc)
import Glibc
#endif

/// The TLS part of a connection's socket work: ciphertext between the socket and the ``TLSSession``, plaintext
/// between the session and the ``WebSocketProtocolCore`` (decision record 0007).
extension ConnectionDriver {
    /// The most ciphertext read, and plaintext encrypted, at once.
    static let tlsChunk = 64 << 10

    /// Receives ciphertext from the socket: `recv`'s result (`errno` tells why when negative) and the room it had.
    func receiveCiphertext() -> (count: Int, space: Int) {
        if tlsInput.isEmpty { tlsInput = [UInt8](repeating: 0, count: Self.tlsChunk) }
        let count = tlsInput.withUnsafeMutableBytes { buffer -> Int in
            guard let base = buffer.baseAddress else { return -1 }
            return recv(descriptor, base, buffer.count, 0)
        }
        return (count, tlsInput.count)
    }

    /// Hands `count` bytes of received ciphertext to the session, and the plaintext it yields to the core.
    func ciphertextReceived(_ count: Int, now: ContinuousClock.Instant) {
        guard let tls else { return }
        keepFirstInput(count)
        guard tlsInput.withUnsafeBytes({ tls.feed(UnsafeRawBufferPointer(rebasing: $0[..<count])) }) else {
            failTLS("out of memory for TLS input")
            return
        }
        pumpTLS(now: now)
    }

    /// The socket reached its end: the core learns it once the session has handed over what it still holds.
    func ciphertextEnded(now: ContinuousClock.Instant) {
        tlsInputEnded = true
        pumpTLS(now: now)
    }

    /// Moves plaintext from the session into the core while the core wants it.
    ///
    /// Then sends what the session made (handshake messages, alerts) and the output that waited for the handshake,
    /// and tells the core of the end of input once the session has nothing left.
    func pumpTLS(now: ContinuousClock.Instant) {
        guard let tls, !isPumpingTLS else { return }
        isPumpingTLS = true
        defer { isPumpingTLS = false }
        reading: while descriptor >= 0, core.wantsRead {
            guard core.reserveReadSpace(now: now) else {
                performActions()
                return
            }
            // Fill the read space with as many records as the session holds, so that the core parses them at once.
            var last = TLSSession.Outcome.wantsInput
            let count = core.withReadSpace { buffer -> Int in
                var filled = 0
                while filled < buffer.count {
                    last = tls.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                    guard case .bytes(let count) = last else { break }
                    filled += count
                }
                return filled
            }
            if count > 0 {
                core.bytesRead(count, now: now)
                performActions()
                guard descriptor >= 0 else { return }
            }
            switch last {
            case .bytes:
                continue reading
            case .wantsInput:
                break reading
            case .closed:
                tlsInputEnded = true
                tlsEndDelivered = true
                core.endOfInput(now: now)
                performActions()
                return
            case .failed(let reason):
                failTLS(reason)
                return
            }
        }
        guard descriptor >= 0 else { return }
        flushTLS(tls)
        if tlsInputEnded, !tlsEndDelivered, descriptor >= 0, core.wantsRead, !tls.hasBufferedInput {
            tlsEndDelivered = true
            core.endOfInput(now: now)
            performActions()
        }
    }

    /// Writes the session's ciphertext, and encrypts the core's output as the socket takes it.
    ///
    /// At most one chunk of ciphertext is held beyond what the socket took, so the core's output, and so its
    /// send queue, still tells how far behind the peer is.
    func flushTLS(_ tls: TLSSession) {
        let usesQueue = core.takesApplicationFrames
        var refills = 0
        var waitsForPeer = false
        writing: while descriptor >= 0 {
            tls.takeOutput(into: &tlsOutput)
            if tlsOutputOffset < tlsOutput.count {
                let written = sendCiphertext()
                guard written > 0 else {
                    if retries(after: written) { continue writing }
                    break writing
                }
                tlsOutputOffset += written
                if tlsOutputOffset == tlsOutput.count {
                    tlsOutput.removeAll(keepingCapacity: tlsOutput.capacity <= 1 << 20)
                    tlsOutputOffset = 0
                }
                continue
            }
            guard !waitsForPeer else { break }
            if !core.prepareOutput() {
                guard core.refillOutput(from: { shared.takePending(into: &$0) }) else { break }
                refills += 1
                if refills > 4 { break }
                continue
            }
            let outcome = core.withUnwrittenOutput { buffer in
                tls.write(UnsafeRawBufferPointer(rebasing: buffer.prefix(Self.tlsChunk)))
            }
            switch outcome {
            case .bytes(let count):
                core.wrote(count)
                if usesQueue { shared.didWrite(unwritten: core.unwrittenByteCount) }
            case .wantsInput:
                // The handshake needs the peer first; send what it made, then wait for input.
                waitsForPeer = true
            case .closed:
                connectionLost(error: EPIPE)
                return
            case .failed(let reason):
                failTLS(reason)
                return
            }
        }
        guard descriptor >= 0 else { return }
        if core.takeWriteShutdown() {
            tlsWriteShutdown = true
            tls.closeNotify()
            tls.takeOutput(into: &tlsOutput)
            if tlsOutputOffset < tlsOutput.count {
                updateEvents()
                return
            }
        }
        if tlsWriteShutdown, tlsOutputOffset == tlsOutput.count {
            tlsWriteShutdown = false
            Glibc.shutdown(descriptor, Int32(SHUT_WR))
        }
        updateEvents()
    }

    /// Sends the ciphertext from `tlsOutputOffset` on: `send`'s result (`errno` tells why when negative).
    private func sendCiphertext() -> Int {
        tlsOutput.withUnsafeBytes { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            return Glibc.send(descriptor, base + tlsOutputOffset, buffer.count - tlsOutputOffset, Int32(MSG_NOSIGNAL))
        }
    }

    /// The session failed: sends its alert if the socket takes it at once, then drops the connection.
    ///
    /// When the peer spoke plain HTTP instead of TLS, it says so: a client names the server's answer as the reason,
    /// and a server answers the request in plain HTTP with 400 (``WebSocketHandshake/Rejection/plainOnTLSServer``)
    /// instead of an alert that a plain client cannot read.
    func failTLS(_ reason: String) {
        let spokePlainHTTP = tls.map { !$0.isEstablished } == true && Self.looksLikePlainHTTP(tlsFirstInput)
        if spokePlainHTTP, shared.role == .server, descriptor >= 0 {
            tls = nil
            tlsOutput = []
            tlsOutputOffset = 0
            reject(.plainOnTLSServer)
            return
        }
        if let tls, descriptor >= 0 {
            tls.takeOutput(into: &tlsOutput)
            if tlsOutputOffset < tlsOutput.count { _ = sendCiphertext() }
        }
        tlsOutput = []
        tlsOutputOffset = 0
        let error =
            spokePlainHTTP
            ? WebSocketError(
                .tlsFailed,
                "TLS handshake failed: the server answered in plain HTTP ('\(Self.firstLine(of: tlsFirstInput))'), "
                    + "so it does not use TLS: connect with ws://"
            )
            : WebSocketError(.tlsFailed, reason)
        abort(closeInfo: .abnormal(.local), error: error)
    }

    /// How many bytes of the peer's first input are kept, to tell plain HTTP from TLS when the handshake fails.
    static let firstInputLimit = 64

    /// Keeps the start of what the peer sent before the handshake completes.
    func keepFirstInput(_ count: Int) {
        guard let tls, !tls.isEstablished, tlsFirstInput.count < Self.firstInputLimit else { return }
        tlsFirstInput += tlsInput.prefix(min(count, Self.firstInputLimit - tlsFirstInput.count))
    }

    /// Whether bytes begin as an HTTP message does, with three upper-case letters (a request's method such as
    /// `GET`, or a response's `HTTP/`): a TLS record begins with a content type of 20 to 24.
    static func looksLikePlainHTTP(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes.prefix(3).allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    /// The first line of bytes, printable ASCII only.
    static func firstLine(of bytes: [UInt8]) -> String {
        let line = bytes.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        return String(decoding: line.map { (0x20...0x7e).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

extension WebSocketHandshake.Rejection {
    /// 400 for a plain HTTP request sent to a server with TLS.
    static let plainOnTLSServer = Self.badRequest(
        "plain HTTP request on a server with TLS: connect with wss://, not ws://"
    )
}

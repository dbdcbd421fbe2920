#if canImport(Glibc)
import Glibc
#endif

/// The TLS part of a connection's socket work: ciphertext between the socket and the ``TLSSession``, plaintext
/// between the session and the ``WebSocketProtocolCore`` (decision record 0007).
extension ConnectionDriver {
    /// The most ciphertext read, and plaintext encrypted, at once.
    static let tlsChunk = 64 << 10

    /// Reads ciphertext while the core wants input, handing the plaintext over as it comes.
    func readTLS() {
        guard let tls else { return }
        let now = ContinuousClock.now
        if tlsInput.isEmpty { tlsInput = [UInt8](repeating: 0, count: Self.tlsChunk) }
        var rounds = 0
        while descriptor >= 0, core.wantsRead, !tlsInputEnded, rounds < 4 {
            rounds += 1
            let count = tlsInput.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return recv(descriptor, base, buffer.count, 0)
            }
            if count > 0 {
                let fed = tlsInput.withUnsafeBytes { tls.feed(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                guard fed else {
                    failTLS("out of memory for TLS input")
                    return
                }
                pumpTLS(now: now)
                if count < tlsInput.count { break }
            } else if count == 0 {
                tlsInputEnded = true
                pumpTLS(now: now)
                return
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                connectionLost(error: errno)
                return
            }
        }
        updateEvents()
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
                let written = tlsOutput.withUnsafeBytes { buffer -> Int in
                    guard let base = buffer.baseAddress else { return 0 }
                    return Glibc.send(
                        descriptor,
                        base + tlsOutputOffset,
                        buffer.count - tlsOutputOffset,
                        Int32(MSG_NOSIGNAL)
                    )
                }
                if written > 0 {
                    tlsOutputOffset += written
                    if tlsOutputOffset == tlsOutput.count {
                        tlsOutput.removeAll(keepingCapacity: tlsOutput.capacity <= 1 << 20)
                        tlsOutputOffset = 0
                    }
                    continue
                } else if written < 0, errno == EINTR {
                    continue
                } else if written < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                    break
                } else {
                    connectionLost(error: written < 0 ? errno : EPIPE)
                    return
                }
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

    /// The session failed: sends its alert if the socket takes it at once, then drops the connection.
    func failTLS(_ reason: String) {
        if let tls, descriptor >= 0 {
            tls.takeOutput(into: &tlsOutput)
            if tlsOutputOffset < tlsOutput.count {
                _ = tlsOutput.withUnsafeBytes { buffer -> Int in
                    guard let base = buffer.baseAddress else { return 0 }
                    return Glibc.send(
                        descriptor,
                        base + tlsOutputOffset,
                        buffer.count - tlsOutputOffset,
                        Int32(MSG_NOSIGNAL)
                    )
                }
            }
        }
        tlsOutput = []
        tlsOutputOffset = 0
        abort(closeInfo: .abnormal(.local), error: WebSocketError(.tlsFailed, reason))
    }
}

extension WebSocketProtocolCore {
    /// Fails the connection: sends a close frame with the violation's code and stops reading frames; before the
    /// handshake is done, closes the socket at once.
    mutating func fail(_ violation: Violation) {
        switch phase {
        case .open, .closeSent:
            deliverBatch()
            emit(
                .beginClosing(
                    WebSocketCloseInfo(
                        code: violation.code,
                        reason: violation.reason,
                        initiator: .local,
                        wasClean: false
                    ),
                    error: violation.error,
                    keepsQueuedFrames: false
                )
            )
            if case .open = phase { output.holdCloseFrame(code: violation.code, reason: violation.reason) }
            phase = .finishing
            owedPong = nil
            receive.discardAll()
            fragmentOpcode = nil
            setDeadline(after: options.closeTimeout)
            emit(.flush)
        case .closed:
            break
        default:
            abort(closeInfo: .abnormal(.local), error: violation.error)
        }
    }

    /// The application asked to close (``ConnectionShared/requestedClose``): starts the close handshake, or
    /// drops a connection whose handshake is not done.
    ///
    /// - Parameters:
    ///   - code: The close code; ``WebSocketCloseCode/abnormalClosure`` drops the connection without a handshake.
    ///   - reason: The close reason.
    ///   - now: The current time.
    mutating func close(code: WebSocketCloseCode, reason: String, now: ContinuousClock.Instant) {
        self.now = now
        switch phase {
        case .open:
            startClose(code: code, reason: reason, error: nil)
        case .closeSent, .finishing:
            break
        default:
            abort(
                closeInfo: WebSocketCloseInfo(code: code, reason: reason, initiator: .local, wasClean: false),
                error: nil
            )
        }
    }

    /// Sends a close frame after the queued messages and waits for the peer's.
    private mutating func startClose(code: WebSocketCloseCode, reason: String, error: WebSocketError?) {
        guard case .open = phase else { return }
        let info = WebSocketCloseInfo(code: code, reason: reason, initiator: .local, wasClean: false)
        if code == .abnormalClosure {
            abort(closeInfo: info, error: error)
            return
        }
        deliverBatch()
        emit(.beginClosing(info, error: error, keepsQueuedFrames: true))
        // No frame may follow the close frame, an owed pong included.
        owedPong = nil
        output.holdCloseFrame(code: code, reason: reason)
        phase = .closeSent
        setDeadline(after: options.closeTimeout)
        // Data frames are dropped from now on, so a full receive queue must not keep the peer's close frame
        // unread.
        isPaused = false
        emit(.flush)
        // The peer's frames already read are parsed once the close frame is on its way.
        suspend()
    }

    /// The server is shutting down: close with 1001 `Terminating`, or drop a connection mid-handshake.
    ///
    /// - Parameter now: The current time.
    mutating func shutdown(now: ContinuousClock.Instant) {
        self.now = now
        switch phase {
        case .open:
            startClose(code: .goingAway, reason: "Terminating", error: nil)
        case .finishing where output.didShutDownWrite:
            // Everything is sent; only the peer's end of stream is awaited, which a shutdown need not wait for.
            abort(closeInfo: .abnormal(.local), error: nil)
        case .closeSent, .finishing, .closed:
            break
        default:
            abort(closeInfo: .abnormal(.local), error: WebSocketError(.closed, "server shut down"))
        }
    }

    /// Closes a connection whose peer does not read: queued messages are dropped and a close frame with 1008
    /// `send queue full` follows what is already being written; the close timeout bounds the rest.
    ///
    /// - Parameter now: The current time.
    mutating func failSendQueueFull(now: ContinuousClock.Instant) {
        self.now = now
        let reason = "send queue full"
        fail(
            Violation(
                code: .policyViolation,
                reason: reason,
                error: WebSocketError(
                    .sendQueueFull,
                    "send queue full: the peer did not read for \(durationText(options.sendQueueTimeout))",
                    closeCode: .policyViolation,
                    closeReason: reason
                )
            )
        )
    }

    /// The peer closed its end of the stream (a read returned 0).
    ///
    /// - Parameter now: The current time.
    mutating func endOfInput(now: ContinuousClock.Instant) {
        self.now = now
        switch phase {
        case .resolving, .connecting, .closed:
            break
        case .clientHandshake:
            abort(closeInfo: .abnormal(.peer), error: WebSocketError(.closed, "connection closed during the handshake"))
        case .clientRejected:
            readRejectionBody(isComplete: true)
        case .serverHandshake:
            abort(closeInfo: .abnormal(.peer), error: nil)
        case .open, .closeSent:
            abort(
                closeInfo: .abnormal(.peer),
                error: WebSocketError(
                    .closed,
                    "connection closed without a close frame (1006)",
                    closeCode: .abnormalClosure
                )
            )
        case .finishing:
            abort(closeInfo: .abnormal(.peer), error: nil)
        }
    }

    /// A read or write failed, or the socket reported an error.
    ///
    /// - Parameter error: The error for the application.
    mutating func connectionLost(_ error: WebSocketError) {
        abort(closeInfo: .abnormal(.peer), error: error)
    }

    /// Ends the connection now: asks for the socket to be closed (``Action/close(_:error:)``), gives the
    /// receive buffers' charge back and forgets every timer; only the first call does anything.
    ///
    /// - Parameters:
    ///   - closeInfo: How the connection ended, unless the application's side already recorded it.
    ///   - error: The error for the application, likewise.
    mutating func abort(closeInfo: WebSocketCloseInfo, error: WebSocketError?) {
        guard !isClosed else { return }
        phase = .closed
        deadline = nil
        pingDue = nil
        stallDue = nil
        owedPong = nil
        receive.release()
        emit(.close(closeInfo, error: error))
    }
}

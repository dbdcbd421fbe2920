extension WebSocketProtocolCore {
    /// Sets the connect, handshake or close limit, replacing the one before.
    mutating func setDeadline(after duration: Duration) {
        guard !isClosed else { return }
        let due = now.advanced(by: duration)
        deadline = due
        emit(.schedule(.deadline, at: due))
    }

    /// Sets the next ping, when pinging is enabled.
    mutating func armPing() {
        guard !isClosed, let interval = options.effectivePingInterval else { return }
        let due = now.advanced(by: interval)
        pingDue = due
        emit(.schedule(.ping, at: due))
    }

    /// A timer the core asked for (``Action/schedule(_:at:)``) fired; one it no longer expects is ignored.
    ///
    /// - Parameters:
    ///   - kind: What the timer is for.
    ///   - instant: The instant it was scheduled for.
    ///   - now: The current time.
    ///   - oldestSendWaiter: When the oldest sender still waiting for room in the send queue started waiting;
    ///     read only for a due ``TimerKind/sendStall``.
    mutating func timerFired(
        _ kind: TimerKind,
        at instant: ContinuousClock.Instant,
        now: ContinuousClock.Instant,
        oldestSendWaiter: @autoclosure () -> ContinuousClock.Instant?
    ) {
        self.now = now
        switch kind {
        case .deadline:
            guard deadline == instant else { return }
            deadline = nil
            deadlinePassed()
        case .ping:
            guard pingDue == instant else { return }
            pingDue = nil
            pingTimerFired()
        case .sendStall:
            guard stallDue == instant else { return }
            stallDue = nil
            guard case .open = phase, let since = oldestSendWaiter() else { return }
            let due = since.advanced(by: options.sendQueueTimeout)
            if due <= now {
                failSendQueueFull(now: now)
            } else {
                stallDue = due
                emit(.schedule(.sendStall, at: due))
            }
        }
    }

    /// A sender started waiting for room in the send queue: makes sure the stall timer runs.
    ///
    /// - Parameter oldestSendWaiter: When the oldest waiting sender started waiting; read only when no stall
    ///   timer is set.
    mutating func sendStalled(oldestSendWaiter: @autoclosure () -> ContinuousClock.Instant?) {
        guard stallDue == nil, !isClosed, let since = oldestSendWaiter() else { return }
        let due = since.advanced(by: options.sendQueueTimeout)
        stallDue = due
        emit(.schedule(.sendStall, at: due))
    }

    /// The connect, handshake or close limit passed.
    private mutating func deadlinePassed() {
        switch phase {
        case .resolving:
            let host = client?.url.host ?? "?"
            let limit = client.map { durationText($0.options.connectTimeout) } ?? "?"
            abort(
                closeInfo: .abnormal(.local),
                error: WebSocketError(.timedOut, "looking up host '\(host)' did not finish within \(limit)")
            )
        case .connecting:
            let limit = client.map { durationText($0.options.connectTimeout) } ?? "?"
            abort(
                closeInfo: .abnormal(.local),
                error: WebSocketError(.timedOut, "connection not established within \(limit)")
            )
        case .clientHandshake:
            let limit = client.map { durationText($0.options.handshakeTimeout) } ?? "?"
            abort(
                closeInfo: .abnormal(.local),
                error: WebSocketError(.timedOut, "no handshake response within \(limit)")
            )
        case .clientRejected:
            readRejectionBody(isComplete: true)
        case .serverHandshake:
            abort(closeInfo: .abnormal(.local), error: nil)
        case .open, .closed:
            break
        case .closeSent, .finishing:
            abort(closeInfo: .abnormal(.local), error: nil)
        }
    }

    /// Sends a ping, or fails the connection when the last one was not answered by now.
    ///
    /// While the socket is not read (the application or the peer is behind) a pong could not be seen, so none
    /// is due.
    private mutating func pingTimerFired() {
        guard case .open = phase, let interval = options.effectivePingInterval else { return }
        if isPaused || owedPong != nil {
            isAwaitingPong = false
        } else if isAwaitingPong {
            let reason = "ping timeout: no pong received"
            fail(
                Violation(
                    code: .internalError,
                    reason: reason,
                    error: WebSocketError(
                        .timedOut,
                        "no pong within \(durationText(interval))",
                        closeCode: .internalError,
                        closeReason: reason
                    )
                )
            )
            return
        } else {
            isAwaitingPong = true
            let payload: [UInt8] = Array("clusterkit".utf8)
            payload.withUnsafeBytes { output.appendControlFrame(.ping, payload: $0) }
            emit(.flush)
        }
        armPing()
    }
}

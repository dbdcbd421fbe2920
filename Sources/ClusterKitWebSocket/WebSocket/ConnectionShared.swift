import ClusterKitModel

/// What the handshake established, handed to the application's connection handle.
struct HandshakeInfo: Sendable, Hashable {
    var requestPath: String
    var requestHeaders: WebSocketHeaders
    var responseHeaders: WebSocketHeaders
    var remote: SocketAddress
    /// What TLS negotiated, when the connection uses it (set by the driver).
    var tls: WebSocketConnection.TLSDetails?
}

/// The part of a connection both the application's tasks and the reactor touch, behind one `Mutex`.
///
/// The application side queues outgoing frames, takes received messages and waits on continuations
/// stored here; the reactor moves bytes and messages in and out and resumes those continuations. Every
/// continuation is removed from the state under the lock before it is resumed, so it is resumed once.
final class ConnectionShared: Sendable {
    /// Which end of the connection this is.
    enum Role: Sendable {
        case client
        case server
    }

    let id: UInt64
    let role: Role
    let options: WebSocketConnection.Options
    let loop: EventLoop
    let state: Guarded<State>

    init(id: UInt64, role: Role, options: WebSocketConnection.Options, loop: EventLoop, location: String) {
        self.id = id
        self.role = role
        self.options = options
        self.loop = loop
        self.state = Guarded(State(location: location))
    }

    struct ReceiveWaiter {
        var id: UInt64
        var continuation: CheckedContinuation<WebSocketMessage?, any Error>
    }

    struct SendWaiter {
        var id: UInt64
        var frames: [UInt8]
        var since: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// The connection's lifecycle as the application sees it.
    enum Phase: Sendable, Equatable {
        case connecting
        case open
        case closing
        case closed
    }

    struct State {
        var location: String
        var phase = Phase.connecting
        var info: HandshakeInfo?

        // Inbound.
        var inbox: [(message: WebSocketMessage, size: Int)] = []
        var inboxHead = 0
        var inboxBytes = 0
        var isReadingPaused = false
        var isResumeRequested = false
        var receiveWaiters: [ReceiveWaiter] = []

        // Outbound.
        var pending: [UInt8] = []
        var inFlight = 0
        var isFlushScheduled = false
        var sendWaiters: [SendWaiter] = []
        var maskingKeys = MaskingKeys()

        // Closing.
        var closeInfo: WebSocketCloseInfo?
        var endError: WebSocketError?
        var requestedClose: (code: WebSocketCloseCode, reason: String)?
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var connectWaiter: CheckedContinuation<HandshakeInfo, any Error>?
        var nextWaiterID: UInt64 = 0

        init(location: String) {
            self.location = location
        }

        var queuedBytes: Int { pending.count + inFlight }

        /// The number of messages waiting for the application.
        var inboxCount: Int { inbox.count - inboxHead }

        /// The error a send or receive meets once the connection is no longer open.
        var sendError: WebSocketError {
            if let endError { return endError.located(at: location) }
            return WebSocketError(.closed, "connection is closed", location: location)
        }

        mutating func makeWaiterID() -> UInt64 {
            nextWaiterID += 1
            return nextWaiterID
        }

        /// Appends a message as one or more frames.
        static func encode(
            opcode: WebSocketFrame.Opcode,
            payload: UnsafeRawBufferPointer,
            role: Role,
            fragmentSize: Int,
            maskingKeys: inout MaskingKeys,
            into output: inout [UInt8]
        ) {
            var offset = 0
            var isFirst = true
            repeat {
                let end = min(payload.count, offset + max(1, fragmentSize))
                let key = role == .client ? maskingKeys.next() : nil
                WebSocketFrame.encode(
                    fin: end == payload.count,
                    opcode: isFirst ? opcode.rawValue : WebSocketFrame.Opcode.continuation.rawValue,
                    maskingKey: key,
                    payload: UnsafeRawBufferPointer(rebasing: payload[offset..<end]),
                    into: &output
                )
                isFirst = false
                offset = end
            } while offset < payload.count
        }

        /// Moves waiting senders into the queue while they fit; returns their continuations.
        mutating func admitWaiters(limit: Int) -> [CheckedContinuation<Void, any Error>] {
            var admitted: [CheckedContinuation<Void, any Error>] = []
            while let first = sendWaiters.first, queuedBytes == 0 || queuedBytes + first.frames.count <= limit {
                pending.append(contentsOf: first.frames)
                admitted.append(first.continuation)
                sendWaiters.removeFirst()
            }
            return admitted
        }
    }
}

// MARK: - Application side

extension ConnectionShared {
    private enum ReceiveStep {
        case message(WebSocketMessage)
        case end(WebSocketError?)
        case wait
    }

    /// Takes the next message, waiting for one; `nil` after a clean close.
    func receive() async throws -> WebSocketMessage? {
        let (step, resume) = state.withLock { state in
            let step = takeMessage(&state)
            return (step, resumeRequest(&state))
        }
        if resume { loop.post(.resumeReading(id)) }
        switch step {
        case .message(let message): return message
        case .end(let error):
            if let error { throw error }
            return nil
        case .wait: break
        }
        let waiterID = state.withLock { $0.makeWaiterID() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<WebSocketMessage?, any Error>) in
                let (step, resume) = state.withLock { state in
                    if Task.isCancelled { return (ReceiveStep.end(nil), false) }
                    let step = takeMessage(&state)
                    if case .wait = step {
                        state.receiveWaiters.append(ReceiveWaiter(id: waiterID, continuation: continuation))
                    }
                    return (step, resumeRequest(&state))
                }
                if resume { loop.post(.resumeReading(id)) }
                switch step {
                case .message(let message): continuation.resume(returning: message)
                case .end(let error):
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else if let error {
                        continuation.resume(throwing: error)
                    } else {
                        continuation.resume(returning: nil)
                    }
                case .wait: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> ReceiveWaiter? in
                guard let index = state.receiveWaiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.receiveWaiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func takeMessage(_ state: inout State) -> ReceiveStep {
        if state.inboxHead < state.inbox.count {
            let entry = state.inbox[state.inboxHead]
            state.inbox[state.inboxHead] = (.binary([]), 0)
            state.inboxHead += 1
            state.inboxBytes -= entry.size
            if state.inboxHead == state.inbox.count {
                state.inbox.removeAll(keepingCapacity: state.inbox.count <= 4096)
                state.inboxHead = 0
            } else if state.inboxHead >= 4096, state.inboxHead * 2 >= state.inbox.count {
                state.inbox.removeFirst(state.inboxHead)
                state.inboxHead = 0
            }
            return .message(entry.message)
        }
        // Once closing has begun no more messages arrive: the reactor delivers everything before it starts.
        if state.phase == .closed || state.phase == .closing {
            return .end(state.endError?.located(at: state.location))
        }
        return .wait
    }

    private func resumeRequest(_ state: inout State) -> Bool {
        guard state.isReadingPaused, !state.isResumeRequested, state.inboxBytes <= options.receiveQueueLimit / 2,
            state.inboxCount <= options.receiveQueueMessageLimit / 2
        else {
            return false
        }
        state.isResumeRequested = true
        return true
    }

    /// What ``enqueue(opcode:payload:)`` did with a message.
    enum SendStep: Sendable {
        /// Queued; nothing more to do.
        case sent
        /// Queued on an idle connection: the reactor must be told to write.
        case sentNeedsFlush
        /// The queue is full: wait for room with these encoded frames.
        case wait([UInt8])
        /// The queue is full and the policy is not to wait.
        case full
        /// The connection is not open.
        case failed(WebSocketError)
    }

    /// Queues one message if it fits, synchronously; the caller finishes with ``complete(_:)``.
    func enqueue(opcode: WebSocketFrame.Opcode, payload: UnsafeRawBufferPointer) -> SendStep {
        let limit = options.sendQueueLimit
        let estimate = payload.count + 14 * (payload.count / max(1, options.outgoingFragmentSize) + 1)
        return state.withLock { state -> SendStep in
            guard state.phase == .open else { return .failed(state.sendError) }
            if state.sendWaiters.isEmpty, state.queuedBytes == 0 || state.queuedBytes + estimate <= limit {
                State.encode(
                    opcode: opcode,
                    payload: payload,
                    role: role,
                    fragmentSize: options.outgoingFragmentSize,
                    maskingKeys: &state.maskingKeys,
                    into: &state.pending
                )
                if state.isFlushScheduled { return .sent }
                state.isFlushScheduled = true
                return .sentNeedsFlush
            }
            guard options.sendQueueTimeout > .zero else { return .full }
            var frames: [UInt8] = []
            State.encode(
                opcode: opcode,
                payload: payload,
                role: role,
                fragmentSize: options.outgoingFragmentSize,
                maskingKeys: &state.maskingKeys,
                into: &frames
            )
            return .wait(frames)
        }
    }

    /// Finishes a send: wakes the reactor, waits for room, or throws.
    func complete(_ step: SendStep) async throws {
        switch step {
        case .sent:
            return
        case .sentNeedsFlush:
            loop.post(.flush(id))
        case .failed(let error):
            throw error
        case .full:
            loop.post(.sendQueueFull(id))
            let location = state.withLock { $0.location }
            throw WebSocketError(
                .sendQueueFull,
                "send queue full",
                location: location,
                closeCode: .policyViolation,
                closeReason: "send queue full"
            )
        case .wait(let frames):
            try await waitForRoom(frames: frames)
        }
    }

    private enum Registration {
        case waiting(isFirst: Bool)
        case queued(flush: Bool)
        case failed(any Error)
    }

    private func waitForRoom(frames: [UInt8]) async throws {
        let waiterID = state.withLock { $0.makeWaiterID() }
        let limit = options.sendQueueLimit
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let registration = state.withLock { state -> Registration in
                    if Task.isCancelled { return .failed(CancellationError()) }
                    guard state.phase == .open else { return .failed(state.sendError) }
                    // Room may have appeared since the first look: then queue now rather than wait for a
                    // write that may never come.
                    if state.sendWaiters.isEmpty,
                        state.queuedBytes == 0 || state.queuedBytes + frames.count <= limit
                    {
                        state.pending.append(contentsOf: frames)
                        let flush = !state.isFlushScheduled
                        state.isFlushScheduled = true
                        return .queued(flush: flush)
                    }
                    let isFirst = state.sendWaiters.isEmpty
                    let waiter = SendWaiter(
                        id: waiterID,
                        frames: frames,
                        since: .now,
                        continuation: continuation
                    )
                    state.sendWaiters.append(waiter)
                    return .waiting(isFirst: isFirst)
                }
                switch registration {
                case .failed(let error):
                    continuation.resume(throwing: error)
                case .queued(let flush):
                    if flush { loop.post(.flush(id)) }
                    continuation.resume()
                case .waiting(let isFirst):
                    if isFirst { loop.post(.sendStalled(id)) }
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> SendWaiter? in
                guard let index = state.sendWaiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.sendWaiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Starts the close handshake (unless one is under way) and waits until the socket is closed.
    func close(code: WebSocketCloseCode, reason: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let post = state.withLock { state -> Bool? in
                guard state.phase != .closed else { return nil }
                state.closeWaiters.append(continuation)
                guard state.phase == .open || state.phase == .connecting, state.requestedClose == nil else {
                    return false
                }
                state.requestedClose = (code, reason)
                return true
            }
            switch post {
            case nil:
                continuation.resume()
            case true?:
                if !loop.post(.close(id)) { abandonAfterStop() }
            case false?:
                break
            }
        }
    }

    /// Asks for a close without waiting; used when the application drops its handle.
    func requestClose(code: WebSocketCloseCode, reason: String) {
        let post = state.withLock { state -> Bool in
            guard state.phase == .open || state.phase == .connecting, state.requestedClose == nil else {
                return false
            }
            state.requestedClose = (code, reason)
            return true
        }
        if post { loop.post(.close(id)) }
    }

    /// Resolves every waiter when the loop is gone (it closes every connection before it stops, so this
    /// only matters in a race with the stop).
    private func abandonAfterStop() {
        finish(
            closeInfo: WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .local, wasClean: false),
            error: nil
        )
    }
}

// MARK: - Reactor side

extension ConnectionShared {
    /// Hands received messages to the application; returns whether reading must pause.
    ///
    /// Each message's size already includes ``WebSocketConnection/Options/receiveQueueEntryOverhead``;
    /// reading pauses when the queue holds ``WebSocketConnection/Options/receiveQueueLimit`` bytes or
    /// ``WebSocketConnection/Options/receiveQueueMessageLimit`` messages.
    func deliver(_ messages: inout [(message: WebSocketMessage, size: Int)]) -> Bool {
        var resumed: [(ReceiveWaiter, WebSocketMessage)] = []
        let pause = state.withLock { state -> Bool in
            var index = 0
            while index < messages.count, !state.receiveWaiters.isEmpty, state.inboxHead == state.inbox.count {
                resumed.append((state.receiveWaiters.removeFirst(), messages[index].message))
                index += 1
            }
            while index < messages.count {
                state.inbox.append(messages[index])
                state.inboxBytes += messages[index].size
                index += 1
            }
            guard state.inboxBytes >= options.receiveQueueLimit || state.inboxCount >= options.receiveQueueMessageLimit
            else { return false }
            state.isReadingPaused = true
            state.isResumeRequested = false
            return true
        }
        messages.removeAll(keepingCapacity: true)
        for (waiter, message) in resumed { waiter.continuation.resume(returning: message) }
        return pause
    }

    /// Clears the paused flag when the reactor resumes reading; returns whether it should stay paused.
    func resumeReading() -> Bool {
        state.withLock { state in
            state.isResumeRequested = false
            guard state.inboxBytes < options.receiveQueueLimit, state.inboxCount < options.receiveQueueMessageLimit
            else { return true }
            state.isReadingPaused = false
            return false
        }
    }

    /// Whether the application has left enough unread messages that reading is paused.
    var isReadingPaused: Bool { state.withLock { $0.isReadingPaused } }

    /// The messages waiting for the application and the bytes they count for (overhead included).
    var receiveQueueUsage: (messages: Int, bytes: Int) { state.withLock { ($0.inboxCount, $0.inboxBytes) } }

    /// Swaps the queued frames into the reactor's empty output buffer; `false` when nothing was queued.
    func takePending(into output: inout [UInt8]) -> Bool {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.inFlight = 0
                state.isFlushScheduled = false
                return false
            }
            swap(&state.pending, &output)
            state.inFlight = output.count
            return true
        }
    }

    /// Records how much the reactor still holds after a write and admits waiting senders.
    func didWrite(unwritten: Int) {
        let admitted = state.withLock { state in
            state.inFlight = unwritten
            return state.sendWaiters.isEmpty ? [] : state.admitWaiters(limit: options.sendQueueLimit)
        }
        for continuation in admitted { continuation.resume() }
    }

    /// The oldest waiting sender's start, if any sender waits.
    var oldestSendWaiter: ContinuousClock.Instant? { state.withLock { $0.sendWaiters.first?.since } }

    /// The close the application asked for, if any.
    var requestedClose: (code: WebSocketCloseCode, reason: String)? { state.withLock { $0.requestedClose } }

    /// Marks the connection open after the handshake; `false` when the application gave up meanwhile.
    func open(info: HandshakeInfo) -> Bool {
        let waiter = state.withLock { state -> CheckedContinuation<HandshakeInfo, any Error>?? in
            guard state.phase == .connecting, state.requestedClose == nil else { return nil }
            state.phase = .open
            state.info = info
            let waiter = state.connectWaiter
            state.connectWaiter = nil
            return .some(waiter)
        }
        guard let waiter else { return false }
        waiter?.resume(returning: info)
        return true
    }

    /// Stops accepting sends, moves whatever is queued into the reactor's output, and records how the
    /// connection ends (the first caller decides); resolves waiting senders with the error.
    func beginClosing(
        closeInfo: WebSocketCloseInfo,
        error: WebSocketError?,
        flushInto output: inout [UInt8],
        keepQueued: Bool
    ) {
        let (senders, receivers, endError, sendError) = state.withLock { state in
            if state.closeInfo == nil {
                state.closeInfo = closeInfo
                state.endError = error
            }
            if state.phase == .open || state.phase == .connecting { state.phase = .closing }
            if keepQueued { output.append(contentsOf: state.pending) }
            state.pending.removeAll()
            state.inFlight = 0
            defer {
                state.sendWaiters.removeAll()
                state.receiveWaiters.removeAll()
            }
            return (
                state.sendWaiters, state.receiveWaiters, state.endError?.located(at: state.location), state.sendError
            )
        }
        for sender in senders { sender.continuation.resume(throwing: sendError) }
        for receiver in receivers {
            if let endError {
                receiver.continuation.resume(throwing: endError)
            } else {
                receiver.continuation.resume(returning: nil)
            }
        }
    }

    /// Updates the close record once both close frames were exchanged.
    func markClean() {
        state.withLock { state in state.closeInfo?.wasClean = true }
    }

    /// Marks the connection closed and resolves every waiter; called once, when the socket is closed.
    func finish(closeInfo: WebSocketCloseInfo, error: WebSocketError?) {
        let taken = state.withLock { state in
            if state.closeInfo == nil {
                state.closeInfo = closeInfo
                state.endError = error
            }
            state.phase = .closed
            state.pending = []
            state.inFlight = 0
            defer {
                state.receiveWaiters = []
                state.sendWaiters = []
                state.closeWaiters = []
                state.connectWaiter = nil
            }
            return (
                state.receiveWaiters, state.sendWaiters, state.closeWaiters, state.connectWaiter,
                state.endError?.located(at: state.location), state.sendError
            )
        }
        let (receivers, senders, closers, connector, endError, sendError) = taken
        for receiver in receivers {
            if let endError {
                receiver.continuation.resume(throwing: endError)
            } else {
                receiver.continuation.resume(returning: nil)
            }
        }
        for sender in senders { sender.continuation.resume(throwing: sendError) }
        connector?.resume(throwing: endError ?? sendError)
        for closer in closers { closer.resume() }
    }
}

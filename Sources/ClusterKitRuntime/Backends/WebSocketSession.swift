import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
import Synchronization

/// The connection behind a ``WebSocketBackend``: which connection is current, the subscriptions, and the
/// operations that replace the connection (connect, resubscribe, reconnect).
///
/// State sits behind one `Mutex`; nothing is awaited while it is held. Operations that open a connection
/// take the `isBusy` flag first (an asynchronous lock), so at most one handshake runs at a time. Tasks wait
/// for a change of state (the flag, the phase) on continuations keyed by id: every change bumps `version`
/// and resumes them, and a waiter registers only if `version` is still the one it saw, so no wake-up is lost.
///
/// Publishing and receiving take the current connection from the state without waiting and use it directly;
/// each connection carries a generation number, so a task that finds its connection gone can tell a
/// replacement (go on with the new one) from a loss (record it, maybe reconnect).
final class WebSocketSession: Sendable {
    /// An open, acknowledged connection.
    struct Live: Sendable {
        let connection: WebSocketConnection
        let ack: Broker.Ack
        let generation: UInt64
        /// The subscriptions sent on it.
        let subscriptions: [String]
    }

    enum Phase: Sendable {
        /// Never connected.
        case idle
        case connected(Live)
        /// Lost; a reconnection is due.
        case broken(Live, BackendError)
        /// Lost for good (no reconnection, or it gave up).
        case failed(BackendError)
        case closed
    }

    struct State {
        var phase = Phase.idle
        var subscriptions: [String] = []
        /// Replaced or lost connections whose received messages ``nextEvent()`` still returns, oldest first;
        /// at most ``WebSocketSession/drainingLimit``.
        var draining: [Live] = []

        /// Adds a connection to drain; returns the one given up on to stay within the limit, if any.
        mutating func retire(_ live: Live) -> Live? {
            draining.append(live)
            guard draining.count > WebSocketSession.drainingLimit else { return nil }
            return draining.removeFirst()
        }
        var isBusy = false
        var version: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID: UInt64 = 0
        var generation: UInt64 = 0
        var diagnostics = WebSocketBackend.Diagnostics()
    }

    /// How many replaced or lost connections keep their unread messages for ``nextEvent()``; beyond that
    /// (a backend that resubscribes again and again while nobody reads its events) the oldest are dropped.
    static let drainingLimit = 8

    let url: String
    let options: WebSocketBackend.Options
    let clock: any Clock<Duration>
    let log: (@Sendable (String) -> Void)?
    private let state = Mutex(State())
    /// Runs after a connection that replaces a lost one is installed; set once, by the backend.
    private let reconnected = Mutex<(@Sendable () async -> Void)?>(nil)
    /// Counted apart from the state: it changes with every event, and the lock is for the connection.
    private let receivedEvents = Atomic<Int>(0)

    init(url: String, options: WebSocketBackend.Options, clock: any Clock<Duration>, log: (@Sendable (String) -> Void)?)
    {
        self.url = url
        self.options = options
        self.clock = clock
        self.log = log
    }

    var nodeID: String { state.withLock { $0.diagnostics.ack?.endpoint ?? "" } }

    /// Sets what runs after every connection that replaces a lost one.
    ///
    /// That is an automatic reconnection, or ``connect()`` after a loss; not the first connection, not a
    /// resubscription. It runs in the task that made the connection, after the busy flag is released, so it
    /// may publish.
    func onReconnect(_ handler: @escaping @Sendable () async -> Void) {
        reconnected.withLock { $0 = handler }
    }

    private func runReconnectHandler() async {
        guard let handler = reconnected.withLock({ $0 }) else { return }
        await handler()
    }

    var diagnostics: WebSocketBackend.Diagnostics {
        state.withLock { state in
            var diagnostics = state.diagnostics
            diagnostics.receivedEvents = receivedEvents.load(ordering: .relaxed)
            diagnostics.subscriptions = state.subscriptions
            if case .connected = state.phase { diagnostics.isConnected = true }
            return diagnostics
        }
    }

    private var closedError: BackendError { BackendError(.closed, "endpoint is closed", endpoint: url) }

    // MARK: - Waiting for changes

    /// Applies a change, bumps the version and wakes every waiter.
    @discardableResult
    private func change<Value>(_ body: (inout State) -> Value) -> Value {
        let (value, waiters) = state.withLock { state in
            let value = body(&state)
            state.version &+= 1
            defer { state.waiters = [:] }
            return (value, Array(state.waiters.values))
        }
        for waiter in waiters { waiter.resume() }
        return value
    }

    /// Suspends until the state changed since `seen`.
    ///
    /// - Throws: `CancellationError` when the task is cancelled.
    private func waitForChange(since seen: UInt64) async throws {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isReady = state.withLock { state -> Bool in
                    if state.version != seen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if isReady { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
        try Task.checkCancellation()
    }

    /// Takes the busy flag, waiting while another operation holds it.
    private func acquire() async throws {
        while true {
            let seen = state.withLock { state -> UInt64? in
                guard state.isBusy else {
                    state.isBusy = true
                    return nil
                }
                return state.version
            }
            guard let seen else { return }
            try await waitForChange(since: seen)
        }
    }

    private func release() {
        change { $0.isBusy = false }
    }

    /// Runs `body` unless the session is closed first; then cancels it and returns `nil`.
    private func unlessClosed<Value: Sendable>(
        _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value? {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while true {
                    let seen = self.state.withLock { state -> UInt64? in
                        if case .closed = state.phase { return nil }
                        return state.version
                    }
                    guard let seen else { return nil }
                    try await self.waitForChange(since: seen)
                }
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    // MARK: - Connecting

    func connect() async throws {
        if try await connectOnce() { await runReconnectHandler() }
    }

    /// Connects unless connected; returns whether the new connection replaces a lost one.
    private func connectOnce() async throws -> Bool {
        try await acquire()
        defer { release() }
        let isAfterLoss: Bool
        switch state.withLock({ $0.phase }) {
        case .closed: throw closedError
        case .connected: return false
        case .idle: isAfterLoss = false
        case .broken, .failed: isAfterLoss = true
        }
        guard let live = try await install(retiring: nil) else { throw closedError }
        log?("connected to \(url) as '\(live.ack.endpoint)' (server version \(live.ack.version))")
        return isAfterLoss
    }

    /// Opens a connection with the current subscriptions and makes it the current one.
    ///
    /// Opens another one if the subscriptions changed meanwhile. The caller holds the busy flag.
    ///
    /// - Parameter retiring: The connection being replaced; from the moment the new one is current,
    ///   ``nextEvent()`` drains it first.
    /// - Returns: The new connection, or `nil` when the session was closed.
    /// - Throws: ``BackendError`` when the handshake fails; `CancellationError`.
    private func install(retiring: Live?) async throws -> Live? {
        while true {
            let subscriptions = state.withLock { $0.subscriptions }
            guard let live = try await unlessClosed({ try await self.establish(subscriptions) }) else { return nil }
            enum Outcome {
                case installed
                case stale
                case closed
            }
            var dropped: Live?
            let outcome = change { state -> Outcome in
                if case .closed = state.phase { return .closed }
                guard state.subscriptions == subscriptions else { return .stale }
                state.phase = .connected(live)
                if let retiring { dropped = state.retire(retiring) }
                state.diagnostics.ack = live.ack
                state.diagnostics.connections += 1
                return .installed
            }
            if let dropped { droppedUnread(dropped) }
            switch outcome {
            case .installed:
                return live
            case .stale:
                await live.connection.close()
            case .closed:
                await live.connection.close()
                return nil
            }
        }
    }

    /// Connects, sends the subscription frame and waits for the ack.
    private func establish(_ subscriptions: [String]) async throws -> Live {
        var headers = WebSocketHeaders()
        if let name = options.applicationName { headers.append(name: "X-Application-Name", value: name) }
        for field in options.headers.fields { headers.append(name: field.name, value: field.value) }
        let connection: WebSocketConnection
        do {
            connection = try await WebSocketClient.connect(to: url, headers: headers, options: options.client)
        } catch let error as WebSocketError {
            throw backendError(error, connection: nil)
        }
        do {
            do {
                try await connection.send(text: Broker.JSON.encodeSubscriptions(subscriptions))
            } catch is WebSocketError {
                // Zeek rejects a wrong path or application name as soon as the connection opens, so the
                // close may beat the subscriptions; its error frame is still waiting to be read, and says why.
            }
            let ack = try await awaitAck(on: connection)
            let generation = state.withLock { state in
                state.generation += 1
                return state.generation
            }
            return Live(connection: connection, ack: ack, generation: generation, subscriptions: subscriptions)
        } catch {
            await connection.close()
            if let error = error as? WebSocketError { throw backendError(error, connection: connection) }
            throw error
        }
    }

    private enum AckWait: Sendable {
        case message(WebSocketMessage?)
        case timedOut
    }

    private func awaitAck(on connection: WebSocketConnection) async throws -> Broker.Ack {
        let limit = options.ackTimeout
        let clock = self.clock
        let outcome = try await withThrowingTaskGroup(of: AckWait.self) { group in
            group.addTask { .message(try await connection.receive()) }
            group.addTask {
                try await clock.sleep(for: limit)
                return .timedOut
            }
            defer { group.cancelAll() }
            return try await group.next() ?? .timedOut
        }
        switch outcome {
        case .timedOut:
            throw BackendError(.timedOut, "no ack within \(limit.textForPeople)", endpoint: url)
        case .message(nil):
            let info = connection.closeInfo.map(\.codeAndReason) ?? "no close code"
            throw BackendError(.connectionClosed, "closed by the server before the ack with \(info)", endpoint: url)
        case .message(let message?):
            switch try? message.brokerMessage() {
            case .ack(let ack)?:
                return ack
            case .error(let error)?:
                let error = Self.bounded(error)
                throw BackendError(
                    .handshakeRejected,
                    "handshake rejected: \(error.code): \(error.context)",
                    endpoint: url
                )
            case .data(let data)?:
                throw BackendError(
                    .protocolViolation,
                    "expected an ack, got a data message on topic '\(data.topic)'",
                    endpoint: url
                )
            case nil:
                throw BackendError(
                    .protocolViolation,
                    "expected an ack, got '\(oneLine(message.textContent, limit: 80))'",
                    endpoint: url
                )
            }
        }
    }

    /// A WebSocket error as the backend reports it, at the URL.
    private func backendError(_ error: WebSocketError, connection: WebSocketConnection?) -> BackendError {
        let code: BackendError.Code =
            switch error.code {
            case .connectionRefused, .nameResolutionFailed: .connectionRefused
            case .timedOut: .timedOut
            case .handshakeRejected: .handshakeRejected
            case .closed, .ioError: .connectionClosed
            case .sendQueueFull: .queueFull
            case .protocolViolation, .messageTooBig: .protocolViolation
            case .invalidURL, .invalidHeader, .invalidAddress, .addressInUse: .invalidState
            }
        if error.code == .closed, let info = connection?.closeInfo, info.initiator == .peer {
            return BackendError(.connectionClosed, "closed by the server with \(info.codeAndReason)", endpoint: url)
        }
        return BackendError(code, error.message, endpoint: url)
    }

    // MARK: - Subscriptions

    /// Changes the subscriptions; when connected, switches to a connection with the new list.
    func updateSubscriptions(_ update: @Sendable (inout [String]) -> Bool) async throws {
        let (changed, isConnected) = try state.withLock { state -> (Bool, Bool) in
            if case .closed = state.phase { throw closedError }
            var subscriptions = state.subscriptions
            guard update(&subscriptions) else { return (false, false) }
            state.subscriptions = subscriptions
            if case .connected = state.phase { return (true, true) }
            return (true, false)
        }
        // Not connected: the next connect or reconnect sends the new list (one under way notices the change).
        guard changed, isConnected else { return }
        try await acquire()
        defer { release() }
        guard case .connected(let old) = state.withLock({ $0.phase }),
            old.subscriptions != state.withLock({ $0.subscriptions })
        else { return }
        do {
            guard let live = try await install(retiring: old) else { throw closedError }
            log?("resubscribed on \(url) as '\(live.ack.endpoint)': [\(live.subscriptions.joined(separator: ", "))]")
        } catch {
            // The old connection stays, and so do its subscriptions.
            state.withLock { $0.subscriptions = old.subscriptions }
            throw error
        }
        // The consumer of `events` drains what the old connection received, then moves to the new one.
        await old.connection.close()
    }

    // MARK: - Publishing

    /// The current connection; reconnects (or waits for a reconnection) when it was lost.
    private func liveConnection() async throws -> Live {
        while true {
            switch state.withLock({ $0.phase }) {
            case .connected(let live): return live
            case .idle: throw BackendError(.notConnected, "endpoint is not connected", endpoint: url)
            case .closed: throw closedError
            case .failed(let error): throw error
            case .broken: try await reconnect()
            }
        }
    }

    func publish(_ frame: [UInt8]) async throws {
        var isRetry = false
        while true {
            let live = try await liveConnection()
            do {
                try await live.connection.send(utf8Text: frame)
                return
            } catch let error as WebSocketError {
                // A resubscription replaced the connection meanwhile: send on the new one.
                if !isRetry, isReplaced(live) {
                    isRetry = true
                    continue
                }
                let failure = lost(live, error)
                if case .closed = state.withLock({ $0.phase }) { throw closedError }
                throw failure
            }
        }
    }

    private func isReplaced(_ live: Live) -> Bool {
        state.withLock { state in
            if case .connected(let current) = state.phase { return current.generation != live.generation }
            return false
        }
    }

    // MARK: - Receiving

    private enum Step {
        case receive(Live)
        case drain(Live)
        case wait(UInt64)
        case reconnect
        case fail(BackendError)
        case end
    }

    func nextEvent() async throws -> TopicEvent? {
        while true {
            let step = state.withLock { state -> Step in
                if case .closed = state.phase { return .end }
                if let old = state.draining.first { return .drain(old) }
                return switch state.phase {
                case .connected(let live): .receive(live)
                case .idle: .wait(state.version)
                case .broken: .reconnect
                case .failed(let error): .fail(error)
                case .closed: .end
                }
            }
            switch step {
            case .end:
                return nil
            case .drain(let old):
                // What a replaced or lost connection received before it ended comes first.
                let message: WebSocketMessage?
                do {
                    message = try await old.connection.receive()
                } catch is CancellationError {
                    return nil
                } catch {
                    message = nil
                }
                guard let message else {
                    state.withLock { $0.draining.removeAll { $0.generation == old.generation } }
                    continue
                }
                if let event = handle(message) { return event }
            case .fail(let error):
                throw error
            case .wait(let seen):
                do { try await waitForChange(since: seen) } catch { return nil }
            case .reconnect:
                do { try await reconnect() } catch { return nil }
            case .receive(let live):
                let message: WebSocketMessage?
                do {
                    message = try await live.connection.receive()
                } catch is CancellationError {
                    return nil
                } catch {
                    lost(live, error as? WebSocketError)
                    continue
                }
                guard let message else {
                    lost(live, nil)
                    continue
                }
                if let event = handle(message) { return event }
            }
        }
    }

    /// Returns the event a frame carries; counts and logs every other frame.
    private func handle(_ message: WebSocketMessage) -> TopicEvent? {
        if let (topic, event) = message.compactEvent() {
            receivedEvents.add(1, ordering: .relaxed)
            return TopicEvent(topic: Topic(topic), event: event)
        }
        let decoded: Broker.Message
        do {
            decoded = try message.brokerMessage()
        } catch {
            state.withLock { $0.diagnostics.invalidFrames += 1 }
            log?("ignored a frame from \(url) that is not Broker JSON: \(error)")
            return nil
        }
        switch decoded {
        case .data(let data):
            do {
                let event = try data.event()
                receivedEvents.add(1, ordering: .relaxed)
                return TopicEvent(topic: Topic(data.topic), event: event)
            } catch {
                state.withLock { $0.diagnostics.skippedDataMessages += 1 }
                log?("skipped a data message on topic '\(data.topic)' that is not an event: \(error)")
                return nil
            }
        case .error(let error):
            // A server decides how long its error frames are; what is kept and logged is bounded.
            let error = Self.bounded(error)
            state.withLock { state in
                state.diagnostics.errorFrames += 1
                state.diagnostics.recentErrors.append(error)
                let excess = state.diagnostics.recentErrors.count - WebSocketBackend.Diagnostics.recentErrorLimit
                if excess > 0 { state.diagnostics.recentErrors.removeFirst(excess) }
            }
            log?("error from \(url): \(error.code): \(error.context)")
            return nil
        case .ack:
            state.withLock { $0.diagnostics.invalidFrames += 1 }
            log?("ignored an ack from \(url) after the handshake")
            return nil
        }
    }

    /// An error frame with its code and context cut to ``WebSocketBackend/Diagnostics/recentErrorTextLimit``
    /// characters and on one line.
    static func bounded(_ error: Broker.ErrorMessage) -> Broker.ErrorMessage {
        Broker.ErrorMessage(code: bounded(error.code), context: bounded(error.context))
    }

    private static func bounded(_ text: String) -> String {
        let limit = WebSocketBackend.Diagnostics.recentErrorTextLimit
        let head = text.prefix(limit + 1)
        var result = head.count > limit ? String(head.prefix(limit)) + "..." : String(head)
        if result.contains(where: \.isNewline) {
            result = String(result.map { $0.isNewline ? " " : $0 })
        }
        return result
    }

    /// Reports a retired connection whose unread messages are given up on.
    private func droppedUnread(_ live: Live) {
        log?("dropped the unread messages of '\(live.ack.endpoint)': too many replaced connections not read")
    }

    /// Records that a connection ended (unless it was replaced or closed on purpose) and returns why.
    @discardableResult
    private func lost(_ live: Live, _ error: WebSocketError?) -> BackendError {
        let failure =
            error.map { backendError($0, connection: live.connection) }
            ?? BackendError(
                .connectionClosed,
                "closed by the server with \(live.connection.closeInfo.map(\.codeAndReason) ?? "no close code")",
                endpoint: url
            )
        var dropped: Live?
        let isCurrent = change { state -> Bool in
            guard case .connected(let current) = state.phase, current.generation == live.generation else {
                return false
            }
            state.diagnostics.lastError = failure
            state.phase = options.reconnect == nil ? .failed(failure) : .broken(live, failure)
            // Messages it received before the end are still returned, before the error or the reconnection.
            dropped = state.retire(live)
            return true
        }
        if isCurrent { log?("lost the connection: \(failure)") }
        if let dropped { droppedUnread(dropped) }
        return failure
    }

    /// Reconnects with exponential back-off, unless another task did or the session was closed; then runs the
    /// reconnection handler.
    private func reconnect() async throws {
        if try await reconnectOnce() { await runReconnectHandler() }
    }

    /// The attempts of ``reconnect()``; returns whether this task made the new connection.
    private func reconnectOnce() async throws -> Bool {
        try await acquire()
        defer { release() }
        guard case .broken(_, var failure) = state.withLock({ $0.phase }), let policy = options.reconnect else {
            return false
        }
        let clock = self.clock
        var delay = policy.initialDelay
        for attempt in 1...policy.maximumAttempts {
            log?(
                "reconnecting to \(url) in \(delay.textForPeople) (attempt \(attempt) of \(policy.maximumAttempts))"
            )
            let wait = delay
            guard try await unlessClosed({ try await clock.sleep(for: wait) }) != nil else { return false }
            state.withLock { $0.diagnostics.reconnectAttempts += 1 }
            do {
                guard let live = try await install(retiring: nil) else { return false }
                log?("reconnected to \(url) as '\(live.ack.endpoint)'")
                return true
            } catch let error as BackendError {
                failure = error
                log?("reconnection attempt \(attempt) failed: \(error.message)")
            }
            delay = min(delay * 2, policy.maximumDelay)
        }
        let final = BackendError(
            failure.code,
            "gave up after \(policy.maximumAttempts) reconnection attempts: \(failure.message)",
            endpoint: url
        )
        change { state in
            guard case .broken = state.phase else { return }
            state.phase = .failed(final)
            state.diagnostics.lastError = final
        }
        log?("\(final)")
        return false
    }

    // MARK: - Closing

    func close() async {
        let live = change { state -> Live? in
            defer {
                state.phase = .closed
                state.draining = []
            }
            switch state.phase {
            case .connected(let live), .broken(let live, _): return live
            case .idle, .failed, .closed: return nil
            }
        }
        await live?.connection.close()
    }
}

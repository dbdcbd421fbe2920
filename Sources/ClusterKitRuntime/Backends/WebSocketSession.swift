import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
import Synchronization

/// The connection behind a ``WebSocketBackend``: the owner of a ``WebSocketSessionStateMachine`` that performs
/// its actions.
///
/// Everything that changes the connection (connect, subscribe and unsubscribe, reconnect, close) is a command to
/// the state machine, made under one `Mutex` and never awaited there. A command that has to wait gets a ticket and
/// suspends until the machine completes it; when the command starts a handshake or a reconnection, the task that
/// submitted it performs the I/O meanwhile, in a child task, and feeds the results back. Whatever else waits for
/// the same connection joins that operation and is completed with it.
///
/// Publishing and receiving take the current connection from the machine without waiting and use it directly;
/// each connection carries a generation number, so a task that finds its connection gone can tell a replacement
/// (go on with the new one) from a loss (tell the machine, which may start a reconnection for the next user).
final class WebSocketSession: Sendable {
    typealias Machine = WebSocketSessionStateMachine<WebSocketConnection>
    typealias Live = Machine.Live

    /// Where a command's completion stands.
    private enum Promise {
        /// Submitted; nobody awaits it yet and it is not complete.
        case pending
        /// Awaited by its task.
        case awaited(CheckedContinuation<Machine.Resolution, Never>)
        /// Complete before its task awaited it.
        case complete(Machine.Resolution)
    }

    /// What the frames after the acks held, apart from the events.
    private struct FrameCounts {
        var skippedDataMessages = 0
        var errorFrames = 0
        var recentErrors: [Broker.ErrorMessage] = []
        var invalidFrames = 0
    }

    private struct Core {
        var machine: Machine
        var promises: [Machine.Ticket: Promise] = [:]
        var lastTicket: Machine.Ticket = 0
        var frames = FrameCounts()
    }

    let url: String
    let options: WebSocketBackend.Options
    let log: (@Sendable (String) -> Void)?
    /// The time since the session was created, on the injected clock.
    private let now: @Sendable () -> Duration
    /// Sleeps until a time since the session was created; throws `CancellationError` when cancelled.
    private let sleep: @Sendable (Duration) async throws -> Void
    private let core: Guarded<Core>
    /// Runs after a connection that replaces a lost one is installed; set once, by the backend.
    private let reconnected = Guarded<(@Sendable () async -> Void)?>(nil)
    /// Counted apart from the state: it changes with every event, and the lock is for the connection.
    private let receivedEvents = Atomic<Int>(0)

    init(url: String, options: WebSocketBackend.Options, clock: any Clock<Duration>, log: (@Sendable (String) -> Void)?)
    {
        self.url = url
        self.options = options
        self.log = log
        (now, sleep) = Self.time(on: clock)
        core = Guarded(Core(machine: Machine(url: url, ackTimeout: options.ackTimeout, reconnect: options.reconnect)))
    }

    /// Reads and sleeps on a clock in durations since its current instant, which keeps instants of an unknown type
    /// out of the state machine.
    private static func time<C: Clock>(
        on clock: C
    ) -> (now: @Sendable () -> Duration, sleep: @Sendable (Duration) async throws -> Void)
    where C.Duration == Duration {
        let origin = clock.now
        return (
            { origin.duration(to: clock.now) },
            { deadline in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil) }
        )
    }

    var nodeID: String { core.withLock { $0.machine.diagnostics.ack?.endpoint ?? "" } }

    /// Sets what runs after every connection that replaces a lost one.
    ///
    /// That is an automatic reconnection, or ``connect()`` after a loss; not the first connection, not a
    /// resubscription. It runs in the task that made the connection, after the other waiting commands were
    /// completed, so it may publish.
    func onReconnect(_ handler: @escaping @Sendable () async -> Void) {
        reconnected.withLock { $0 = handler }
    }

    private func runReconnectHandler() async {
        guard let handler = reconnected.withLock({ $0 }) else { return }
        await handler()
    }

    var diagnostics: WebSocketBackend.Diagnostics {
        core.withLock { core in
            var diagnostics = core.machine.diagnostics
            diagnostics.receivedEvents = receivedEvents.load(ordering: .relaxed)
            diagnostics.skippedDataMessages = core.frames.skippedDataMessages
            diagnostics.errorFrames = core.frames.errorFrames
            diagnostics.recentErrors = core.frames.recentErrors
            diagnostics.invalidFrames = core.frames.invalidFrames
            return diagnostics
        }
    }

    private var closedError: BackendError { BackendError(.closed, "endpoint is closed", endpoint: url) }

    // MARK: - Commands

    /// Submits a command and waits for its completion, performing the I/O the machine hands to it meanwhile.
    ///
    /// When the command starts an operation, its I/O runs in a child task that is cancelled once the command is
    /// complete (the operation is over by then, or the session closed). A cancelled command is taken back from
    /// the machine, which abandons the operation it performed.
    private func submit(
        _ command: (inout Machine, Machine.Ticket, Duration) -> [Machine.Action]
    ) async -> Machine.Resolution {
        let now = self.now()
        let (ticket, actions) = core.withLock { core in
            core.lastTicket += 1
            let ticket = core.lastTicket
            core.promises[ticket] = .pending
            return (ticket, command(&core.machine, ticket, now))
        }
        let resolution: Machine.Resolution
        if actions.contains(where: \.isIO) {
            resolution = await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.perform(actions) }
                let resolution = await completion(of: ticket)
                group.cancelAll()
                return resolution
            }
        } else {
            await perform(actions)
            resolution = await completion(of: ticket)
        }
        if resolution == .cancelled { await perform(core.withLock { $0.machine.cancel(ticket) }) }
        return resolution
    }

    /// Waits until the machine completes the ticket, or the task is cancelled.
    private func completion(of ticket: Machine.Ticket) async -> Machine.Resolution {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Machine.Resolution, Never>) in
                let ready = core.withLock { core -> Machine.Resolution? in
                    switch core.promises[ticket] {
                    case .complete(let resolution)?:
                        core.promises[ticket] = nil
                        return resolution
                    case .pending? where !Task.isCancelled:
                        core.promises[ticket] = .awaited(continuation)
                        return nil
                    case .pending?, .awaited?, nil:
                        core.promises[ticket] = nil
                        return .cancelled
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let continuation = core.withLock { core -> CheckedContinuation<Machine.Resolution, Never>? in
                switch core.promises[ticket] {
                case .awaited(let continuation)?:
                    core.promises[ticket] = nil
                    return continuation
                case .pending?:
                    core.promises[ticket] = .complete(.cancelled)
                    return nil
                case .complete?, nil:
                    return nil
                }
            }
            continuation?.resume(returning: .cancelled)
        }
    }

    /// Completes tickets; a ticket whose task has gone (it was cancelled) is ignored.
    private func complete(_ tickets: [Machine.Ticket], _ resolution: Machine.Resolution) {
        let continuations = core.withLock { core in
            tickets.compactMap { ticket -> CheckedContinuation<Machine.Resolution, Never>? in
                switch core.promises[ticket] {
                case .awaited(let continuation)?:
                    core.promises[ticket] = nil
                    return continuation
                case .pending?:
                    core.promises[ticket] = .complete(resolution)
                    return nil
                case .complete?, nil:
                    return nil
                }
            }
        }
        for continuation in continuations { continuation.resume(returning: resolution) }
    }

    // MARK: - Performing actions

    /// Performs actions in order, feeding the results of their I/O back to the machine and performing what it
    /// answers, until nothing is left.
    private func perform(_ actions: [Machine.Action]) async {
        var queue = actions[...]
        while let action = queue.popFirst() {
            switch action {
            case .complete(let tickets, let resolution):
                complete(tickets, resolution)
            case .log(let line):
                log?(line)
            case .close(let connection):
                await connection.close()
            case .open(let step, let subscriptions):
                queue.append(contentsOf: await open(step, subscriptions: subscriptions))
            case .sendSubscriptions(let connection, let subscriptions):
                do {
                    try await connection.send(text: Broker.JSON.encodeSubscriptions(subscriptions))
                } catch {
                    // Zeek rejects a wrong path or application name as soon as the connection opens, so the
                    // close may beat the subscriptions; its error frame is still waiting to be read, and says why.
                }
            case .awaitAck(let step, let connection, let deadline):
                queue.append(contentsOf: await awaitAck(step, on: connection, deadline: deadline))
            case .startTimer(let step, let deadline):
                // A cancelled sleep reports nothing: the operation was abandoned or the session closed.
                guard (try? await sleep(deadline)) != nil else { continue }
                let now = self.now()
                queue.append(contentsOf: core.withLock { $0.machine.timerFired(step, now: now) })
            }
        }
    }

    /// Opens a connection; returns the machine's answer to the outcome.
    private func open(_ step: Machine.Step, subscriptions: [String]) async -> [Machine.Action] {
        var headers = WebSocketHeaders()
        if let name = options.applicationName { headers.append(name: "X-Application-Name", value: name) }
        for field in options.headers.fields { headers.append(name: field.name, value: field.value) }
        do {
            let connection = try await WebSocketClient.connect(to: url, headers: headers, options: options.client)
            let now = self.now()
            return core.withLock { $0.machine.opened(step, connection, now: now) }
        } catch let error as WebSocketError {
            let failure = backendError(error, connection: nil)
            let now = self.now()
            return core.withLock { $0.machine.handshakeFailed(step, failure, now: now) }
        } catch {
            // Cancelled: the operation was abandoned or the session closed.
            return []
        }
    }

    private enum AckWait: Sendable {
        case message(WebSocketMessage?)
        case failed(WebSocketError)
        case deadline
    }

    /// Reads the first frame, unless the deadline comes first; returns the machine's answer.
    private func awaitAck(
        _ step: Machine.Step,
        on connection: WebSocketConnection,
        deadline: Duration
    ) async -> [Machine.Action] {
        let sleep = self.sleep
        let outcome = await withTaskGroup(of: AckWait?.self) { group in
            group.addTask {
                do {
                    return .message(try await connection.receive())
                } catch let error as WebSocketError {
                    return .failed(error)
                } catch {
                    return nil
                }
            }
            group.addTask {
                guard (try? await sleep(deadline)) != nil else { return nil }
                return .deadline
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
        let now = self.now()
        switch outcome {
        case nil:
            // Cancelled: the operation was abandoned or the session closed.
            return []
        case .deadline:
            return core.withLock { $0.machine.timerFired(step, now: now) }
        case .failed(let error):
            let failure = backendError(error, connection: connection)
            return core.withLock { $0.machine.handshakeFailed(step, failure, now: now) }
        case .message(let message):
            switch ack(in: message, on: connection) {
            case .success(let ack): return core.withLock { $0.machine.ackReceived(step, ack, now: now) }
            case .failure(let error): return core.withLock { $0.machine.handshakeFailed(step, error, now: now) }
            }
        }
    }

    /// The ack a first frame holds, or why it is none.
    private func ack(
        in message: WebSocketMessage?,
        on connection: WebSocketConnection
    ) -> Result<
        Broker.Ack, BackendError
    > {
        guard let message else {
            let info = connection.closeInfo.map(\.codeAndReason) ?? "no close code"
            return .failure(
                BackendError(.connectionClosed, "closed by the server before the ack with \(info)", endpoint: url)
            )
        }
        switch try? message.brokerMessage() {
        case .ack(let ack)?:
            return .success(ack)
        case .error(let error)?:
            let error = Self.bounded(error)
            return .failure(
                BackendError(.handshakeRejected, "handshake rejected: \(error.code): \(error.context)", endpoint: url)
            )
        case .data(let data)?:
            return .failure(
                BackendError(
                    .protocolViolation,
                    "expected an ack, got a data message on topic '\(data.topic)'",
                    endpoint: url
                )
            )
        case nil:
            return .failure(
                BackendError(
                    .protocolViolation,
                    "expected an ack, got '\(oneLine(message.textContent, limit: 80))'",
                    endpoint: url
                )
            )
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
            case .tlsUnavailable, .tlsFailed, .tlsClientCertificateRefused: .tlsFailed
            }
        if error.code == .closed, let info = connection?.closeInfo, info.initiator == .peer {
            return BackendError(.connectionClosed, "closed by the server with \(info.codeAndReason)", endpoint: url)
        }
        return BackendError(code, error.message, endpoint: url)
    }

    // MARK: - Connecting and subscribing

    func connect() async throws {
        while true {
            switch await submit({ $0.connect($1, now: $2) }) {
            case .proceed: return
            case .proceedAfterReconnecting:
                await runReconnectHandler()
                return
            case .retry: continue
            case .failed(let error): throw error
            case .closed: throw closedError
            case .cancelled: throw CancellationError()
            }
        }
    }

    /// Changes the subscriptions; when connected, switches to a connection with the new list.
    func updateSubscriptions(_ change: Machine.SubscriptionChange) async throws {
        while true {
            switch await submit({ $0.changeSubscriptions(change, $1, now: $2) }) {
            case .proceed, .proceedAfterReconnecting: return
            case .retry: continue
            case .failed(let error): throw error
            case .closed: throw closedError
            case .cancelled: throw CancellationError()
            }
        }
    }

    // MARK: - Publishing

    /// The current connection; reconnects (or waits for a reconnection) when it was lost.
    private func liveConnection() async throws -> Live {
        while true {
            if let live = core.withLock({ $0.machine.current }) { return live }
            switch await submit({ $0.awaitConnection(for: .publish, $1, now: $2) }) {
            case .proceed, .retry: continue
            case .proceedAfterReconnecting: await runReconnectHandler()
            case .failed(let error): throw error
            case .closed: throw closedError
            case .cancelled: throw CancellationError()
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
                let failure = await lost(live, error)
                if core.withLock({ $0.machine.isClosed }) { throw closedError }
                throw failure
            }
        }
    }

    private func isReplaced(_ live: Live) -> Bool {
        core.withLock { core in core.machine.current.map { $0.generation != live.generation } ?? false }
    }

    // MARK: - Receiving

    func nextEvent() async throws -> TopicEvent? {
        while true {
            switch core.withLock({ $0.machine.nextRead }) {
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
                    core.withLock { $0.machine.drained(old.generation) }
                    continue
                }
                if let event = handle(message) { return event }
            case .fail(let error):
                throw error
            case .awaitConnection:
                switch await submit({ $0.awaitConnection(for: .events, $1, now: $2) }) {
                case .proceed, .retry: continue
                case .proceedAfterReconnecting: await runReconnectHandler()
                case .failed(let error): throw error
                case .closed, .cancelled: return nil
                }
            case .receive(let live):
                let message: WebSocketMessage?
                do {
                    message = try await live.connection.receive()
                } catch is CancellationError {
                    return nil
                } catch {
                    await lost(live, error as? WebSocketError)
                    continue
                }
                guard let message else {
                    await lost(live, nil)
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
            core.withLock { $0.frames.invalidFrames += 1 }
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
                core.withLock { $0.frames.skippedDataMessages += 1 }
                log?("skipped a data message on topic '\(data.topic)' that is not an event: \(error)")
                return nil
            }
        case .error(let error):
            // A server decides how long its error frames are; what is kept and logged is bounded.
            let error = Self.bounded(error)
            core.withLock { core in
                core.frames.errorFrames += 1
                core.frames.recentErrors.append(error)
                let excess = core.frames.recentErrors.count - WebSocketBackend.Diagnostics.recentErrorLimit
                if excess > 0 { core.frames.recentErrors.removeFirst(excess) }
            }
            log?("error from \(url): \(error.code): \(error.context)")
            return nil
        case .ack:
            core.withLock { $0.frames.invalidFrames += 1 }
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

    /// Tells the machine that a connection ended (it ignores a connection replaced or closed on purpose) and
    /// returns why it ended.
    @discardableResult
    private func lost(_ live: Live, _ error: WebSocketError?) async -> BackendError {
        let failure =
            error.map { backendError($0, connection: live.connection) }
            ?? BackendError(
                .connectionClosed,
                "closed by the server with \(live.connection.closeInfo.map(\.codeAndReason) ?? "no close code")",
                endpoint: url
            )
        await perform(core.withLock { $0.machine.connectionLost(live.generation, failure) })
        return failure
    }

    // MARK: - Closing

    func close() async {
        await perform(core.withLock { $0.machine.close() })
    }
}

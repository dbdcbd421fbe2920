import ClusterKitModel
import ClusterKitWebSocket

/// The life of a ``WebSocketBackend``'s connection, without I/O: connecting, resubscribing, losing the
/// connection, reconnecting with back-off, waiting for acks, closing.
///
/// The owner (``WebSocketSession``) feeds it commands (``connect(_:now:)``,
/// ``changeSubscriptions(_:_:now:)``, ``awaitConnection(for:_:now:)``, ``close()``, ``cancel(_:)``) and the results
/// of the I/O it asked for (``opened(_:_:now:)``, ``ackReceived(_:_:now:)``, ``handshakeFailed(_:_:now:)``,
/// ``timerFired(_:now:)``), as well as what the readers and writers of the current connection notice
/// (``connectionLost(_:_:)``, ``drained(_:)``). Every method returns the actions to perform, in order; the owner
/// performs them outside its lock and feeds the results back.
///
/// **Tickets.** Every command comes with a ticket chosen by the owner; the command waits until an action
/// completes its ticket with a ``Resolution``. Commands that need a handshake while one is under way join it: all
/// of them are completed together when it ends, so one handshake serves every command that waits for it.
///
/// **The performer.** The command that starts an operation (a connection, a resubscription, a reconnection) is its
/// *performer*: the I/O actions of the operation go to the task that submitted it, and that task feeds their
/// results. Only the performer's I/O results lead to further I/O actions. A performer that goes away
/// (``cancel(_:)``) abandons its operation: the other waiters are told to submit their commands again
/// (``Resolution/retry``), and the first of them starts the operation afresh.
///
/// **Steps.** Every I/O action carries a step number; results of a step that is no longer the operation's current
/// one are stale (the operation was abandoned, closed, or moved on) and ignored, and a connection opened by a stale
/// step is closed.
///
/// Times are durations since an origin the owner chooses (its clock's instant when it was created).
struct WebSocketSessionStateMachine<Connection: Sendable>: Sendable {
    /// Identifies a command waiting for its resolution; chosen by the owner, unique among the waiting ones.
    typealias Ticket = UInt64
    /// Identifies one I/O step of an operation: opening a connection and waiting for its ack, or a back-off timer.
    typealias Step = UInt64

    /// An open, acknowledged connection.
    struct Live: Sendable {
        /// The connection.
        let connection: Connection
        /// Its ack.
        let ack: Broker.Ack
        /// Numbers the connections, so that a reader or writer can tell whether its connection is still current.
        let generation: UInt64
        /// The subscriptions sent on it.
        let subscriptions: [String]
    }

    /// A change of the subscription list.
    enum SubscriptionChange: Sendable, Hashable {
        /// Adds a prefix unless it is there.
        case subscribe(String)
        /// Removes a prefix if it is there.
        case unsubscribe(String)
    }

    /// Who waits for a connection with ``awaitConnection(for:_:now:)``.
    enum Purpose: Sendable, Hashable {
        /// A publication: before the first connection it fails with `notConnected`.
        case publish
        /// The reader of the events: before the first connection it waits for one.
        case events
    }

    /// How a waiting command ends.
    enum Resolution: Sendable, Hashable {
        /// Done: the connection is there (or the subscription change needed none).
        case proceed
        /// Done, by the connection that replaced a lost one: run the reconnection handler, then go on. Only the
        /// performer of that connection gets it.
        case proceedAfterReconnecting
        /// The operation the command waited for ended without settling it: submit the command again.
        case retry
        /// The command failed.
        case failed(BackendError)
        /// The session is closed.
        case closed
        /// The command's task was cancelled.
        case cancelled
    }

    /// Something the owner must do.
    enum Action: Sendable {
        /// Open a connection (TCP and HTTP upgrade) and report ``opened(_:_:now:)`` or ``handshakeFailed(_:_:now:)``.
        case open(Step, subscriptions: [String])
        /// Send the subscription frame; a failure to send is not reported (the ack wait says why).
        case sendSubscriptions(Connection, [String])
        /// Read the first frame of the connection and report ``ackReceived(_:_:now:)`` or
        /// ``handshakeFailed(_:_:now:)``; unless the frame comes first, report ``timerFired(_:now:)`` once
        /// `deadline` has come.
        case awaitAck(Step, Connection, deadline: Duration)
        /// Report ``timerFired(_:now:)`` once `deadline` has come.
        case startTimer(Step, deadline: Duration)
        /// Close the connection (a replaced, stale or abandoned one, or every one when closing).
        case close(Connection)
        /// Complete the commands waiting with these tickets.
        case complete([Ticket], Resolution)
        /// Write a line to the log sink.
        case log(String)

        /// A Boolean value indicating whether performing the action waits for I/O.
        var isIO: Bool {
            switch self {
            case .open, .sendSubscriptions, .awaitAck, .startTimer, .close: true
            case .complete, .log: false
            }
        }
    }

    /// What the reader of the events should do next.
    enum Read: Sendable {
        /// Read the current connection.
        case receive(Live)
        /// Read what a replaced or lost connection received before it ended; report ``drained(_:)`` at its end.
        case drain(Live)
        /// Wait for a connection with ``awaitConnection(for:_:now:)``.
        case awaitConnection
        /// Throw: the connection was lost for good.
        case fail(BackendError)
        /// End the events: the session is closed.
        case end
    }

    /// How many replaced or lost connections keep their unread messages for the reader; beyond that (a backend
    /// that resubscribes again and again while nobody reads its events) the oldest are dropped.
    static var drainingLimit: Int { 8 }

    private enum Phase {
        /// Never connected.
        case idle
        case connected(Live)
        /// Lost; a reconnection is due.
        case broken(Live, BackendError)
        /// Lost for good (no reconnection, or it gave up).
        case failed(BackendError)
        case closed
    }

    /// A handshake or reconnection under way.
    private struct Operation {
        enum Kind {
            /// ``connect(_:now:)``; `afterLoss` when the connection replaces a lost one.
            case connect(afterLoss: Bool)
            /// A subscription change while connected; `old` stays current until the new connection is acked.
            case resubscribe(old: Live)
            /// Attempt `attempt` (from 1) of the policy, after a back-off of `delay`.
            case reconnect(attempt: Int, delay: Duration)
        }

        enum Stage {
            /// Waiting out a back-off delay.
            case waiting(Step, until: Duration)
            /// Opening a connection that will carry `subscriptions`.
            case opening(Step, subscriptions: [String])
            /// Waiting for the ack of a connection that carried `subscriptions`.
            case awaitingAck(Step, Connection, subscriptions: [String], deadline: Duration)
        }

        var kind: Kind
        /// The command whose task performs the I/O.
        let performer: Ticket
        var stage: Stage
    }

    private enum WaiterKind {
        case connect
        case subscribe
        case publish
        case events
    }

    /// The server's URL, the endpoint of every error and the subject of the log lines.
    let url: String
    /// The limit for the ack.
    let ackTimeout: Duration
    /// The reconnection policy, or `nil` for none.
    let reconnect: WebSocketBackend.Options.Reconnect?

    /// The subscribed prefixes, in the order they were subscribed.
    private(set) var subscriptions: [String] = []
    /// Replaced or lost connections whose received messages the reader still gets, oldest first; at most
    /// ``drainingLimit``.
    private(set) var draining: [Live] = []
    private var phase = Phase.idle
    private var operation: Operation?
    /// The waiting commands, in the order they came.
    private var waiters: [(ticket: Ticket, kind: WaiterKind)] = []
    private var lastStep: Step = 0
    private var lastGeneration: UInt64 = 0
    /// The lifecycle counters: ack, connections, reconnection attempts, last error.
    private var counters = WebSocketBackend.Diagnostics()

    /// Creates an idle machine.
    ///
    /// - Parameters:
    ///   - url: The server's URL.
    ///   - ackTimeout: The limit for the ack.
    ///   - reconnect: The reconnection policy, or `nil`.
    init(url: String, ackTimeout: Duration, reconnect: WebSocketBackend.Options.Reconnect?) {
        self.url = url
        self.ackTimeout = ackTimeout
        self.reconnect = reconnect
    }

    // MARK: - State

    /// The current connection, or `nil` when there is none.
    var current: Live? {
        if case .connected(let live) = phase { return live }
        return nil
    }

    /// A Boolean value indicating whether ``close()`` was called.
    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// The lifecycle part of the diagnostics: the ack, the subscriptions, whether connected, the connections, the
    /// reconnection attempts and the last error.
    var diagnostics: WebSocketBackend.Diagnostics {
        var diagnostics = counters
        diagnostics.subscriptions = subscriptions
        diagnostics.isConnected = current != nil
        return diagnostics
    }

    /// What the reader of the events should do next.
    var nextRead: Read {
        if case .closed = phase { return .end }
        if let old = draining.first { return .drain(old) }
        return switch phase {
        case .connected(let live): .receive(live)
        case .idle, .broken: .awaitConnection
        case .failed(let error): .fail(error)
        case .closed: .end
        }
    }

    // MARK: - Commands

    /// Connects unless connected; joins a handshake under way.
    ///
    /// - Parameters:
    ///   - ticket: The command's ticket.
    ///   - now: The current time.
    /// - Returns: The actions.
    mutating func connect(_ ticket: Ticket, now: Duration) -> [Action] {
        switch phase {
        case .closed: return [.complete([ticket], .closed)]
        case .connected where operation == nil: return [.complete([ticket], .proceed)]
        case .idle, .connected, .broken, .failed: break
        }
        waiters.append((ticket, .connect))
        if operation != nil { return [] }
        let afterLoss: Bool
        if case .idle = phase { afterLoss = false } else { afterLoss = true }
        return start(.connect(afterLoss: afterLoss), performer: ticket)
    }

    /// Changes the subscriptions; while connected, switches to a connection with the new list.
    ///
    /// Before the first connection and while disconnected the change is made at once: the next handshake sends
    /// the new list (one under way notices the change when its ack comes, and opens another connection).
    ///
    /// - Parameters:
    ///   - change: The change.
    ///   - ticket: The command's ticket.
    ///   - now: The current time.
    /// - Returns: The actions.
    mutating func changeSubscriptions(_ change: SubscriptionChange, _ ticket: Ticket, now: Duration) -> [Action] {
        if case .closed = phase { return [.complete([ticket], .closed)] }
        switch change {
        case .subscribe(let prefix):
            guard !subscriptions.contains(prefix) else { return [.complete([ticket], .proceed)] }
            subscriptions.append(prefix)
        case .unsubscribe(let prefix):
            guard let index = subscriptions.firstIndex(of: prefix) else { return [.complete([ticket], .proceed)] }
            subscriptions.remove(at: index)
        }
        guard case .connected(let live) = phase else { return [.complete([ticket], .proceed)] }
        guard operation != nil || live.subscriptions != subscriptions else { return [.complete([ticket], .proceed)] }
        waiters.append((ticket, .subscribe))
        if operation != nil { return [] }
        return start(.resubscribe(old: live), performer: ticket)
    }

    /// Waits for a connection for a publication or the reader; reconnects when the connection was lost.
    ///
    /// - Parameters:
    ///   - purpose: Who waits.
    ///   - ticket: The command's ticket.
    ///   - now: The current time.
    /// - Returns: The actions.
    mutating func awaitConnection(for purpose: Purpose, _ ticket: Ticket, now: Duration) -> [Action] {
        switch phase {
        case .closed:
            return [.complete([ticket], .closed)]
        case .connected:
            return [.complete([ticket], .proceed)]
        case .failed(let error):
            return [.complete([ticket], .failed(error))]
        case .idle:
            guard purpose == .events else {
                return [
                    .complete(
                        [ticket],
                        .failed(BackendError(.notConnected, "endpoint is not connected", endpoint: url))
                    )
                ]
            }
            waiters.append((ticket, .events))
            return []
        case .broken:
            waiters.append((ticket, purpose == .events ? .events : .publish))
            guard operation == nil, let policy = reconnect else { return [] }
            operation = Operation(
                kind: .reconnect(attempt: 1, delay: policy.initialDelay),
                performer: ticket,
                // The stage is set by `backOff(now:)`.
                stage: .waiting(0, until: now)
            )
            return backOff(now: now)
        }
    }

    /// Closes the session: completes every waiting command and stops any operation.
    ///
    /// - Returns: The actions: the completions first, then closing the connections.
    mutating func close() -> [Action] {
        var connections: [Connection] = []
        switch phase {
        case .connected(let live), .broken(let live, _): connections.append(live.connection)
        case .idle, .failed, .closed: break
        }
        if case .awaitingAck(_, let connection, _, _)? = operation?.stage { connections.append(connection) }
        phase = .closed
        operation = nil
        draining = []
        let tickets = waiters.map(\.ticket)
        waiters = []
        return (tickets.isEmpty ? [] : [.complete(tickets, .closed)]) + connections.map { .close($0) }
    }

    /// Takes back a command whose task was cancelled; a performer abandons its operation.
    ///
    /// - Parameter ticket: The command's ticket; one not waiting is ignored.
    /// - Returns: The actions.
    mutating func cancel(_ ticket: Ticket) -> [Action] {
        guard let index = waiters.firstIndex(where: { $0.ticket == ticket }) else { return [] }
        waiters.remove(at: index)
        var actions: [Action] = []
        if let abandoned = operation, abandoned.performer == ticket {
            operation = nil
            if case .awaitingAck(_, let connection, _, _) = abandoned.stage { actions.append(.close(connection)) }
            // As if the change had failed: the waiting subscription changes are made again, each by its command.
            if case .resubscribe(let old) = abandoned.kind { subscriptions = old.subscriptions }
            let others = waiters.map(\.ticket)
            waiters = []
            if !others.isEmpty { actions.append(.complete(others, .retry)) }
        }
        actions.append(.complete([ticket], .cancelled))
        return actions
    }

    // MARK: - What the readers and writers notice

    /// Records that a connection ended; ignored unless it is the current one.
    ///
    /// - Parameters:
    ///   - generation: The connection's generation.
    ///   - error: Why it ended.
    /// - Returns: The actions (log lines).
    mutating func connectionLost(_ generation: UInt64, _ error: BackendError) -> [Action] {
        guard case .connected(let live) = phase, live.generation == generation else { return [] }
        counters.lastError = error
        phase = reconnect == nil ? .failed(error) : .broken(live, error)
        // Messages it received before the end are still read, before the error or the reconnection.
        return [.log("lost the connection: \(error)")] + retire(live)
    }

    /// Records that the reader has read everything a replaced or lost connection received.
    ///
    /// - Parameter generation: The connection's generation.
    mutating func drained(_ generation: UInt64) {
        draining.removeAll { $0.generation == generation }
    }

    // MARK: - Results of the I/O

    /// A connection of step `step` is open.
    ///
    /// - Parameters:
    ///   - step: The step of the ``Action/open(_:subscriptions:)`` action.
    ///   - connection: The connection.
    ///   - now: The current time.
    /// - Returns: The actions: sending the subscriptions and waiting for the ack, or closing a stale connection.
    mutating func opened(_ step: Step, _ connection: Connection, now: Duration) -> [Action] {
        guard var current = operation, case .opening(step, let sent) = current.stage else {
            return [.close(connection)]
        }
        let deadline = now + ackTimeout
        current.stage = .awaitingAck(step, connection, subscriptions: sent, deadline: deadline)
        operation = current
        return [.sendSubscriptions(connection, sent), .awaitAck(step, connection, deadline: deadline)]
    }

    /// The ack of step `step` came.
    ///
    /// - Parameters:
    ///   - step: The step.
    ///   - ack: The ack.
    ///   - now: The current time.
    /// - Returns: The actions.
    mutating func ackReceived(_ step: Step, _ ack: Broker.Ack, now: Duration) -> [Action] {
        guard let current = operation, case .awaitingAck(step, let connection, let sent, _) = current.stage else {
            return []
        }
        // The subscriptions changed meanwhile: this connection carries the old list, so open another one.
        guard sent == subscriptions else { return [.close(connection)] + open() }
        lastGeneration += 1
        let live = Live(connection: connection, ack: ack, generation: lastGeneration, subscriptions: sent)
        operation = nil
        phase = .connected(live)
        counters.ack = ack
        counters.connections += 1
        var actions: [Action] = []
        switch current.kind {
        case .connect(let afterLoss):
            actions.append(.log("connected to \(url) as '\(ack.endpoint)' (server version \(ack.version))"))
            return actions + complete(.proceed, performer: afterLoss ? current.performer : nil)
        case .resubscribe(let old):
            actions += retire(old)
            actions.append(.log("resubscribed on \(url) as '\(ack.endpoint)': [\(sent.joined(separator: ", "))]"))
            // The reader drains what the old connection received, then moves to the new one.
            actions.append(.close(old.connection))
            return actions + complete(.proceed)
        case .reconnect:
            actions.append(.log("reconnected to \(url) as '\(ack.endpoint)'"))
            return actions + complete(.proceed, performer: current.performer)
        }
    }

    /// The handshake of step `step` failed: the connection could not be opened, or no ack came.
    ///
    /// - Parameters:
    ///   - step: The step.
    ///   - error: Why.
    ///   - now: The current time.
    /// - Returns: The actions.
    mutating func handshakeFailed(_ step: Step, _ error: BackendError, now: Duration) -> [Action] {
        guard let current = operation else { return [] }
        switch current.stage {
        case .opening(step, _):
            return fail(error, now: now)
        case .awaitingAck(step, let connection, _, _):
            return [.close(connection)] + fail(error, now: now)
        case .opening, .awaitingAck, .waiting:
            return []
        }
    }

    /// A timer of step `step` fired: a back-off delay is over, or the ack is late.
    ///
    /// - Parameters:
    ///   - step: The step of the ``Action/startTimer(_:deadline:)`` or ``Action/awaitAck(_:_:deadline:)`` action.
    ///   - now: The current time; a timer that fired early is started again.
    /// - Returns: The actions.
    mutating func timerFired(_ step: Step, now: Duration) -> [Action] {
        guard let current = operation else { return [] }
        switch current.stage {
        case .waiting(step, let until):
            guard now >= until else { return [.startTimer(step, deadline: until)] }
            counters.reconnectAttempts += 1
            return open()
        case .awaitingAck(step, let connection, _, let deadline):
            guard now >= deadline else { return [.awaitAck(step, connection, deadline: deadline)] }
            let error = BackendError(.timedOut, "no ack within \(ackTimeout.textForPeople)", endpoint: url)
            return [.close(connection)] + fail(error, now: now)
        case .waiting, .opening, .awaitingAck:
            return []
        }
    }

    // MARK: - Steps of the operations

    private mutating func start(_ kind: Operation.Kind, performer: Ticket) -> [Action] {
        // The stage is set by `open()`.
        operation = Operation(kind: kind, performer: performer, stage: .opening(0, subscriptions: []))
        return open()
    }

    /// Moves the operation to opening a connection with the current subscriptions.
    private mutating func open() -> [Action] {
        lastStep += 1
        operation?.stage = .opening(lastStep, subscriptions: subscriptions)
        return [.open(lastStep, subscriptions: subscriptions)]
    }

    /// Moves the reconnection to waiting out its delay.
    private mutating func backOff(now: Duration) -> [Action] {
        guard case .reconnect(let attempt, let delay)? = operation?.kind, let policy = reconnect else { return [] }
        lastStep += 1
        operation?.stage = .waiting(lastStep, until: now + delay)
        return [
            .log(
                "reconnecting to \(url) in \(delay.textForPeople) (attempt \(attempt) of \(policy.maximumAttempts))"
            ),
            .startTimer(lastStep, deadline: now + delay),
        ]
    }

    /// Ends the operation's handshake with a failure: a reconnection tries again or gives up, a connection or a
    /// resubscription fails.
    private mutating func fail(_ error: BackendError, now: Duration) -> [Action] {
        guard let current = operation else { return [] }
        switch current.kind {
        case .connect:
            operation = nil
            return complete(.failed(error), of: .connect)
        case .resubscribe(let old):
            operation = nil
            // The old connection stays, and so do its subscriptions.
            subscriptions = old.subscriptions
            return complete(.failed(error), of: .subscribe)
        case .reconnect(let attempt, let delay):
            guard let policy = reconnect else { return [] }
            var actions: [Action] = [.log("reconnection attempt \(attempt) failed: \(error.message)")]
            if attempt < policy.maximumAttempts {
                operation?.kind = .reconnect(attempt: attempt + 1, delay: min(delay * 2, policy.maximumDelay))
                return actions + backOff(now: now)
            }
            let final = BackendError(
                error.code,
                "gave up after \(policy.maximumAttempts) reconnection attempts: \(error.message)",
                endpoint: url
            )
            operation = nil
            if case .broken = phase {
                phase = .failed(final)
                counters.lastError = final
            }
            actions.append(.log("\(final)"))
            // A waiting `connect()` makes an attempt of its own, as it does after the backend failed.
            let connects = waiters.filter { $0.kind == .connect }.map(\.ticket)
            let others = waiters.filter { $0.kind != .connect }.map(\.ticket)
            waiters = []
            if !others.isEmpty { actions.append(.complete(others, .failed(final))) }
            if !connects.isEmpty { actions.append(.complete(connects, .retry)) }
            return actions
        }
    }

    /// Completes every waiting command with `resolution`; the performer, when given, with
    /// ``Resolution/proceedAfterReconnecting`` instead, last.
    private mutating func complete(_ resolution: Resolution, performer: Ticket? = nil) -> [Action] {
        let tickets = waiters.map(\.ticket).filter { $0 != performer }
        let hasPerformer = performer.map { ticket in waiters.contains { $0.ticket == ticket } } ?? false
        waiters = []
        var actions: [Action] = tickets.isEmpty ? [] : [.complete(tickets, resolution)]
        if hasPerformer, let performer { actions.append(.complete([performer], .proceedAfterReconnecting)) }
        return actions
    }

    /// Completes the waiting commands of `kind` with `resolution` and tells the others to submit theirs again.
    private mutating func complete(_ resolution: Resolution, of kind: WaiterKind) -> [Action] {
        let matching = waiters.filter { $0.kind == kind }.map(\.ticket)
        let others = waiters.filter { $0.kind != kind }.map(\.ticket)
        waiters = []
        var actions: [Action] = []
        if !others.isEmpty { actions.append(.complete(others, .retry)) }
        if !matching.isEmpty { actions.append(.complete(matching, resolution)) }
        return actions
    }

    /// Adds a connection to drain unless it is there; reports the one given up on to stay within the limit.
    private mutating func retire(_ live: Live) -> [Action] {
        guard !draining.contains(where: { $0.generation == live.generation }) else { return [] }
        draining.append(live)
        guard draining.count > Self.drainingLimit else { return [] }
        let dropped = draining.removeFirst()
        return [
            .log(
                "dropped the unread messages of '\(dropped.ack.endpoint)': too many replaced connections not read"
            )
        ]
    }
}

extension WebSocketSessionStateMachine.Live: Equatable where Connection: Equatable {}
extension WebSocketSessionStateMachine.Action: Equatable where Connection: Equatable {}

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct WebSocketSessionStateMachineTests {
    /// A connection without a socket: a number.
    struct FakeConnection: Sendable, Hashable {
        let number: Int
    }

    typealias Machine = WebSocketSessionStateMachine<FakeConnection>

    static let url = "ws://127.0.0.1:27759/v1/messages/json"

    /// The machine, a manual clock for its times, and what its actions asked for so far.
    struct Harness {
        var machine: Machine
        let clock = ManualClock()
        /// Every action, in order.
        private(set) var actions: [Machine.Action] = []
        /// The latest resolution of each ticket.
        private(set) var resolutions: [Machine.Ticket: Machine.Resolution] = [:]
        private(set) var log: [String] = []
        private(set) var closed: [FakeConnection] = []
        /// The connection being opened, waiting for its ack, and the back-off timer, when there are.
        private(set) var opening: (step: Machine.Step, subscriptions: [String])?
        private(set) var awaitingAck: (step: Machine.Step, connection: FakeConnection, deadline: Duration)?
        private(set) var timer: (step: Machine.Step, deadline: Duration)?
        private(set) var opened: [FakeConnection] = []

        init(reconnect: WebSocketBackend.Options.Reconnect? = .standard, ackTimeout: Duration = .seconds(10)) {
            machine = Machine(url: WebSocketSessionStateMachineTests.url, ackTimeout: ackTimeout, reconnect: reconnect)
        }

        var now: Duration { clock.now.offset }

        /// How many connections were opened.
        var opens: Int { actions.count { if case .open = $0 { true } else { false } } }

        /// The tickets completed with `resolution`.
        func tickets(_ resolution: Machine.Resolution) -> [Machine.Ticket] {
            resolutions.filter { $0.value == resolution }.keys.sorted()
        }

        @discardableResult
        mutating func apply(_ new: [Machine.Action]) -> [Machine.Action] {
            actions += new
            for action in new {
                switch action {
                case .open(let step, let subscriptions):
                    opening = (step, subscriptions)
                case .sendSubscriptions:
                    break
                case .awaitAck(let step, let connection, let deadline):
                    awaitingAck = (step, connection, deadline)
                case .startTimer(let step, let deadline):
                    timer = (step, deadline)
                case .close(let connection):
                    closed.append(connection)
                case .complete(let tickets, let resolution):
                    for ticket in tickets { resolutions[ticket] = resolution }
                case .log(let line):
                    log.append(line)
                }
            }
            return new
        }

        @discardableResult
        mutating func connect(_ ticket: Machine.Ticket) -> [Machine.Action] {
            apply(machine.connect(ticket, now: now))
        }

        @discardableResult
        mutating func subscribe(_ prefix: String, _ ticket: Machine.Ticket) -> [Machine.Action] {
            apply(machine.changeSubscriptions(.subscribe(prefix), ticket, now: now))
        }

        @discardableResult
        mutating func awaitConnection(for purpose: Machine.Purpose, _ ticket: Machine.Ticket) -> [Machine.Action] {
            apply(machine.awaitConnection(for: purpose, ticket, now: now))
        }

        /// The connection being opened opens.
        @discardableResult
        mutating func open() throws -> FakeConnection {
            let step = try #require(opening?.step, "no connection is being opened")
            opening = nil
            let connection = FakeConnection(number: opened.count)
            opened.append(connection)
            apply(machine.opened(step, connection, now: now))
            return connection
        }

        /// The connection being opened cannot be opened.
        @discardableResult
        mutating func refuse() throws -> [Machine.Action] {
            let step = try #require(opening?.step, "no connection is being opened")
            opening = nil
            let error = BackendError(
                .connectionRefused,
                "connection refused",
                endpoint: WebSocketSessionStateMachineTests.url
            )
            return apply(machine.handshakeFailed(step, error, now: now))
        }

        /// The server acks the connection waiting for its ack.
        @discardableResult
        mutating func ack(_ endpoint: String) throws -> [Machine.Action] {
            let step = try #require(awaitingAck?.step, "no connection waits for an ack")
            awaitingAck = nil
            return apply(machine.ackReceived(step, Broker.Ack(endpoint: endpoint, version: "8.0.10"), now: now))
        }

        /// Opens and acks in one go.
        mutating func handshake(_ endpoint: String) throws {
            try open()
            try ack(endpoint)
        }

        /// Advances the clock to the back-off timer's deadline and fires it.
        @discardableResult
        mutating func fireTimer() throws -> [Machine.Action] {
            let (step, deadline) = try #require(timer, "no timer runs")
            timer = nil
            clock.advance(to: ManualClock.Instant(offset: deadline))
            return apply(machine.timerFired(step, now: now))
        }

        /// The current connection ends.
        mutating func lose() throws {
            let live = try #require(machine.current, "not connected")
            let error = BackendError(
                .connectionClosed,
                "closed by the server with code 1001 and reason 'Terminating'",
                endpoint: WebSocketSessionStateMachineTests.url
            )
            apply(machine.connectionLost(live.generation, error))
        }
    }

    static func refused(_ prefix: String = "") -> BackendError {
        BackendError(.connectionRefused, prefix + "connection refused", endpoint: url)
    }

    // MARK: - Connecting

    @Test func connectingSendsTheSubscriptionsAndWaitsForTheAck() throws {
        var session = Harness()
        session.subscribe("zeek/b", 1)
        session.subscribe("zeek/a", 2)
        session.subscribe("zeek/a", 3)
        #expect(session.tickets(.proceed) == [1, 2, 3])
        #expect(session.connect(4) == [.open(1, subscriptions: ["zeek/b", "zeek/a"])])
        let connection = FakeConnection(number: 0)
        #expect(
            session.apply(session.machine.opened(1, connection, now: .zero)) == [
                .sendSubscriptions(connection, ["zeek/b", "zeek/a"]),
                .awaitAck(1, connection, deadline: .seconds(10)),
            ]
        )
        #expect(
            session.apply(session.machine.ackReceived(1, Broker.Ack(endpoint: "e-0", version: "8"), now: .zero)) == [
                .log("connected to \(Self.url) as 'e-0' (server version 8)"), .complete([4], .proceed),
            ]
        )
        #expect(session.machine.current?.subscriptions == ["zeek/b", "zeek/a"])
        #expect(session.machine.diagnostics.isConnected && session.machine.diagnostics.connections == 1)
        #expect(session.connect(5) == [.complete([5], .proceed)], "connected already")
    }

    @Test func noAckWithinTheLimitFailsTheHandshakeAndClosesItsConnection() throws {
        var session = Harness(reconnect: nil)
        session.connect(1)
        let connection = try session.open()
        let ack = try #require(session.awaitingAck)
        #expect(ack.deadline == .seconds(10))
        // A timer that fires early is started again.
        session.clock.advance(by: .milliseconds(9_999))
        #expect(
            session.apply(session.machine.timerFired(ack.step, now: session.now)) == [
                .awaitAck(ack.step, connection, deadline: .seconds(10))
            ]
        )
        session.clock.advance(by: .milliseconds(1))
        let error = BackendError(.timedOut, "no ack within 10 s", endpoint: Self.url)
        #expect(
            session.apply(session.machine.timerFired(ack.step, now: session.now)) == [
                .close(connection), .complete([1], .failed(error)),
            ]
        )
        #expect(error.description == "\(Self.url): no ack within 10 s")
        // Still never connected: a late ack is stale, a publication is refused, the reader waits.
        #expect(
            session.apply(
                session.machine.ackReceived(ack.step, Broker.Ack(endpoint: "e", version: "8"), now: session.now)
            ).isEmpty
        )
        session.awaitConnection(for: .publish, 2)
        #expect(
            session.resolutions[2]
                == .failed(BackendError(.notConnected, "endpoint is not connected", endpoint: Self.url))
        )
        guard case .awaitConnection = session.machine.nextRead else {
            Issue.record("the reader does not wait for a connection")
            return
        }
    }

    @Test func concurrentConnectsShareOneHandshakeAndItsOutcome() throws {
        var session = Harness(reconnect: nil)
        session.connect(1)
        #expect(session.connect(2).isEmpty)
        #expect(session.awaitConnection(for: .events, 3).isEmpty)
        try session.open()
        let error = BackendError(.handshakeRejected, "handshake rejected: c: no", endpoint: Self.url)
        let step = try #require(session.awaitingAck?.step)
        session.apply(session.machine.handshakeFailed(step, error, now: session.now))
        #expect(session.opens == 1)
        #expect(session.tickets(.failed(error)) == [1, 2])
        #expect(session.resolutions[3] == .retry, "the reader looks again, and waits again")
        #expect(session.closed == [FakeConnection(number: 0)])
    }

    // MARK: - Reconnecting

    @Test func reconnectionBacksOffExponentiallyAndGivesUpWithTheLastError() throws {
        let policy = WebSocketBackend.Options.Reconnect(
            initialDelay: .seconds(1),
            maximumDelay: .seconds(4),
            maximumAttempts: 5
        )
        var session = Harness(reconnect: policy)
        session.connect(1)
        try session.handshake("e-0")
        try session.lose()
        #expect(
            session.log.last
                == "lost the connection: \(Self.url): closed by the server with code 1001 and reason 'Terminating'"
        )
        // The reader drains the lost connection first, then waits for the reconnection it starts.
        guard case .drain(let lost) = session.machine.nextRead else {
            Issue.record("the reader does not drain the lost connection")
            return
        }
        session.machine.drained(lost.generation)
        session.awaitConnection(for: .events, 2)
        var delays: [Duration] = []
        for attempt in 1...5 {
            let started = session.now
            let deadline = try #require(session.timer?.deadline)
            delays.append(deadline - started)
            #expect(
                session.log.last
                    == "reconnecting to \(Self.url) in \((deadline - started).textForPeople) (attempt \(attempt) of 5)"
            )
            try session.fireTimer()
            #expect(session.machine.diagnostics.reconnectAttempts == attempt)
            try session.refuse()
            #expect(session.log.contains("reconnection attempt \(attempt) failed: connection refused"))
        }
        #expect(delays == [1, 2, 4, 4, 4].map { Duration.seconds($0) })
        let final = BackendError(
            .connectionRefused,
            "gave up after 5 reconnection attempts: connection refused",
            endpoint: Self.url
        )
        #expect(final.description == "\(Self.url): gave up after 5 reconnection attempts: connection refused")
        #expect(session.resolutions[2] == .failed(final))
        #expect(session.log.last == "\(final)")
        #expect(session.timer == nil && session.opening == nil)
        #expect(session.machine.diagnostics.lastError == final)
        guard case .fail(let error) = session.machine.nextRead else {
            Issue.record("the reader does not fail")
            return
        }
        #expect(error == final)
        session.awaitConnection(for: .publish, 3)
        #expect(session.resolutions[3] == .failed(final))
        #expect(session.clock.now.offset == .seconds(15))
    }

    @Test func reconnectingSendsTheSubscriptionsMadeMeanwhile() throws {
        var session = Harness()
        session.subscribe("a/", 1)
        session.connect(2)
        try session.handshake("e-0")
        try session.lose()
        // While disconnected a change is made at once and goes out with the next handshake.
        session.subscribe("b/", 3)
        #expect(session.resolutions[3] == .proceed)
        session.awaitConnection(for: .publish, 4)
        try session.fireTimer()
        #expect(session.opening?.subscriptions == ["a/", "b/"])
        let first = try session.open()
        #expect(session.actions.contains(.sendSubscriptions(first, ["a/", "b/"])))
        // A change while the ack is awaited: that connection carries the old list, so another one is opened,
        // within the same attempt.
        session.subscribe("c/", 5)
        #expect(session.resolutions[5] == .proceed)
        try session.ack("e-1")
        #expect(session.closed.last == first)
        #expect(session.opening?.subscriptions == ["a/", "b/", "c/"])
        #expect(session.machine.current == nil)
        try session.handshake("e-2")
        #expect(session.machine.current?.subscriptions == ["a/", "b/", "c/"])
        #expect(session.machine.current?.ack.endpoint == "e-2")
        #expect(session.machine.diagnostics.reconnectAttempts == 1)
        #expect(session.machine.diagnostics.connections == 2)
        #expect(session.resolutions[4] == .proceedAfterReconnecting)
        #expect(session.log.last == "reconnected to \(Self.url) as 'e-2'")
    }

    @Test func commandsDuringAReconnectionWaitForTheSameHandshake() throws {
        var session = Harness()
        session.connect(1)
        try session.handshake("e-0")
        try session.lose()
        // The reader finds the connection lost and reconnects; everything else joins it.
        #expect(session.awaitConnection(for: .events, 10).count == 2)
        #expect(session.awaitConnection(for: .publish, 11).isEmpty)
        #expect(session.connect(12).isEmpty)
        #expect(session.subscribe("late/", 13) == [.complete([13], .proceed)])
        try session.fireTimer()
        #expect(session.awaitConnection(for: .publish, 14).isEmpty, "also while the connection is being opened")
        #expect(session.connect(15).isEmpty)
        try session.open()
        #expect(session.awaitConnection(for: .publish, 16).isEmpty, "also while the ack is awaited")
        let actions = try session.ack("e-1")
        #expect(
            actions == [
                .log("reconnected to \(Self.url) as 'e-1'"), .complete([11, 12, 14, 15, 16], .proceed),
                .complete([10], .proceedAfterReconnecting),
            ]
        )
        #expect(session.opens == 2, "the first connection and one reconnection")
        #expect(session.machine.current?.subscriptions == ["late/"])
    }

    @Test func aConnectWaitingForAReconnectionThatGivesUpTriesOnItsOwn() throws {
        var session = Harness(reconnect: .init(maximumAttempts: 1))
        session.connect(1)
        try session.handshake("e-0")
        try session.lose()
        session.awaitConnection(for: .publish, 2)
        session.connect(3)
        try session.fireTimer()
        try session.refuse()
        let final = Self.refused("gave up after 1 reconnection attempts: ")
        #expect(session.resolutions[2] == .failed(final))
        #expect(session.resolutions[3] == .retry)
        // Submitted again, the connect makes one attempt, and its connection replaces a lost one.
        session.connect(4)
        try session.handshake("e-1")
        #expect(session.resolutions[4] == .proceedAfterReconnecting)
        #expect(session.machine.diagnostics.reconnectAttempts == 1)
    }

    @Test func theReconnectHandlerRunsOncePerConnectionThatReplacesALostOne() throws {
        var session = Harness(reconnect: .init(maximumAttempts: 1))
        session.connect(1)
        try session.handshake("e-0")
        #expect(session.resolutions[1] == .proceed, "the first connection is no reconnection")
        session.subscribe("a/", 2)
        try session.handshake("e-1")
        #expect(session.resolutions[2] == .proceed, "nor is a resubscription")

        // A reconnection: one handler, for the task that made it.
        try session.lose()
        session.awaitConnection(for: .events, 3)
        session.awaitConnection(for: .publish, 4)
        try session.fireTimer()
        try session.handshake("e-2")
        #expect(session.tickets(.proceedAfterReconnecting) == [3])
        #expect(session.resolutions[4] == .proceed)

        // Lost for good, then `connect()`: one more.
        try session.lose()
        session.awaitConnection(for: .events, 5)
        try session.fireTimer()
        try session.refuse()
        session.connect(6)
        session.connect(7)
        try session.handshake("e-3")
        #expect(session.tickets(.proceedAfterReconnecting) == [3, 6])
        #expect(session.resolutions[7] == .proceed)
        let total = session.actions.count {
            if case .complete(let tickets, .proceedAfterReconnecting) = $0 { tickets.count == 1 } else { false }
        }
        #expect(total == 2)
    }

    // MARK: - Closing and cancelling

    @Test func closingDuringTheBackOffCompletesEveryWaiterAndStopsTheTimer() throws {
        var session = Harness()
        session.connect(1)
        try session.handshake("e-0")
        let lost = try #require(session.machine.current?.connection)
        try session.lose()
        session.awaitConnection(for: .events, 2)
        session.awaitConnection(for: .publish, 3)
        let timer = try #require(session.timer)
        #expect(session.apply(session.machine.close()) == [.complete([2, 3], .closed), .close(lost)])
        #expect(session.apply(session.machine.timerFired(timer.step, now: timer.deadline)).isEmpty)
        #expect(session.opens == 1)
        guard case .end = session.machine.nextRead else {
            Issue.record("the reader does not end")
            return
        }
        #expect(session.connect(4) == [.complete([4], .closed)])
        #expect(session.subscribe("x/", 5) == [.complete([5], .closed)])
    }

    @Test func closingDuringAReconnectionHandshakeClosesItsConnection() throws {
        var session = Harness()
        session.connect(1)
        try session.handshake("e-0")
        let lost = try #require(session.machine.current?.connection)
        try session.lose()
        session.awaitConnection(for: .events, 2)
        try session.fireTimer()
        let handshake = try session.open()
        let step = try #require(session.awaitingAck?.step)
        #expect(session.apply(session.machine.close()) == [.complete([2], .closed), .close(lost), .close(handshake)])
        #expect(
            session.apply(session.machine.ackReceived(step, Broker.Ack(endpoint: "e", version: "8"), now: session.now))
                .isEmpty
        )
        #expect(session.machine.current == nil)
        // A connection a stale step opens after all is closed at once.
        let late = FakeConnection(number: 99)
        #expect(session.apply(session.machine.opened(step, late, now: session.now)) == [.close(late)])
    }

    @Test func aCancelledReconnectionStartsOverWithTheNextWaiter() throws {
        var session = Harness()
        session.connect(1)
        try session.handshake("e-0")
        try session.lose()
        session.awaitConnection(for: .events, 2)
        session.awaitConnection(for: .publish, 3)
        try session.fireTimer()
        try session.refuse()
        try session.fireTimer()
        try session.open()
        let handshake = try #require(session.awaitingAck)
        // The performer's task is cancelled while the ack is awaited.
        #expect(
            session.apply(session.machine.cancel(2)) == [
                .close(handshake.connection), .complete([3], .retry), .complete([2], .cancelled),
            ]
        )
        #expect(session.apply(session.machine.cancel(2)).isEmpty, "taken back once")
        #expect(
            session.apply(
                session.machine.ackReceived(handshake.step, Broker.Ack(endpoint: "e", version: "8"), now: session.now)
            ).isEmpty
        )
        // Submitted again, the publication starts the reconnection over, from the first attempt.
        session.awaitConnection(for: .publish, 4)
        #expect(session.log.last == "reconnecting to \(Self.url) in 1 s (attempt 1 of 10)")
        try session.fireTimer()
        try session.handshake("e-1")
        #expect(session.resolutions[4] == .proceedAfterReconnecting)
    }

    @Test func aCancelledWaiterLeavesTheOperationToItsPerformer() throws {
        var session = Harness()
        session.connect(1)
        session.connect(2)
        #expect(session.apply(session.machine.cancel(2)) == [.complete([2], .cancelled)])
        try session.handshake("e-0")
        #expect(session.resolutions[1] == .proceed)
    }

    // MARK: - Resubscribing

    @Test func resubscribingSwitchesToANewConnectionAndDrainsTheOld() throws {
        var session = Harness()
        session.subscribe("a/", 1)
        session.connect(2)
        try session.handshake("e-0")
        let old = try #require(session.machine.current)
        #expect(session.subscribe("b/", 3) == [.open(2, subscriptions: ["a/", "b/"])])
        // Publications and the reader go on with the old connection meanwhile.
        #expect(session.machine.current?.generation == old.generation)
        #expect(session.connect(4).isEmpty, "waits for the switch")
        #expect(session.subscribe("c/", 5).isEmpty, "joins the switch")
        try session.open()
        try session.ack("e-1")
        #expect(session.opening?.subscriptions == ["a/", "b/", "c/"], "the first new connection was stale")
        try session.open()
        let actions = try session.ack("e-2")
        #expect(
            actions == [
                .log("resubscribed on \(Self.url) as 'e-2': [a/, b/, c/]"), .close(old.connection),
                .complete([3, 4, 5], .proceed),
            ]
        )
        #expect(session.machine.draining.map(\.generation) == [old.generation])
        guard case .drain(let draining) = session.machine.nextRead else {
            Issue.record("the reader does not drain the old connection first")
            return
        }
        session.machine.drained(draining.generation)
        guard case .receive(let live) = session.machine.nextRead else {
            Issue.record("the reader does not read the new connection")
            return
        }
        #expect(live.ack.endpoint == "e-2")
    }

    @Test func aFailedResubscriptionKeepsTheOldConnectionAndItsSubscriptions() throws {
        var session = Harness()
        session.subscribe("a/", 1)
        session.connect(2)
        try session.handshake("e-0")
        session.subscribe("b/", 3)
        session.subscribe("c/", 4)
        session.connect(5)
        try session.refuse()
        #expect(session.tickets(.failed(Self.refused())) == [3, 4])
        #expect(session.resolutions[5] == .retry)
        #expect(session.machine.subscriptions == ["a/"])
        #expect(session.machine.current?.ack.endpoint == "e-0")
        #expect(session.connect(6) == [.complete([6], .proceed)])
    }

    @Test func oldestReplacedConnectionsNotReadAreDropped() throws {
        var session = Harness()
        session.connect(1)
        try session.handshake("e-0")
        for number in 1...(Machine.drainingLimit + 1) {
            session.subscribe("t\(number)/", Machine.Ticket(number + 1))
            try session.handshake("e-\(number)")
        }
        #expect(session.machine.draining.count == Machine.drainingLimit)
        #expect(session.log.contains("dropped the unread messages of 'e-0': too many replaced connections not read"))
    }
}

import CClusterKitSupport

#if canImport(Glibc)
import Glibc
#endif

/// What a client connection needs to start, posted to its loop.
struct ClientStart: Sendable {
    /// Looks a host name up; runs on a thread of its own and may block.
    typealias Resolver = @Sendable (_ host: String, _ port: Int) throws(WebSocketError) -> [SocketAddress]

    var shared: ConnectionShared
    var url: WebSocketURL
    var headers: WebSocketHeaders
    var options: WebSocketClient.Options
    /// The TLS context for a `wss://` URL.
    var tls: TLSContext?
    /// The address the socket is bound to before connecting (``WebSocketClient/Options/localAddress``).
    var localAddress: SocketAddress?
    var resolve: Resolver = { host, port throws(WebSocketError) in try SocketAddress.resolve(host: host, port: port) }
}

/// What a server needs to start serving, posted to its loop.
struct ServerStart: Sendable {
    var descriptor: Int32
    var shared: ServerShared
    var options: WebSocketServer.Options
    /// The TLS context when the server uses TLS.
    var tls: TLSContext?
}

/// The event loop's thread-confined side: `poll(2)` over every descriptor, timers, commands.
///
/// Only the loop's thread touches a reactor and its ``ConnectionDriver``s, so none of them needs a lock;
/// what other threads share lives in ``ConnectionShared`` and ``ServerShared``. The reactor stops when it
/// has nothing left to do: a client loop when its connection is gone, a server loop after a shutdown once
/// every connection is closed. It then closes every descriptor and resolves every waiter.
///
/// The reactor also keeps the server-wide receive buffer budget
/// (``WebSocketServer/Options/sharedReceiveBufferLimit``), a ``ReceiveBufferBudget`` without a lock: all
/// connections of one server share its thread.
final class Reactor {
    /// Who a polled descriptor belongs to.
    enum Owner {
        case wake
        case listener
        case connection(UInt64)
    }

    private struct Listener {
        var descriptor: Int32
        var slot: Int
        var shared: ServerShared
        var options: WebSocketServer.Options
        var tls: TLSContext?
        var isShuttingDown = false
        var openCount = 0
        var rejectingCount = 0
        var pausedUntil: ContinuousClock.Instant?
    }

    let loop: EventLoop
    private let stopsWhenIdle: Bool
    private var pollSet: [pollfd] = []
    private var owners: [Owner] = []
    private var ready: [(owner: Owner, events: Int16)] = []
    private var connections: [UInt64: ConnectionDriver] = [:]
    private var timers = TimerHeap()
    private var listener: Listener?
    private var hadConnection = false
    private var isRunning = true
    private var nextConnectionID: UInt64 = 1
    /// The frame and reassembly buffer memory all connections share: the server's limit, unlimited on a client
    /// loop.
    let receiveBuffers = ReceiveBufferBudget()

    init(loop: EventLoop, stopsWhenIdle: Bool) {
        self.loop = loop
        self.stopsWhenIdle = stopsWhenIdle
    }

    /// Runs until there is nothing left to do, then releases everything.
    func run() {
        _ = register(loop.wakeReader, events: Int16(POLLIN), owner: .wake)
        while isRunning {
            let count = poll(&pollSet, nfds_t(pollSet.count), pollTimeout())
            if count < 0, errno != EINTR { break }
            if count > 0 {
                ready.removeAll(keepingCapacity: true)
                for index in pollSet.indices where pollSet[index].revents != 0 {
                    ready.append((owners[index], pollSet[index].revents))
                }
                for (owner, events) in ready { dispatch(owner, events: events) }
            }
            for command in loop.takeCommands() { execute(command) }
            fireTimers()
            checkIdle()
        }
        cleanUp()
    }

    private func pollTimeout() -> Int32 {
        guard let earliest = timers.earliest else { return -1 }
        let remaining = ContinuousClock.now.duration(to: earliest)
        guard remaining > .zero else { return 0 }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    private func dispatch(_ owner: Owner, events: Int16) {
        switch owner {
        case .wake:
            var buffer = [UInt8](repeating: 0, count: 64)
            while read(loop.wakeReader, &buffer, buffer.count) > 0 {}
        case .listener:
            acceptConnections()
        case .connection(let id):
            connections[id]?.handle(events: events)
        }
    }

    private func execute(_ command: EventLoop.Command) {
        switch command {
        case .flush(let id):
            connections[id]?.flush()
        case .resumeReading(let id):
            connections[id]?.resumeReading()
        case .close(let id):
            connections[id]?.applicationRequestedClose()
        case .sendStalled(let id):
            connections[id]?.sendStalled()
        case .sendQueueFull(let id):
            connections[id]?.failSendQueueFull()
        case .resolved(let id, let result):
            connections[id]?.resolved(result)
        case .statistics(let continuation):
            continuation.resume(returning: statistics())
        case .startClient(let start):
            startClient(start)
        case .startServer(let start):
            startServer(start)
        case .shutdownServer:
            shutdownServer()
        }
    }

    private func statistics() -> WebSocketServer.Statistics {
        var statistics = WebSocketServer.Statistics()
        statistics.connections = connections.count
        statistics.openConnections = listener?.openCount ?? 0
        statistics.refusingConnections = listener?.rejectingCount ?? 0
        statistics.receiveBufferBytes = receiveBuffers.used
        for driver in connections.values {
            statistics.unwrittenBytes += driver.unwrittenByteCount
            if driver.owedPong != nil { statistics.owedPongs += 1 }
        }
        return statistics
    }

    private func fireTimers() {
        let now = ContinuousClock.now
        while let entry = timers.popDue(now: now) {
            if entry.connection == 0 {
                resumeAccepting(at: entry.instant)
            } else {
                connections[entry.connection]?.timerFired(entry.kind, at: entry.instant)
            }
        }
    }

    private func checkIdle() {
        if let listener {
            if listener.isShuttingDown, connections.isEmpty { isRunning = false }
        } else if stopsWhenIdle, hadConnection, connections.isEmpty {
            isRunning = false
        }
    }

    private func cleanUp() {
        for driver in Array(connections.values) {
            driver.abort(
                closeInfo: WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: .local, wasClean: false),
                error: WebSocketError(.closed, "event loop stopped")
            )
        }
        if let listener, listener.descriptor >= 0 { close(listener.descriptor) }
        for command in loop.stop() {
            switch command {
            case .startClient(let start):
                start.shared.finish(
                    closeInfo: WebSocketCloseInfo(
                        code: .abnormalClosure,
                        reason: "",
                        initiator: .local,
                        wasClean: false
                    ),
                    error: WebSocketError(.closed, "event loop stopped")
                )
            case .startServer(let start):
                close(start.descriptor)
                start.shared.didStop()
            case .statistics(let continuation):
                continuation.resume(returning: WebSocketServer.Statistics())
            default:
                break
            }
        }
        listener?.shared.didStop()
    }

    // MARK: - Registration

    /// Adds a descriptor to the poll set; returns its slot.
    func register(_ descriptor: Int32, events: Int16, owner: Owner) -> Int {
        pollSet.append(pollfd(fd: descriptor, events: events, revents: 0))
        owners.append(owner)
        return pollSet.count - 1
    }

    /// Changes what a slot waits for.
    func setEvents(slot: Int, events: Int16) {
        pollSet[slot].events = events
    }

    /// Removes a slot; the last slot moves into its place.
    func unregister(slot: Int) {
        let last = pollSet.count - 1
        if slot != last {
            pollSet[slot] = pollSet[last]
            owners[slot] = owners[last]
            switch owners[slot] {
            case .wake: break
            case .listener: listener?.slot = slot
            case .connection(let id): connections[id]?.slot = slot
            }
        }
        pollSet.removeLast()
        owners.removeLast()
    }

    /// Arms a timer for a connection.
    func arm(_ kind: TimerHeap.Kind, for id: UInt64, at instant: ContinuousClock.Instant) {
        timers.insert(TimerHeap.Entry(instant: instant, connection: id, kind: kind))
    }

    /// Forgets a connection whose socket is closed; the counts change only for a driver that was in the table.
    func remove(_ driver: ConnectionDriver) {
        guard let removed = connections.removeValue(forKey: driver.shared.id) else { return }
        guard removed === driver else {
            connections[driver.shared.id] = removed
            return
        }
        guard listener != nil else { return }
        if driver.isCountedAsOpen { listener?.openCount -= 1 }
        if driver.isRejection { listener?.rejectingCount -= 1 }
    }

    // MARK: - Client

    private func startClient(_ start: ClientStart) {
        hadConnection = true
        let driver = ConnectionDriver(reactor: self, client: start)
        connections[start.shared.id] = driver
        driver.connect()
    }

    // MARK: - Server

    private func startServer(_ start: ServerStart) {
        let slot = register(start.descriptor, events: Int16(POLLIN), owner: .listener)
        listener = Listener(
            descriptor: start.descriptor,
            slot: slot,
            shared: start.shared,
            options: start.options,
            tls: start.tls
        )
        receiveBuffers.limit = start.options.sharedReceiveBufferLimit
    }

    private func acceptConnections() {
        while let server = listener, !server.isShuttingDown, server.pausedUntil == nil {
            var storage = sockaddr_storage()
            let descriptor = SocketCalls.accept(server.descriptor, into: &storage)
            if descriptor < 0 {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: stop accepting for a moment instead of spinning on a ready listener.
                    let until = ContinuousClock.now.advanced(by: .milliseconds(100))
                    listener?.pausedUntil = until
                    setEvents(slot: server.slot, events: 0)
                    arm(.deadline, for: 0, at: until)
                    return
                default:
                    return
                }
            }
            SocketCalls.setOption(descriptor, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
            let remote = SocketAddress(storage: storage) ?? SocketAddress(family: .ipv4, host: "?", port: 0)
            // Who may connect is decided before anything is read: a refused local peer gets 403 at once.
            let refusal =
                LocalPeers.refusal(
                    of: descriptor,
                    policy: server.options.localPeers,
                    sources: server.options.peerOwnerSources
                )
                ?? (server.openCount < server.options.maximumConnections
                    ? nil
                    : WebSocketHandshake.Rejection(
                        status: 503,
                        reasonPhrase: "Service Unavailable",
                        body: "too many connections (limit \(server.options.maximumConnections))"
                    ))
            if refusal != nil, server.rejectingCount >= max(16, server.options.maximumConnections) {
                close(descriptor)
                continue
            }
            let id = nextConnectionID
            nextConnectionID += 1
            let shared = ConnectionShared(
                id: id,
                role: .server,
                options: server.options.connection,
                loop: loop,
                location: remote.text
            )
            let driver = ConnectionDriver(
                reactor: self,
                descriptor: descriptor,
                remote: remote,
                shared: shared,
                serverOptions: server.options,
                tls: server.tls
            )
            if refusal == nil {
                listener?.openCount += 1
            } else {
                listener?.rejectingCount += 1
                driver.countAsRejection()
            }
            // In the table before anything can close the socket: whatever closes it from here on (a peer
            // that reset before the refusal could be written, say) removes the driver again.
            connections[id] = driver
            driver.start()
            if let refusal { driver.reject(refusal) }
        }
    }

    private func resumeAccepting(at instant: ContinuousClock.Instant) {
        guard let server = listener, server.pausedUntil == instant, !server.isShuttingDown else { return }
        listener?.pausedUntil = nil
        setEvents(slot: server.slot, events: Int16(POLLIN))
    }

    /// Reports a connection the server answered with an HTTP error.
    func refused(_ rejection: WebSocketHandshake.Rejection, remote: SocketAddress?) {
        listener?.shared.report(
            WebSocketServer.Refusal(
                remoteAddress: remote?.host ?? "?",
                remotePort: remote?.port ?? 0,
                status: rejection.status,
                reasonPhrase: rejection.reasonPhrase,
                reason: rejection.body
            )
        )
    }

    /// Hands a connection whose handshake completed to the application.
    func serverConnectionOpened(_ connection: WebSocketConnection) {
        listener?.shared.offer(connection)
    }

    private func shutdownServer() {
        guard let server = listener, !server.isShuttingDown else { return }
        listener?.isShuttingDown = true
        unregister(slot: server.slot)
        close(server.descriptor)
        listener?.descriptor = -1
        server.shared.beginShutdown()
        for driver in Array(connections.values) { driver.shutdown() }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// One connection's socket, driven by the ``Reactor`` on its thread, feeding a ``WebSocketProtocolCore``.
///
/// The driver does the socket work only: it connects (a client looks host names up on a thread of its own and
/// tries every address), reads into the core's input buffer, writes the core's output, keeps the poll
/// interest, and closes. What the bytes mean, every limit and every deadline is the core's: the driver hands
/// each event to the core and performs the actions it asks for, in order (``performActions()``), moving
/// messages and frames between the core and ``ConnectionShared``. It never blocks: every socket is
/// non-blocking, and every wait is a poll event or a reactor timer.
///
/// A driver is in the reactor's table exactly while its socket is open (or, for a client, while it is still
/// resolving or connecting): every path that closes the socket goes through the core's
/// ``WebSocketProtocolCore/Action/close(_:error:)``, which removes it.
final class ConnectionDriver {
    private unowned let reactor: Reactor
    let shared: ConnectionShared
    var core: WebSocketProtocolCore
    var descriptor: Int32 = -1
    var slot = -1
    private var events: Int16 = 0
    private var remote: SocketAddress?

    /// A client's URL, headers and host name lookup; `nil` on the server.
    private let client: ClientStart?
    /// The addresses a client connects to, in turn.
    private var addresses: [SocketAddress] = []
    /// The address being connected to, or the next one to try.
    private var addressIndex = 0

    /// A spare action buffer, swapped with the core's so that neither allocates.
    private var spareActions: [WebSocketProtocolCore.Action] = []
    /// A spare message buffer, swapped with the core's batch for each delivery.
    private var received: [(message: WebSocketMessage, size: Int)] = []
    /// How deeply ``performActions()`` is nested: performing an action may hand the core another event.
    private var performDepth = 0

    // Server accounting.
    private(set) var isCountedAsOpen = false
    private(set) var isRejection = false

    // TLS (`wss://`, or a server with certificates): the session sits between the socket and the core.
    /// The context a client's session is made from once connected; a server's session is made at accept.
    private let tlsContext: TLSContext?
    /// The TLS session, when the connection uses TLS.
    var tls: TLSSession?
    /// Ciphertext made by the session and not written to the socket yet, from `tlsOutputOffset` on.
    var tlsOutput: [UInt8] = []
    var tlsOutputOffset = 0
    /// The buffer ciphertext is read into.
    var tlsInput: [UInt8] = []
    /// Whether the socket reached its end while the session may still hold plaintext for the core.
    var tlsInputEnded = false
    /// Whether the core was told of that end.
    var tlsEndDelivered = false
    /// Whether the core asked for the write half to be shut down: after close_notify, once the output is written.
    var tlsWriteShutdown = false
    /// Whether plaintext is being moved from the session to the core (no nested pumping).
    var isPumpingTLS = false
    /// The start of what the peer sent before the handshake completed (``firstInputLimit`` bytes at most), which
    /// tells a peer speaking plain HTTP.
    var tlsFirstInput: [UInt8] = []

    /// A client connection, not connected yet.
    init(reactor: Reactor, client start: ClientStart) {
        self.reactor = reactor
        self.shared = start.shared
        self.client = start
        self.tlsContext = start.tls
        self.core = WebSocketProtocolCore(
            client: start.url,
            headers: start.headers,
            options: start.options,
            budget: reactor.receiveBuffers,
            now: .now
        )
    }

    /// An accepted server connection, before its handshake.
    init(
        reactor: Reactor,
        descriptor: Int32,
        remote: SocketAddress,
        shared: ConnectionShared,
        serverOptions: WebSocketServer.Options,
        tls: TLSContext?
    ) {
        self.reactor = reactor
        self.shared = shared
        self.client = nil
        self.tlsContext = tls
        self.descriptor = descriptor
        self.remote = remote
        self.isCountedAsOpen = true
        self.core = WebSocketProtocolCore(
            server: serverOptions,
            remote: remote,
            budget: reactor.receiveBuffers,
            now: .now
        )
    }

    // MARK: - Start

    /// Registers an accepted socket and starts the handshake deadline.
    ///
    /// The reactor puts the driver in its table first, so that anything that closes the socket from here on
    /// (a failed write of a refusal, say) removes it again.
    func start() {
        guard descriptor >= 0 else {
            abort(closeInfo: .abnormal(.local), error: nil)
            return
        }
        slot = reactor.register(descriptor, events: 0, owner: .connection(shared.id))
        core.start(now: .now)
        if let tlsContext {
            do {
                tls = try TLSSession(context: tlsContext, host: nil)
            } catch {
                abort(closeInfo: .abnormal(.local), error: error)
                return
            }
        }
        performActions()
    }

    /// Starts the connect deadline, then connects to an address literal at once or looks the host name up on
    /// a thread of its own, which posts the addresses back (``resolved(_:)``).
    func connect() {
        guard let client else { return }
        if let literal = SocketAddress(literal: client.url.host, port: client.url.port) {
            core.startConnecting(isResolving: false, now: .now)
            performActions()
            addresses = [literal]
            addressIndex = 0
            connectNext(lastError: nil)
            return
        }
        core.startConnecting(isResolving: true, now: .now)
        performActions()
        let loop = reactor.loop
        let id = shared.id
        let host = client.url.host
        let port = client.url.port
        let resolve = client.resolve
        do {
            try startDetachedThread {
                let result = Result { () throws(WebSocketError) in try resolve(host, port) }
                loop.post(.resolved(id, result))
            }
        } catch {
            abort(closeInfo: .abnormal(.local), error: error)
        }
    }

    /// The host name lookup finished; ignored when the connection gave up meanwhile (deadline, close).
    func resolved(_ result: Result<[SocketAddress], WebSocketError>) {
        guard case .resolving = core.phase else { return }
        switch result {
        case .success(let resolved):
            core.addressesResolved()
            addresses = resolved
            addressIndex = 0
            connectNext(lastError: nil)
        case .failure(let error):
            abort(closeInfo: .abnormal(.local), error: error)
        }
    }

    private func connectNext(lastError: Int32?) {
        guard core.isConnecting else { return }
        closeDescriptor()
        let index = addressIndex
        guard index < addresses.count else {
            let number = lastError ?? ECONNREFUSED
            let error: WebSocketError
            if number == ECONNREFUSED {
                error = WebSocketError(.connectionRefused, "connection refused")
            } else if number == EAFNOSUPPORT, let local = client?.localAddress {
                error = WebSocketError(
                    .invalidAddress,
                    "cannot connect from \(local.host): no address of the server is of its family"
                )
            } else {
                error = WebSocketError(.ioError, "connect failed: \(errorText(number))")
            }
            abort(closeInfo: .abnormal(.local), error: error)
            return
        }
        let address = addresses[index]
        addressIndex = index + 1
        if let local = client?.localAddress, local.family != address.family {
            connectNext(lastError: lastError ?? EAFNOSUPPORT)
            return
        }
        let socketDescriptor = SocketCalls.streamSocket(family: address.cFamily)
        guard socketDescriptor >= 0 else {
            connectNext(lastError: errno)
            return
        }
        SocketCalls.setOption(socketDescriptor, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
        if let local = client?.localAddress {
            // The port is chosen at connect, for this address and the server's, not reserved at bind.
            if local.family == .ipv4 {
                SocketCalls.setOption(
                    socketDescriptor,
                    level: Int32(IPPROTO_IP),
                    name: IP_BIND_ADDRESS_NO_PORT,
                    value: 1
                )
            }
            let bound = local.withSockAddr { bind(socketDescriptor, $0, $1) }
            guard bound == 0 else {
                let number = errno
                close(socketDescriptor)
                let error = WebSocketError(.invalidAddress, "cannot bind \(local.host): \(errorText(number))")
                abort(closeInfo: .abnormal(.local), error: error)
                return
            }
        }
        descriptor = socketDescriptor
        remote = address
        slot = reactor.register(socketDescriptor, events: 0, owner: .connection(shared.id))
        let status = address.withSockAddr { Glibc.connect(socketDescriptor, $0, $1) }
        if status == 0 {
            connected()
        } else if errno == EINPROGRESS || errno == EINTR {
            addressIndex = index
            updateEvents()
        } else {
            connectNext(lastError: errno)
        }
    }

    private func connectFinished() {
        guard core.isConnecting else { return }
        let error = SocketCalls.pendingError(descriptor)
        guard error == 0 else {
            addressIndex += 1
            connectNext(lastError: error)
            return
        }
        connected()
    }

    private func connected() {
        guard let client, let remote else { return }
        if let tlsContext {
            do {
                tls = try TLSSession(
                    context: tlsContext,
                    host: client.url.host,
                    sessionKey: "\(client.url.host):\(client.url.port)"
                )
            } catch {
                abort(closeInfo: .abnormal(.local), error: error)
                return
            }
        }
        core.connected(to: remote, now: .now)
        performActions()
    }

    // MARK: - Events

    /// Handles `poll(2)` results for this connection's socket.
    func handle(events revents: Int16) {
        guard descriptor >= 0 else { return }
        if core.isConnecting {
            connectFinished()
            return
        }
        if revents & Int16(POLLOUT) != 0 { flush() }
        guard descriptor >= 0 else { return }
        let isFailure = revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0
        if revents & Int16(POLLIN) != 0 || (isFailure && core.wantsRead) {
            readAvailable()
        } else if isFailure {
            let number = SocketCalls.pendingError(descriptor)
            connectionLost(error: number == 0 ? nil : number)
        }
    }

    /// Output bytes not written to the socket yet (with TLS: plaintext not encrypted yet and ciphertext).
    var unwrittenByteCount: Int { core.unwrittenByteCount + tlsOutput.count - tlsOutputOffset }

    /// The payload of the latest ping not answered yet because too much output is unwritten.
    var owedPong: [UInt8]? { core.owedPong }

    func updateEvents() {
        guard descriptor >= 0, slot >= 0 else { return }
        var wanted: Int16 = 0
        if core.isConnecting {
            wanted = Int16(POLLOUT)
        } else if let tls {
            // Plaintext waits while the handshake needs the peer: then only the ciphertext makes the socket's
            // writability matter.
            if core.wantsRead, !tlsInputEnded { wanted |= Int16(POLLIN) }
            if tlsOutputOffset < tlsOutput.count || (core.unwrittenByteCount > 0 && tls.isEstablished) {
                wanted |= Int16(POLLOUT)
            }
        } else {
            if core.wantsRead { wanted |= Int16(POLLIN) }
            if core.unwrittenByteCount > 0 { wanted |= Int16(POLLOUT) }
        }
        if wanted != events {
            events = wanted
            reactor.setEvents(slot: slot, events: wanted)
        }
        // Plaintext the session already holds raises no poll event: hand it over once the core reads again.
        if let tls, !isPumpingTLS, core.wantsRead, tls.hasBufferedInput || (tlsInputEnded && !tlsEndDelivered) {
            pumpTLS(now: .now)
        }
    }

    // MARK: - Actions

    /// Performs the actions the core asked for, in order, and lets the core go on where it stopped for them.
    ///
    /// Performing an action may hand the core another event (a failed write, an application that gave up); its
    /// actions are performed at once, before the rest, as a direct call would have done.
    func performActions() {
        performDepth += 1
        var actions: [WebSocketProtocolCore.Action] = []
        if performDepth == 1 { swap(&actions, &spareActions) }
        while true {
            core.takeActions(into: &actions)
            if actions.isEmpty {
                guard performDepth == 1, core.isSuspended else { break }
                core.resume()
                continue
            }
            for action in actions { perform(action) }
            actions.removeAll(keepingCapacity: true)
        }
        performDepth -= 1
        guard performDepth == 0 else { return }
        spareActions = actions
        updateEvents()
    }

    private func perform(_ action: WebSocketProtocolCore.Action) {
        switch action {
        case .flush:
            flush()
        case .deliver:
            core.takeMessages(&received)
            let isFull = shared.deliver(&received)
            core.delivered(receiveQueueIsFull: isFull)
        case .open(var info):
            if let tls {
                info.tls = WebSocketConnection.TLSDetails(
                    protocolVersion: tls.protocolVersion,
                    isResumed: tls.isResumed
                )
            }
            guard shared.open(info: info) else {
                abort(closeInfo: .abnormal(.local), error: nil)
                return
            }
            if shared.role == .server {
                reactor.serverConnectionOpened(WebSocketConnection(shared: shared, info: info))
            }
        case .beginClosing(let closeInfo, let error, let keepsQueuedFrames):
            core.takeQueuedFrames { output in
                shared.beginClosing(
                    closeInfo: closeInfo,
                    error: error,
                    flushInto: &output,
                    keepQueued: keepsQueuedFrames
                )
            }
        case .markClean:
            shared.markClean()
        case .refused(let rejection):
            reactor.refused(rejection, remote: remote)
        case .schedule(let kind, let instant):
            reactor.arm(kind, for: shared.id, at: instant)
        case .close(let closeInfo, let error):
            // Both close frames went through TLS, so nothing was cut off: the session stays resumable. Otherwise
            // OpenSSL marks it not resumable as the TLS session is freed, which is done before anyone is told.
            if closeInfo.wasClean { tls?.markOrderlyEnd() }
            tls = nil
            closeDescriptor()
            let location = client?.url.text ?? remote?.text ?? "?"
            shared.finish(closeInfo: closeInfo, error: error?.located(at: location))
            reactor.remove(self)
        }
    }

    // MARK: - Reading

    /// Reads while the core wants input, at most four socket reads a round so that other connections are served
    /// too: plain bytes go straight into the core's read space, TLS ciphertext through the session
    /// (``receiveCiphertext()``).
    private func readAvailable() {
        let now = ContinuousClock.now
        var rounds = 0
        while descriptor >= 0, core.wantsRead, !tlsInputEnded, rounds < 4 {
            rounds += 1
            let count: Int
            let space: Int
            if tls != nil {
                (count, space) = receiveCiphertext()
            } else {
                guard core.reserveReadSpace(now: now) else {
                    performActions()
                    return
                }
                var room = 0
                count = core.withReadSpace { buffer -> Int in
                    room = buffer.count
                    guard let base = buffer.baseAddress else { return -1 }
                    return recv(descriptor, base, buffer.count, 0)
                }
                space = room
            }
            if count > 0 {
                if tls != nil {
                    ciphertextReceived(count, now: now)
                } else {
                    core.bytesRead(count, now: now)
                    performActions()
                }
                if count < space { break }
            } else if count == 0 {
                if tls != nil {
                    ciphertextEnded(now: now)
                } else {
                    core.endOfInput(now: now)
                    performActions()
                }
                return
            } else if !retries(after: count) {
                break
            }
        }
        updateEvents()
    }

    /// Handles a `recv` that failed or a `send` that wrote nothing: whether the loop around it calls again at once.
    ///
    /// `true` after a signal interrupted the call; `false` when the socket would block, or when the connection is
    /// lost (its descriptor is closed then). `result` is the call's (≤ 0; a `send` of 0 bytes counts as a broken
    /// pipe).
    func retries(after result: Int) -> Bool {
        let number = result < 0 ? errno : EPIPE
        switch number {
        case EINTR: return true
        case EAGAIN, EWOULDBLOCK: return false
        default:
            connectionLost(error: number)
            return false
        }
    }

    func connectionLost(error number: Int32?) {
        if core.isConnecting {
            connectNext(lastError: number)
            return
        }
        let error =
            number.map { WebSocketError(.ioError, "connection lost: \(errorText($0))", closeCode: .abnormalClosure) }
            ?? WebSocketError(.closed, "connection closed without a close frame (1006)", closeCode: .abnormalClosure)
        core.connectionLost(error)
        performActions()
    }

    // MARK: - Writing

    /// Writes queued bytes until the socket would block.
    func flush() {
        guard descriptor >= 0, !core.isConnecting else { return }
        if let tls {
            flushTLS(tls)
            return
        }
        let usesQueue = core.takesApplicationFrames
        var refills = 0
        while true {
            if !core.prepareOutput() {
                guard core.refillOutput(from: { shared.takePending(into: &$0) }) else { break }
                refills += 1
                // A fast peer and a busy sender could keep this loop going forever; leave the rest for the
                // next poll round (the socket is writable, so that comes at once) and serve others first.
                if refills > 4 { break }
                continue
            }
            let written = core.withUnwrittenOutput { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.send(descriptor, base, buffer.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else {
                if retries(after: written) { continue }
                break
            }
            core.wrote(written)
            if usesQueue { shared.didWrite(unwritten: core.unwrittenByteCount) }
        }
        guard descriptor >= 0 else { return }
        if core.takeWriteShutdown() { Glibc.shutdown(descriptor, Int32(SHUT_WR)) }
        updateEvents()
    }

    // MARK: - Commands

    /// Counts this connection among those being refused at accept time (not against the connection limit).
    func countAsRejection() {
        isCountedAsOpen = false
        isRejection = true
    }

    /// Answers a handshake with an HTTP error, then closes once it is sent.
    func reject(_ rejection: WebSocketHandshake.Rejection) {
        core.reject(rejection, now: .now)
        performActions()
    }

    /// The application asked to close (``ConnectionShared/requestedClose``).
    func applicationRequestedClose() {
        guard let (code, reason) = shared.requestedClose else { return }
        core.close(code: code, reason: reason, now: .now)
        performActions()
    }

    /// The server is shutting down: close with 1001 `Terminating`, or drop a connection mid-handshake.
    func shutdown() {
        core.shutdown(now: .now)
        performActions()
    }

    /// Closes the socket now and resolves every waiter; only the first call does anything.
    func abort(closeInfo: WebSocketCloseInfo, error: WebSocketError?) {
        core.abort(closeInfo: closeInfo, error: error)
        performActions()
    }

    private func closeDescriptor() {
        guard descriptor >= 0 else { return }
        if slot >= 0 { reactor.unregister(slot: slot) }
        close(descriptor)
        descriptor = -1
        slot = -1
        events = 0
    }

    /// The application took messages: read again if the receive queue has room.
    func resumeReading() {
        guard core.isReadingPaused, !shared.resumeReading() else { return }
        core.resumeReading(now: .now)
        performActions()
        if tls != nil { pumpTLS(now: .now) }
    }

    /// A sender is waiting for room: make sure the stall timer runs.
    func sendStalled() {
        core.sendStalled(oldestSendWaiter: shared.oldestSendWaiter)
        performActions()
    }

    /// Closes a connection whose peer does not read: queued messages are dropped and a close frame with
    /// 1008 `send queue full` follows what is already being written; the close timeout bounds the rest.
    func failSendQueueFull() {
        guard descriptor >= 0 else { return }
        core.failSendQueueFull(now: .now)
        performActions()
    }

    /// A reactor timer for this connection fired.
    func timerFired(_ kind: TimerHeap.Kind, at instant: ContinuousClock.Instant) {
        core.timerFired(kind, at: instant, now: .now, oldestSendWaiter: shared.oldestSendWaiter)
        performActions()
    }
}

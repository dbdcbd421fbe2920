/// The RFC 6455 protocol of one connection, as a state machine without I/O.
///
/// The core parses handshakes (client and server side, with ``WebSocketHandshake``) and frames, reassembles
/// and validates messages, answers pings, keeps the close handshake, bounds its buffers, decides when reading
/// pauses for back-pressure and owns every deadline. It never touches a socket, a thread or the clock: its
/// owner (``ConnectionDriver``) does the socket work, tells the core what happened, and performs what the core
/// asks for.
///
/// Events come in as method calls: bytes read (``bytesRead(_:now:)``), bytes written (``wrote(_:)``), the end of
/// the stream, a timer that fired (``timerFired(_:at:now:oldestSendWaiter:)``), and the application's commands
/// (close, resume reading, a stalled sender). Every event that may set a timer carries the current time, so
/// tests drive the core with a manual clock. Actions go out through ``takeActions(into:)``; the owner performs
/// them in order (see ``Action``). Some actions need an answer before the core goes on, such as whether the
/// application's receive queue is full after a delivery; the core then stops where it is
/// (``isSuspended``) and the owner calls ``resume()`` once it has performed every action.
///
/// The byte buffers live in the core so that no byte is copied on the way: the owner reads into
/// ``withReadSpace(_:)`` and writes from ``withUnwrittenOutput(_:)``. The application's queued frames join the
/// output through ``refillOutput(from:)`` and ``takeQueuedFrames(_:)``, which take a closure that moves them.
///
/// Memory is bounded on every path:
/// - the input buffer holds 64 KiB and grows only as bytes arrive (never by what a frame header declares),
///   and with the reassembly buffer it is charged against the connection's
///   ``WebSocketConnection/Options/receiveBufferLimit`` (1009 when exceeded) and the server's
///   ``ReceiveBufferBudget`` (1008 when exceeded);
/// - received messages go to the application in batches, and reading pauses when it reports its queue full;
/// - output, pongs included, is bounded by ``WebSocketConnection/Options/sendQueueLimit``: while that much is
///   unwritten, only the latest ping is remembered and reading pauses.
struct WebSocketProtocolCore {
    /// Where the connection is in its life.
    enum Phase: Hashable {
        /// Client: waiting for the host name lookup.
        case resolving
        /// Client: the owner is setting up the TCP connection, trying the addresses in turn.
        case connecting
        /// Client: upgrade request sent, waiting for the response head.
        case clientHandshake(key: String)
        /// Client: non-101 response; reading its body before failing.
        case clientRejected(statusLine: String, bodyLength: Int?)
        /// Server: waiting for the upgrade request head.
        case serverHandshake
        /// Handshake done: frames both ways.
        case open
        /// This side sent a close frame and waits for the peer's.
        case closeSent
        /// Sending what is left, then half-closing and reading until the peer closes.
        case finishing
        /// Over: the core asked for the socket to be closed (``Action/close(_:error:)``).
        case closed
    }

    /// What a timer is for.
    enum TimerKind: Sendable, Hashable {
        /// The connect, handshake or close limit.
        case deadline
        /// The next ping, or the check that the last one was answered.
        case ping
        /// The oldest waiting sender's limit.
        case sendStall
    }

    /// Something the owner must do; actions are performed in the order the core asked for them.
    enum Action: Hashable {
        /// Write the unwritten output until the socket would block (``withUnwrittenOutput(_:)``, ``wrote(_:)``,
        /// ``refillOutput(from:)``, ``takeWriteShutdown()``).
        case flush
        /// Hand the received messages (``takeMessages(_:)``) to the application, then tell the core whether its
        /// receive queue is full (``delivered(receiveQueueIsFull:)``).
        case deliver
        /// The handshake is done: mark the application's side open. When the application gave up meanwhile,
        /// ``abort(closeInfo:error:)`` the connection instead.
        case open(HandshakeInfo)
        /// The close has begun: stop the application's sends, record how the connection ends (the first record
        /// wins), then move its queued frames into the output with ``takeQueuedFrames(_:)``, or drop them when
        /// `keepsQueuedFrames` is `false`.
        case beginClosing(WebSocketCloseInfo, error: WebSocketError?, keepsQueuedFrames: Bool)
        /// Both close frames were exchanged: the close record is clean.
        case markClean
        /// The server answered the upgrade with this HTTP error (its answer is in the output): report it.
        case refused(WebSocketHandshake.Rejection)
        /// Call ``timerFired(_:at:now:oldestSendWaiter:)`` with this kind and instant once the instant has come.
        ///
        /// Timers are never cancelled: a firing the core no longer expects is ignored.
        case schedule(TimerKind, at: ContinuousClock.Instant)
        /// Close the socket, leave the reactor, and finish the application's side with this record and error.
        case close(WebSocketCloseInfo, error: WebSocketError?)
    }

    /// A broken rule: the close code and reason to send, and the error for the application.
    struct Violation: Hashable {
        /// The close code to send.
        var code: WebSocketCloseCode
        /// The close reason to send.
        var reason: String
        /// The error the application sees.
        var error: WebSocketError
    }

    /// The most bytes of a rejection's body a client reads for its error message.
    static let maximumRejectionBody = 4 << 10

    /// Which end of the connection this is.
    let role: ConnectionShared.Role
    /// The connection's limits and timers.
    let options: WebSocketConnection.Options
    /// The client's URL, request headers and handshake limits; `nil` on the server.
    let client: ClientHandshake?
    /// The server's handshake limits; `nil` on the client.
    let server: WebSocketServer.Options?
    /// The peer's address, once known.
    var remote: SocketAddress?
    /// Where the connection is.
    var phase: Phase
    /// The time of the event being handled, which deadlines count from.
    var now: ContinuousClock.Instant
    /// Where random bytes come from: the client's `Sec-WebSocket-Key` and masking keys.
    let random: MaskingKeys.Source

    // Input.
    /// The input and reassembly buffers and their accounting.
    var receive: ReceiveBuffers
    /// Where the search for the end of a handshake head goes on, relative to the unread input.
    var headSearchOffset = 0
    /// The opcode of the fragmented message being reassembled.
    var fragmentOpcode: WebSocketFrame.Opcode?
    /// Messages parsed and not handed to the application yet, with what each counts for in its queue.
    var batch: [(message: WebSocketMessage, size: Int)] = []
    /// The queue bytes of `batch`.
    var batchBytes = 0
    /// Whether reading is paused because the application's receive queue is full.
    var isPaused = false
    /// Whether a ``Action/deliver`` is waiting for its answer; no frame is parsed meanwhile.
    var isDeliveryPending = false

    // Output.
    /// The bytes to write.
    var output: OutputBuffer
    /// The payload of the latest ping not answered yet because too much output is unwritten; reading waits
    /// until it is answered.
    var owedPong: [UInt8]?
    /// Whether pongs were appended while parsing and wait for the flush after the batch.
    var needsFlush = false

    // Timers.
    /// When the connect, handshake or close limit passes.
    var deadline: ContinuousClock.Instant?
    /// When the next ping is due.
    var pingDue: ContinuousClock.Instant?
    /// When the oldest waiting sender's limit passes, as far as the core knows.
    var stallDue: ContinuousClock.Instant?
    /// Whether a ping was sent and its pong has not come yet.
    var isAwaitingPong = false

    // Actions.
    /// The actions not taken by the owner yet.
    var actions: [Action] = []
    /// Whether the core stopped to let the owner perform its actions first; ``resume()`` goes on.
    private(set) var isSuspended = false

    /// What a client needs for its handshake.
    struct ClientHandshake {
        /// The URL connected to.
        var url: WebSocketURL
        /// The caller's extra request header fields.
        var headers: WebSocketHeaders
        /// The client's timeouts and limits.
        var options: WebSocketClient.Options
    }

    /// Creates a client connection's core, before its host name is looked up.
    ///
    /// - Parameters:
    ///   - url: The URL to connect to.
    ///   - headers: The caller's extra request header fields.
    ///   - options: The client's timeouts and limits, connection options included.
    ///   - budget: The receive buffer memory the connection may take (unlimited for a client loop).
    ///   - now: The current time.
    ///   - random: Where random bytes come from (default: the kernel).
    init(
        client url: WebSocketURL,
        headers: WebSocketHeaders,
        options: WebSocketClient.Options,
        budget: ReceiveBufferBudget,
        now: ContinuousClock.Instant,
        random: @escaping MaskingKeys.Source = MaskingKeys.systemRandom
    ) {
        self.role = .client
        self.options = options.connection
        self.client = ClientHandshake(url: url, headers: headers, options: options)
        self.server = nil
        self.phase = .resolving
        self.now = now
        self.random = random
        self.receive = ReceiveBuffers(options: options.connection, budget: budget)
        self.output = OutputBuffer(role: .client, random: random)
    }

    /// Creates an accepted server connection's core, before its handshake.
    ///
    /// - Parameters:
    ///   - options: The server's handshake limits, connection options included.
    ///   - remote: The peer's address.
    ///   - budget: The server's receive buffer budget, shared by its connections.
    ///   - now: The current time.
    ///   - random: Where random bytes come from (default: the kernel; a server never masks).
    init(
        server options: WebSocketServer.Options,
        remote: SocketAddress,
        budget: ReceiveBufferBudget,
        now: ContinuousClock.Instant,
        random: @escaping MaskingKeys.Source = MaskingKeys.systemRandom
    ) {
        self.role = .server
        self.options = options.connection
        self.client = nil
        self.server = options
        self.remote = remote
        self.phase = .serverHandshake
        self.now = now
        self.random = random
        self.receive = ReceiveBuffers(options: options.connection, budget: budget)
        self.output = OutputBuffer(role: .server, random: random)
    }

    // MARK: - State

    /// Whether the core has asked for the socket to be closed.
    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// Whether a client is still setting up its TCP connection (the owner polls for writability).
    var isConnecting: Bool {
        if case .connecting = phase { return true }
        return false
    }

    /// Whether the socket should be read: not while the application's receive queue is full or a pong is owed.
    var wantsRead: Bool {
        switch phase {
        case .resolving, .connecting, .closed: false
        case .open, .closeSent: !isPaused && owedPong == nil
        default: true
        }
    }

    /// Whether reading is paused because the application's receive queue is full.
    var isReadingPaused: Bool { isPaused }

    // MARK: - Actions

    /// Asks the owner to do something.
    mutating func emit(_ action: Action) {
        actions.append(action)
    }

    /// Moves the actions asked for since the last call into `buffer`, in order; an empty buffer is swapped, so
    /// that both keep their capacity.
    ///
    /// - Parameter buffer: Where the actions go.
    mutating func takeActions(into buffer: inout [Action]) {
        if buffer.isEmpty {
            swap(&actions, &buffer)
        } else {
            buffer.append(contentsOf: actions)
            actions.removeAll(keepingCapacity: true)
        }
    }

    /// Stops the current work so that the owner performs the actions asked for so far before the core reads
    /// more frames.
    mutating func suspend() {
        isSuspended = true
    }

    /// Goes on after ``isSuspended``: reads the frames waiting in the input buffer.
    mutating func resume() {
        guard isSuspended else { return }
        isSuspended = false
        guard !isClosed else { return }
        readFrames()
    }

    // MARK: - Starting

    /// Starts an accepted connection: arms the handshake deadline and writes what is already queued.
    ///
    /// - Parameter now: The current time.
    mutating func start(now: ContinuousClock.Instant) {
        self.now = now
        if case .serverHandshake = phase, let server { setDeadline(after: server.handshakeTimeout) }
        emit(.flush)
    }

    /// Starts a client's connect deadline, which covers the host name lookup and the connection attempts.
    ///
    /// - Parameters:
    ///   - isResolving: Whether the host name must be looked up first (it is not an address literal).
    ///   - now: The current time.
    mutating func startConnecting(isResolving: Bool, now: ContinuousClock.Instant) {
        guard let client else { return }
        self.now = now
        setDeadline(after: client.options.connectTimeout)
        phase = isResolving ? .resolving : .connecting
    }

    /// The host name lookup found addresses; the owner connects to them in turn.
    mutating func addressesResolved() {
        guard case .resolving = phase else { return }
        phase = .connecting
    }

    /// The TCP connection is established: sends the upgrade request and arms the handshake deadline.
    ///
    /// - Parameters:
    ///   - remote: The address connected to.
    ///   - now: The current time.
    mutating func connected(to remote: SocketAddress, now: ContinuousClock.Instant) {
        guard let client else { return }
        self.now = now
        self.remote = remote
        var keyBytes = [UInt8](repeating: 0, count: 16)
        keyBytes.withUnsafeMutableBytes { random($0) }
        let key = Base64.encode(keyBytes)
        output.append(WebSocketHandshake.clientRequest(url: client.url, key: key, headers: client.headers))
        phase = .clientHandshake(key: key)
        setDeadline(after: client.options.handshakeTimeout)
        emit(.flush)
    }

    // MARK: - Reading

    /// Makes room for the next read, growing the input buffer within the limits.
    ///
    /// - Parameter now: The current time.
    /// - Returns: `false` when growing would pass a limit; the connection is then failing (see the actions).
    mutating func reserveReadSpace(now: ContinuousClock.Instant) -> Bool {
        guard let violation = receive.reserve(ReceiveBuffers.readChunk / 4) else { return true }
        self.now = now
        fail(violation)
        return false
    }

    /// Calls `body` with the free space after the unread input, for the owner to read into.
    ///
    /// - Parameter body: Reads into the buffer and returns what it wants to.
    /// - Returns: What `body` returns.
    mutating func withReadSpace<Result>(_ body: (UnsafeMutableRawBufferPointer) -> Result) -> Result {
        receive.withReadSpace(body)
    }

    /// Handles `count` bytes the owner read into ``withReadSpace(_:)``.
    ///
    /// - Parameters:
    ///   - count: The number of bytes read.
    ///   - now: The current time.
    mutating func bytesRead(_ count: Int, now: ContinuousClock.Instant) {
        self.now = now
        receive.didRead(count)
        switch phase {
        case .resolving, .connecting, .closed:
            break
        case .clientHandshake(let key):
            readResponseHead(key: key)
        case .clientRejected:
            readRejectionBody(isComplete: false)
        case .serverHandshake:
            readRequestHead()
        case .open, .closeSent:
            readFrames()
        case .finishing:
            receive.discardInput()
        }
    }

    // MARK: - Delivery

    /// Hands the batch of parsed messages to the application (``Action/deliver``).
    mutating func deliverBatch() {
        guard !batch.isEmpty, !isDeliveryPending else { return }
        batchBytes = 0
        isDeliveryPending = true
        emit(.deliver)
    }

    /// Moves the messages to deliver into `messages`, which must be empty; both keep their capacity.
    ///
    /// Each message comes with what it counts for in the receive queue: its payload plus
    /// ``WebSocketConnection/Options/receiveQueueEntryOverhead``.
    ///
    /// - Parameter messages: Where the messages go.
    mutating func takeMessages(_ messages: inout [(message: WebSocketMessage, size: Int)]) {
        swap(&batch, &messages)
        batch.removeAll(keepingCapacity: true)
    }

    /// The application took the delivered messages; reading pauses when its receive queue is full.
    ///
    /// - Parameter receiveQueueIsFull: Whether the queue reached its byte or message limit.
    mutating func delivered(receiveQueueIsFull: Bool) {
        isDeliveryPending = false
        if receiveQueueIsFull { isPaused = true }
    }

    /// The application took enough messages that its queue has room again: reads on.
    ///
    /// - Parameter now: The current time.
    mutating func resumeReading(now: ContinuousClock.Instant) {
        guard isPaused else { return }
        self.now = now
        isPaused = false
        readFrames()
    }
}

extension WebSocketCloseInfo {
    /// The record of a connection that ended without a close handshake (1006).
    ///
    /// - Parameter initiator: The side that ended it.
    /// - Returns: The record.
    static func abnormal(_ initiator: WebSocketCloseInfo.Initiator) -> WebSocketCloseInfo {
        WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: initiator, wasClean: false)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// One connection's socket, protocol state and buffers, driven by the ``Reactor`` on its thread.
///
/// The driver parses handshakes and frames, answers pings, keeps the close handshake and its deadlines,
/// and moves bytes between the socket and ``ConnectionShared``. It never blocks: every socket is
/// non-blocking, host names are looked up on a thread of their own, and every wait is a poll event or a
/// reactor timer.
///
/// Memory is bounded on every path:
/// - the input buffer holds 64 KiB and grows only as bytes arrive (never by what a frame header declares),
///   and with the reassembly buffer it is charged against the connection's
///   ``WebSocketConnection/Options/receiveBufferLimit`` (1009 when exceeded) and the reactor's shared
///   limit (1008 when exceeded);
/// - received messages wait in a queue bounded in bytes and messages (reading pauses at either limit);
/// - output, pongs included, is bounded by ``WebSocketConnection/Options/sendQueueLimit``: while that much
///   is unwritten, only the latest ping is remembered and reading pauses.
///
/// A driver is in the reactor's table exactly while its socket is open (or, for a client, while it is still
/// resolving or connecting): every path that closes the socket goes through ``abort(closeInfo:error:)``,
/// which removes it.
final class ConnectionDriver {
    private enum Phase {
        /// Client: waiting for the host name lookup (on its own thread) to post the addresses.
        case resolving
        /// Client: TCP connect under way to `addresses[index]`.
        case connecting(addresses: [SocketAddress], index: Int)
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
    }

    private static let readChunk = 64 << 10
    private static let maximumRejectionBody = 4 << 10

    private unowned let reactor: Reactor
    let shared: ConnectionShared
    private let options: WebSocketConnection.Options
    private var phase: Phase
    private var descriptor: Int32 = -1
    var slot = -1
    private var events: Int16 = 0
    private var remote: SocketAddress?

    // Handshake.
    private var client: ClientStart?
    private var serverOptions: WebSocketServer.Options?
    private var headSearchOffset = 0

    // Input: bytes in `input[inputStart..<inputEnd]`; `input.count` is the buffer's usable size. Frames are
    // handled inside `input.withUnsafeMutableBytes`, so nothing reached from `handleFrame` may touch `input`
    // (exclusive access): the buffer accounting reads `inputCapacity` instead.
    private var input: [UInt8]
    private var inputCapacity: Int
    private var inputStart = 0
    private var inputEnd = 0
    private var fragment: [UInt8] = []
    private var fragmentOpcode: WebSocketFrame.Opcode?
    private var batch: [(message: WebSocketMessage, size: Int)] = []
    private var batchBytes = 0
    private var isPaused = false
    /// Bytes of `input` beyond the standing read chunk plus `fragment`'s capacity, as charged to the reactor.
    private var bufferCharge = 0

    // Output: bytes in `output[outputOffset...]` are not written yet.
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var didShutDownWrite = false
    private var maskingKeys = MaskingKeys()
    /// The payload of the latest ping not answered yet because too much output is unwritten; reading waits
    /// until it is answered.
    private(set) var owedPong: [UInt8]?
    /// Whether control frames were appended while parsing and wait for the flush after the batch.
    private var needsFlush = false

    // Timers.
    private var deadline: ContinuousClock.Instant?
    private var pingDue: ContinuousClock.Instant?
    private var stallDue: ContinuousClock.Instant?
    private var isAwaitingPong = false

    /// Whether ``abort(closeInfo:error:)`` has run: the socket is closed and the driver left the reactor.
    private var isFinished = false

    // Server accounting.
    private(set) var isCountedAsOpen = false
    private(set) var isRejection = false

    /// A client connection, not connected yet.
    init(reactor: Reactor, client start: ClientStart) {
        self.reactor = reactor
        self.shared = start.shared
        self.options = start.shared.options
        self.client = start
        self.phase = .resolving
        self.input = [UInt8](repeating: 0, count: Self.readChunk)
        self.inputCapacity = input.capacity
    }

    /// An accepted server connection, before its handshake.
    init(
        reactor: Reactor,
        descriptor: Int32,
        remote: SocketAddress,
        shared: ConnectionShared,
        serverOptions: WebSocketServer.Options
    ) {
        self.reactor = reactor
        self.shared = shared
        self.options = shared.options
        self.descriptor = descriptor
        self.remote = remote
        self.serverOptions = serverOptions
        self.phase = .serverHandshake
        self.isCountedAsOpen = true
        self.input = [UInt8](repeating: 0, count: Self.readChunk)
        self.inputCapacity = input.capacity
    }

    private var role: ConnectionShared.Role { shared.role }

    // MARK: - Start

    /// Registers an accepted socket and arms the handshake deadline.
    ///
    /// The reactor puts the driver in its table first, so that anything that closes the socket from here on
    /// (a failed write of a refusal, say) removes it again.
    func start() {
        guard descriptor >= 0 else {
            abort(closeInfo: Self.abnormal(.local), error: nil)
            return
        }
        slot = reactor.register(descriptor, events: 0, owner: .connection(shared.id))
        if case .serverHandshake = phase, let serverOptions {
            setDeadline(after: serverOptions.handshakeTimeout)
        }
        flush()
    }

    /// Starts the connect deadline, then connects to an address literal at once or looks the host name up on
    /// a thread of its own, which posts the addresses back (``resolved(_:)``).
    func connect() {
        guard let client else { return }
        setDeadline(after: client.options.connectTimeout)
        if let literal = SocketAddress(literal: client.url.host, port: client.url.port) {
            phase = .connecting(addresses: [literal], index: 0)
            connectNext(lastError: nil)
            return
        }
        phase = .resolving
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
            abort(closeInfo: Self.abnormal(.local), error: error)
        }
    }

    /// The host name lookup finished; ignored when the connection gave up meanwhile (deadline, close).
    func resolved(_ result: Result<[SocketAddress], WebSocketError>) {
        guard case .resolving = phase else { return }
        switch result {
        case .success(let addresses):
            phase = .connecting(addresses: addresses, index: 0)
            connectNext(lastError: nil)
        case .failure(let error):
            abort(closeInfo: Self.abnormal(.local), error: error)
        }
    }

    private func connectNext(lastError: Int32?) {
        guard case .connecting(let addresses, let index) = phase else { return }
        closeDescriptor()
        guard index < addresses.count else {
            let number = lastError ?? ECONNREFUSED
            let error =
                number == ECONNREFUSED
                ? WebSocketError(.connectionRefused, "connection refused")
                : WebSocketError(.ioError, "connect failed: \(errorText(number))")
            abort(closeInfo: Self.abnormal(.local), error: error)
            return
        }
        let address = addresses[index]
        phase = .connecting(addresses: addresses, index: index + 1)
        let socketDescriptor = SocketCalls.streamSocket(family: address.cFamily)
        guard socketDescriptor >= 0 else {
            connectNext(lastError: errno)
            return
        }
        SocketCalls.setOption(socketDescriptor, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
        descriptor = socketDescriptor
        remote = address
        slot = reactor.register(socketDescriptor, events: 0, owner: .connection(shared.id))
        let status = address.withSockAddr { Glibc.connect(socketDescriptor, $0, $1) }
        if status == 0 {
            connected()
        } else if errno == EINPROGRESS || errno == EINTR {
            phase = .connecting(addresses: addresses, index: index)
            updateEvents()
        } else {
            connectNext(lastError: errno)
        }
    }

    private func connectFinished() {
        guard case .connecting(let addresses, let index) = phase else { return }
        let error = SocketCalls.pendingError(descriptor)
        guard error == 0 else {
            phase = .connecting(addresses: addresses, index: index + 1)
            connectNext(lastError: error)
            return
        }
        connected()
    }

    private func connected() {
        guard let client else { return }
        var keyBytes = [UInt8](repeating: 0, count: 16)
        keyBytes.withUnsafeMutableBytes { MaskingKeys.systemRandom($0) }
        let key = Base64.encode(keyBytes)
        output.append(contentsOf: WebSocketHandshake.clientRequest(url: client.url, key: key, headers: client.headers))
        phase = .clientHandshake(key: key)
        setDeadline(after: client.options.handshakeTimeout)
        flush()
    }

    // MARK: - Events

    /// Handles `poll(2)` results for this connection's socket.
    func handle(events revents: Int16) {
        guard descriptor >= 0 else { return }
        if case .connecting = phase {
            connectFinished()
            return
        }
        if revents & Int16(POLLOUT) != 0 { flush() }
        guard descriptor >= 0 else { return }
        let isFailure = revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0
        if revents & Int16(POLLIN) != 0 || (isFailure && wantsRead) {
            readAvailable()
        } else if isFailure {
            let number = SocketCalls.pendingError(descriptor)
            connectionLost(error: number == 0 ? nil : number)
        }
    }

    private var wantsRead: Bool {
        switch phase {
        case .resolving, .connecting: false
        case .open, .closeSent: !isPaused && owedPong == nil
        default: true
        }
    }

    /// Output bytes not written to the socket yet.
    var unwrittenByteCount: Int { output.count - outputOffset }

    private func updateEvents() {
        guard descriptor >= 0, slot >= 0 else { return }
        var wanted: Int16 = 0
        if case .connecting = phase {
            wanted = Int16(POLLOUT)
        } else {
            if wantsRead { wanted |= Int16(POLLIN) }
            if outputOffset < output.count { wanted |= Int16(POLLOUT) }
        }
        if wanted != events {
            events = wanted
            reactor.setEvents(slot: slot, events: wanted)
        }
    }

    // MARK: - Reading

    private func readAvailable() {
        var rounds = 0
        while descriptor >= 0, wantsRead, rounds < 4 {
            rounds += 1
            if let violation = reserveInput(Self.readChunk / 4) {
                fail(violation)
                return
            }
            let space = input.count - inputEnd
            let count = input.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return recv(descriptor, base + inputEnd, space, 0)
            }
            if count > 0 {
                inputEnd += count
                processInput()
                if count < space { break }
            } else if count == 0 {
                endOfInput()
                return
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                connectionLost(error: errno)
                return
            }
        }
        updateEvents()
    }

    /// Makes room for at least `minimum` more bytes after `inputEnd`, within the buffer limits.
    ///
    /// - Returns: The violation to fail the connection with when growing would pass a limit.
    private func reserveInput(_ minimum: Int) -> Violation? {
        guard input.count - inputEnd < minimum else { return nil }
        if inputStart > 0 {
            let length = inputEnd - inputStart
            input.withUnsafeMutableBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                memmove(base, base + inputStart, length)
            }
            inputStart = 0
            inputEnd = length
        }
        guard input.count - inputEnd < minimum else { return nil }
        let count = inputEnd + minimum
        if let violation = bufferLimitViolation(inputCount: count, fragmentCapacity: fragment.capacity) {
            return violation
        }
        input.reserveCapacity(count)
        input.append(contentsOf: repeatElement(0, count: count - input.count))
        inputCapacity = input.capacity
        updateBufferCharge()
        return nil
    }

    private func consumeInput(_ count: Int) {
        inputStart += count
        if inputStart == inputEnd {
            inputStart = 0
            inputEnd = 0
            if input.count > 4 * Self.readChunk {
                input = [UInt8](repeating: 0, count: Self.readChunk)
                inputCapacity = input.capacity
                updateBufferCharge()
            }
        }
    }

    // MARK: - Buffer limits

    /// What buffers of these sizes are charged: the input buffer beyond its standing read chunk, and the
    /// reassembly buffer.
    private static func charge(inputCount: Int, fragmentCapacity: Int) -> Int {
        max(0, inputCount - readChunk) + fragmentCapacity
    }

    /// Whether growing the buffers to these sizes would pass the connection's or the server's limit.
    private func bufferLimitViolation(inputCount: Int, fragmentCapacity: Int) -> Violation? {
        let wanted = Self.charge(inputCount: inputCount, fragmentCapacity: fragmentCapacity)
        if wanted > options.receiveBufferLimit {
            let reason = "message too big"
            return Violation(
                code: .messageTooBig,
                reason: reason,
                error: WebSocketError(
                    .messageTooBig,
                    "receive buffers of \(wanted) bytes would exceed the connection's limit of "
                        + "\(options.receiveBufferLimit)",
                    closeCode: .messageTooBig,
                    closeReason: reason
                )
            )
        }
        if !reactor.mayChargeReceiveBuffers(wanted - bufferCharge) {
            let reason = "server receive buffers full"
            return Violation(
                code: .policyViolation,
                reason: reason,
                error: WebSocketError(
                    .messageTooBig,
                    "receive buffers of all connections would exceed the server's limit of "
                        + "\(reactor.sharedReceiveBufferLimit) bytes",
                    closeCode: .policyViolation,
                    closeReason: reason
                )
            )
        }
        return nil
    }

    /// Charges the reactor for the buffers as they are now (nothing once the connection is finished).
    private func updateBufferCharge() {
        guard !isFinished else { return }
        let charge = Self.charge(inputCount: inputCapacity, fragmentCapacity: fragment.capacity)
        guard charge != bufferCharge else { return }
        reactor.chargeReceiveBuffers(charge - bufferCharge)
        bufferCharge = charge
    }

    /// Makes the reassembly buffer hold at least `needed` bytes, growing by doubling up to the message limit.
    private func reserveFragment(_ needed: Int) -> Violation? {
        guard needed > fragment.capacity else { return nil }
        let capacity = max(needed, min(2 * fragment.capacity, options.maximumMessageSize))
        if let violation = bufferLimitViolation(inputCount: inputCapacity, fragmentCapacity: capacity) {
            return violation
        }
        fragment.reserveCapacity(capacity)
        updateBufferCharge()
        return nil
    }

    /// Frees the reassembly buffer when it is large.
    private func releaseFragment() {
        if fragment.capacity > 1 << 20 { fragment = [] } else { fragment.removeAll(keepingCapacity: true) }
        updateBufferCharge()
    }

    private func processInput() {
        switch phase {
        case .resolving, .connecting:
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
            inputStart = 0
            inputEnd = 0
        }
    }

    private func endOfInput() {
        switch phase {
        case .resolving, .connecting:
            break
        case .clientHandshake:
            abort(
                closeInfo: Self.abnormal(.peer),
                error: WebSocketError(.closed, "connection closed during the handshake")
            )
        case .clientRejected:
            readRejectionBody(isComplete: true)
        case .serverHandshake:
            abort(closeInfo: Self.abnormal(.peer), error: nil)
        case .open, .closeSent:
            abort(
                closeInfo: Self.abnormal(.peer),
                error: WebSocketError(
                    .closed,
                    "connection closed without a close frame (1006)",
                    closeCode: .abnormalClosure
                )
            )
        case .finishing:
            abort(closeInfo: Self.abnormal(.peer), error: nil)
        }
    }

    private func connectionLost(error number: Int32?) {
        let error =
            number.map { WebSocketError(.ioError, "connection lost: \(errorText($0))", closeCode: .abnormalClosure) }
            ?? WebSocketError(.closed, "connection closed without a close frame (1006)", closeCode: .abnormalClosure)
        if case .connecting = phase {
            connectNext(lastError: number)
            return
        }
        abort(closeInfo: Self.abnormal(.peer), error: error)
    }

    // MARK: - Handshakes

    private func findHead(limit: Int) -> Int? {
        let length = input.withUnsafeBytes { buffer in
            WebSocketHandshake.headLength(
                in: UnsafeRawBufferPointer(rebasing: buffer[inputStart..<inputEnd]),
                searchingFrom: headSearchOffset
            )
        }
        headSearchOffset = inputEnd - inputStart
        return length
    }

    private func readRequestHead() {
        guard let serverOptions else { return }
        let limit = serverOptions.maximumHandshakeSize
        guard let length = findHead(limit: limit) else {
            if inputEnd - inputStart > limit { reject(.headTooLarge(limit)) }
            return
        }
        guard length <= limit else {
            reject(.headTooLarge(limit))
            return
        }
        let head: WebSocketHandshake.Head
        do throws(WebSocketHandshake.HeadProblem) {
            head = try WebSocketHandshake.parseHead(
                input[inputStart..<inputStart + length],
                maximumFieldCount: serverOptions.maximumHeaderCount
            )
        } catch {
            switch error {
            case .tooLarge:
                reject(.headTooLarge(limit))
            case .tooManyFields:
                reject(
                    WebSocketHandshake.Rejection(
                        status: 431,
                        reasonPhrase: "Request Header Fields Too Large",
                        body: "more than \(serverOptions.maximumHeaderCount) header fields"
                    )
                )
            case .malformed(let problem):
                reject(.badRequest(problem))
            }
            return
        }
        let request: WebSocketHandshake.Request
        do {
            request = try WebSocketHandshake.checkRequest(
                head,
                allowsCrossOriginRequests: serverOptions.allowsCrossOriginRequests
            )
        } catch {
            reject(error)
            return
        }
        consumeInput(length)
        output.append(contentsOf: WebSocketHandshake.switchingProtocolsResponse(key: request.key))
        guard let remote else { return }
        let info = HandshakeInfo(
            requestPath: request.target,
            requestHeaders: request.headers,
            responseHeaders: [:],
            remote: remote
        )
        guard shared.open(info: info) else {
            abort(closeInfo: Self.abnormal(.local), error: nil)
            return
        }
        phase = .open
        deadline = nil
        armPing()
        reactor.serverConnectionOpened(WebSocketConnection(shared: shared, info: info))
        flush()
        readFrames()
    }

    /// Counts this connection among those being refused at accept time (not against the connection limit).
    func countAsRejection() {
        isCountedAsOpen = false
        isRejection = true
    }

    /// Answers a handshake with an HTTP error, then closes once it is sent.
    func reject(_ rejection: WebSocketHandshake.Rejection) {
        guard !isFinished else { return }
        output.append(contentsOf: rejection.responseBytes())
        phase = .finishing
        inputStart = 0
        inputEnd = 0
        setDeadline(after: options.closeTimeout)
        flush()
    }

    private func readResponseHead(key: String) {
        guard let client else { return }
        let limit = client.options.maximumHandshakeSize
        guard let length = findHead(limit: limit), length <= limit else {
            if inputEnd - inputStart > limit {
                abort(
                    closeInfo: Self.abnormal(.local),
                    error: WebSocketError(.protocolViolation, "handshake response larger than \(limit) bytes")
                )
            }
            return
        }
        let check: WebSocketHandshake.ResponseCheck
        do {
            let head = try WebSocketHandshake.parseHead(
                input[inputStart..<inputStart + length],
                maximumFieldCount: client.options.maximumHeaderCount
            )
            check = try WebSocketHandshake.checkResponse(head, key: key)
        } catch let error as WebSocketError {
            abort(closeInfo: Self.abnormal(.local), error: error)
            return
        } catch {
            abort(
                closeInfo: Self.abnormal(.local),
                error: WebSocketError(.protocolViolation, "malformed handshake response")
            )
            return
        }
        consumeInput(length)
        switch check {
        case .accepted(let headers):
            guard let remote else { return }
            let info = HandshakeInfo(
                requestPath: client.url.target,
                requestHeaders: client.headers,
                responseHeaders: headers,
                remote: remote
            )
            guard shared.open(info: info) else {
                abort(closeInfo: Self.abnormal(.local), error: nil)
                return
            }
            phase = .open
            deadline = nil
            armPing()
            readFrames()
        case .rejected(let statusLine, let bodyLength):
            phase = .clientRejected(statusLine: statusLine, bodyLength: bodyLength)
            readRejectionBody(isComplete: bodyLength == 0)
        }
    }

    private func readRejectionBody(isComplete: Bool) {
        guard case .clientRejected(let statusLine, let bodyLength) = phase else { return }
        // The length was checked to be a decimal number; clamping keeps the slice in range whatever it is.
        let wanted = max(0, min(bodyLength ?? Self.maximumRejectionBody, Self.maximumRejectionBody))
        let available = max(0, inputEnd - inputStart)
        guard isComplete || available >= wanted else { return }
        let body = String(decoding: input[inputStart..<inputStart + min(available, wanted)], as: UTF8.self)
        let text = oneLine(body)
        let message =
            text.isEmpty
            ? "handshake rejected with '\(statusLine)'"
            : "handshake rejected with '\(statusLine)' and body '\(text)'"
        abort(
            closeInfo: Self.abnormal(.local),
            error: WebSocketError(.handshakeRejected, message, statusLine: statusLine, responseBody: body)
        )
    }

    // MARK: - Frames

    private func readFrames() {
        while !isPaused, descriptor >= 0 {
            let available = inputEnd - inputStart
            guard available >= 2 else { break }
            let parsed = input.withUnsafeBytes { buffer in
                WebSocketFrame.Header.parse(UnsafeRawBufferPointer(rebasing: buffer[inputStart..<inputEnd]))
            }
            guard let header = parsed else { break }
            if let violation = check(header) {
                fail(violation)
                break
            }
            let total = header.headerLength + Int(header.payloadLength)
            guard available >= total else {
                // Room for what may come next, not for what the header declares: the buffer grows with the
                // bytes that arrive (at most doubling each time), up to the frame's size.
                if let violation = reserveInput(min(total - available, max(Self.readChunk, available))) {
                    fail(violation)
                }
                break
            }
            let start = inputStart + header.headerLength
            let violation = input.withUnsafeMutableBytes { buffer -> Violation? in
                let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<start + Int(header.payloadLength)])
                if let key = header.maskingKey { WebSocketFrame.applyMask(key, to: payload) }
                return handleFrame(header, payload: UnsafeRawBufferPointer(payload))
            }
            consumeInput(total)
            if let violation {
                fail(violation)
                break
            }
            if batchBytes >= options.receiveQueueLimit / 4
                || batch.count >= max(1, options.receiveQueueMessageLimit / 4)
            {
                deliverBatch()
            }
        }
        deliverBatch()
        // Pongs are appended as pings are parsed and written together here.
        if needsFlush {
            needsFlush = false
            flush()
        }
    }

    private func deliverBatch() {
        guard !batch.isEmpty else { return }
        batchBytes = 0
        if shared.deliver(&batch) {
            isPaused = true
            updateEvents()
        }
    }

    /// A broken rule: the close code and reason to send, and the error for the application.
    struct Violation {
        var code: WebSocketCloseCode
        var reason: String
        var error: WebSocketError
    }

    private static func protocolError(_ text: String) -> Violation {
        Violation(
            code: .protocolError,
            reason: text,
            error: WebSocketError(.protocolViolation, "protocol violation: \(text)", closeCode: .protocolError)
        )
    }

    private func tooBig(_ text: String) -> Violation {
        Violation(
            code: .messageTooBig,
            reason: "message too big",
            error: WebSocketError(.messageTooBig, text, closeCode: .messageTooBig, closeReason: "message too big")
        )
    }

    private func check(_ header: WebSocketFrame.Header) -> Violation? {
        if header.reserved != 0 { return Self.protocolError("reserved bits set without an extension") }
        guard let opcode = WebSocketFrame.Opcode(rawValue: header.opcode) else {
            return Self.protocolError("unknown opcode \(header.opcode)")
        }
        if opcode.isControl {
            if !header.fin { return Self.protocolError("fragmented control frame") }
            if header.payloadLength > 125 { return Self.protocolError("control frame larger than 125 bytes") }
        }
        switch role {
        case .server where header.maskingKey == nil: return Self.protocolError("unmasked frame from client")
        case .client where header.maskingKey != nil: return Self.protocolError("masked frame from server")
        default: break
        }
        if header.payloadLength > UInt64(options.maximumFrameSize) {
            return tooBig("frame of \(header.payloadLength) bytes exceeds the limit of \(options.maximumFrameSize)")
        }
        switch opcode {
        case .continuation where fragmentOpcode == nil:
            return Self.protocolError("continuation frame without a message to continue")
        case .text where fragmentOpcode != nil, .binary where fragmentOpcode != nil:
            return Self.protocolError("new message before the previous one ended")
        case .continuation, .text, .binary:
            // Known from the header: refuse before reading (and buffering) the payload.
            let size = (opcode == .continuation ? UInt64(fragment.count) : 0) + header.payloadLength
            if size > UInt64(options.maximumMessageSize) {
                return tooBig("message exceeds the limit of \(options.maximumMessageSize) bytes")
            }
            return nil
        default:
            return nil
        }
    }

    private func handleFrame(_ header: WebSocketFrame.Header, payload: UnsafeRawBufferPointer) -> Violation? {
        guard let opcode = WebSocketFrame.Opcode(rawValue: header.opcode) else { return nil }
        switch opcode {
        case .text, .binary:
            if header.fin { return makeMessage(opcode, payload) }
            if payload.count > options.maximumMessageSize {
                return tooBig("message exceeds the limit of \(options.maximumMessageSize) bytes")
            }
            fragment.removeAll(keepingCapacity: true)
            if let violation = reserveFragment(payload.count) { return violation }
            fragmentOpcode = opcode
            fragment.append(contentsOf: payload)
        case .continuation:
            guard let fragmentOpcode else { return nil }
            if fragment.count + payload.count > options.maximumMessageSize {
                return tooBig("message exceeds the limit of \(options.maximumMessageSize) bytes")
            }
            if let violation = reserveFragment(fragment.count + payload.count) { return violation }
            fragment.append(contentsOf: payload)
            guard header.fin else { return nil }
            self.fragmentOpcode = nil
            let violation = fragment.withUnsafeBytes { makeMessage(fragmentOpcode, $0) }
            releaseFragment()
            return violation
        case .ping:
            if case .open = phase { answerPing(payload) }
        case .pong:
            isAwaitingPong = false
        case .close:
            return closeFrameReceived(payload)
        }
        return nil
    }

    private func makeMessage(_ opcode: WebSocketFrame.Opcode, _ payload: UnsafeRawBufferPointer) -> Violation? {
        if payload.count > options.maximumMessageSize {
            return tooBig("message exceeds the limit of \(options.maximumMessageSize) bytes")
        }
        guard case .open = phase else { return nil }
        let message: WebSocketMessage
        if opcode == .text {
            let text = payload.withMemoryRebound(to: UInt8.self) { String(validating: $0, as: UTF8.self) }
            guard let text else {
                return Violation(
                    code: .invalidPayload,
                    reason: "invalid UTF-8 in text message",
                    error: WebSocketError(
                        .protocolViolation,
                        "protocol violation: invalid UTF-8 in text message",
                        closeCode: .invalidPayload
                    )
                )
            }
            message = .text(text)
        } else {
            message = .binary(Array(payload))
        }
        let size = payload.count + WebSocketConnection.Options.receiveQueueEntryOverhead
        batch.append((message, size))
        batchBytes += size
        return nil
    }

    private func closeFrameReceived(_ payload: UnsafeRawBufferPointer) -> Violation? {
        var code = WebSocketCloseCode.noStatus
        var reason = ""
        if payload.count == 1 { return Self.protocolError("close frame with a 1-byte payload") }
        if payload.count >= 2 {
            code = WebSocketCloseCode(rawValue: UInt16(payload[0]) << 8 | UInt16(payload[1]))
            guard code.isSendable else { return Self.protocolError("invalid close code \(code.rawValue)") }
            let text = UnsafeRawBufferPointer(rebasing: payload[2...]).withMemoryRebound(to: UInt8.self) {
                String(validating: $0, as: UTF8.self)
            }
            guard let text else {
                return Violation(
                    code: .invalidPayload,
                    reason: "invalid UTF-8 in close reason",
                    error: WebSocketError(
                        .protocolViolation,
                        "protocol violation: invalid UTF-8 in close reason",
                        closeCode: .invalidPayload
                    )
                )
            }
            reason = text
        }
        switch phase {
        case .open:
            deliverBatch()
            owedPong = nil
            let isClean = code == .normalClosure || code == .goingAway || code == .noStatus
            shared.beginClosing(
                closeInfo: WebSocketCloseInfo(code: code, reason: reason, initiator: .peer, wasClean: true),
                error: isClean ? nil : .closedByPeer(code: code, reason: reason),
                flushInto: &output,
                keepQueued: true
            )
            appendCloseFrame(code: code, reason: "")
            phase = .finishing
            setDeadline(after: options.closeTimeout)
            flush()
        case .closeSent:
            shared.markClean()
            phase = .finishing
            flush()
        default:
            break
        }
        return nil
    }

    // MARK: - Writing

    /// Writes queued bytes until the socket would block.
    func flush() {
        guard descriptor >= 0 else { return }
        if case .connecting = phase { return }
        let usesQueue: Bool
        switch phase {
        case .open, .closeSent, .finishing: usesQueue = true
        default: usesQueue = false
        }
        var refills = 0
        while true {
            if owedPong != nil, output.count - outputOffset < options.sendQueueLimit { appendOwedPong() }
            if outputOffset == output.count {
                output.removeAll(keepingCapacity: output.capacity <= 8 << 20)
                outputOffset = 0
                guard usesQueue, shared.takePending(into: &output) else { break }
                refills += 1
                // A fast peer and a busy sender could keep this loop going forever; leave the rest for the
                // next poll round (the socket is writable, so that comes at once) and serve others first.
                if refills > 4 { break }
                continue
            }
            let remaining = output.count - outputOffset
            let written = output.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.send(descriptor, base + outputOffset, remaining, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                outputOffset += written
                if usesQueue { shared.didWrite(unwritten: output.count - outputOffset) }
            } else if written < 0, errno == EINTR {
                continue
            } else if written < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                connectionLost(error: written < 0 ? errno : EPIPE)
                return
            }
        }
        if case .finishing = phase, outputOffset == output.count, !didShutDownWrite {
            didShutDownWrite = true
            Glibc.shutdown(descriptor, Int32(SHUT_WR))
        }
        updateEvents()
    }

    /// Appends a ping or pong; the caller flushes.
    private func appendControlFrame(_ opcode: WebSocketFrame.Opcode, payload: UnsafeRawBufferPointer) {
        WebSocketFrame.encode(
            fin: true,
            opcode: opcode.rawValue,
            maskingKey: role == .client ? maskingKeys.next() : nil,
            payload: payload,
            into: &output
        )
    }

    /// Answers a ping: at once while less than the send queue limit is unwritten; otherwise only the latest
    /// ping is kept (RFC 6455 §5.5.3) and reading stops until the backlog has drained below the limit.
    private func answerPing(_ payload: UnsafeRawBufferPointer) {
        if owedPong == nil, output.count - outputOffset < options.sendQueueLimit {
            appendControlFrame(.pong, payload: payload)
            needsFlush = true
            return
        }
        if owedPong == nil { owedPong = [] }
        owedPong?.removeAll(keepingCapacity: true)
        owedPong?.append(contentsOf: payload)
        updateEvents()
    }

    /// Appends the pong owed for the latest ping; reading resumes with the next event update.
    private func appendOwedPong() {
        guard let payload = owedPong else { return }
        owedPong = nil
        guard case .open = phase else { return }
        payload.withUnsafeBytes { appendControlFrame(.pong, payload: $0) }
    }

    private func appendCloseFrame(code: WebSocketCloseCode, reason: String) {
        var payload: [UInt8] = []
        if code != .noStatus {
            payload = [UInt8(truncatingIfNeeded: code.rawValue >> 8), UInt8(truncatingIfNeeded: code.rawValue)]
            payload.append(contentsOf: Self.truncatedReason(reason))
        }
        payload.withUnsafeBytes { bytes in
            WebSocketFrame.encode(
                fin: true,
                opcode: WebSocketFrame.Opcode.close.rawValue,
                maskingKey: role == .client ? maskingKeys.next() : nil,
                payload: bytes,
                into: &output
            )
        }
    }

    /// The reason's UTF-8, cut at a character boundary to fit a close frame (123 bytes).
    static func truncatedReason(_ reason: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for character in reason {
            let encoded = Array(character.utf8)
            guard bytes.count + encoded.count <= 123 else { break }
            bytes.append(contentsOf: encoded)
        }
        return bytes
    }

    // MARK: - Closing

    /// Fails the connection: sends a close frame with the violation's code and stops reading frames.
    private func fail(_ violation: Violation) {
        guard descriptor >= 0 else { return }
        switch phase {
        case .open, .closeSent:
            deliverBatch()
            shared.beginClosing(
                closeInfo: WebSocketCloseInfo(
                    code: violation.code,
                    reason: violation.reason,
                    initiator: .local,
                    wasClean: false
                ),
                error: violation.error,
                flushInto: &output,
                keepQueued: false
            )
            if case .open = phase { appendCloseFrame(code: violation.code, reason: violation.reason) }
            phase = .finishing
            owedPong = nil
            inputStart = 0
            inputEnd = 0
            fragmentOpcode = nil
            fragment = []
            updateBufferCharge()
            setDeadline(after: options.closeTimeout)
            flush()
        default:
            abort(closeInfo: Self.abnormal(.local), error: violation.error)
        }
    }

    /// The application asked to close (``ConnectionShared/requestedClose``).
    func applicationRequestedClose() {
        guard let (code, reason) = shared.requestedClose else { return }
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

    private func startClose(code: WebSocketCloseCode, reason: String, error: WebSocketError?) {
        guard case .open = phase else { return }
        let info = WebSocketCloseInfo(code: code, reason: reason, initiator: .local, wasClean: false)
        if code == .abnormalClosure {
            abort(closeInfo: info, error: error)
            return
        }
        deliverBatch()
        shared.beginClosing(closeInfo: info, error: error, flushInto: &output, keepQueued: true)
        // No frame may follow the close frame, an owed pong included.
        owedPong = nil
        appendCloseFrame(code: code, reason: reason)
        phase = .closeSent
        setDeadline(after: options.closeTimeout)
        // Data frames are dropped from now on, so a full receive queue must not keep the peer's close
        // frame unread.
        isPaused = false
        flush()
        if descriptor >= 0 {
            readFrames()
            updateEvents()
        }
    }

    /// The server is shutting down: close with 1001 `Terminating`, or drop a connection mid-handshake.
    func shutdown() {
        switch phase {
        case .open:
            startClose(code: .goingAway, reason: "Terminating", error: nil)
        case .finishing where didShutDownWrite:
            // Everything is sent; only the peer's end of stream is awaited, which a shutdown need not wait for.
            abort(closeInfo: Self.abnormal(.local), error: nil)
        case .closeSent, .finishing:
            break
        default:
            abort(closeInfo: Self.abnormal(.local), error: WebSocketError(.closed, "server shut down"))
        }
    }

    /// Closes the socket now, returns the buffer charge, resolves every waiter and leaves the reactor's
    /// table; only the first call does anything.
    ///
    /// It may run while a frame is being handled, so it leaves `input` alone; the buffers go with the driver.
    func abort(closeInfo: WebSocketCloseInfo, error: WebSocketError?) {
        guard !isFinished else { return }
        isFinished = true
        closeDescriptor()
        deadline = nil
        pingDue = nil
        stallDue = nil
        owedPong = nil
        if bufferCharge != 0 {
            reactor.chargeReceiveBuffers(-bufferCharge)
            bufferCharge = 0
        }
        let location = client?.url.text ?? remote?.text ?? "?"
        shared.finish(closeInfo: closeInfo, error: error?.located(at: location))
        reactor.remove(self)
    }

    private func closeDescriptor() {
        guard descriptor >= 0 else { return }
        if slot >= 0 { reactor.unregister(slot: slot) }
        close(descriptor)
        descriptor = -1
        slot = -1
        events = 0
    }

    private static func abnormal(_ initiator: WebSocketCloseInfo.Initiator) -> WebSocketCloseInfo {
        WebSocketCloseInfo(code: .abnormalClosure, reason: "", initiator: initiator, wasClean: false)
    }

    // MARK: - Back-pressure

    /// The application took messages: read again if the receive queue has room.
    func resumeReading() {
        guard isPaused, !shared.resumeReading() else { return }
        isPaused = false
        readFrames()
        updateEvents()
    }

    /// A sender is waiting for room: make sure the stall timer runs.
    func sendStalled() {
        guard stallDue == nil, let since = shared.oldestSendWaiter else { return }
        let due = since.advanced(by: options.sendQueueTimeout)
        stallDue = due
        reactor.arm(.sendStall, for: shared.id, at: due)
    }

    /// Closes a connection whose peer does not read: queued messages are dropped and a close frame with
    /// 1008 `send queue full` follows what is already being written; the close timeout bounds the rest.
    func failSendQueueFull() {
        guard descriptor >= 0 else { return }
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

    // MARK: - Timers

    private func setDeadline(after duration: Duration) {
        let due = ContinuousClock.now.advanced(by: duration)
        deadline = due
        reactor.arm(.deadline, for: shared.id, at: due)
    }

    private func armPing() {
        guard let interval = options.effectivePingInterval else { return }
        let due = ContinuousClock.now.advanced(by: interval)
        pingDue = due
        reactor.arm(.ping, for: shared.id, at: due)
    }

    /// A reactor timer for this connection fired.
    func timerFired(_ kind: TimerHeap.Kind, at instant: ContinuousClock.Instant) {
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
            guard case .open = phase, let since = shared.oldestSendWaiter else { return }
            let due = since.advanced(by: options.sendQueueTimeout)
            if due <= .now {
                failSendQueueFull()
            } else {
                stallDue = due
                reactor.arm(.sendStall, for: shared.id, at: due)
            }
        }
    }

    private func deadlinePassed() {
        switch phase {
        case .resolving:
            let host = client?.url.host ?? "?"
            let limit = client.map { durationText($0.options.connectTimeout) } ?? "?"
            abort(
                closeInfo: Self.abnormal(.local),
                error: WebSocketError(.timedOut, "looking up host '\(host)' did not finish within \(limit)")
            )
        case .connecting:
            let limit = client.map { durationText($0.options.connectTimeout) } ?? "?"
            abort(
                closeInfo: Self.abnormal(.local),
                error: WebSocketError(.timedOut, "connection not established within \(limit)")
            )
        case .clientHandshake:
            let limit = client.map { durationText($0.options.handshakeTimeout) } ?? "?"
            abort(
                closeInfo: Self.abnormal(.local),
                error: WebSocketError(.timedOut, "no handshake response within \(limit)")
            )
        case .clientRejected:
            readRejectionBody(isComplete: true)
        case .serverHandshake:
            abort(closeInfo: Self.abnormal(.local), error: nil)
        case .open:
            break
        case .closeSent, .finishing:
            abort(closeInfo: Self.abnormal(.local), error: nil)
        }
    }

    private func pingTimerFired() {
        guard case .open = phase, let interval = options.effectivePingInterval else { return }
        if isPaused || owedPong != nil {
            // Not reading (the application or the peer is behind): a pong could not be seen, so none is due.
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
            payload.withUnsafeBytes { appendControlFrame(.ping, payload: $0) }
            flush()
        }
        armPing()
    }
}

extension WebSocketHandshake.Rejection {
    /// 431 for a head over the size limit.
    static func headTooLarge(_ limit: Int) -> Self {
        Self(
            status: 431,
            reasonPhrase: "Request Header Fields Too Large",
            body: "request head larger than \(limit) bytes"
        )
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// One connection's socket, protocol state and buffers, driven by the ``Reactor`` on its thread.
///
/// The driver parses handshakes and frames, answers pings, keeps the close handshake and its deadlines,
/// and moves bytes between the socket and ``ConnectionShared``. It never blocks: every socket is
/// non-blocking and every wait is a poll event or a reactor timer.
final class ConnectionDriver {
    private enum Phase {
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

    // Input: bytes in `input[inputStart..<inputEnd]`; `input.count` is the buffer's capacity.
    private var input: [UInt8]
    private var inputStart = 0
    private var inputEnd = 0
    private var fragment: [UInt8] = []
    private var fragmentOpcode: WebSocketFrame.Opcode?
    private var batch: [(message: WebSocketMessage, size: Int)] = []
    private var batchBytes = 0
    private var isPaused = false

    // Output: bytes in `output[outputOffset...]` are not written yet.
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var didShutDownWrite = false
    private var maskState = UInt64.random(in: .min ... .max)

    // Timers.
    private var deadline: ContinuousClock.Instant?
    private var pingDue: ContinuousClock.Instant?
    private var stallDue: ContinuousClock.Instant?
    private var isAwaitingPong = false

    // Server accounting.
    private(set) var isCountedAsOpen = false
    private(set) var isRejection = false

    /// A client connection, not connected yet.
    init(reactor: Reactor, client start: ClientStart) {
        self.reactor = reactor
        self.shared = start.shared
        self.options = start.shared.options
        self.client = start
        self.phase = .connecting(addresses: [], index: 0)
        self.input = [UInt8](repeating: 0, count: Self.readChunk)
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
    }

    private var role: ConnectionShared.Role { shared.role }

    // MARK: - Start

    /// Registers an accepted socket and arms the handshake deadline.
    func start() {
        slot = reactor.register(descriptor, events: 0, owner: .connection(shared.id))
        if case .serverHandshake = phase, let serverOptions {
            setDeadline(after: serverOptions.handshakeTimeout)
        }
        flush()
    }

    /// Resolves the URL's host and starts connecting to its first address.
    func connect() {
        guard let client else { return }
        let addresses: [SocketAddress]
        do {
            addresses = try SocketAddress.resolve(host: client.url.host, port: client.url.port)
        } catch {
            abort(closeInfo: Self.abnormal(.local), error: error)
            return
        }
        setDeadline(after: client.options.connectTimeout)
        phase = .connecting(addresses: addresses, index: 0)
        connectNext(lastError: nil)
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
        let socketDescriptor = socket(address.cFamily, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else {
            connectNext(lastError: errno)
            return
        }
        SocketCalls.configure(socketDescriptor)
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
        var generator = SystemRandomNumberGenerator()
        for index in keyBytes.indices { keyBytes[index] = generator.next() }
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
        case .connecting: false
        case .open, .closeSent: !isPaused
        default: true
        }
    }

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
            reserveInput(Self.readChunk / 4)
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

    /// Makes room for at least `minimum` more bytes after `inputEnd`.
    private func reserveInput(_ minimum: Int) {
        guard input.count - inputEnd < minimum else { return }
        if inputStart > 0 {
            let length = inputEnd - inputStart
            input.withUnsafeMutableBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                memmove(base, base + inputStart, length)
            }
            inputStart = 0
            inputEnd = length
        }
        if input.count - inputEnd < minimum {
            input.append(contentsOf: repeatElement(0, count: minimum - (input.count - inputEnd)))
        }
    }

    private func consumeInput(_ count: Int) {
        inputStart += count
        if inputStart == inputEnd {
            inputStart = 0
            inputEnd = 0
            if input.count > 4 * Self.readChunk { input = [UInt8](repeating: 0, count: Self.readChunk) }
        }
    }

    private func processInput() {
        switch phase {
        case .connecting:
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
        case .connecting:
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
            if inputEnd - inputStart > limit { reject(.headTooLarge(limit), countedAsOpen: true) }
            return
        }
        guard length <= limit else {
            reject(.headTooLarge(limit), countedAsOpen: true)
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
                reject(.headTooLarge(limit), countedAsOpen: true)
            case .tooManyFields:
                reject(
                    WebSocketHandshake.Rejection(
                        status: 431,
                        reasonPhrase: "Request Header Fields Too Large",
                        body: "more than \(serverOptions.maximumHeaderCount) header fields"
                    ),
                    countedAsOpen: true
                )
            case .malformed(let problem):
                reject(.badRequest(problem), countedAsOpen: true)
            }
            return
        }
        let request: WebSocketHandshake.Request
        do {
            request = try WebSocketHandshake.checkRequest(head)
        } catch {
            reject(error, countedAsOpen: true)
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

    /// Answers a handshake with an HTTP error, then closes once it is sent.
    func reject(_ rejection: WebSocketHandshake.Rejection, countedAsOpen: Bool) {
        if !countedAsOpen {
            isCountedAsOpen = false
            isRejection = true
        }
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
        let wanted = min(bodyLength ?? Self.maximumRejectionBody, Self.maximumRejectionBody)
        let available = inputEnd - inputStart
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
                reserveInput(total - available)
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
            if batchBytes >= options.receiveQueueLimit / 4 { deliverBatch() }
        }
        deliverBatch()
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
            fragmentOpcode = opcode
            fragment.removeAll(keepingCapacity: true)
            fragment.append(contentsOf: payload)
        case .continuation:
            guard let fragmentOpcode else { return nil }
            if fragment.count + payload.count > options.maximumMessageSize {
                return tooBig("message exceeds the limit of \(options.maximumMessageSize) bytes")
            }
            fragment.append(contentsOf: payload)
            guard header.fin else { return nil }
            self.fragmentOpcode = nil
            let violation = fragment.withUnsafeBytes { makeMessage(fragmentOpcode, $0) }
            if fragment.capacity > 1 << 20 { fragment = [] } else { fragment.removeAll(keepingCapacity: true) }
            return violation
        case .ping:
            if case .open = phase { appendControlFrame(.pong, payload: payload) }
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
        batch.append((message, payload.count))
        batchBytes += payload.count
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

    private func appendControlFrame(_ opcode: WebSocketFrame.Opcode, payload: UnsafeRawBufferPointer) {
        WebSocketFrame.encode(
            fin: true,
            opcode: opcode.rawValue,
            maskingKey: role == .client ? nextMaskingKey() : nil,
            payload: payload,
            into: &output
        )
        flush()
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
                maskingKey: role == .client ? nextMaskingKey() : nil,
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

    private func nextMaskingKey() -> UInt32 {
        maskState &+= 0xA076_1D64_78BD_642F
        let product = maskState.multipliedFullWidth(by: maskState ^ 0xE703_7ED1_A0B4_28DB)
        return UInt32(truncatingIfNeeded: product.high ^ product.low)
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
            inputStart = 0
            inputEnd = 0
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

    /// Closes the socket now and resolves every waiter.
    func abort(closeInfo: WebSocketCloseInfo, error: WebSocketError?) {
        closeDescriptor()
        deadline = nil
        pingDue = nil
        stallDue = nil
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
        if isPaused {
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

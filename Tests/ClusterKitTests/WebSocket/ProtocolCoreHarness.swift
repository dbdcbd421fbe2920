import Testing

@testable import ClusterKitWebSocket

/// A ``WebSocketProtocolCore`` driven in memory, without sockets or threads, on a manual clock.
///
/// It performs the core's actions as `ConnectionDriver` does: it reads what the peer sent into the core while
/// the core wants to read, writes the core's output to the peer while the peer reads, delivers messages to an
/// application inbox whose fullness the test controls, keeps the timers the core schedules and fires them when
/// the test moves the clock, and records what the application's side was told.
struct ProtocolCoreHarness {
    typealias Core = WebSocketProtocolCore

    /// The core under test.
    var core: Core
    /// The manual clock's current time.
    private(set) var now: ContinuousClock.Instant
    /// The manual clock's origin.
    let start: ContinuousClock.Instant

    // The peer.
    /// Bytes the peer sent that the core has not read yet (what the kernel would hold).
    private(set) var unread: [UInt8] = []
    /// Bytes the core wrote, as the peer received them.
    var sent: [UInt8] = []
    /// Whether the peer reads: while it does not, nothing the core has can be written.
    var isPeerReading = true
    /// Whether the core shut the writing half of the socket down.
    private(set) var didShutDownWrite = false
    /// Bytes the core may read per read call, as a small socket buffer would hand them over.
    var readSize = Int.max

    // The application.
    /// Messages delivered and not taken by the application.
    private(set) var inbox: [WebSocketMessage] = []
    /// The number of messages at which the application's receive queue is full.
    var inboxCapacity = Int.max
    /// Encoded frames the application queued for sending.
    var queuedFrames: [UInt8] = []
    /// Whether the application still wants the connection when its handshake completes.
    var applicationAcceptsOpen = true
    /// When the oldest sender waiting for room in the send queue started waiting.
    var oldestSendWaiter: ContinuousClock.Instant?
    /// What the application was told when the handshake completed.
    private(set) var opened: HandshakeInfo?
    /// How the close began (the first record wins, as in `ConnectionShared`).
    private(set) var closing: (info: WebSocketCloseInfo, error: WebSocketError?)?
    /// Whether both close frames were exchanged.
    private(set) var isMarkedClean = false
    /// The HTTP errors the core answered the upgrade with.
    private(set) var refusals: [WebSocketHandshake.Rejection] = []
    /// How the connection ended, once the core asked for the socket to be closed.
    private(set) var closed: (info: WebSocketCloseInfo, error: WebSocketError?)?

    /// Every action performed, in order.
    private(set) var log: [Core.Action] = []
    /// Timers scheduled and not fired yet.
    private(set) var timers: [(kind: Core.TimerKind, at: ContinuousClock.Instant)] = []
    /// Messages the harness took from the core and did not deliver yet.
    private var taken: [(message: WebSocketMessage, size: Int)] = []
    /// How deeply ``perform()`` is nested.
    private var performDepth = 0

    /// The request a test client sends, with RFC 6455's example key.
    static let upgradeRequest =
        "GET /v1/messages/json HTTP/1.1\r\nHost: 127.0.0.1:2149\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + "X-Application-Name: core-tests\r\n\r\n"

    /// The peer's address.
    static let peerAddress = SocketAddress(literal: "127.0.0.1", port: 50412)

    private init(core: Core, now: ContinuousClock.Instant) {
        self.core = core
        self.now = now
        self.start = now
    }

    /// A server connection just accepted and started (its handshake deadline set).
    static func server(
        budget: ReceiveBufferBudget = ReceiveBufferBudget(),
        _ configure: (inout WebSocketServer.Options) -> Void = { _ in }
    ) throws -> ProtocolCoreHarness {
        var options = WebSocketServer.Options(port: 0)
        options.connection.pingInterval = nil
        configure(&options)
        let now = ContinuousClock.now
        let remote = try #require(peerAddress)
        var harness = ProtocolCoreHarness(
            core: Core(server: options, remote: remote, budget: budget, now: now),
            now: now
        )
        harness.core.start(now: now)
        harness.perform()
        return harness
    }

    /// A server connection whose handshake is done, with the 101 answer cleared from ``sent``.
    static func openServer(
        budget: ReceiveBufferBudget = ReceiveBufferBudget(),
        _ configure: (inout WebSocketServer.Options) -> Void = { _ in }
    ) throws -> ProtocolCoreHarness {
        var harness = try server(budget: budget, configure)
        harness.peerSends(Array(upgradeRequest.utf8))
        try #require(harness.opened != nil)
        harness.sent = []
        harness.log = []
        return harness
    }

    /// A client connection whose connect deadline runs, before its TCP connection is established; random bytes
    /// count up from 1.
    static func client(
        url: String = "ws://127.0.0.1:2149/v1/messages/json",
        isResolving: Bool = false,
        _ configure: (inout WebSocketClient.Options) -> Void = { _ in }
    ) throws -> ProtocolCoreHarness {
        var options = WebSocketClient.Options()
        configure(&options)
        let now = ContinuousClock.now
        let core = Core(
            client: try WebSocketURL(url),
            headers: ["X-Application-Name": "core-tests"],
            options: options,
            budget: ReceiveBufferBudget(),
            now: now,
            random: { buffer in
                for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index + 1) }
            }
        )
        var harness = ProtocolCoreHarness(core: core, now: now)
        harness.core.startConnecting(isResolving: isResolving, now: now)
        harness.perform()
        return harness
    }

    /// A client connection to `ws://127.0.0.1:2149/v1/messages/json` whose TCP connection is established, its
    /// upgrade request in ``sent``; random bytes count up from 1.
    static func connectedClient(
        _ configure: (inout WebSocketClient.Options) -> Void = { _ in }
    ) throws -> ProtocolCoreHarness {
        var harness = try client(configure)
        let remote = try #require(SocketAddress(literal: "127.0.0.1", port: 2149))
        harness.core.connected(to: remote, now: harness.now)
        harness.perform()
        return harness
    }

    /// A client connection whose handshake is done, with its request cleared from ``sent``.
    static func openClient(
        _ configure: (inout WebSocketClient.Options) -> Void = { _ in }
    ) throws -> ProtocolCoreHarness {
        var harness = try connectedClient(configure)
        harness.peerSends(Array(switchingProtocols(forKey: clientKey).utf8))
        try #require(harness.opened != nil)
        harness.sent = []
        harness.log = []
        return harness
    }

    /// The `Sec-WebSocket-Key` of a test client: random bytes 1 to 16.
    static let clientKey = "AQIDBAUGBwgJCgsMDQ4PEA=="

    /// A server's 101 answer for a client key.
    static func switchingProtocols(forKey key: String) -> String {
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: key))\r\n\r\n"
    }

    // MARK: - Clock

    /// Moves the clock forward, firing every timer that comes due, in order, at its instant.
    mutating func advance(by duration: Duration) {
        let target = now.advanced(by: duration)
        while let index = timers.indices.min(by: { timers[$0].at < timers[$1].at }), timers[index].at <= target {
            let timer = timers.remove(at: index)
            now = max(now, timer.at)
            let waiter = oldestSendWaiter
            core.timerFired(timer.kind, at: timer.at, now: now, oldestSendWaiter: waiter)
            perform()
        }
        now = target
    }

    /// The time `duration` after the clock's origin.
    func time(_ duration: Duration) -> ContinuousClock.Instant {
        start.advanced(by: duration)
    }

    // MARK: - Peer

    /// The peer sends bytes; the core reads what it wants to.
    mutating func peerSends(_ bytes: [UInt8]) {
        unread += bytes
        readAvailable()
    }

    /// The peer sends frames.
    mutating func peerSends(_ frames: [WebSocketFrame]) {
        peerSends(Array(frames.map { $0.encoded() }.joined()))
    }

    /// The peer closes its end of the stream; the core sees it once it has read everything before.
    mutating func peerEndsStream() {
        readAvailable()
        guard unread.isEmpty, core.wantsRead else { return }
        core.endOfInput(now: now)
        perform()
    }

    /// The peer starts reading again: everything the core has is written.
    mutating func peerReads() {
        isPeerReading = true
        flush()
        perform()
        readAvailable()
    }

    /// Reads as `ConnectionDriver` does while the core wants to and bytes wait.
    mutating func readAvailable() {
        while !unread.isEmpty, core.wantsRead {
            guard core.reserveReadSpace(now: now) else {
                perform()
                return
            }
            let chunk = Array(unread.prefix(readSize))
            let count = core.withReadSpace { space -> Int in
                let count = min(space.count, chunk.count)
                chunk.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                return count
            }
            unread.removeFirst(count)
            core.bytesRead(count, now: now)
            perform()
        }
    }

    /// The frames the core wrote since ``sent`` was last cleared.
    func sentFrames() throws -> [WebSocketFrame] {
        var frames: [WebSocketFrame] = []
        var rest = sent
        while !rest.isEmpty {
            let (frame, count) = try #require(WebSocketFrame.decode(rest))
            frames.append(frame)
            rest.removeFirst(count)
        }
        return frames
    }

    /// The frames the core wrote, then clears ``sent``.
    mutating func takeSentFrames() throws -> [WebSocketFrame] {
        defer { sent = [] }
        return try sentFrames()
    }

    // MARK: - Application

    /// The application takes up to `count` messages; reading resumes when its queue has room.
    @discardableResult
    mutating func applicationTakes(_ count: Int = .max) -> [WebSocketMessage] {
        let messages = Array(inbox.prefix(count))
        inbox.removeFirst(messages.count)
        if core.isReadingPaused, inbox.count < inboxCapacity {
            core.resumeReading(now: now)
            perform()
            readAvailable()
        }
        return messages
    }

    /// The application closes.
    mutating func applicationCloses(code: WebSocketCloseCode = .normalClosure, reason: String = "") {
        core.close(code: code, reason: reason, now: now)
        perform()
    }

    // MARK: - Actions

    /// Performs the core's actions in order, then resumes it where it stopped, as `ConnectionDriver` does.
    mutating func perform() {
        performDepth += 1
        defer { performDepth -= 1 }
        while true {
            var actions: [Core.Action] = []
            core.takeActions(into: &actions)
            if actions.isEmpty {
                guard performDepth == 1, core.isSuspended else { return }
                core.resume()
                continue
            }
            for action in actions { perform(action) }
        }
    }

    private mutating func perform(_ action: Core.Action) {
        log.append(action)
        switch action {
        case .flush:
            flush()
        case .deliver:
            core.takeMessages(&taken)
            inbox += taken.map(\.message)
            taken.removeAll()
            core.delivered(receiveQueueIsFull: inbox.count >= inboxCapacity)
        case .open(let info):
            guard applicationAcceptsOpen else {
                core.abort(closeInfo: .abnormal(.local), error: nil)
                perform()
                return
            }
            opened = info
        case .beginClosing(let info, let error, let keepsQueuedFrames):
            if closing == nil { closing = (info, error) }
            let frames = queuedFrames
            queuedFrames = []
            core.takeQueuedFrames { output in
                if keepsQueuedFrames { output += frames }
            }
        case .markClean:
            isMarkedClean = true
        case .refused(let rejection):
            refusals.append(rejection)
        case .schedule(let kind, let instant):
            timers.append((kind, instant))
        case .close(let info, let error):
            closed = closing.map { ($0.info, $0.error) } ?? (info, error)
            if isMarkedClean { closed?.info.wasClean = true }
        }
    }

    /// Writes what the core has, as `ConnectionDriver.flush()` does, while the peer reads.
    mutating func flush() {
        guard closed == nil else { return }
        var refills = 0
        while true {
            if !core.prepareOutput() {
                let frames = queuedFrames
                guard
                    core.refillOutput(from: { output in
                        guard !frames.isEmpty else { return false }
                        output = frames
                        return true
                    })
                else { break }
                queuedFrames = []
                refills += 1
                if refills > 4 { break }
                continue
            }
            guard isPeerReading else { break }
            let written = core.withUnwrittenOutput { Array($0) }
            sent += written
            core.wrote(written.count)
        }
        if core.takeWriteShutdown() { didShutDownWrite = true }
    }
}

import FuzzSupport

// libFuzzer target `websocket-frames` (Docs/fuzzing.md): the frame decoder and the connection's protocol core,
// as a server and as a client, driven in memory on a manual clock.
//
// Input: the first byte chooses the role (bit 0: client), whether the input includes the handshake (bit 1: the
// fuzzer writes the upgrade request or 101 answer itself), how the bytes are cut into reads (bits 2-4) and
// whether the application's receive queue is small (bit 5); the rest is what the peer sends.
// Checks, beyond not crashing:
// - the frame decoder decodes only what it was given, and what it decodes re-encodes to the same bytes;
// - the connection's receive buffers never hold more than its limit, nor the server's budget more than its limit;
// - once the peer has ended its stream and every timer has fired, the connection is closed and has given back
//   every byte it charged to the budget.
@testable import ClusterKitWebSocket

/// The fixed parts of every run.
enum Setup {
    /// Small limits, so that the limits are reached by inputs of a few kilobytes.
    static let connectionOptions = WebSocketConnection.Options(
        pingInterval: .seconds(5),
        maximumMessageSize: 8 << 10,
        maximumFrameSize: 4 << 10,
        receiveBufferLimit: 80 << 10,
        outgoingFragmentSize: 1 << 10,
        sendQueueLimit: 16 << 10,
        receiveQueueLimit: 16 << 10,
        receiveQueueMessageLimit: 64,
        closeTimeout: .seconds(5)
    )

    /// The request a server is sent when the input does not write its own.
    static let upgradeRequest = Array(
        ("GET /v1/messages/json HTTP/1.1\r\nHost: 127.0.0.1:2149\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8
    )

    /// The `Sec-WebSocket-Key` of the client: random bytes 1 to 16 from the counting source below.
    static let clientKey = "AQIDBAUGBwgJCgsMDQ4PEA=="

    /// The answer a client is sent when the input does not write its own.
    static let switchingProtocols = Array(
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: Setup.clientKey))\r\n\r\n").utf8
    )
}

/// Drives a core as `ConnectionDriver` does, with the peer and the application in memory.
struct Driver {
    var core: WebSocketProtocolCore
    let budget: ReceiveBufferBudget
    var now: ContinuousClock.Instant
    var unread: [UInt8] = []
    var readSize: Int
    var inbox: [WebSocketMessage] = []
    var inboxCapacity: Int
    var timers: [(kind: WebSocketProtocolCore.TimerKind, at: ContinuousClock.Instant)] = []
    var closed = false
    var taken: [(message: WebSocketMessage, size: Int)] = []

    mutating func perform() {
        var actions: [WebSocketProtocolCore.Action] = []
        while true {
            actions.removeAll(keepingCapacity: true)
            core.takeActions(into: &actions)
            if actions.isEmpty {
                guard core.isSuspended else { break }
                core.resume()
                continue
            }
            for action in actions { perform(action) }
        }
        checkBudget()
    }

    mutating func perform(_ action: WebSocketProtocolCore.Action) {
        switch action {
        case .flush: flush()
        case .deliver:
            core.takeMessages(&taken)
            inbox += taken.map { $0.message }
            taken.removeAll()
            core.delivered(receiveQueueIsFull: inbox.count >= inboxCapacity)
        case .open, .markClean, .refused: break
        case .beginClosing: core.takeQueuedFrames { _ in }
        case .schedule(let kind, let instant): timers.append((kind, instant))
        case .close: closed = true
        }
    }

    mutating func flush() {
        while core.prepareOutput() {
            let count = core.withUnwrittenOutput { $0.count }
            core.wrote(count)
        }
        _ = core.takeWriteShutdown()
    }

    func checkBudget() {
        guard core.receive.charge <= Setup.connectionOptions.receiveBufferLimit else {
            fatalError("the connection holds \(core.receive.charge) bytes, over its limit")
        }
        guard budget.used <= budget.limit else { fatalError("the budget holds \(budget.used), over its limit") }
    }

    mutating func peerSends(_ bytes: ArraySlice<UInt8>) {
        unread += bytes
        while !unread.isEmpty, core.wantsRead, !closed {
            guard core.reserveReadSpace(now: now) else {
                perform()
                return
            }
            let chunk = unread.prefix(readSize)
            let count = core.withReadSpace { space -> Int in
                let count = min(space.count, chunk.count)
                for index in 0..<count { space[index] = chunk[chunk.startIndex + index] }
                return count
            }
            unread.removeFirst(count)
            core.bytesRead(count, now: now)
            perform()
            // The application takes half of what waits, so that paused reading resumes.
            if core.isReadingPaused {
                inbox.removeFirst(inbox.count / 2 + 1)
                core.resumeReading(now: now)
                perform()
            }
        }
    }

    mutating func finish() {
        inbox.removeAll()
        if core.isReadingPaused {
            core.resumeReading(now: now)
            perform()
        }
        if !closed, core.wantsRead {
            core.endOfInput(now: now)
            perform()
        }
        var firings = 0
        while !closed, let index = timers.indices.min(by: { timers[$0].at < timers[$1].at }) {
            let timer = timers.remove(at: index)
            now = max(now, timer.at)
            core.timerFired(timer.kind, at: timer.at, now: now, oldestSendWaiter: nil)
            perform()
            if core.isReadingPaused {
                core.resumeReading(now: now)
                perform()
            }
            if !closed, core.wantsRead, unread.isEmpty {
                core.endOfInput(now: now)
                perform()
            }
            firings += 1
            guard firings < 100 else { fatalError("the connection is still open after 100 timer firings") }
        }
        guard closed else { fatalError("the connection did not close after its peer ended and every timer fired") }
        guard budget.used == 0 else { fatalError("a closed connection kept \(budget.used) bytes of the budget") }
    }
}

func checkFrameDecoder(_ bytes: [UInt8]) {
    guard let (frame, count) = WebSocketFrame.decode(bytes) else { return }
    guard count <= bytes.count else { fatalError("decoded \(count) bytes of \(bytes.count)") }
    // A decoded frame re-encodes to the same bytes when its length was written in the shortest form.
    let encoded = frame.encoded()
    if encoded.count == count, encoded != Array(bytes[..<count]) {
        fatalError("frame re-encodes differently")
    }
}

/// Checks one input.
func websocketFramesFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let input = Array(input)
    guard let control = input.first else { return }
    let payload = input.dropFirst()
    checkFrameDecoder(Array(payload))

    let isClient = control & 1 != 0
    let writesHandshake = control & 2 != 0
    let readSize = [1, 2, 3, 7, 64, 1000, 4096, Int.max][Int(control >> 2) & 7]
    let inboxCapacity = control & 32 != 0 ? 2 : 64
    let now = ContinuousClock.now
    let budget = ReceiveBufferBudget(limit: isClient ? .max : 96 << 10)
    guard let remote = SocketAddress(literal: "127.0.0.1", port: 50412),
        let url = try? WebSocketURL("ws://127.0.0.1:2149/v1/messages/json")
    else { fatalError("the fixed address or URL does not parse") }
    var driver: Driver
    if isClient {
        var options = WebSocketClient.Options()
        options.connection = Setup.connectionOptions
        let core = WebSocketProtocolCore(
            client: url,
            headers: [:],
            options: options,
            budget: budget,
            now: now,
            random: { buffer in
                for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index + 1) }
            }
        )
        driver = Driver(core: core, budget: budget, now: now, readSize: readSize, inboxCapacity: inboxCapacity)
        driver.core.startConnecting(isResolving: false, now: now)
        driver.perform()
        driver.core.connected(to: remote, now: now)
        driver.perform()
        if !writesHandshake { driver.peerSends(Setup.switchingProtocols[...]) }
    } else {
        var options = WebSocketServer.Options(port: 0)
        options.connection = Setup.connectionOptions
        options.maximumHandshakeSize = 4 << 10
        let core = WebSocketProtocolCore(server: options, remote: remote, budget: budget, now: now)
        driver = Driver(core: core, budget: budget, now: now, readSize: readSize, inboxCapacity: inboxCapacity)
        driver.core.start(now: now)
        driver.perform()
        if !writesHandshake { driver.peerSends(Setup.upgradeRequest[...]) }
    }
    driver.peerSends(payload)
    driver.finish()
}

runFuzzer(websocketFramesFuzz)

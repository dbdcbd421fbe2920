import Testing

@testable import ClusterKitWebSocket

// MARK: - Back-pressure

extension WebSocketProtocolCoreTests {
    /// A ping of 125 bytes, each byte `number`.
    private func ping(_ number: UInt8) -> WebSocketFrame {
        clientFrame(.ping, [UInt8](repeating: number, count: 125))
    }

    /// The pong answering ``ping(_:)``.
    private func pong(_ number: UInt8) -> WebSocketFrame {
        WebSocketFrame(opcode: .pong, payload: [UInt8](repeating: number, count: 125))
    }

    @Test func pingFloodFromAPeerThatDoesNotReadOwesOnlyTheLatestPong() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.sendQueueLimit = 300 }
        harness.isPeerReading = false
        harness.peerSends((1...10).map(ping))

        // Pongs of 127 bytes go out while less than 300 bytes are unwritten; then only the latest ping is kept,
        // and nothing more is read.
        #expect(harness.core.unwrittenByteCount == 3 * 127)
        #expect(harness.core.owedPong == [UInt8](repeating: 10, count: 125))
        #expect(!harness.core.wantsRead)
        harness.peerSends([ping(11)])
        #expect(harness.unread.count == ping(11).encoded().count)

        // Once the peer reads, the owed pong follows the others and reading resumes.
        harness.peerReads()
        #expect(try harness.sentFrames() == [pong(1), pong(2), pong(3), pong(10), pong(11)])
        #expect(harness.core.owedPong == nil)
        #expect(harness.core.wantsRead)
        #expect(harness.unread.isEmpty)
    }

    @Test func noPongIsOwedAfterTheCloseFrame() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.sendQueueLimit = 200 }
        harness.isPeerReading = false
        harness.peerSends([ping(1), ping(2), ping(3)])
        #expect(harness.core.owedPong != nil)
        harness.applicationCloses(code: .normalClosure, reason: "bye")
        harness.peerReads()
        #expect(
            try harness.sentFrames() == [
                pong(1), pong(2), WebSocketFrame(opcode: .close, payload: closePayload(1000, "bye")),
            ]
        )
    }

    @Test func noPongIsDueWhileAPongIsOwed() throws {
        var harness = try ProtocolCoreHarness.openServer {
            $0.connection.pingInterval = .seconds(1)
            $0.connection.sendQueueLimit = 200
        }
        harness.isPeerReading = false
        harness.peerSends([ping(1), ping(2), ping(3)])
        #expect(harness.core.owedPong != nil)
        harness.advance(by: .seconds(10))
        #expect(harness.closing == nil)

        // Once the backlog drains, pings resume and must be answered.
        harness.peerReads()
        #expect(try harness.takeSentFrames() == [pong(1), pong(2), pong(3)])
        harness.advance(by: .seconds(1))
        #expect(try harness.takeSentFrames() == [WebSocketFrame(opcode: .ping, payload: Array("clusterkit".utf8))])
        harness.advance(by: .seconds(1))
        #expect(harness.closing?.info.code == .internalError)
    }

    @Test func fullReceiveQueuePausesReadingUntilTheApplicationTakesMessages() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.receiveQueueMessageLimit = 8 }
        harness.inboxCapacity = 4
        harness.peerSends((0..<20).map { clientFrame(.text, Array("m\($0)".utf8)) })

        // Messages go to the application two at a time (a quarter of the limit); at four the queue is full.
        #expect(harness.inbox == (0..<4).map { .text("m\($0)") })
        #expect(harness.core.isReadingPaused)
        #expect(!harness.core.wantsRead)
        harness.peerSends([clientFrame(.text, Array("late".utf8))])
        #expect(!harness.unread.isEmpty)

        var received = harness.applicationTakes()
        while received.count < 21 {
            #expect(harness.inbox.count <= 4)
            let taken = harness.applicationTakes()
            try #require(!taken.isEmpty)
            received += taken
        }
        #expect(received == (0..<20).map { .text("m\($0)") } + [.text("late")])
        #expect(!harness.core.isReadingPaused)
        #expect(harness.unread.isEmpty)
    }

    @Test func closeWhileReadingIsPausedStillReadsThePeersCloseFrame() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.receiveQueueMessageLimit = 4 }
        harness.inboxCapacity = 1
        harness.peerSends(
            (0..<3).map { clientFrame(.text, Array("unread \($0)".utf8)) } + [
                clientFrame(.close, closePayload(1000, ""))
            ]
        )
        #expect(harness.inbox == [.text("unread 0")])
        #expect(harness.core.isReadingPaused)

        harness.applicationCloses(code: .normalClosure, reason: "enough")

        #expect(try harness.sentFrames() == [WebSocketFrame(opcode: .close, payload: closePayload(1000, "enough"))])
        #expect(harness.isMarkedClean)
        #expect(harness.core.phase == .finishing)
        #expect(harness.didShutDownWrite)
        #expect(harness.inbox == [.text("unread 0")])
        harness.peerEndsStream()
        #expect(
            harness.closed?.info
                == WebSocketCloseInfo(code: .normalClosure, reason: "enough", initiator: .local, wasClean: true)
        )
        #expect(harness.closed?.error == nil)
    }

    @Test func queuedFramesGoOutBeforeTheCloseFrame() throws {
        var harness = try ProtocolCoreHarness.openServer()
        harness.isPeerReading = false
        harness.queuedFrames = WebSocketFrame(opcode: .text, payload: Array("queued".utf8)).encoded()
        harness.applicationCloses(code: .normalClosure, reason: "bye")
        #expect(
            harness.log.contains(
                .beginClosing(
                    WebSocketCloseInfo(code: .normalClosure, reason: "bye", initiator: .local, wasClean: false),
                    error: nil,
                    keepsQueuedFrames: true
                )
            )
        )
        harness.peerReads()
        #expect(
            try harness.sentFrames() == [
                WebSocketFrame(opcode: .text, payload: Array("queued".utf8)),
                WebSocketFrame(opcode: .close, payload: closePayload(1000, "bye")),
            ]
        )
    }

    @Test func stalledSenderClosesTheConnectionWith1008ExactlyAtTheSendQueueTimeout() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.sendQueueTimeout = .seconds(5) }
        let start = harness.now
        harness.oldestSendWaiter = start
        harness.core.sendStalled(oldestSendWaiter: start)
        harness.perform()
        #expect(harness.timers.last?.kind == .sendStall)
        #expect(harness.timers.last?.at == harness.time(.seconds(5)))

        // The first sender got room after 3 s; the one waiting now started then, so the limit moves.
        harness.advance(by: .seconds(3))
        harness.oldestSendWaiter = harness.now
        harness.advance(by: .seconds(2))
        #expect(harness.closing == nil)
        #expect(harness.timers.last?.at == harness.time(.seconds(8)))

        harness.queuedFrames = WebSocketFrame(opcode: .text, payload: Array("dropped".utf8)).encoded()
        harness.advance(by: .milliseconds(2999))
        #expect(harness.closing == nil)
        harness.advance(by: .milliseconds(1))
        #expect(
            try harness.sentFrames() == [WebSocketFrame(opcode: .close, payload: closePayload(1008, "send queue full"))]
        )
        let error = try #require(harness.closing?.error)
        #expect(error.code == .sendQueueFull)
        #expect(error.message == "send queue full: the peer did not read for 5 s")
        #expect(error.closeReason == "send queue full")
    }

    @Test func stallTimerIsNotSetTwiceAndEndsWithTheLastWaiter() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.sendQueueTimeout = .seconds(5) }
        let start = harness.now
        harness.core.sendStalled(oldestSendWaiter: start)
        harness.core.sendStalled(oldestSendWaiter: start)
        harness.perform()
        #expect(harness.timers.filter { $0.kind == .sendStall }.count == 1)
        // Nobody waits any more when it fires.
        harness.oldestSendWaiter = nil
        harness.advance(by: .seconds(10))
        #expect(harness.closing == nil)
        #expect(harness.timers.isEmpty)
    }
}

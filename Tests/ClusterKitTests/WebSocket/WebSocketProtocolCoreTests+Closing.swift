import Testing

@testable import ClusterKitWebSocket

// MARK: - Close handshake, pings and shutdown

extension WebSocketProtocolCoreTests {
    @Test func localCloseCompletesTheHandshakeCleanly() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.closeTimeout = .seconds(5) }
        harness.applicationCloses(code: .normalClosure, reason: "done")

        #expect(try harness.takeSentFrames() == [WebSocketFrame(opcode: .close, payload: closePayload(1000, "done"))])
        #expect(harness.core.phase == .closeSent)
        #expect(
            harness.closing?.info
                == WebSocketCloseInfo(code: .normalClosure, reason: "done", initiator: .local, wasClean: false)
        )
        #expect(harness.timers.last?.kind == .deadline)
        #expect(harness.timers.last?.at == harness.time(.seconds(5)))

        // Messages after this side's close frame are dropped; the peer's close frame completes the handshake.
        harness.peerSends([clientFrame(.text, Array("late".utf8)), clientFrame(.close, closePayload(1000, ""))])
        #expect(harness.inbox.isEmpty)
        #expect(harness.isMarkedClean)
        #expect(harness.core.phase == .finishing)
        #expect(harness.didShutDownWrite)
        #expect(try harness.sentFrames().isEmpty)
        harness.peerEndsStream()
        #expect(
            harness.closed?.info
                == WebSocketCloseInfo(code: .normalClosure, reason: "done", initiator: .local, wasClean: true)
        )
        #expect(harness.closed?.error == nil)
    }

    @Test func closeTimeoutClosesTheSocketWhenThePeerNeverAnswers() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.closeTimeout = .seconds(5) }
        harness.advance(by: .seconds(1))
        harness.applicationCloses(code: .goingAway, reason: "later")
        harness.advance(by: .milliseconds(4999))
        #expect(harness.closed == nil)
        harness.advance(by: .milliseconds(1))
        #expect(harness.log.last == .close(.abnormal(.local), error: nil))
        // The application's side keeps the first record: this side's close, not clean.
        #expect(
            harness.closed?.info
                == WebSocketCloseInfo(code: .goingAway, reason: "later", initiator: .local, wasClean: false)
        )
    }

    @Test func longReasonsAreCutTo123BytesAtACharacterBoundary() throws {
        var harness = try ProtocolCoreHarness.openServer()
        harness.applicationCloses(code: WebSocketCloseCode(rawValue: 4000), reason: String(repeating: "é", count: 100))
        let close = try #require(try harness.sentFrames().first)
        #expect(close.payload == closePayload(4000, String(repeating: "é", count: 61)))
    }

    @Test func closeWithoutStatusSendsAnEmptyCloseFrameAndAbnormalClosureSendsNone() throws {
        var quiet = try ProtocolCoreHarness.openServer()
        quiet.applicationCloses(code: .noStatus)
        #expect(try quiet.sentFrames() == [WebSocketFrame(opcode: .close, payload: [])])

        var dropped = try ProtocolCoreHarness.openServer()
        dropped.applicationCloses(code: .abnormalClosure, reason: "gone")
        #expect(dropped.sent.isEmpty)
        #expect(
            dropped.closed?.info
                == WebSocketCloseInfo(code: .abnormalClosure, reason: "gone", initiator: .local, wasClean: false)
        )
    }

    private struct PeerClose: Sendable, CustomTestStringConvertible {
        var payload: [UInt8]
        var code: WebSocketCloseCode
        var reason: String
        var error: String?
        var testDescription: String { "\(code) '\(reason)'" }
    }

    private static let peerCloses = [
        PeerClose(payload: closePayload(1000, "bye"), code: .normalClosure, reason: "bye", error: nil),
        PeerClose(payload: closePayload(1001, ""), code: .goingAway, reason: "", error: nil),
        PeerClose(payload: [], code: .noStatus, reason: "", error: nil),
        PeerClose(
            payload: closePayload(1008, "Invalid URI"),
            code: .policyViolation,
            reason: "Invalid URI",
            error: "closed by peer with code 1008 and reason 'Invalid URI'"
        ),
    ]

    @Test(arguments: peerCloses)
    private func peerCloseIsAnsweredWithItsCodeAndEndsTheConnection(close: PeerClose) throws {
        var harness = try ProtocolCoreHarness.openServer()
        harness.peerSends([clientFrame(.text, Array("before".utf8)), clientFrame(.close, close.payload)])

        #expect(harness.inbox == [.text("before")])
        let echo = close.code == .noStatus ? [] : closePayload(close.code.rawValue, "")
        #expect(try harness.sentFrames() == [WebSocketFrame(opcode: .close, payload: echo)])
        #expect(
            harness.closing?.info
                == WebSocketCloseInfo(code: close.code, reason: close.reason, initiator: .peer, wasClean: true)
        )
        #expect(harness.closing?.error?.message == close.error)
        #expect(harness.didShutDownWrite)
        let deliver = try #require(harness.log.firstIndex(of: .deliver))
        let closing = try #require(harness.log.firstIndex { if case .beginClosing = $0 { true } else { false } })
        #expect(deliver < closing)
        harness.peerEndsStream()
        #expect(harness.closed?.info.wasClean == true)
    }

    @Test func droppedStreamWithoutACloseFrameIsAbnormal() throws {
        var harness = try ProtocolCoreHarness.openServer()
        harness.peerEndsStream()
        #expect(harness.closed?.info == .abnormal(.peer))
        #expect(harness.closed?.error?.message == "connection closed without a close frame (1006)")
        #expect(harness.closed?.error?.closeCode == .abnormalClosure)
    }

    // MARK: - Pings

    @Test func peerThatNeverAnswersPingsIsClosedWith1011OneIntervalAfterThePing() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.pingInterval = .milliseconds(50) }
        harness.advance(by: .milliseconds(50))
        #expect(try harness.takeSentFrames() == [WebSocketFrame(opcode: .ping, payload: Array("clusterkit".utf8))])
        harness.advance(by: .milliseconds(49))
        #expect(harness.closing == nil)
        harness.advance(by: .milliseconds(1))

        #expect(
            try harness.sentFrames() == [
                WebSocketFrame(opcode: .close, payload: closePayload(1011, "ping timeout: no pong received"))
            ]
        )
        let error = try #require(harness.closing?.error)
        #expect(error.code == .timedOut)
        #expect(error.message == "no pong within 50 ms")
        #expect(error.closeCode == .internalError)
        #expect(error.closeReason == "ping timeout: no pong received")
    }

    @Test func peerThatAnswersPingsStaysHoweverLateInTheInterval() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.pingInterval = .milliseconds(400) }
        harness.advance(by: .milliseconds(400))
        for round in 1...5 {
            #expect(
                try harness.takeSentFrames() == [WebSocketFrame(opcode: .ping, payload: Array("clusterkit".utf8))],
                "round \(round)"
            )
            // The pong comes a millisecond before the next ping is due, which then goes out.
            harness.advance(by: .milliseconds(399))
            harness.peerSends([clientFrame(.pong, Array("clusterkit".utf8))])
            harness.advance(by: .milliseconds(1))
            #expect(harness.closing == nil, "round \(round)")
        }
        #expect(harness.core.phase == .open)
    }

    @Test func noPongIsDueWhileReadingIsPaused() throws {
        var harness = try ProtocolCoreHarness.openServer {
            $0.connection.pingInterval = .seconds(1)
            $0.connection.receiveQueueMessageLimit = 4
        }
        harness.inboxCapacity = 1
        harness.peerSends([clientFrame(.text, Array("unread".utf8))])
        #expect(harness.core.isReadingPaused)
        harness.advance(by: .seconds(10))
        #expect(harness.closing == nil)
        #expect(try harness.sentFrames().isEmpty)

        // Reading again, pings resume and must be answered.
        harness.applicationTakes()
        harness.advance(by: .seconds(1))
        #expect(try harness.takeSentFrames() == [WebSocketFrame(opcode: .ping, payload: Array("clusterkit".utf8))])
        harness.advance(by: .seconds(1))
        #expect(harness.closing?.info.code == .internalError)
    }

    // MARK: - Shutdown

    @Test func shutdownClosesOpenConnectionsWith1001AndDropsHandshakes() throws {
        var open = try ProtocolCoreHarness.openServer()
        open.core.shutdown(now: open.now)
        open.perform()
        #expect(try open.sentFrames() == [WebSocketFrame(opcode: .close, payload: closePayload(1001, "Terminating"))])
        #expect(open.core.phase == .closeSent)

        var handshaking = try ProtocolCoreHarness.server()
        handshaking.core.shutdown(now: handshaking.now)
        handshaking.perform()
        #expect(handshaking.closed?.info == .abnormal(.local))
        #expect(handshaking.closed?.error == WebSocketError(.closed, "server shut down"))
    }

    @Test func shutdownDoesNotWaitForAPeerThatWasSentEverything() throws {
        var harness = try ProtocolCoreHarness.openServer()
        harness.peerSends([clientFrame(.close, closePayload(1000, ""))])
        #expect(harness.didShutDownWrite)
        #expect(harness.closed == nil)
        harness.core.shutdown(now: harness.now)
        harness.perform()
        #expect(harness.log.last == .close(.abnormal(.local), error: nil))
    }
}

import Testing

@testable import ClusterKitWebSocket

// MARK: - Framing and reassembly

extension WebSocketProtocolCoreTests {
    @Test func fragmentedTextWithAPingBetweenIsOneMessageAndThePongGoesOutAtOnce() throws {
        var harness = try ProtocolCoreHarness.openServer()
        harness.peerSends([
            clientFrame(.text, Array("Hel".utf8), fin: false),
            clientFrame(.ping, Array("mid".utf8)),
        ])
        #expect(harness.inbox.isEmpty)
        #expect(try harness.takeSentFrames() == [WebSocketFrame(opcode: .pong, payload: Array("mid".utf8))])
        harness.peerSends([clientFrame(.continuation, Array("lo".utf8))])
        #expect(harness.inbox == [.text("Hello")])
    }

    @Test func characterSplitAcrossFragmentsIsReassembled() throws {
        var harness = try ProtocolCoreHarness.openServer()
        let bytes = Array("grüße 👋".utf8)
        harness.peerSends([
            clientFrame(.text, Array(bytes[..<3]), fin: false),
            clientFrame(.continuation, Array(bytes[3..<9]), fin: false),
            clientFrame(.continuation, Array(bytes[9...])),
            clientFrame(.binary, [0xFF, 0x00]),
        ])
        #expect(harness.inbox == [.text("grüße 👋"), .binary([0xFF, 0x00])])
    }

    @Test func frameArrivingAByteAtATimeIsOneMessage() throws {
        var harness = try ProtocolCoreHarness.openServer()
        let frame = clientFrame(.binary, [UInt8](repeating: 7, count: 300)).encoded()
        for byte in frame {
            #expect(harness.inbox.isEmpty)
            harness.peerSends([byte])
        }
        #expect(harness.inbox == [.binary([UInt8](repeating: 7, count: 300))])
    }

    private struct BadFrames: Sendable, CustomTestStringConvertible {
        var name: String
        var frames: [WebSocketFrame]
        var code: UInt16
        var reason: String
        var error: String
        var testDescription: String { name }
    }

    private static let badFrames = [
        BadFrames(
            name: "unmasked client frame",
            frames: [WebSocketFrame(opcode: .text, payload: Array("hi".utf8))],
            code: 1002,
            reason: "unmasked frame from client",
            error: "protocol violation: unmasked frame from client"
        ),
        BadFrames(
            name: "reserved bits",
            frames: [WebSocketFrame(reserved: 0b100, opcode: 1, maskingKey: [1, 2, 3, 4], payload: [0x41])],
            code: 1002,
            reason: "reserved bits set without an extension",
            error: "protocol violation: reserved bits set without an extension"
        ),
        BadFrames(
            name: "unknown opcode",
            frames: [WebSocketFrame(opcode: 0x3, maskingKey: [1, 2, 3, 4], payload: [])],
            code: 1002,
            reason: "unknown opcode 3",
            error: "protocol violation: unknown opcode 3"
        ),
        BadFrames(
            name: "continuation without a start",
            frames: [clientFrame(.continuation, [0x41])],
            code: 1002,
            reason: "continuation frame without a message to continue",
            error: "protocol violation: continuation frame without a message to continue"
        ),
        BadFrames(
            name: "new message inside a fragmented one",
            frames: [clientFrame(.text, [0x41], fin: false), clientFrame(.text, [0x42])],
            code: 1002,
            reason: "new message before the previous one ended",
            error: "protocol violation: new message before the previous one ended"
        ),
        BadFrames(
            name: "ping over 125 bytes",
            frames: [clientFrame(.ping, [UInt8](repeating: 0, count: 126))],
            code: 1002,
            reason: "control frame larger than 125 bytes",
            error: "protocol violation: control frame larger than 125 bytes"
        ),
        BadFrames(
            name: "invalid UTF-8",
            frames: [clientFrame(.text, [0x48, 0xC3, 0x28])],
            code: 1007,
            reason: "invalid UTF-8 in text message",
            error: "protocol violation: invalid UTF-8 in text message"
        ),
        BadFrames(
            name: "invalid UTF-8 across fragments",
            frames: [clientFrame(.text, [0xE2, 0x82], fin: false), clientFrame(.continuation, [0x41])],
            code: 1007,
            reason: "invalid UTF-8 in text message",
            error: "protocol violation: invalid UTF-8 in text message"
        ),
        BadFrames(
            name: "invalid UTF-8 in a close reason",
            frames: [clientFrame(.close, [0x03, 0xE8, 0xC3, 0x28])],
            code: 1007,
            reason: "invalid UTF-8 in close reason",
            error: "protocol violation: invalid UTF-8 in close reason"
        ),
        BadFrames(
            name: "frame over the frame limit",
            frames: [clientFrame(.binary, [UInt8](repeating: 0, count: 2049))],
            code: 1009,
            reason: "message too big",
            error: "frame of 2049 bytes exceeds the limit of 2048"
        ),
        BadFrames(
            name: "fragments over the message limit",
            frames: (0..<5).map {
                clientFrame($0 == 0 ? .binary : .continuation, [UInt8](repeating: 0, count: 1000), fin: $0 == 4)
            },
            code: 1009,
            reason: "message too big",
            error: "message exceeds the limit of 4096 bytes"
        ),
    ]

    @Test(arguments: badFrames)
    private func badFramesFailTheConnectionWithTheirCodeAndReason(bad: BadFrames) throws {
        var harness = try ProtocolCoreHarness.openServer {
            $0.connection.maximumFrameSize = 2048
            $0.connection.maximumMessageSize = 4096
            $0.connection.closeTimeout = .seconds(2)
        }
        harness.peerSends(bad.frames + [clientFrame(.text, Array("after".utf8))])

        #expect(
            try harness.sentFrames() == [WebSocketFrame(opcode: .close, payload: closePayload(bad.code, bad.reason))]
        )
        let closing = try #require(harness.closing)
        #expect(
            closing.info
                == WebSocketCloseInfo(
                    code: WebSocketCloseCode(rawValue: bad.code),
                    reason: bad.reason,
                    initiator: .local,
                    wasClean: false
                )
        )
        #expect(closing.error?.message == bad.error)
        #expect(closing.error?.closeCode?.rawValue == bad.code)
        #expect(harness.inbox.isEmpty)
        #expect(harness.core.phase == .finishing)
        #expect(harness.didShutDownWrite)
        // The peer gets the close timeout to end its side.
        harness.advance(by: .seconds(2))
        #expect(harness.log.last == .close(.abnormal(.local), error: nil))
    }

    @Test func oversizedFrameIsRefusedFromItsHeaderBeforeAnyPayload() throws {
        var harness = try ProtocolCoreHarness.openServer { $0.connection.maximumFrameSize = 1 << 20 }
        harness.peerSends(clientFrameHeader(.binary, length: (1 << 20) + 1))
        #expect(harness.closing?.info.code == .messageTooBig)
        #expect(harness.closing?.error?.message == "frame of 1048577 bytes exceeds the limit of 1048576")
        // Nothing was reserved for the declared payload.
        #expect(harness.core.receive.budget.used < 1 << 10)
    }

    // MARK: - Receive buffers

    @Test func frameDeclaringSixteenMiBIsBufferedOnlyAsItArrives() throws {
        let budget = ReceiveBufferBudget()
        var harness = try ProtocolCoreHarness.openServer(budget: budget)
        harness.peerSends(clientFrameHeader(.binary, length: (16 << 20) - 1) + [UInt8](repeating: 7, count: 1000))
        #expect(harness.closing == nil)
        #expect(budget.used < 128 << 10)
        // Growing with the bytes, the buffer never holds much more than what came.
        for _ in 0..<16 {
            harness.peerSends([UInt8](repeating: 7, count: 64 << 10))
            #expect(budget.used <= 2 * harness.core.receive.unreadCount + (64 << 10))
        }
    }

    @Test func connectionOverItsBufferLimitIsClosedWith1009AndGivesItsChargeBack() throws {
        let budget = ReceiveBufferBudget()
        var harness = try ProtocolCoreHarness.openServer(budget: budget) {
            $0.connection.receiveBufferLimit = 256 << 10
        }
        harness.peerSends(clientFrameHeader(.binary, length: 1 << 20) + [UInt8](repeating: 7, count: 1 << 20))

        #expect(
            try harness.sentFrames() == [WebSocketFrame(opcode: .close, payload: closePayload(1009, "message too big"))]
        )
        let error = try #require(harness.closing?.error)
        #expect(error.code == .messageTooBig)
        #expect(error.message.hasPrefix("receive buffers of "))
        #expect(error.message.hasSuffix(" bytes would exceed the connection's limit of 262144"))
        #expect(budget.used > 0)
        harness.peerEndsStream()
        #expect(harness.closed != nil)
        #expect(budget.used == 0)
    }

    @Test func connectionOverTheServersSharedBudgetIsClosedWith1008AndOthersGoOn() throws {
        let budget = ReceiveBufferBudget(limit: 2 << 20)
        var first = try ProtocolCoreHarness.openServer(budget: budget)
        var second = try ProtocolCoreHarness.openServer(budget: budget)
        let payload = [UInt8](repeating: 7, count: 1 << 20)
        first.peerSends(clientFrameHeader(.binary, length: payload.count) + payload.dropLast())
        #expect(budget.used >= payload.count - (64 << 10))

        second.peerSends(clientFrameHeader(.binary, length: 4 << 20) + [UInt8](repeating: 7, count: 2 << 20))

        #expect(
            try second.sentFrames() == [
                WebSocketFrame(opcode: .close, payload: closePayload(1008, "server receive buffers full"))
            ]
        )
        #expect(second.closing?.error?.code == .messageTooBig)
        #expect(second.closing?.error?.closeCode == .policyViolation)
        #expect(
            second.closing?.error?.message
                == "receive buffers of all connections would exceed the server's limit of 2097152 bytes"
        )
        #expect(first.closing == nil)
        first.peerSends(Array(payload.suffix(1)))
        #expect(first.inbox.map(\.byteCount) == [payload.count])
    }
}

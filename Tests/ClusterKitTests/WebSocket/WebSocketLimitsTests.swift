import ClusterKit
import Testing

/// Memory stays bounded whatever a peer sends: ping floods, floods of empty messages, frames that declare
/// more than they send, and many connections doing so at once.
@Suite struct WebSocketLimitsTests {
    // MARK: - Pongs

    @Test func pingFloodFromAPeerThatDoesNotReadKeepsOutputBounded() async throws {
        let limit = 16 << 10
        try await withServer(
            serverOptions {
                $0.connection.pingInterval = nil
                $0.connection.sendQueueLimit = limit
            }
        ) { server in
            let peer = try await RawPeer.connectWebSocket(port: server.port, receiveBufferSize: 4096)
            let connection = try #require(try await server.accept())
            let ping = clientFrame(.ping, [UInt8](repeating: 0x50, count: 125)).encoded()
            // Pings until the server stops reading them. Before the fix it never did, answering every one into
            // memory: all 64 MiB went out.
            var written = 0
            var statistics = await server.statistics()
            while statistics.owedPongs == 0, written < 64 << 20 {
                written = try await peer.writeRepeatedly(ping, from: written, upTo: 64 << 20, idle: .milliseconds(200))
                statistics = await server.statistics()
            }
            #expect(written < 64 << 20)
            #expect(statistics.owedPongs == 1)
            #expect(statistics.unwrittenBytes < limit + ping.count)

            // Once the peer reads again, the rest is answered and the connection works on.
            async let lastPong: [UInt8]? = {
                while let frame = try await peer.readFrame() {
                    guard frame.opcode == WebSocketFrame.Opcode.pong.rawValue else { return nil }
                    if frame.payload == Array("last".utf8) { return frame.payload }
                }
                return nil
            }()
            let rest = (ping.count - written % ping.count) % ping.count
            try await peer.write(
                Array(ping.suffix(rest)) + clientFrame(.ping, Array("last".utf8)).encoded()
                    + clientFrame(.text, Array("after".utf8)).encoded()
            )
            #expect(try await lastPong == Array("last".utf8))
            #expect(try await connection.receive() == .text("after"))
        }
    }

    // MARK: - Receive queue

    private struct Flood: Sendable, CustomTestStringConvertible {
        var name: String
        var messageLimit: Int
        var byteLimit: Int
        /// The most messages the limits allow: a limit, plus up to a quarter parsed from bytes already read.
        var bound: Int
        var testDescription: String { name }
    }

    private static let floods = [
        Flood(name: "message limit", messageLimit: 1000, byteLimit: 4 << 20, bound: 1250),
        Flood(
            name: "byte limit with the per-message overhead",
            messageLimit: 1 << 20,
            byteLimit: 64 << 10,
            bound: (64 << 10) / WebSocketConnection.Options.receiveQueueEntryOverhead * 5 / 4
        ),
    ]

    @Test(arguments: floods)
    private func floodOfEmptyMessagesIsBounded(flood: Flood) async throws {
        try await withServer(
            serverOptions {
                $0.connection.pingInterval = nil
                $0.connection.receiveQueueMessageLimit = flood.messageLimit
                $0.connection.receiveQueueLimit = flood.byteLimit
            }
        ) { server in
            let peer = try await RawPeer.connectWebSocket(port: server.port)
            let connection = try #require(try await server.accept())
            let count = 20_000
            let empty = clientFrame(.text, []).encoded()
            async let writing: Void = peer.write(
                Array([[UInt8]](repeating: empty, count: count).joined())
                    + clientFrame(.text, Array("end".utf8)).encoded()
            )
            var received = 0
            var peak = 0
            while let message = try await connection.receive() {
                peak = max(peak, connection.receiveQueueUsage.messages)
                if message == .text("end") { break }
                #expect(message == .text(""))
                received += 1
            }
            try await writing
            #expect(received == count)
            // Before the fix empty messages counted 0 bytes: one read queued thousands of them.
            #expect(peak <= flood.bound)
        }
    }

    // MARK: - Frame and reassembly buffers

    @Test func frameDeclaringSixteenMiBIsBufferedOnlyAsItArrives() async throws {
        try await withServer(serverOptions { $0.connection.pingInterval = nil }) { server in
            let peer = try await RawPeer.connectWebSocket(port: server.port)
            _ = try #require(try await server.accept())
            try await peer.write(
                clientFrameHeader(.binary, length: (16 << 20) - 1) + [UInt8](repeating: 7, count: 1000)
            )
            // A second handshake completes only after the loop has handled the bytes sent before it.
            let second = try await RawPeer.connectWebSocket(port: server.port)
            let statistics = await server.statistics()
            #expect(statistics.receiveBufferBytes < 256 << 10)
            #expect(statistics.connections == 2)
            second.close()
        }
    }

    @Test func connectionOverItsBufferLimitIsClosedWith1009() async throws {
        try await withServer(
            serverOptions {
                $0.connection.pingInterval = nil
                $0.connection.receiveBufferLimit = 256 << 10
            }
        ) { server in
            let peer = try await RawPeer.connectWebSocket(port: server.port)
            let connection = try #require(try await server.accept())
            try await peer.write(clientFrameHeader(.binary, length: 1 << 20) + [UInt8](repeating: 7, count: 1 << 20))
            let close = try await peer.readClose()
            #expect(close.code == 1009)
            #expect(close.reason == "message too big")
            let error = await #expect(throws: WebSocketError.self) { try await connection.receive() }
            #expect(error?.code == .messageTooBig)
            #expect(error?.message.hasSuffix("would exceed the connection's limit of 262144") == true)
            try await peer.readUntilEnd()
        }
    }

    @Test func connectionOverTheServersSharedLimitIsClosedWith1008AndOthersGoOn() async throws {
        try await withServer(
            serverOptions {
                $0.connection.pingInterval = nil
                $0.sharedReceiveBufferLimit = 2 << 20
            }
        ) { server in
            let first = try await RawPeer.connectWebSocket(port: server.port)
            let firstConnection = try #require(try await server.accept())
            let payload = [UInt8](repeating: 7, count: 1 << 20)
            try await first.write(clientFrameHeader(.binary, length: payload.count) + payload.dropLast())
            // The first connection's bytes must be buffered before the second's arrive, or the second could take
            // the room first and the first be the one refused.
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(20))
            while await server.statistics().receiveBufferBytes < payload.count - (64 << 10) - 1, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(await server.statistics().receiveBufferBytes >= payload.count - (64 << 10) - 1)

            let second = try await RawPeer.connectWebSocket(port: server.port)
            let secondConnection = try #require(try await server.accept())
            try await second.write(clientFrameHeader(.binary, length: 4 << 20) + [UInt8](repeating: 7, count: 2 << 20))
            let close = try await second.readClose()
            #expect(close.code == 1008)
            #expect(close.reason == "server receive buffers full")
            let error = await #expect(throws: WebSocketError.self) { try await secondConnection.receive() }
            #expect(error?.closeCode == .policyViolation)
            #expect(
                error?.message == "receive buffers of all connections would exceed the server's limit of 2097152 bytes"
            )

            try await first.write(Array(payload.suffix(1)))
            let message = try #require(try await firstConnection.receive())
            #expect(message.byteCount == payload.count)
        }
    }
}

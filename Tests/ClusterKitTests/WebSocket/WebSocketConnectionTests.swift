import ClusterKit
import Testing

@Suite struct WebSocketConnectionTests {
    private typealias Options = (server: WebSocketServer.Options, client: WebSocketClient.Options)

    private static func options(
        _ configure: (inout WebSocketServer.Options, inout WebSocketClient.Options) -> Void
    )
        -> Options
    {
        var clientOptions = WebSocketClient.Options()
        var serverOptions = WebSocketServer.Options(port: 0)
        configure(&serverOptions, &clientOptions)
        return (serverOptions, clientOptions)
    }

    private static func pair(
        _ options: Options = options { _, _ in },
        _ body: (WebSocketConnection, WebSocketConnection) async throws -> Void
    ) async throws {
        let clientOptions = options.client
        try await withServer(options.server) { server in
            let client = try await WebSocketClient.connect(
                to: "ws://127.0.0.1:\(server.port)/v1/messages/json",
                options: clientOptions
            )
            let connection = try #require(try await server.accept())
            try await body(client, connection)
            await client.close()
        }
    }

    @Test func textRoundTripsBothWays() async throws {
        try await Self.pair { (client, server) async throws in
            try await client.send(text: #"["zeek/management/controller"]"#)
            #expect(try await server.receive() == .text(#"["zeek/management/controller"]"#))
            try await server.send(text: "grüße 👋")
            #expect(try await client.receive() == .text("grüße 👋"))
            try await client.send(text: "")
            #expect(try await server.receive() == .text(""))
        }
    }

    @Test func binaryRoundTripsBothWays() async throws {
        try await Self.pair { (client, server) async throws in
            let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
            try await client.send(binary: bytes)
            #expect(try await server.receive() == .binary(bytes))
            try await server.send(.binary(bytes.reversed()))
            #expect(try await client.receive() == .binary(bytes.reversed()))
        }
    }

    @Test func manyMessagesKeepTheirOrder() async throws {
        try await Self.pair(
            Self.options { server, client in
                server.connection.receiveQueueLimit = 4096
                client.connection.receiveQueueLimit = 4096
            }
        ) { (client, server) async throws in
            let count = 5000
            async let sending: Void = {
                for index in 0..<count { try await client.send(text: "message \(index)") }
            }()
            for index in 0..<count {
                #expect(try await server.receive() == .text("message \(index)"))
            }
            try await sending
        }
    }

    @Test func fragmentedMessagesAreReassembledBothWays() async throws {
        try await Self.pair(
            Self.options { server, client in
                server.connection.outgoingFragmentSize = 1000
                client.connection.outgoingFragmentSize = 777
            }
        ) { (client, server) async throws in
            let text = String(repeating: "0123456789ß", count: 1000)
            try await client.send(text: text)
            #expect(try await server.receive() == .text(text))
            try await server.send(text: text)
            #expect(try await client.receive() == .text(text))
        }
    }

    @Test func messagesUpToTheLimitPassAndLargerOnesClose1009() async throws {
        let limit = 1 << 20
        try await Self.pair(
            Self.options { server, _ in
                server.connection.maximumMessageSize = limit
                server.connection.maximumFrameSize = limit
            }
        ) { (client, server) async throws in
            let largest = [UInt8](repeating: 0xAB, count: limit)
            try await client.send(binary: largest)
            #expect(try await server.receive() == .binary(largest))
            try await client.send(binary: largest + [0])
            let error = await #expect(throws: WebSocketError.self) { try await server.receive() }
            #expect(error?.code == .messageTooBig)
            let clientError = await #expect(throws: WebSocketError.self) { try await client.receive() }
            #expect(clientError?.closeCode == .messageTooBig)
            #expect(clientError?.closeReason == "message too big")
        }
    }

    @Test func cancelledReceiveReturnsPromptlyAndLosesNothing() async throws {
        try await Self.pair { (client, server) async throws in
            let waiting = Task { try await server.receive() }
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            try await client.send(text: "kept")
            #expect(try await server.receive() == .text("kept"))
        }
    }

    @Test func closeFromTheClientIsCleanOnBothSides() async throws {
        try await Self.pair { (client, server) async throws in
            await client.close(code: .normalClosure, reason: "done")
            #expect(try await server.receive() == nil)
            #expect(try await client.receive() == nil)
            #expect(client.state == .closed)
            #expect(
                client.closeInfo
                    == WebSocketCloseInfo(code: .normalClosure, reason: "done", initiator: .local, wasClean: true)
            )
            #expect(
                server.closeInfo
                    == WebSocketCloseInfo(code: .normalClosure, reason: "done", initiator: .peer, wasClean: true)
            )
            let error = await #expect(throws: WebSocketError.self) { try await client.send(text: "late") }
            #expect(error?.code == .closed)
        }
    }

    @Test func longReasonsAreCutTo123Bytes() async throws {
        try await Self.pair { (client, server) async throws in
            await server.close(code: WebSocketCloseCode(rawValue: 4000), reason: String(repeating: "é", count: 100))
            let error = await #expect(throws: WebSocketError.self) { try await client.receive() }
            #expect(error?.closeCode?.rawValue == 4000)
            #expect(error?.closeReason == String(repeating: "é", count: 61))
        }
    }

    @Test func unreadMessagesBackUpToTheSender() async throws {
        try await Self.pair(
            Self.options { server, client in
                server.connection.receiveQueueLimit = 64 << 10
                client.connection.sendQueueLimit = 64 << 10
                client.connection.sendQueueTimeout = .milliseconds(100)
            }
        ) { (client, server) async throws in
            let chunk = [UInt8](repeating: 1, count: 16 << 10)
            var sent = 0
            let error = await #expect(throws: WebSocketError.self) {
                while true {
                    try await client.send(binary: chunk)
                    sent += 1
                }
            }
            #expect(error?.code == .sendQueueFull)
            // Had the server kept reading into memory, the client's queue would never have stayed full. What
            // reached the server's kernel buffers is still delivered, intact, once the application reads.
            var received = 0
            while let message = try? await server.receive() {
                #expect(message == .binary(chunk))
                received += 1
            }
            #expect(received > 0)
            #expect(received <= sent)
        }
    }
}

extension WebSocketConnectionTests {
    @Test func closeCompletesWhileUnreadMessagesFillTheQueue() async throws {
        try await Self.pair(Self.options { server, _ in server.connection.receiveQueueLimit = 1024 }) {
            (client, server) async throws in
            for index in 0..<100 {
                try await client.send(text: "unread \(index) " + String(repeating: "x", count: 100))
            }
            try await client.send(text: "last")
            // The server took nothing, so it stopped reading; its close must still complete cleanly.
            let start = ContinuousClock.now
            await server.close(code: .normalClosure, reason: "enough")
            #expect(ContinuousClock.now - start < .seconds(4))
            #expect(server.closeInfo?.wasClean == true)
            #expect(try await client.receive() == nil)
        }
    }
}

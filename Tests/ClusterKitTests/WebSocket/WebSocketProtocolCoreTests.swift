import Testing

@testable import ClusterKitWebSocket

/// The protocol core on its own: bytes in, bytes and actions out, time from a manual clock.
///
/// No sockets, no threads, no waiting: every deadline is exact.
@Suite struct WebSocketProtocolCoreTests {
    // MARK: - Server handshake

    @Test func serverAnswersTheUpgradeWith101AndOpens() throws {
        var harness = try ProtocolCoreHarness.server {
            $0.handshakeTimeout = .seconds(2)
            $0.connection.pingInterval = .seconds(5)
        }
        #expect(harness.timers.map(\.kind) == [.deadline])
        #expect(harness.timers.map(\.at) == [harness.time(.seconds(2))])

        harness.peerSends(Array(ProtocolCoreHarness.upgradeRequest.utf8))

        #expect(
            String(decoding: harness.sent, as: UTF8.self)
                == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        )
        let info = try #require(harness.opened)
        #expect(info.requestPath == "/v1/messages/json")
        #expect(info.requestHeaders["X-Application-Name"] == "core-tests")
        #expect(info.responseHeaders == [:])
        #expect(info.remote == ProtocolCoreHarness.peerAddress)
        #expect(harness.core.phase == .open)
        #expect(harness.timers.last?.kind == .ping)
        #expect(harness.timers.last?.at == harness.time(.seconds(5)))

        // The handshake deadline no longer applies.
        harness.advance(by: .seconds(3))
        #expect(harness.closed == nil)
        #expect(harness.core.phase == .open)
    }

    @Test func requestArrivingInPiecesIsReadWhole() throws {
        var harness = try ProtocolCoreHarness.server()
        let request = Array(ProtocolCoreHarness.upgradeRequest.utf8)
        for offset in stride(from: 0, to: request.count, by: 7) {
            #expect(harness.opened == nil)
            harness.peerSends(Array(request[offset..<min(offset + 7, request.count)]))
        }
        #expect(harness.opened?.requestPath == "/v1/messages/json")
    }

    @Test func framesRightAfterTheRequestAreDeliveredOnceOpen() throws {
        var harness = try ProtocolCoreHarness.server()
        harness.peerSends(
            Array(ProtocolCoreHarness.upgradeRequest.utf8) + clientFrame(.text, Array("hi".utf8)).encoded()
        )
        #expect(harness.inbox == [.text("hi")])
        let open = try #require(harness.log.firstIndex { if case .open = $0 { true } else { false } })
        let deliver = try #require(harness.log.firstIndex(of: .deliver))
        #expect(open < deliver)
    }

    private struct BadRequest: Sendable, CustomTestStringConvertible {
        var name: String
        var request: String
        var status: Int
        var body: String
        var testDescription: String { name }
    }

    private static let badRequests = [
        BadRequest(
            name: "missing key",
            request: "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n",
            status: 400,
            body: "missing 'Sec-WebSocket-Key' header"
        ),
        BadRequest(
            name: "wrong version",
            request: ProtocolCoreHarness.upgradeRequest.replacing("Version: 13", with: "Version: 8"),
            status: 426,
            body: "unsupported WebSocket version; use 13"
        ),
        BadRequest(
            name: "head without its end over the size limit",
            request: "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 2000),
            status: 431,
            body: "request head larger than 1024 bytes"
        ),
        BadRequest(
            name: "too many header fields",
            request: "GET / HTTP/1.1\r\n" + (0..<20).map { "X-\($0): v\r\n" }.joined() + "\r\n",
            status: 431,
            body: "more than 10 header fields"
        ),
    ]

    @Test(arguments: badRequests)
    private func badRequestsGetAnHTTPErrorThenTheSocketHalfClosesAndCloses(bad: BadRequest) throws {
        var harness = try ProtocolCoreHarness.server {
            $0.maximumHandshakeSize = 1024
            $0.maximumHeaderCount = 10
            $0.connection.closeTimeout = .seconds(3)
        }
        harness.peerSends(Array(bad.request.utf8))

        let response = String(decoding: harness.sent, as: UTF8.self)
        #expect(response.hasPrefix("HTTP/1.1 \(bad.status) "))
        #expect(response.hasSuffix("Connection: close\r\n\r\n" + bad.body))
        #expect(harness.opened == nil)
        #expect(harness.core.phase == .finishing)
        #expect(harness.didShutDownWrite)
        #expect(harness.timers.last?.kind == .deadline)
        #expect(harness.timers.last?.at == harness.time(.seconds(3)))
        // Whatever the peer sends now is read and dropped; its end of stream closes the socket.
        harness.peerSends(Array("more".utf8))
        #expect(harness.closed == nil)
        harness.peerEndsStream()
        #expect(harness.closed?.info == .abnormal(.peer))
        #expect(harness.closed?.error == nil)
    }

    @Test func aTLSClientHelloIsAnsweredAtOnceWith400() throws {
        var harness = try ProtocolCoreHarness.server { $0.handshakeTimeout = .seconds(5) }
        // The first byte of a TLS handshake record is enough: no time passes and no head is awaited.
        harness.peerSends([0x16])
        let response = String(decoding: harness.sent, as: UTF8.self)
        #expect(response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(response.hasSuffix("\r\n\r\nTLS handshake on a server without TLS: connect with ws://, not wss://"))
        #expect(harness.refusals == [.tlsOnPlainServer])
        #expect(harness.core.phase == .finishing)
        #expect(harness.didShutDownWrite)
        harness.peerEndsStream()
        #expect(harness.closed?.info == .abnormal(.peer))
    }

    @Test func everyHTTPErrorIsReportedOnce() throws {
        var harness = try ProtocolCoreHarness.server()
        harness.peerSends(Array("POST / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        #expect(harness.refusals.map(\.status) == [405])
        let response = String(decoding: harness.sent, as: UTF8.self)
        #expect(response.hasSuffix("\r\n\r\n" + (harness.refusals.first?.body ?? "?")))
    }

    @Test func peerThatNeverEndsAfterARejectionIsClosedAtTheCloseTimeout() throws {
        var harness = try ProtocolCoreHarness.server { $0.connection.closeTimeout = .seconds(3) }
        harness.core.reject(.headTooLarge(1), now: harness.now)
        harness.perform()
        harness.advance(by: .milliseconds(2999))
        #expect(harness.closed == nil)
        harness.advance(by: .milliseconds(1))
        #expect(harness.closed?.info == .abnormal(.local))
    }

    @Test func silentClientIsDroppedExactlyAtTheHandshakeTimeout() throws {
        var harness = try ProtocolCoreHarness.server { $0.handshakeTimeout = .milliseconds(100) }
        harness.peerSends(Array("GET / HTTP/1.1\r\nHost: h\r\n".utf8))
        harness.advance(by: .milliseconds(99))
        #expect(harness.closed == nil)
        harness.advance(by: .milliseconds(1))
        #expect(harness.closed?.info == .abnormal(.local))
        #expect(harness.closed?.error == nil)
        #expect(harness.sent.isEmpty)
    }

    // MARK: - Client handshake

    @Test func clientSendsTheUpgradeAndOpensOnAValid101() throws {
        var harness = try ProtocolCoreHarness.connectedClient()
        let request = String(decoding: harness.sent, as: UTF8.self)
        #expect(request.hasPrefix("GET /v1/messages/json HTTP/1.1\r\nHost: 127.0.0.1:2149\r\n"))
        #expect(request.contains("\r\nSec-WebSocket-Key: \(ProtocolCoreHarness.clientKey)\r\n"))
        #expect(request.hasSuffix("\r\nX-Application-Name: core-tests\r\n\r\n"))
        #expect(harness.core.phase == .clientHandshake(key: ProtocolCoreHarness.clientKey))

        let hello = WebSocketFrame(opcode: .text, payload: Array("hello".utf8)).encoded()
        harness.peerSends(
            Array(ProtocolCoreHarness.switchingProtocols(forKey: ProtocolCoreHarness.clientKey).utf8) + hello
        )

        let info = try #require(harness.opened)
        #expect(info.requestPath == "/v1/messages/json")
        #expect(info.requestHeaders["X-Application-Name"] == "core-tests")
        #expect(info.responseHeaders["Upgrade"] == "websocket")
        #expect(harness.inbox == [.text("hello")])
    }

    @Test func clientMasksItsControlFramesWithKeysFromTheRandomSource() throws {
        var harness = try ProtocolCoreHarness.openClient()
        harness.peerSends([WebSocketFrame(opcode: .ping, payload: Array("x".utf8))])
        #expect(
            try harness.sentFrames() == [
                WebSocketFrame(opcode: .pong, maskingKey: [1, 2, 3, 4], payload: Array("x".utf8))
            ]
        )
    }

    @Test func clientRefusesMaskedFramesWith1002() throws {
        var harness = try ProtocolCoreHarness.openClient()
        harness.peerSends([WebSocketFrame(opcode: .text, maskingKey: [9, 9, 9, 9], payload: [0x41])])
        let close = try #require(try harness.sentFrames().first)
        #expect(close.opcode == WebSocketFrame.Opcode.close.rawValue)
        #expect(close.payload == closePayload(1002, "masked frame from server"))
        #expect(harness.closing?.error?.message == "protocol violation: masked frame from server")
    }

    @Test func wrongAcceptValueFailsTheClient() throws {
        var harness = try ProtocolCoreHarness.connectedClient()
        harness.peerSends(
            Array(ProtocolCoreHarness.switchingProtocols(forKey: "dGhlIHNhbXBsZSBub25jZQ==").utf8)
        )
        #expect(harness.opened == nil)
        #expect(harness.closed?.info == .abnormal(.local))
        #expect(harness.closed?.error?.code == .protocolViolation)
        #expect(harness.closed?.error?.message == "wrong 'Sec-WebSocket-Accept' value 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='")
    }

    @Test func rejectionIsReportedOnceItsBodyIsRead() throws {
        var harness = try ProtocolCoreHarness.connectedClient()
        harness.peerSends(Array("HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbid".utf8))
        #expect(harness.closed == nil)
        harness.peerSends(Array("den".utf8))
        let error = try #require(harness.closed?.error)
        #expect(error.code == .handshakeRejected)
        #expect(error.message == "handshake rejected with 'HTTP/1.1 403 Forbidden' and body 'forbidden'")
        #expect(error.statusLine == "HTTP/1.1 403 Forbidden")
        #expect(error.responseBody == "forbidden")
    }

    @Test func rejectionWhoseBodyNeverEndsIsReportedAtTheHandshakeTimeout() throws {
        var harness = try ProtocolCoreHarness.connectedClient { $0.handshakeTimeout = .seconds(10) }
        harness.advance(by: .seconds(4))
        harness.peerSends(Array("HTTP/1.1 503 Service Unavailable\r\n\r\nbusy".utf8))
        #expect(harness.closed == nil)
        harness.advance(by: .seconds(6))
        #expect(
            harness.closed?.error?.message
                == "handshake rejected with 'HTTP/1.1 503 Service Unavailable' and body 'busy'"
        )
    }

    private struct ClientDeadline: Sendable, CustomTestStringConvertible {
        var name: String
        var url: String
        var isResolving: Bool
        var resolvesAfter: Duration?
        var isConnected: Bool
        var message: String
        var testDescription: String { name }
    }

    private static let clientDeadlines = [
        ClientDeadline(
            name: "lookup",
            url: "ws://zeek-manager.example:2149/",
            isResolving: true,
            resolvesAfter: nil,
            isConnected: false,
            message: "looking up host 'zeek-manager.example' did not finish within 3 s"
        ),
        ClientDeadline(
            name: "connection",
            url: "ws://127.0.0.1:2149/",
            isResolving: false,
            resolvesAfter: nil,
            isConnected: false,
            message: "connection not established within 3 s"
        ),
        ClientDeadline(
            name: "lookup and connection share the limit",
            url: "ws://zeek-manager.example:2149/",
            isResolving: true,
            resolvesAfter: .seconds(2),
            isConnected: false,
            message: "connection not established within 3 s"
        ),
        ClientDeadline(
            name: "handshake",
            url: "ws://127.0.0.1:2149/",
            isResolving: false,
            resolvesAfter: nil,
            isConnected: true,
            message: "no handshake response within 7 s"
        ),
    ]

    @Test(arguments: clientDeadlines)
    private func clientGivesUpExactlyAtItsDeadlineNamingTheLimit(deadline: ClientDeadline) throws {
        var harness = try ProtocolCoreHarness.client(url: deadline.url, isResolving: deadline.isResolving) {
            $0.connectTimeout = .seconds(3)
            $0.handshakeTimeout = .seconds(7)
        }
        var limit = Duration.seconds(3)
        if let resolvesAfter = deadline.resolvesAfter {
            harness.advance(by: resolvesAfter)
            harness.core.addressesResolved()
            limit -= resolvesAfter
        }
        if deadline.isConnected {
            let remote = try #require(SocketAddress(literal: "127.0.0.1", port: 2149))
            harness.core.connected(to: remote, now: harness.now)
            harness.perform()
            limit = .seconds(7)
        }
        harness.advance(by: limit - .milliseconds(1))
        #expect(harness.closed == nil)
        harness.advance(by: .milliseconds(1))
        #expect(harness.closed?.info == .abnormal(.local))
        #expect(harness.closed?.error?.code == .timedOut)
        #expect(harness.closed?.error?.message == deadline.message)
    }

    @Test func serverThatHangsUpDuringTheHandshakeIsReported() throws {
        var harness = try ProtocolCoreHarness.connectedClient()
        harness.peerSends(Array("HTTP/1.1 101 Switching".utf8))
        harness.peerEndsStream()
        #expect(harness.closed?.info == .abnormal(.peer))
        #expect(harness.closed?.error == WebSocketError(.closed, "connection closed during the handshake"))
    }

    @Test func responseHeadOverTheLimitFailsTheClient() throws {
        var harness = try ProtocolCoreHarness.connectedClient { $0.maximumHandshakeSize = 256 }
        harness.peerSends(
            Array(("HTTP/1.1 101 Switching Protocols\r\nX-Big: " + String(repeating: "b", count: 300)).utf8)
        )
        #expect(harness.closed?.error == WebSocketError(.protocolViolation, "handshake response larger than 256 bytes"))
    }

    @Test func closeBeforeTheHandshakeDropsTheConnectionWithTheRequestedCode() throws {
        var harness = try ProtocolCoreHarness.client(isResolving: true)
        harness.applicationCloses(code: .goingAway, reason: "cancelled")
        #expect(harness.sent.isEmpty)
        #expect(
            harness.closed?.info
                == WebSocketCloseInfo(code: .goingAway, reason: "cancelled", initiator: .local, wasClean: false)
        )
        #expect(harness.closed?.error == nil)
        // The lookup finishing afterwards changes nothing.
        harness.core.addressesResolved()
        #expect(harness.core.isClosed)
    }

    @Test func clientWhoseApplicationGaveUpIsDroppedWhenTheHandshakeCompletes() throws {
        var harness = try ProtocolCoreHarness.connectedClient()
        harness.applicationAcceptsOpen = false
        harness.peerSends(Array(ProtocolCoreHarness.switchingProtocols(forKey: ProtocolCoreHarness.clientKey).utf8))
        #expect(harness.opened == nil)
        #expect(harness.closed?.info == .abnormal(.local))
        #expect(harness.closed?.error == nil)
    }
}

/// The payload of a close frame: the code, then the reason's UTF-8.
func closePayload(_ code: UInt16, _ reason: String) -> [UInt8] {
    [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8)
}

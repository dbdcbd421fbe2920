import ClusterKit
import ClusterKitModel
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct WebSocketClientTests {
    @Test func refusedConnectionNamesTheURL() async throws {
        // Bound but not listening: a closed server's port could be taken by another test at once.
        let closed = try RefusingPort()
        let url = "ws://127.0.0.1:\(closed.port)/v1/messages/json"
        let error = await #expect(throws: WebSocketError.self) { try await WebSocketClient.connect(to: url) }
        #expect(error?.code == .connectionRefused)
        #expect(error?.description == "\(url): connection refused")
        withExtendedLifetime(closed) {}
    }

    @Test func rejectedHandshakeCarriesStatusAndBody() async throws {
        try await withServer(serverOptions { $0.maximumConnections = 0 }) { server in
            let url = "ws://127.0.0.1:\(server.port)/"
            let error = await #expect(throws: WebSocketError.self) { try await WebSocketClient.connect(to: url) }
            #expect(error?.code == .handshakeRejected)
            #expect(error?.statusLine == "HTTP/1.1 503 Service Unavailable")
            #expect(error?.responseBody == "too many connections (limit 0)")
        }
    }

    @Test func silentServerTimesOutTheHandshake() async throws {
        let listener = try RawListener()
        var options = WebSocketClient.Options()
        options.handshakeTimeout = .milliseconds(100)
        let url = "ws://127.0.0.1:\(listener.port)/"
        let error = await #expect(throws: WebSocketError.self) {
            try await WebSocketClient.connect(to: url, options: options)
        }
        #expect(error?.code == .timedOut)
        #expect(error?.description == "\(url): no handshake response within 100 ms")
    }

    @Test func cancelledConnectReturnsPromptly() async throws {
        let listener = try RawListener()
        let task = Task {
            try await WebSocketClient.connect(to: "ws://127.0.0.1:\(listener.port)/")
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func serverCloseWithCodeAndReasonBecomesAnError() async throws {
        try await withServer { server in
            let url = "ws://127.0.0.1:\(server.port)/wrong"
            let client = try await WebSocketClient.connect(to: url)
            let connection = try #require(try await server.accept())
            #expect(connection.requestPath == "/wrong")
            try await connection.send(text: #"{"type":"error","code":"invalid_uri"}"#)
            await connection.close(code: .policyViolation, reason: "Invalid URI - use /v1/messages/json")
            #expect(try await client.receive() == .text(#"{"type":"error","code":"invalid_uri"}"#))
            let error = await #expect(throws: WebSocketError.self) { try await client.receive() }
            #expect(error?.code == .closed)
            #expect(error?.closeCode == .policyViolation)
            #expect(error?.closeReason == "Invalid URI - use /v1/messages/json")
            #expect(
                error?.description
                    == "\(url): closed by peer with code 1008 and reason 'Invalid URI - use /v1/messages/json'"
            )
            #expect(
                connection.closeInfo
                    == WebSocketCloseInfo(
                        code: .policyViolation,
                        reason: "Invalid URI - use /v1/messages/json",
                        initiator: .local,
                        wasClean: true
                    )
            )
        }
    }

    @Test func sendsCallerHeaders() async throws {
        try await withServer { server in
            let client = try await WebSocketClient.connect(
                to: "ws://127.0.0.1:\(server.port)/v1/messages/json",
                headers: ["X-Application-Name": "zeekctl/1.0"]
            )
            let connection = try #require(try await server.accept())
            #expect(connection.requestHeaders["X-Application-Name"] == "zeekctl/1.0")
            #expect(connection.requestHeaders["Host"] == "127.0.0.1:\(server.port)")
            #expect(client.responseHeaders["sec-websocket-accept"] != nil)
            #expect(client.role == .client)
            await client.close()
        }
    }

    @Test func maskedServerFrameFailsTheClientWith1002() async throws {
        let listener = try RawListener()
        async let client = WebSocketClient.connect(to: "ws://127.0.0.1:\(listener.port)/")
        let server = try await listener.accept()
        let request = try await server.acceptUpgrade()
        #expect(request.contains("Sec-WebSocket-Version: 13\r\n"))
        let connection = try await client
        try await server.write([WebSocketFrame(opcode: .text, maskingKey: [1, 2, 3, 4], payload: [0x41])])
        let error = await #expect(throws: WebSocketError.self) { try await connection.receive() }
        #expect(error?.code == .protocolViolation)
        #expect(error?.description == "ws://127.0.0.1:\(listener.port)/: protocol violation: masked frame from server")
        let close = try #require(try await server.readFrame())
        #expect(close.maskingKey != nil)
        #expect(close.payload.prefix(2) == [0x03, 0xEA])
    }

    @Test func clientAnswersPingsWithMaskedPongs() async throws {
        let listener = try RawListener()
        async let client = WebSocketClient.connect(to: "ws://127.0.0.1:\(listener.port)/")
        let server = try await listener.accept()
        _ = try await server.acceptUpgrade()
        let connection = try await client
        try await server.write([WebSocketFrame(opcode: .ping, payload: Array("Hello".utf8))])
        let pong = try #require(try await server.readFrame())
        #expect(pong.opcode == WebSocketFrame.Opcode.pong.rawValue)
        #expect(pong.maskingKey != nil)
        #expect(pong.payload == Array("Hello".utf8))
        #expect(connection.state == .open)
    }

    @Test func wrongAcceptValueFailsTheHandshake() async throws {
        let listener = try RawListener()
        let url = "ws://127.0.0.1:\(listener.port)/"
        let client = Task { try await WebSocketClient.connect(to: url) }
        let server = try await listener.accept()
        _ = try await server.acceptUpgrade(accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let error = await #expect(throws: WebSocketError.self) { try await client.value }
        #expect(error?.code == .protocolViolation)
        #expect(error?.description == "\(url): wrong 'Sec-WebSocket-Accept' value 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='")
    }

    @Test func refusedPathCarriesStatusAndBody() async throws {
        let listener = try RawListener()
        let url = "ws://127.0.0.1:\(listener.port)/v2"
        let client = Task { try await WebSocketClient.connect(to: url) }
        let server = try await listener.accept()
        _ = try await server.readRequestHead()
        try await server.write(
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\ninvalid path; try /v1/messages/json\n"
        )
        server.close()
        let error = await #expect(throws: WebSocketError.self) { try await client.value }
        #expect(error?.code == .handshakeRejected)
        #expect(error?.statusLine == "HTTP/1.1 404 Not Found")
        #expect(error?.responseBody == "invalid path; try /v1/messages/json\n")
        #expect(
            error?.description
                == "\(url): handshake rejected with 'HTTP/1.1 404 Not Found' and body 'invalid path; try /v1/messages/json'"
        )
    }

    @Test(arguments: ["-1", "99999999999999999999", "5, 5"])
    func rejectionWithABadContentLengthIsAnErrorNotACrash(length: String) async throws {
        let listener = try RawListener()
        let url = "ws://127.0.0.1:\(listener.port)/"
        let client = Task { try await WebSocketClient.connect(to: url) }
        let server = try await listener.accept()
        _ = try await server.readRequestHead()
        try await server.write("HTTP/1.1 400 X\r\nContent-Length: \(length)\r\n\r\nbody")
        let error = await #expect(throws: WebSocketError.self) { try await client.value }
        #expect(error?.code == .protocolViolation)
        #expect(
            error?.description
                == "\(url): handshake response 'HTTP/1.1 400 X' has an invalid 'Content-Length' header ('\(length)'): "
                + "expected one decimal number"
        )
        server.close()
    }

    @Test func rejectionBodyIsReadUpToItsLength() async throws {
        let listener = try RawListener()
        let url = "ws://127.0.0.1:\(listener.port)/"
        let client = Task { try await WebSocketClient.connect(to: url) }
        let server = try await listener.accept()
        _ = try await server.readRequestHead()
        try await server.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nnope")
        let error = await #expect(throws: WebSocketError.self) { try await client.value }
        #expect(error?.responseBody == "no")
        server.close()
    }

    // MARK: - Host name lookups

    @Test func slowLookupFailsAtTheConnectTimeoutNamingHostAndLimit() async throws {
        let gate = try Gate()
        var options = WebSocketClient.Options()
        options.connectTimeout = .milliseconds(100)
        let url = "ws://slow.example:2149/"
        let start = ContinuousClock.now
        let error = await #expect(throws: WebSocketError.self) {
            try await WebSocketClient.connect(to: url, options: options) { _, _ in
                gate.wait()
                return []
            }
        }
        #expect(error?.code == .timedOut)
        #expect(error?.description == "\(url): looking up host 'slow.example' did not finish within 100 ms")
        #expect(ContinuousClock.now - start < .seconds(5))
        gate.open()
    }

    @Test func namesAreLookedUpByTheResolverAndLiteralsAreNot() async throws {
        let lookups = Guarded<[String]>([])
        let resolver: @Sendable (String, Int) throws(WebSocketError) -> [String] = { host, port in
            lookups.withLock { $0.append("\(host):\(port)") }
            return ["127.0.0.1"]
        }
        let port = try await withServer { server in
            let byName = try await WebSocketClient.connect(
                to: "ws://controller.example:\(server.port)/",
                resolvingWith: resolver
            )
            _ = try #require(try await server.accept())
            let byLiteral = try await WebSocketClient.connect(
                to: "ws://127.0.0.1:\(server.port)/",
                resolvingWith: resolver
            )
            _ = try #require(try await server.accept())
            await byName.close()
            await byLiteral.close()
            return server.port
        }
        #expect(lookups.withLock { $0 } == ["controller.example:\(port)"])
    }

    @Test func failedLookupIsReported() async throws {
        let url = "ws://nowhere.example:2149/"
        let error = await #expect(throws: WebSocketError.self) {
            try await WebSocketClient.connect(to: url) { host, _ throws(WebSocketError) in
                throw WebSocketError(.nameResolutionFailed, "cannot resolve '\(host)': name or service not known")
            }
        }
        #expect(error?.code == .nameResolutionFailed)
        #expect(error?.description == "\(url): cannot resolve 'nowhere.example': name or service not known")
    }

    @Test func invalidURLFailsBeforeConnecting() async {
        let error = await #expect(throws: WebSocketError.self) {
            try await WebSocketClient.connect(to: "wsx://127.0.0.1:2149/v1/messages/json")
        }
        #expect(error?.code == .invalidURL)
    }

    @Test func hostNamesAreResolved() async throws {
        try await withServer { server in
            let client = try await WebSocketClient.connect(to: "ws://localhost:\(server.port)/")
            let connection = try #require(try await server.accept())
            try await client.send(text: "by name")
            #expect(try await connection.receive() == .text("by name"))
            await client.close()
        }
    }

    // MARK: - Local address

    @Test func localAddressIsThePeerTheServerSees() async throws {
        // Linux routes all of 127.0.0.0/8 over the loopback interface: 127.0.0.2 stands in for another address.
        try await withServer { server in
            var options = WebSocketClient.Options()
            options.localAddress = "127.0.0.2"
            let client = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/", options: options)
            let connection = try #require(try await server.accept())
            #expect(connection.remoteAddress == "127.0.0.2")
            try await client.send(text: "from .2")
            #expect(try await connection.receive() == .text("from .2"))
            await client.close()
        }
    }

    @Test func localAddressAppliesToResolvedNames() async throws {
        try await withServer { server in
            var options = WebSocketClient.Options()
            options.localAddress = "127.0.0.3"
            // ::1 first: of another family than the local address, so skipped.
            let client = try await WebSocketClient.connect(to: "ws://dual:\(server.port)/", options: options) {
                _,
                _ throws(WebSocketError) in ["::1", "127.0.0.1"]
            }
            let connection = try #require(try await server.accept())
            #expect(connection.remoteAddress == "127.0.0.3")
            await client.close()
        }
    }

    @Test func unavailableLocalAddressIsAClearError() async throws {
        try await withServer { server in
            var options = WebSocketClient.Options()
            options.localAddress = "192.0.2.7"  // TEST-NET-1: no address of this host
            let url = "ws://127.0.0.1:\(server.port)/"
            let error = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: url, options: options)
            }
            #expect(error?.code == .invalidAddress)
            #expect(error?.description == "\(url): cannot bind 192.0.2.7: cannot assign requested address")
        }
    }

    @Test func localAddressMustBeAnIPLiteral() async {
        var options = WebSocketClient.Options()
        options.localAddress = "myhost"
        let error = await #expect(throws: WebSocketError.self) {
            try await WebSocketClient.connect(to: "ws://127.0.0.1:1/", options: options)
        }
        #expect(error?.code == .invalidAddress)
        #expect(error?.description == "ws://127.0.0.1:1/: invalid local address 'myhost': not an IP address")
    }

    @Test func localAddressOfAnotherFamilyThanEveryServerAddressFails() async {
        var options = WebSocketClient.Options()
        options.localAddress = "::1"
        let error = await #expect(throws: WebSocketError.self) {
            try await WebSocketClient.connect(to: "ws://127.0.0.1:1/", options: options)
        }
        #expect(error?.code == .invalidAddress)
        #expect(
            error?.description
                == "ws://127.0.0.1:1/: cannot connect from ::1: no address of the server is of its family"
        )
    }
}

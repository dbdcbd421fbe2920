import ClusterKit
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct WebSocketClientTests {
    @Test func refusedConnectionNamesTheURL() async throws {
        let server = try WebSocketServer(options: WebSocketServer.Options(port: 0))
        let url = "ws://127.0.0.1:\(server.port)/v1/messages/json"
        await server.shutdown()
        let error = await #expect(throws: WebSocketError.self) { try await WebSocketClient.connect(to: url) }
        #expect(error?.code == .connectionRefused)
        #expect(error?.description == "\(url): connection refused")
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
        let listener = try SilentListener()
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
        let listener = try SilentListener()
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

    @Test func invalidURLFailsBeforeConnecting() async {
        let error = await #expect(throws: WebSocketError.self) {
            try await WebSocketClient.connect(to: "wss://127.0.0.1:2149/v1/messages/json")
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
}

/// A listening socket that never accepts: the kernel completes TCP handshakes and nothing answers.
private final class SilentListener: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 8) == 0 else {
            close(descriptor)
            throw RawPeerError(description: "listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(descriptor)
    }
}

import ClusterKit
import ClusterKitModel
import Foundation
import Testing

/// The checked-in test certificates (scripts/make-test-certificates.sh): a test CA, a server certificate for
/// 127.0.0.1, ::1 and localhost, a client certificate, another CA, and a certificate for another host name.
enum TLSFixtures {
    static func path(_ name: String) -> String { fixturesURL.appendingPathComponent("tls/\(name)").path }

    static var serverTLS: Cluster.WebSocketTLSOptions {
        Cluster.WebSocketTLSOptions(certFile: path("server.pem"), keyFile: path("server.key"))
    }

    static var trustingTestCA: WebSocketClient.Options {
        WebSocketClient.Options(tls: WebSocketClient.TLSOptions(caFile: path("ca.pem")))
    }
}

@Suite struct WebSocketTLSTests {
    @Test func messagesGoBothWaysOverAVerifiedConnection() async throws {
        let options = serverOptions {
            $0.tls = TLSFixtures.serverTLS
            // No pings: this test is about the data; on a loaded machine a debug build may take longer than two
            // ping intervals to move it, and a ping queued behind megabytes would then time out (ws:// alike).
            $0.connection.pingInterval = nil
        }
        try await withServer(options) { server in
            let url = "wss://127.0.0.1:\(server.port)/v1/messages/json"
            let client = try await WebSocketClient.connect(to: url, options: TLSFixtures.trustingTestCA)
            let connection = try #require(try await server.accept())
            #expect(connection.requestPath == "/v1/messages/json")
            #expect(connection.requestHeaders["Host"] == "127.0.0.1:\(server.port)")
            try await client.send(text: "hello")
            #expect(try await connection.receive() == .text("hello"))
            // Larger than a TLS record and than one read: the session's buffered plaintext must all come out.
            // 3 MiB of a 251-byte ramp (a prime length, so records and reads never line up with it), built by doubling.
            var large = (0..<251).map { UInt8($0) }
            while large.count < 3 << 20 { large += large }
            try await connection.send(binary: large)
            #expect(try await client.receive() == .binary(large))
            for index in 0..<2000 { try await client.send(text: "message \(index)") }
            for index in 0..<2000 { #expect(try await connection.receive() == .text("message \(index)")) }
            await client.close()
            #expect(try await connection.receive() == nil)
            #expect(client.closeInfo?.wasClean == true)
        }
    }

    @Test func theSystemStoreDoesNotTrustTheTestCA() async throws {
        try await withServer(serverOptions { $0.tls = TLSFixtures.serverTLS }) { server in
            let url = "wss://127.0.0.1:\(server.port)/"
            let error = await #expect(throws: WebSocketError.self) { try await WebSocketClient.connect(to: url) }
            #expect(error?.code == .tlsFailed)
            #expect(error?.description.hasPrefix("\(url): certificate verify failed: ") == true)
            // The server stays up for a client that trusts the CA.
            let client = try await WebSocketClient.connect(to: url, options: TLSFixtures.trustingTestCA)
            await client.close()
        }
    }

    @Test func aCertificateFromAnotherCAIsRefused() async throws {
        try await withServer(serverOptions { $0.tls = TLSFixtures.serverTLS }) { server in
            let url = "wss://127.0.0.1:\(server.port)/"
            let options = WebSocketClient.Options(tls: .init(caFile: TLSFixtures.path("other-ca.pem")))
            let error = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: url, options: options)
            }
            #expect(error?.code == .tlsFailed)
            #expect(error?.message == "certificate verify failed: unable to get local issuer certificate")
        }
    }

    @Test func aCertificateForAnotherHostIsRefused() async throws {
        let tls = Cluster.WebSocketTLSOptions(
            certFile: TLSFixtures.path("wrong-host.pem"),
            keyFile: TLSFixtures.path("wrong-host.key")
        )
        try await withServer(serverOptions { $0.tls = tls }) { server in
            let url = "wss://127.0.0.1:\(server.port)/"
            let error = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: url, options: TLSFixtures.trustingTestCA)
            }
            #expect(error?.code == .tlsFailed)
            #expect(error?.message == "certificate verify failed: IP address mismatch")
            // Without verification the same server is reached (encrypted, not authenticated).
            let insecure = WebSocketClient.Options(tls: .init(verifiesServer: false))
            let client = try await WebSocketClient.connect(to: url, options: insecure)
            try await client.send(text: "x")
            let connection = try #require(try await server.accept())
            #expect(try await connection.receive() == .text("x"))
            await client.close()
        }
    }

    @Test func aServerVerifyingPeersWantsAClientCertificate() async throws {
        var tls = TLSFixtures.serverTLS
        tls.enablePeerVerification = true
        tls.caFile = TLSFixtures.path("ca.pem")
        try await withServer(serverOptions { $0.tls = tls }) { server in
            let url = "wss://127.0.0.1:\(server.port)/"
            let error = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: url, options: TLSFixtures.trustingTestCA)
            }
            #expect(error?.code == .tlsFailed)
            #expect(error?.description == "\(url): TLS handshake failed: tlsv13 alert certificate required")
            var options = TLSFixtures.trustingTestCA
            options.tls.certificateFile = TLSFixtures.path("client.pem")
            options.tls.keyFile = TLSFixtures.path("client.key")
            let client = try await WebSocketClient.connect(to: url, options: options)
            try await client.send(text: "authenticated")
            let connection = try #require(try await server.accept())
            #expect(try await connection.receive() == .text("authenticated"))
            await client.close()
        }
    }

    @Test func aPlainClientOnATLSPortFailsAndTheServerStaysUp() async throws {
        try await withServer(serverOptions { $0.tls = TLSFixtures.serverTLS }) { server in
            // A plain HTTP request is answered in plain HTTP, with a body that says what to do.
            let error = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/")
            }
            #expect(error?.code == .handshakeRejected)
            #expect(
                error?.message
                    == "handshake rejected with 'HTTP/1.1 400 Bad Request' and body 'plain HTTP request on a server "
                    + "with TLS: connect with wss://, not ws://'"
            )
            let refusal = await server.nextRefusal(within: .seconds(30))
            #expect(refusal?.status == 400)
            #expect(refusal?.remoteAddress == "127.0.0.1")
            #expect(refusal?.reason == "plain HTTP request on a server with TLS: connect with wss://, not ws://")
            // Garbage instead of a ClientHello: the server closes the connection.
            let peer = try await RawPeer.connect(port: server.port)
            try await peer.write(Array(repeating: 0x47, count: 300))
            _ = try await peer.readUntilEnd()
            peer.close()
            let client = try await WebSocketClient.connect(
                to: "wss://127.0.0.1:\(server.port)/",
                options: TLSFixtures.trustingTestCA
            )
            await client.close()
            #expect(await server.statistics().connections <= 1)
        }
    }

    @Test func aStalledTLSHandshakeIsCutAtTheHandshakeLimit() async throws {
        let options = serverOptions {
            $0.tls = TLSFixtures.serverTLS
            $0.handshakeTimeout = .milliseconds(100)
        }
        try await withServer(options) { server in
            let peer = try await RawPeer.connect(port: server.port)
            // A ClientHello's first bytes, then silence.
            try await peer.write([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
            #expect(try await peer.readUntilEnd() >= 0)
            peer.close()
        }
    }

    @Test func aClientCutsAServerThatNeverAnswersTheTLSHandshake() async throws {
        let listener = try RawListener()
        var options = TLSFixtures.trustingTestCA
        options.handshakeTimeout = .milliseconds(100)
        let url = "wss://127.0.0.1:\(listener.port)/"
        let error = await #expect(throws: WebSocketError.self) {
            try await WebSocketClient.connect(to: url, options: options)
        }
        #expect(error?.description == "\(url): no handshake response within 100 ms")
    }

    @Test func aTLSClientOnAPlainPortIsAnsweredAtOnce() async throws {
        // A handshake limit far beyond the client's: only an answer at once lets the client see the server's 400.
        try await withServer(serverOptions { $0.handshakeTimeout = .seconds(600) }) { server in
            let url = "wss://127.0.0.1:\(server.port)/"
            var options = TLSFixtures.trustingTestCA
            options.handshakeTimeout = .seconds(60)
            let error = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: url, options: options)
            }
            #expect(error?.code == .tlsFailed)
            #expect(
                error?.description
                    == "\(url): TLS handshake failed: the server answered in plain HTTP ('HTTP/1.1 400 Bad Request'), "
                    + "so it does not use TLS: connect with ws://"
            )
            let refusal = try #require(await server.nextRefusal(within: .seconds(30)))
            #expect(refusal.status == 400)
            #expect(
                refusal.description.hasSuffix(
                    "refused with 400 Bad Request: TLS handshake on a server without TLS: connect with ws://, not wss://"
                )
            )
            // The server stays up for plain clients.
            let client = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/")
            await client.close()
        }
    }

    @Test func aClientHelloAloneIsEnoughToBeAnswered() async throws {
        try await withServer(serverOptions { $0.handshakeTimeout = .seconds(600) }) { server in
            let peer = try await RawPeer.connect(port: server.port)
            // A ClientHello's record header and no more: the first byte tells.
            try await peer.write([0x16, 0x03, 0x01, 0x02, 0x00])
            let answer = try await peer.readHTTPResponse()
            #expect(answer.statusLine == "HTTP/1.1 400 Bad Request")
            #expect(answer.body == "TLS handshake on a server without TLS: connect with ws://, not wss://")
            peer.close()
        }
    }

    @Test func aHandshakeIsCheckedInMemoryBeforeAnyProcessConnects() throws {
        let server = serverOptions {
            $0.tls = TLSFixtures.serverTLS
            $0.tls.enablePeerVerification = true
            $0.tls.caFile = TLSFixtures.path("ca.pem")
        }
        let client = WebSocketClient.TLSOptions(
            caFile: TLSFixtures.path("ca.pem"),
            certificateFile: TLSFixtures.path("client.pem"),
            keyFile: TLSFixtures.path("client.key")
        )
        try server.checkTLSHandshake(with: client, host: "127.0.0.1")
        try server.checkTLSHandshake(with: client, host: "localhost")
        // The server's certificate is for servers only: as a client's it is refused for its purpose.
        var asClient = client
        asClient.certificateFile = TLSFixtures.path("server.pem")
        asClient.keyFile = TLSFixtures.path("server.key")
        let purpose = #expect(throws: WebSocketError.self) {
            try server.checkTLSHandshake(with: asClient, host: "127.0.0.1")
        }
        #expect(
            purpose?.message
                == "the server refuses the client's certificate: certificate verify failed: unsuitable certificate purpose"
        )
        // No certificate at all.
        let anonymous = #expect(throws: WebSocketError.self) {
            try server.checkTLSHandshake(with: .init(caFile: TLSFixtures.path("ca.pem")), host: "127.0.0.1")
        }
        #expect(anonymous?.message.hasPrefix("the server refuses the client's certificate: ") == true)
        #expect(purpose?.code == .tlsClientCertificateRefused && anonymous?.code == .tlsClientCertificateRefused)
        // An address the server's certificate does not name, as nodes of a controller on 0.0.0.0 would use.
        let address = #expect(throws: WebSocketError.self) {
            try server.checkTLSHandshake(with: client, host: "0.0.0.0")
        }
        #expect(
            address?.message
                == "the client refuses the server's certificate for '0.0.0.0': certificate verify failed: IP address mismatch"
        )
        #expect(address?.code == .tlsFailed)
        // A client trusting another CA.
        var otherCA = client
        otherCA.caFile = TLSFixtures.path("other-ca.pem")
        let trust = #expect(throws: WebSocketError.self) {
            try server.checkTLSHandshake(with: otherCA, host: "127.0.0.1")
        }
        #expect(
            trust?.message.hasPrefix(
                "the client refuses the server's certificate for '127.0.0.1': certificate verify failed"
            ) == true
        )
        // Without TLS there is nothing to check.
        try serverOptions().checkTLSHandshake(with: otherCA, host: "0.0.0.0")
    }

    @Test func serverTLSOptionsFollowZeeksRules() throws {
        let onlyCertificate = serverOptions { $0.tls = .init(certFile: TLSFixtures.path("server.pem")) }
        let error = #expect(throws: WebSocketError.self) { try WebSocketServer(options: onlyCertificate) }
        #expect(error?.code == .tlsFailed)
        #expect(error?.message == "invalid tls_options: cert_file set without key_file")
        let missing = serverOptions { $0.tls = .init(certFile: "/nonexistent/cert.pem", keyFile: "/nonexistent/k") }
        let missingError = #expect(throws: WebSocketError.self) { try WebSocketServer(options: missing) }
        #expect(
            missingError?.message == "cannot read certificate file '/nonexistent/cert.pem': no such file or directory"
        )
        let mismatched = serverOptions {
            $0.tls = .init(certFile: TLSFixtures.path("server.pem"), keyFile: TLSFixtures.path("client.key"))
        }
        let mismatchError = #expect(throws: WebSocketError.self) { try WebSocketServer(options: mismatched) }
        #expect(mismatchError?.message.hasSuffix("client.key': key values mismatch") == true)
        let badCiphers = serverOptions {
            $0.tls = TLSFixtures.serverTLS
            $0.tls.ciphers = "NOT-A-CIPHER"
        }
        let cipherError = #expect(throws: WebSocketError.self) { try WebSocketServer(options: badCiphers) }
        #expect(cipherError?.message.hasPrefix("invalid cipher list 'NOT-A-CIPHER'") == true)
    }

    @Test func aConfiguredCipherListIsUsed() async throws {
        let options = serverOptions {
            $0.tls = TLSFixtures.serverTLS
            $0.tls.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"
        }
        try await withServer(options) { server in
            let client = try await WebSocketClient.connect(
                to: "wss://127.0.0.1:\(server.port)/",
                options: TLSFixtures.trustingTestCA
            )
            await client.close()
        }
    }

    @Test func aBearerTokenIsRequiredOnTheUpgrade() async throws {
        let options = serverOptions {
            $0.tls = TLSFixtures.serverTLS
            $0.bearerToken = "t0ken"
        }
        try await withServer(options) { server in
            let url = "wss://127.0.0.1:\(server.port)/"
            for (headers, body) in [
                (WebSocketHeaders(), "missing bearer token"),
                (["Authorization": "Bearer wrong"], "wrong bearer token"),
                (["Authorization": "Bearer t0ke"], "wrong bearer token"),
                (["Authorization": "Basic dXNlcjpwYXNz"], "not a bearer token"),
            ] as [(WebSocketHeaders, String)] {
                let error = await #expect(throws: WebSocketError.self) {
                    try await WebSocketClient.connect(to: url, headers: headers, options: TLSFixtures.trustingTestCA)
                }
                #expect(error?.statusLine == "HTTP/1.1 401 Unauthorized")
                #expect(error?.responseBody == body)
            }
            let client = try await WebSocketClient.connect(
                to: url,
                headers: ["Authorization": "bearer t0ken"],
                options: TLSFixtures.trustingTestCA
            )
            await client.close()
        }
    }

    @Test func tokenFilesMustBePrivate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("token").path
        try Data("  abc.DEF-123\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try BearerTokenFile.read(path) == "abc.DEF-123")
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let error = #expect(throws: BearerTokenFile.Failure.self) { try BearerTokenFile.read(path) }
        #expect(error?.description == "token file '\(path)': mode 0640 lets other users at it (use chmod 600)")
        try Data("two words".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
        #expect(throws: BearerTokenFile.Failure.self) { try BearerTokenFile.read(path) }
    }
}

@Suite struct ZeekServerOptionsTests {
    @Test func zeeksWebSocketServerOptionsBecomeServerOptions() throws {
        var zeek = Cluster.WebSocketServerOptions(
            listenAddr: Broker.Address("::1"),
            listenPort: Broker.Port(27760, .tcp),
            pingInterval: Broker.Timespan(.milliseconds(2500)),
            tlsOptions: TLSFixtures.serverTLS
        )
        let options = try WebSocketServer.Options(zeek: zeek)
        #expect(options.host == "::1")
        #expect(options.port == 27760)
        #expect(options.connection.pingInterval == .seconds(2))
        #expect(options.tls == TLSFixtures.serverTLS)
        zeek.pingInterval = Broker.Timespan(.seconds(-1))
        #expect(try WebSocketServer.Options(zeek: zeek).connection.pingInterval == nil)
        zeek.pingInterval = Broker.Timespan(.milliseconds(900))
        #expect(try WebSocketServer.Options(zeek: zeek).connection.pingInterval == nil)
        zeek.listenHost = "127.0.0.1"
        let both = #expect(throws: WebSocketError.self) { try WebSocketServer.Options(zeek: zeek) }
        #expect(both?.message == "cannot use both listen_addr and listen_host")
        zeek.listenHost = nil
        zeek.tlsOptions.keyFile = nil
        let tls = #expect(throws: WebSocketError.self) { try WebSocketServer.Options(zeek: zeek) }
        #expect(tls?.code == .tlsFailed)
    }
}

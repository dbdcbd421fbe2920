import ClusterKit
import Foundation
import Testing

@testable import ClusterKitWebSocket

/// Client TLS contexts made once and reused (``TLSContextCache``), and TLS session resumption per `host:port`.
@Suite struct TLSResumptionTests {
    /// Connects, checks that a message gets through, and closes in order; returns both ends' TLS details.
    private func exchange(
        with server: WebSocketServer,
        url: String,
        options: WebSocketClient.Options = TLSFixtures.trustingTestCA
    ) async throws -> (client: WebSocketConnection.TLSDetails?, server: WebSocketConnection.TLSDetails?) {
        let client = try await WebSocketClient.connect(to: url, options: options)
        try await client.send(text: "hello")
        let accepted = try #require(try await server.accept())
        #expect(try await accepted.receive() == .text("hello"))
        await client.close()
        #expect(try await accepted.receive() == nil)
        #expect(client.closeInfo?.wasClean == true)
        return (client.tls, accepted.tls)
    }

    /// Whether a connection by ``exchange(with:url:options:)`` resumed (both ends agree).
    private func resumes(
        with server: WebSocketServer,
        url: String,
        options: WebSocketClient.Options = TLSFixtures.trustingTestCA
    ) async throws -> Bool {
        let details = try await exchange(with: server, url: url, options: options)
        let client = try #require(details.client)
        #expect(details.server?.isResumed == client.isResumed)
        return client.isResumed
    }

    @Test func theSecondConnectionResumesAndTheFirstDoesNot() async throws {
        try await withServer(serverOptions { $0.tls = TLSFixtures.serverTLS }) { server async throws in
            let url = "wss://127.0.0.1:\(server.port)/"
            let first = try await exchange(with: server, url: url)
            #expect(first.client?.isResumed == false)
            #expect(first.server?.isResumed == false)
            #expect(first.client?.protocolVersion == "TLSv1.3")
            for _ in 0..<3 {
                let next = try await exchange(with: server, url: url)
                #expect(next.client?.isResumed == true)
                #expect(next.server?.isResumed == true)
                #expect(next.client?.protocolVersion == "TLSv1.3")
            }
            // Turned off, every handshake is a full one.
            var options = TLSFixtures.trustingTestCA
            options.tls.resumesSessions = false
            for _ in 0..<2 {
                #expect(try await resumes(with: server, url: url, options: options) == false)
            }
        }
    }

    @Test func plainConnectionsHaveNoTLSDetails() async throws {
        try await withServer { server async throws in
            let client = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/")
            #expect(client.tls == nil)
            let accepted = try #require(try await server.accept())
            #expect(accepted.tls == nil)
            await client.close()
        }
    }

    @Test func differentHostStringsDoNotShareSessions() async throws {
        try await withServer(serverOptions { $0.tls = TLSFixtures.serverTLS }) { server async throws in
            let address = "wss://127.0.0.1:\(server.port)/"
            let name = "wss://localhost:\(server.port)/"
            #expect(try await resumes(with: server, url: address) == false)
            #expect(try await resumes(with: server, url: address) == true)
            // The same server under another name: its own session, made by a full handshake.
            #expect(try await resumes(with: server, url: name) == false)
            #expect(try await resumes(with: server, url: name) == true)
            #expect(try await resumes(with: server, url: address) == true)
        }
    }

    @Test func anAbortedConnectionCostsOneFullHandshake() async throws {
        try await withServer(serverOptions { $0.tls = TLSFixtures.serverTLS }) { server async throws in
            let url = "wss://127.0.0.1:\(server.port)/"
            #expect(try await resumes(with: server, url: url) == false)
            let aborted = try await WebSocketClient.connect(to: url, options: TLSFixtures.trustingTestCA)
            #expect(aborted.tls?.isResumed == true)
            let accepted = try #require(try await server.accept())
            await aborted.close(code: .abnormalClosure)
            await #expect(throws: WebSocketError.self) { try await accepted.receive() }
            // OpenSSL does not resume the session of a connection that ended without a shutdown: a full handshake.
            #expect(try await resumes(with: server, url: url) == false)
            #expect(try await resumes(with: server, url: url) == true)
        }
    }

    @Test func aClientCertificateToAServerVerifyingPeersWorksEveryTime() async throws {
        var tls = TLSFixtures.serverTLS
        tls.enablePeerVerification = true
        tls.caFile = TLSFixtures.path("ca.pem")
        var options = TLSFixtures.trustingTestCA
        options.tls.certificateFile = TLSFixtures.path("client.pem")
        options.tls.keyFile = TLSFixtures.path("client.key")
        try await withServer(serverOptions { $0.tls = tls }) { server async throws in
            let url = "wss://127.0.0.1:\(server.port)/"
            // A server that asks for a client certificate gets no session offered (see TLSOptions.resumesSessions).
            for _ in 0..<4 {
                #expect(try await resumes(with: server, url: url, options: options) == false)
            }
            // Without a certificate it is still refused, however many connections came before.
            let error = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: url, options: TLSFixtures.trustingTestCA)
            }
            #expect(error?.description == "\(url): TLS handshake failed: tlsv13 alert certificate required")
        }
        // The same client to a server that asks for no certificate resumes.
        try await withServer(serverOptions { $0.tls = TLSFixtures.serverTLS }) { server async throws in
            let url = "wss://127.0.0.1:\(server.port)/"
            #expect(try await resumes(with: server, url: url, options: options) == false)
            #expect(try await resumes(with: server, url: url, options: options) == true)
        }
    }

    @Test func aChangedCAFileIsReadByTheNextConnection() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let caFile = directory + "/ca.pem"
        try FileManager.default.copyItem(atPath: TLSFixtures.path("ca.pem"), toPath: caFile)
        let options = WebSocketClient.Options(tls: .init(caFile: caFile))
        try await withServer(serverOptions { $0.tls = TLSFixtures.serverTLS }) { server async throws in
            let url = "wss://127.0.0.1:\(server.port)/"
            #expect(try await resumes(with: server, url: url, options: options) == false)
            #expect(try await resumes(with: server, url: url, options: options) == true)
            // Rewritten in place with another CA: a new context, which trusts only that CA and offers no session.
            try Data(contentsOf: URL(fileURLWithPath: TLSFixtures.path("other-ca.pem")))
                .write(to: URL(fileURLWithPath: caFile))
            let error = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: url, options: options)
            }
            #expect(error?.code == .tlsFailed)
            #expect(error?.message == "certificate verify failed: unable to get local issuer certificate")
            // Renamed over with the right CA again: trusted, by a full handshake.
            let replacement = directory + "/ca.pem.new"
            try FileManager.default.copyItem(atPath: TLSFixtures.path("ca.pem"), toPath: replacement)
            #expect(rename(replacement, caFile) == 0)
            #expect(try await resumes(with: server, url: url, options: options) == false)
            // Gone: the error is the one without a cache.
            try FileManager.default.removeItem(atPath: caFile)
            let missing = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: url, options: options)
            }
            #expect(missing?.message == "cannot read CA file '\(caFile)': no such file or directory")
        }
    }

    @Test func contextsAreReusedAndBounded() throws {
        let cache = TLSContextCache(capacity: 2)
        let options = WebSocketClient.TLSOptions(caFile: TLSFixtures.path("ca.pem"))
        let first = try cache.context(for: options)
        #expect(try cache.context(for: options) === first)
        var insecure = options
        insecure.verifiesServer = false
        let other = try cache.context(for: insecure)
        #expect(other !== first)
        #expect(try cache.context(for: options) === first)
        // A third set of options pushes out the least recently used (the insecure one).
        _ = try cache.context(for: .init(caFile: TLSFixtures.path("other-ca.pem")))
        #expect(cache.count == 2)
        #expect(try cache.context(for: options) === first)
        #expect(try cache.context(for: insecure) !== other)
        // Errors are those without a cache, and nothing is kept for them.
        let error = #expect(throws: WebSocketError.self) {
            try cache.context(for: .init(certificateFile: TLSFixtures.path("client.pem")))
        }
        #expect(error?.message == "a client certificate file needs a key file")
        let unreadable = #expect(throws: WebSocketError.self) {
            try cache.context(for: .init(caFile: "/nonexistent/ca.pem"))
        }
        #expect(unreadable?.message == "cannot read CA file '/nonexistent/ca.pem': no such file or directory")
        #expect(cache.count == 2)
    }
}

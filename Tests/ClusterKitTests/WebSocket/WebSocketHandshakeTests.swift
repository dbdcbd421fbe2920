import ClusterKit
import Testing

@Suite struct WebSocketHandshakeTests {
    private static let validRequest = """
        GET /v1/messages/json?x=1 HTTP/1.1\r
        Host: 127.0.0.1:2149\r
        upgrade: WebSocket\r
        CONNECTION: keep-alive, Upgrade\r
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
        Sec-WebSocket-Version: 13\r
        X-Application-Name: zeekctl/1.0\r
        \r

        """

    private static func head(_ text: String) throws -> WebSocketHandshake.Head {
        try WebSocketHandshake.parseHead(Array(text.utf8), maximumFieldCount: 64)
    }

    private static func rejection(_ text: String) throws -> WebSocketHandshake.Rejection {
        try #require(throws: WebSocketHandshake.Rejection.self) {
            try WebSocketHandshake.checkRequest(try head(text))
        }
    }

    @Test func findsTheEndOfAHead() {
        let bytes = Array(Self.validRequest.utf8) + [0x81, 0x00]
        let length = bytes.withUnsafeBytes { WebSocketHandshake.headLength(in: $0) }
        #expect(length == bytes.count - 2)
        let partial = Array(bytes.prefix(40))
        #expect(partial.withUnsafeBytes { WebSocketHandshake.headLength(in: $0) } == nil)
    }

    @Test func acceptsAValidRequestWithCaseInsensitiveNamesAndTokenLists() throws {
        let request = try WebSocketHandshake.checkRequest(try Self.head(Self.validRequest))
        #expect(request.target == "/v1/messages/json?x=1")
        #expect(request.key == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(request.headers["x-application-name"] == "zeekctl/1.0")
        #expect(request.headers["HOST"] == "127.0.0.1:2149")
        #expect(request.headers.contains("connection", token: "upgrade"))
    }

    @Test func answersWithTheRFCExampleAccept() {
        let response = String(
            decoding: WebSocketHandshake.switchingProtocolsResponse(key: "dGhlIHNhbXBsZSBub25jZQ=="),
            as: UTF8.self
        )
        #expect(
            response
                == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        )
    }

    @Test func wrongVersionGets426NamingVersion13() throws {
        let rejection = try Self.rejection(Self.validRequest.replacingVersion("8"))
        #expect(rejection.status == 426)
        #expect(rejection.headers["Sec-WebSocket-Version"] == "13")
        let text = String(decoding: rejection.responseBytes(), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"))
    }

    @Test func missingKeyGets400() throws {
        let text = Self.validRequest.removingLine(startingWith: "Sec-WebSocket-Key")
        let rejection = try Self.rejection(text)
        #expect(rejection.status == 400)
        #expect(rejection.body == "missing 'Sec-WebSocket-Key' header")
    }

    @Test func shortKeyGets400() throws {
        let text = Self.validRequest.replacingOccurrences("dGhlIHNhbXBsZSBub25jZQ==", with: "c2hvcnQ=")
        #expect(try Self.rejection(text).body == "invalid 'Sec-WebSocket-Key' header")
    }

    @Test func plainGetIsNotAnUpgrade() throws {
        let text = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        let rejection = try Self.rejection(text)
        #expect(rejection.status == 400)
        #expect(rejection.body == "missing 'Upgrade: websocket' header")
    }

    @Test func postGets405() throws {
        let rejection = try Self.rejection(Self.validRequest.replacingOccurrences("GET /", with: "POST /"))
        #expect(rejection.status == 405)
        #expect(rejection.headers["Allow"] == "GET")
    }

    @Test func malformedHeadsAreNamed() {
        #expect(throws: WebSocketHandshake.HeadProblem.malformed("header line without ':'")) {
            try Self.head("GET / HTTP/1.1\r\nnonsense\r\n\r\n")
        }
        #expect(throws: WebSocketHandshake.HeadProblem.malformed("folded header line")) {
            try Self.head("GET / HTTP/1.1\r\nA: b\r\n  c\r\n\r\n")
        }
        #expect(throws: WebSocketHandshake.HeadProblem.tooManyFields) {
            try WebSocketHandshake.parseHead(Array("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n".utf8), maximumFieldCount: 1)
        }
    }

    @Test func clientRequestCarriesTheHandshakeAndCallerHeaders() throws {
        let url = try WebSocketURL("ws://[::1]:2149/v1/messages/json")
        let text = String(
            decoding: WebSocketHandshake.clientRequest(
                url: url,
                key: "dGhlIHNhbXBsZSBub25jZQ==",
                headers: ["X-Application-Name": "zeekctl/1.0"]
            ),
            as: UTF8.self
        )
        #expect(
            text
                == "GET /v1/messages/json HTTP/1.1\r\nHost: [::1]:2149\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\nX-Application-Name: zeekctl/1.0\r\n\r\n"
        )
        let request = try WebSocketHandshake.checkRequest(try Self.head(text))
        #expect(request.target == "/v1/messages/json")
    }

    @Test func callerMayNotSetHandshakeHeaders() {
        let error = #expect(throws: WebSocketError.self) {
            try WebSocketHandshake.checkCallerHeaders(["sec-websocket-key": "x"])
        }
        #expect(error?.code == .invalidHeader)
        #expect(error?.description == "header 'sec-websocket-key' is set by the handshake itself")
        #expect(throws: WebSocketError.self) { try WebSocketHandshake.checkCallerHeaders(["X-A": "a\r\nB: c"]) }
    }

    @Test func clientChecksTheAcceptValue() throws {
        let good = try Self.head(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        )
        guard case .accepted = try WebSocketHandshake.checkResponse(good, key: "dGhlIHNhbXBsZSBub25jZQ==") else {
            Issue.record("101 with the right accept value was not accepted")
            return
        }
        let error = #expect(throws: WebSocketError.self) {
            try WebSocketHandshake.checkResponse(good, key: "AAAAAAAAAAAAAAAAAAAAAA==")
        }
        #expect(error?.code == .protocolViolation)
        let rejected = try Self.head("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\n")
        #expect(
            try WebSocketHandshake.checkResponse(rejected, key: "x")
                == .rejected(statusLine: "HTTP/1.1 503 Service Unavailable", bodyLength: 5)
        )
    }

    // MARK: - Content-Length of a rejection

    @Test(arguments: [
        ("0", 0), ("5", 5), ("000123", 123), ("999999999999999999", 999_999_999_999_999_999),
    ])
    func contentLengthIsADecimalNumber(text: String, value: Int) {
        #expect(WebSocketHandshake.contentLength(text) == value)
    }

    @Test(arguments: ["-1", "+5", "", " 5", "5 ", "0x10", "5, 5", "1e3", "9999999999999999999", "٣"])
    func contentLengthRefusesEverythingElse(text: String) {
        #expect(WebSocketHandshake.contentLength(text) == nil)
    }

    @Test func rejectionWithANegativeContentLengthIsAProtocolViolation() throws {
        let head = try Self.head("HTTP/1.1 400 X\r\nContent-Length: -1\r\n\r\n")
        let error = #expect(throws: WebSocketError.self) { try WebSocketHandshake.checkResponse(head, key: "x") }
        #expect(error?.code == .protocolViolation)
        #expect(
            error?.description
                == "handshake response 'HTTP/1.1 400 X' has an invalid 'Content-Length' header ('-1'): expected one "
                + "decimal number"
        )
    }

    @Test func rejectionWithTwoContentLengthsIsAProtocolViolation() throws {
        let head = try Self.head("HTTP/1.1 503 Busy\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n")
        let error = #expect(throws: WebSocketError.self) { try WebSocketHandshake.checkResponse(head, key: "x") }
        #expect(error?.message.contains("('5', '7')") == true)
    }

    // MARK: - Header hygiene

    @Test(arguments: ["Host", "Sec-WebSocket-Key", "Sec-WebSocket-Version"])
    func duplicateHandshakeHeadersGet400(name: String) throws {
        let line = Self.validRequest.split(separator: "\r\n").first { $0.hasPrefix(name + ":") }.map(String.init)
        let duplicate = try #require(line)
        let text = Self.validRequest.replacingOccurrences(duplicate, with: duplicate + "\r\n" + duplicate)
        let rejection = try Self.rejection(text)
        #expect(rejection.status == 400)
        #expect(rejection.body == "duplicate '\(name)' header")
    }

    @Test(arguments: ["Host", "Sec-WebSocket-Key", "Sec-WebSocket-Version"])
    func emptyHandshakeHeadersGet400(name: String) throws {
        let line = Self.validRequest.split(separator: "\r\n").first { $0.hasPrefix(name + ":") }.map(String.init)
        let text = Self.validRequest.replacingOccurrences(try #require(line), with: name + ":")
        let rejection = try Self.rejection(text)
        #expect(rejection.status == 400)
        #expect(rejection.body == "empty '\(name)' header")
    }

    // MARK: - Origin

    @Test(arguments: [
        ("http://127.0.0.1:2149", "127.0.0.1:2149", true),  // zeek-client 1.5.0
        ("HTTP://LocalHost:2149", "localhost:2149", true),
        ("ws://h:2149", "h:2149", true),
        ("https://h:2149", "H:2149", true),
        ("http://h", "h", true),
        ("http://h:80", "h", true),
        ("http://h", "h:80", true),
        ("https://h", "h", true),
        ("https://h", "h:443", true),
        ("http://h/", "h", true),
        ("http://[::1]:2149", "[::1]:2149", true),
        ("http://evil.example", "127.0.0.1:2149", false),
        ("http://127.0.0.1:8080", "127.0.0.1:2149", false),
        ("http://127.0.0.1", "127.0.0.1:2149", false),
        ("https://h", "h:80", false),
        ("http://localhost:2149", "127.0.0.1:2149", false),
        ("null", "h", false),
        ("file://h", "h", false),
        ("http://u@h", "h", false),
        ("http://h/page", "h", false),
        ("http://h:99999", "h", false),
        ("http://", "h", false),
        ("", "h", false),
    ])
    func originMatchesOnlyItsOwnHost(origin: String, host: String, matches: Bool) {
        #expect(WebSocketHandshake.origin(origin, isOriginOfHost: host) == matches)
    }

    @Test func crossOriginRequestGets403UnlessAllowed() throws {
        let text = Self.validRequest.replacingOccurrences(
            "X-Application-Name",
            with: "Origin: http://evil.example\r\nX-Application-Name"
        )
        let rejection = try Self.rejection(text)
        #expect(rejection.status == 403)
        #expect(rejection.reasonPhrase == "Forbidden")
        #expect(
            rejection.body
                == "cross-origin request refused: origin 'http://evil.example' is not the origin of host '127.0.0.1:2149'"
        )
        let allowed = try WebSocketHandshake.checkRequest(try Self.head(text), allowsCrossOriginRequests: true)
        #expect(allowed.headers["Origin"] == "http://evil.example")
    }

    @Test func sameOriginRequestIsAccepted() throws {
        let text = Self.validRequest.replacingOccurrences(
            "X-Application-Name",
            with: "Origin: http://127.0.0.1:2149\r\nX-Application-Name"
        )
        #expect(try WebSocketHandshake.checkRequest(try Self.head(text)).target == "/v1/messages/json?x=1")
    }

    @Test func twoOriginsGet400() throws {
        let text = Self.validRequest.replacingOccurrences(
            "X-Application-Name",
            with: "Origin: http://127.0.0.1:2149\r\nOrigin: http://evil.example\r\nX-Application-Name"
        )
        #expect(try Self.rejection(text).body == "duplicate 'Origin' header")
    }

    @Test func parsesURLs() throws {
        let url = try WebSocketURL("ws://127.0.0.1:2149/v1/messages/json")
        #expect(url.host == "127.0.0.1")
        #expect(url.port == 2149)
        #expect(url.target == "/v1/messages/json")
        let bare = try WebSocketURL("WS://example.org")
        #expect(bare.port == 80)
        #expect(bare.target == "/")
        #expect(bare.hostHeader == "example.org")
        let v6 = try WebSocketURL("ws://[fe80::1]:80?q=1")
        #expect(v6.host == "fe80::1")
        #expect(v6.target == "/?q=1")
    }

    @Test(arguments: [
        ("http://x/", "http://x/: unsupported scheme 'http'"),
        ("127.0.0.1:80", "127.0.0.1:80: missing 'ws://' or 'wss://'"),
        ("ws://:80/", "ws://:80/: missing host"),
        ("ws://h:99999/", "ws://h:99999/: invalid port '99999'"),
        ("ws://u@h/", "ws://u@h/: user information not allowed"),
    ])
    func rejectsBadURLs(text: String, description: String) {
        let error = #expect(throws: WebSocketError.self) { try WebSocketURL(text) }
        #expect(error?.code == .invalidURL)
        #expect(error?.description == description)
    }
}

extension String {
    fileprivate func replacingVersion(_ version: String) -> String {
        replacingOccurrences("Sec-WebSocket-Version: 13", with: "Sec-WebSocket-Version: \(version)")
    }

    fileprivate func removingLine(startingWith prefix: String) -> String {
        split(separator: "\r\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix(prefix) }
            .joined(separator: "\r\n")
    }

    fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

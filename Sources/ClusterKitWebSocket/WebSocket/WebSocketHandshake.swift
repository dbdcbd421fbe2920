/// The HTTP/1.1 upgrade handshake of RFC 6455 §4: parsing, checking and writing requests and responses.
///
/// Everything here is pure; the connection feeds it bytes and sends what it returns.
package enum WebSocketHandshake: Sendable {
    /// The GUID RFC 6455 appends to the client's key before hashing.
    package static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`.
    ///
    /// - Parameter key: The client's key as sent.
    /// - Returns: Base64 of the SHA-1 of the key and the GUID.
    package static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + guid).utf8)))
    }

    /// The start line and header fields of an HTTP message.
    package struct Head: Sendable, Hashable {
        /// The request or status line.
        package var startLine: String
        /// The header fields.
        package var headers: WebSocketHeaders

        /// Creates a head.
        ///
        /// - Parameters:
        ///   - startLine: The request or status line.
        ///   - headers: The header fields.
        package init(startLine: String, headers: WebSocketHeaders) {
            self.startLine = startLine
            self.headers = headers
        }
    }

    /// Why a head could not be read.
    package enum HeadProblem: Error, Sendable, Hashable {
        /// The head is larger than the size limit.
        case tooLarge
        /// There are more header fields than the count limit.
        case tooManyFields
        /// The head is not well-formed HTTP/1.1; the text says what is wrong.
        case malformed(String)
    }

    /// The length of the head at the start of some bytes, including the blank line that ends it.
    ///
    /// Lines may end with CRLF or a bare LF.
    ///
    /// - Parameters:
    ///   - bytes: The bytes received so far.
    ///   - searchStart: Where to resume searching (bytes before it were already searched).
    /// - Returns: The head's length, or `nil` when the blank line has not arrived.
    package static func headLength(in bytes: UnsafeRawBufferPointer, searchingFrom searchStart: Int = 0) -> Int? {
        var index = max(0, searchStart - 3)
        while index < bytes.count {
            if bytes[index] == 0x0A {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    /// Parses a head (start line and fields, up to and including the blank line).
    ///
    /// - Parameters:
    ///   - bytes: The head's bytes.
    ///   - maximumFieldCount: The most header fields accepted.
    /// - Returns: The head.
    /// - Throws: ``HeadProblem`` when the head is malformed or has too many fields.
    package static func parseHead(_ bytes: some Collection<UInt8>, maximumFieldCount: Int) throws(HeadProblem) -> Head {
        var lines: [String] = []
        var current: [UInt8] = []
        for byte in bytes {
            if byte == 0x0A {
                if current.last == 0x0D { current.removeLast() }
                lines.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let startLine = lines.first, !startLine.isEmpty else { throw .malformed("empty request") }
        var headers = WebSocketHeaders()
        for line in lines.dropFirst() {
            guard headers.count < maximumFieldCount else { throw .tooManyFields }
            guard let first = line.utf8.first, first != 0x20, first != 0x09 else {
                throw .malformed("folded header line")
            }
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("header line without ':'") }
            let name = String(line[..<colon])
            guard name.utf8.allSatisfy(isTokenCharacter) else {
                throw .malformed("invalid header name '\(oneLine(name, limit: 40))'")
            }
            headers.append(name: name, value: String(line[line.index(after: colon)...]).trimmed())
        }
        return Head(startLine: startLine, headers: headers)
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

// MARK: - Server side

extension WebSocketHandshake {
    /// A valid upgrade request.
    package struct Request: Sendable, Hashable {
        /// The request target as sent, such as `/v1/messages/json` (query included).
        package var target: String
        /// The request's header fields.
        package var headers: WebSocketHeaders
        /// The client's `Sec-WebSocket-Key`.
        package var key: String
    }

    /// An HTTP answer that refuses an upgrade.
    package struct Rejection: Sendable, Hashable, Error {
        /// The status code, such as 400 or 426.
        package var status: Int
        /// The reason phrase, such as `Bad Request`.
        package var reasonPhrase: String
        /// Extra header fields, such as `Sec-WebSocket-Version: 13`.
        package var headers: WebSocketHeaders
        /// The plain-text body.
        package var body: String

        /// Creates a rejection.
        ///
        /// - Parameters:
        ///   - status: The status code.
        ///   - reasonPhrase: The reason phrase.
        ///   - headers: Extra header fields.
        ///   - body: The plain-text body.
        package init(status: Int, reasonPhrase: String, headers: WebSocketHeaders = [:], body: String) {
            self.status = status
            self.reasonPhrase = reasonPhrase
            self.headers = headers
            self.body = body
        }

        /// 400 Bad Request with a body naming the problem.
        static func badRequest(_ body: String) -> Rejection {
            Rejection(status: 400, reasonPhrase: "Bad Request", body: body)
        }

        /// The full HTTP response, closing the connection.
        ///
        /// - Returns: The response bytes.
        package func responseBytes() -> [UInt8] {
            var text = "HTTP/1.1 \(status) \(reasonPhrase)\r\n"
            for field in headers.fields { text += "\(field.name): \(field.value)\r\n" }
            text += "Content-Type: text/plain; charset=utf-8\r\n"
            text += "Content-Length: \(body.utf8.count)\r\n"
            text += "Connection: close\r\n\r\n"
            text += body
            return Array(text.utf8)
        }
    }

    /// Checks the `Authorization: Bearer TOKEN` field of an upgrade request.
    ///
    /// The scheme compares without regard to case; the token is compared in constant time.
    ///
    /// - Parameters:
    ///   - headers: The request's header fields.
    ///   - token: The token required.
    /// - Returns: `nil` when the field carries the token, else a 401 answer.
    package static func checkBearerToken(_ headers: WebSocketHeaders, _ token: String) -> Rejection? {
        let refusal = { (body: String) in
            Rejection(
                status: 401,
                reasonPhrase: "Unauthorized",
                headers: ["WWW-Authenticate": "Bearer"],
                body: body
            )
        }
        let values = headers.fields.filter { $0.name.lowercased() == "authorization" }.map(\.value)
        guard values.count == 1, let value = values.first else {
            return refusal(values.isEmpty ? "missing bearer token" : "more than one 'Authorization' header")
        }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return refusal("not a bearer token") }
        let given = Array(parts[1].utf8)
        let wanted = Array(token.utf8)
        var difference = UInt8(given.count == wanted.count ? 0 : 1)
        for index in 0..<given.count { difference |= given[index] ^ wanted[index % max(1, wanted.count)] }
        return difference == 0 ? nil : refusal("wrong bearer token")
    }

    /// Checks an upgrade request head as a server.
    ///
    /// `Host`, `Sec-WebSocket-Key` and `Sec-WebSocket-Version` must each appear once and not be empty (400
    /// naming the header otherwise). Unless cross-origin requests are allowed, an `Origin` header must appear
    /// at most once and name the origin of `Host` (see ``origin(_:isOriginOfHost:)``), or the answer is 403.
    ///
    /// - Parameters:
    ///   - head: The parsed request head.
    ///   - allowsCrossOriginRequests: Whether a request whose `Origin` is not its `Host`'s is served.
    /// - Returns: The request.
    /// - Throws: ``Rejection`` with the HTTP answer to send when the request is not a valid upgrade.
    package static func checkRequest(
        _ head: Head,
        allowsCrossOriginRequests: Bool = false
    ) throws(Rejection) -> Request {
        let parts = head.startLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .badRequest("malformed request line") }
        guard parts[2] == "HTTP/1.1" else {
            throw .badRequest("unsupported HTTP version '\(oneLine(String(parts[2])))'")
        }
        guard parts[0] == "GET" else {
            throw Rejection(
                status: 405,
                reasonPhrase: "Method Not Allowed",
                headers: ["Allow": "GET"],
                body: "method '\(oneLine(String(parts[0])))' is not GET"
            )
        }
        let target = String(parts[1])
        guard target.hasPrefix("/") else { throw .badRequest("request target '\(oneLine(target))' is not a path") }
        let headers = head.headers
        guard let host = try singleValue("Host", in: headers) else { throw .badRequest("missing 'Host' header") }
        guard headers.contains("Upgrade", token: "websocket") else {
            throw .badRequest("missing 'Upgrade: websocket' header")
        }
        guard headers.contains("Connection", token: "Upgrade") else {
            throw .badRequest("missing 'Connection: Upgrade' header")
        }
        guard let version = try singleValue("Sec-WebSocket-Version", in: headers), version == "13" else {
            throw Rejection(
                status: 426,
                reasonPhrase: "Upgrade Required",
                headers: ["Sec-WebSocket-Version": "13"],
                body: "unsupported WebSocket version; use 13"
            )
        }
        guard let key = try singleValue("Sec-WebSocket-Key", in: headers) else {
            throw .badRequest("missing 'Sec-WebSocket-Key' header")
        }
        guard Base64.decode(key)?.count == 16 else { throw .badRequest("invalid 'Sec-WebSocket-Key' header") }
        if !allowsCrossOriginRequests {
            let origins = headers.values(for: "Origin")
            guard origins.count <= 1 else { throw .badRequest("duplicate 'Origin' header") }
            if let origin = origins.first, !Self.origin(origin, isOriginOfHost: host) {
                throw Rejection(
                    status: 403,
                    reasonPhrase: "Forbidden",
                    body: "cross-origin request refused: origin '\(oneLine(origin, limit: 100))' is not the origin "
                        + "of host '\(oneLine(host, limit: 100))'"
                )
            }
        }
        return Request(target: target, headers: headers, key: key)
    }

    /// The value of a header that may appear at most once, `nil` when it is absent.
    private static func singleValue(_ name: String, in headers: WebSocketHeaders) throws(Rejection) -> String? {
        let values = headers.values(for: name)
        guard values.count <= 1 else { throw .badRequest("duplicate '\(name)' header") }
        guard let value = values.first else { return nil }
        guard !value.isEmpty else { throw .badRequest("empty '\(name)' header") }
        return value
    }

    /// Whether an `Origin` value is the origin of the request's own `Host`.
    ///
    /// The scheme must be `http`, `https`, `ws` or `wss` (in any case); hosts compare without regard to ASCII
    /// case; a missing port is the scheme's default (80, or 443 for `https` and `wss`), on either side, so
    /// `Host: h` matches `Origin: http://h` and `http://h:80`, and `Host: h:2149` matches
    /// `Origin: http://h:2149`. `null`, other schemes, user information and paths other than `/` never match.
    ///
    /// - Parameters:
    ///   - origin: The `Origin` header's value.
    ///   - host: The `Host` header's value.
    /// - Returns: Whether they name the same origin.
    package static func origin(_ origin: String, isOriginOfHost host: String) -> Bool {
        let parts = origin.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let defaultPort: Int
        switch parts[0].lowercased() {
        case "http", "ws": defaultPort = 80
        case "https", "wss": defaultPort = 443
        default: return false
        }
        var authority = parts[1]
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard let originAuthority = Authority(authority), let hostAuthority = Authority(Substring(host)) else {
            return false
        }
        return WebSocketHeaders.namesMatch(originAuthority.host, hostAuthority.host)
            && (originAuthority.port ?? defaultPort) == (hostAuthority.port ?? defaultPort)
    }

    /// A `host[:port]` pair from a `Host` header or an origin, IPv6 literals in brackets.
    private struct Authority {
        var host: String
        var port: Int?

        init?(_ text: Substring) {
            guard !text.isEmpty, !text.contains(where: { "/?#@ ".contains($0) }) else { return nil }
            var portText: Substring?
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]") else { return nil }
                host = String(text[...close])
                let after = text[text.index(after: close)...]
                if !after.isEmpty {
                    guard after.hasPrefix(":") else { return nil }
                    portText = after.dropFirst()
                }
            } else if let colon = text.firstIndex(of: ":") {
                host = String(text[..<colon])
                portText = text[text.index(after: colon)...]
            } else {
                host = String(text)
            }
            guard !host.isEmpty else { return nil }
            if let portText {
                guard (1...5).contains(portText.count), portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                    let port = Int(portText), port <= 65535
                else { return nil }
                self.port = port
            }
        }
    }

    /// The 101 answer that completes a server handshake.
    ///
    /// - Parameter key: The client's `Sec-WebSocket-Key`.
    /// - Returns: The response bytes.
    package static func switchingProtocolsResponse(key: String) -> [UInt8] {
        let text =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(acceptValue(forKey: key))\r\n\r\n"
        return Array(text.utf8)
    }
}

// MARK: - Client side

extension WebSocketHandshake {
    /// Header names the client sets itself; callers may not supply them.
    package static let reservedRequestHeaders = [
        "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions",
        "Content-Length", "Transfer-Encoding",
    ]

    /// The upgrade request a client sends.
    ///
    /// - Parameters:
    ///   - url: Where to connect.
    ///   - key: The random `Sec-WebSocket-Key`.
    ///   - headers: The caller's extra fields; a `Host` field replaces the default one.
    /// - Returns: The request bytes.
    package static func clientRequest(url: WebSocketURL, key: String, headers: WebSocketHeaders) -> [UInt8] {
        var text = "GET \(url.target) HTTP/1.1\r\n"
        if headers["Host"] == nil { text += "Host: \(url.hostHeader)\r\n" }
        text += "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for field in headers.fields { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Checks caller-supplied request headers.
    ///
    /// - Parameter headers: The caller's fields.
    /// - Throws: ``WebSocketError`` with code `invalidHeader` for a reserved or malformed field.
    package static func checkCallerHeaders(_ headers: WebSocketHeaders) throws(WebSocketError) {
        for field in headers.fields {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(isTokenCharacter) else {
                throw WebSocketError(.invalidHeader, "invalid header name '\(oneLine(field.name))'")
            }
            guard !field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw WebSocketError(.invalidHeader, "header '\(field.name)' has a line break in its value")
            }
            if reservedRequestHeaders.contains(where: { WebSocketHeaders.namesMatch($0, field.name) }) {
                throw WebSocketError(.invalidHeader, "header '\(field.name)' is set by the handshake itself")
            }
        }
    }

    /// What a client makes of the server's response head.
    package enum ResponseCheck: Sendable, Hashable {
        /// A valid 101: the connection is a WebSocket now.
        case accepted(WebSocketHeaders)
        /// Another status: read up to `bodyLength` bytes of body (nil: until the connection ends), then fail.
        case rejected(statusLine: String, bodyLength: Int?)
    }

    /// The value of a `Content-Length` field: 1 to 18 ASCII digits (RFC 9110 §8.6; no sign, no spaces, no
    /// list), so that it always fits an `Int`.
    ///
    /// - Parameter text: The field value.
    /// - Returns: The length, or `nil` when the value is not such a number.
    package static func contentLength(_ text: String) -> Int? {
        let digits = text.utf8
        guard (1...18).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    /// Checks a response head as a client.
    ///
    /// A non-101 answer is a rejection whose body the client reads (up to 4 KiB) for its error message; its
    /// `Content-Length`, if any, must be one valid number (see ``contentLength(_:)``).
    ///
    /// - Parameters:
    ///   - head: The parsed response head.
    ///   - key: The `Sec-WebSocket-Key` the client sent.
    /// - Returns: Whether the upgrade was accepted.
    /// - Throws: ``WebSocketError`` with code `protocolViolation` for a malformed or wrong 101 answer, or a
    ///   rejection with an invalid `Content-Length`.
    package static func checkResponse(_ head: Head, key: String) throws(WebSocketError) -> ResponseCheck {
        let parts = head.startLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw WebSocketError(.protocolViolation, "malformed status line '\(oneLine(head.startLine))'")
        }
        guard status == 101 else {
            let lengths = head.headers.values(for: "Content-Length")
            var length: Int?
            if !lengths.isEmpty {
                guard lengths.count == 1, let value = contentLength(lengths[0]) else {
                    let values = oneLine(lengths.map { "'\($0)'" }.joined(separator: ", "), limit: 60)
                    throw WebSocketError(
                        .protocolViolation,
                        "handshake response '\(oneLine(head.startLine, limit: 60))' has an invalid 'Content-Length' "
                            + "header (\(values)): expected one decimal number"
                    )
                }
                length = value
            }
            return .rejected(statusLine: oneLine(head.startLine), bodyLength: length)
        }
        guard head.headers.contains("Upgrade", token: "websocket") else {
            throw WebSocketError(.protocolViolation, "101 response without 'Upgrade: websocket'")
        }
        guard head.headers.contains("Connection", token: "Upgrade") else {
            throw WebSocketError(.protocolViolation, "101 response without 'Connection: Upgrade'")
        }
        let expected = acceptValue(forKey: key)
        guard let accept = head.headers["Sec-WebSocket-Accept"], accept == expected else {
            let sent = head.headers["Sec-WebSocket-Accept"] ?? ""
            throw WebSocketError(.protocolViolation, "wrong 'Sec-WebSocket-Accept' value '\(oneLine(sent))'")
        }
        if let extensions = head.headers["Sec-WebSocket-Extensions"] {
            throw WebSocketError(.protocolViolation, "server chose extension '\(oneLine(extensions))' nobody asked for")
        }
        return .accepted(head.headers)
    }
}

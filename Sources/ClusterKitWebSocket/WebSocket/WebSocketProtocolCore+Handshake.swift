import ClusterKitModel

extension WebSocketProtocolCore {
    // MARK: - Server

    /// Answers a handshake with an HTTP error, then closes once it is sent (or the close timeout passes).
    ///
    /// - Parameters:
    ///   - rejection: The answer.
    ///   - now: The current time.
    mutating func reject(_ rejection: WebSocketHandshake.Rejection, now: ContinuousClock.Instant) {
        guard !isClosed else { return }
        self.now = now
        output.append(rejection.responseBytes())
        phase = .finishing
        receive.discardInput()
        setDeadline(after: options.closeTimeout)
        emit(.refused(rejection))
        emit(.flush)
    }

    /// The length of the head at the start of the input, if it is complete; remembers how far it looked.
    private mutating func findHead() -> Int? {
        let length = receive.headLength(searchingFrom: headSearchOffset)
        headSearchOffset = receive.unreadCount
        return length
    }

    /// Reads the upgrade request head once it is complete: answers 101 and opens, or rejects it.
    mutating func readRequestHead() {
        guard let server else { return }
        // A TLS handshake record (a ClientHello) where an HTTP request belongs: no head will ever come, so answer
        // at once rather than wait out the handshake limit. No HTTP method begins with this byte.
        if !server.tls.isEnabled, receive.unreadCount > 0, receive.unread(prefix: 1).first == Self.tlsHandshakeRecord {
            reject(.tlsOnPlainServer, now: now)
            return
        }
        let limit = server.maximumHandshakeSize
        guard let length = findHead() else {
            if receive.unreadCount > limit { reject(.headTooLarge(limit), now: now) }
            return
        }
        guard length <= limit else {
            reject(.headTooLarge(limit), now: now)
            return
        }
        let head: WebSocketHandshake.Head
        do throws(WebSocketHandshake.HeadProblem) {
            head = try WebSocketHandshake.parseHead(
                receive.unread(prefix: length),
                maximumFieldCount: server.maximumHeaderCount
            )
        } catch {
            switch error {
            case .tooLarge:
                reject(.headTooLarge(limit), now: now)
            case .tooManyFields:
                reject(
                    WebSocketHandshake.Rejection(
                        status: 431,
                        reasonPhrase: "Request Header Fields Too Large",
                        body: "more than \(server.maximumHeaderCount) header fields"
                    ),
                    now: now
                )
            case .malformed(let problem):
                reject(.badRequest(problem), now: now)
            }
            return
        }
        let request: WebSocketHandshake.Request
        do {
            request = try WebSocketHandshake.checkRequest(
                head,
                allowsCrossOriginRequests: server.allowsCrossOriginRequests
            )
        } catch {
            reject(error, now: now)
            return
        }
        if let token = server.bearerToken, let refusal = WebSocketHandshake.checkBearerToken(request.headers, token) {
            reject(refusal, now: now)
            return
        }
        receive.consume(length)
        output.append(WebSocketHandshake.switchingProtocolsResponse(key: request.key))
        guard let remote else { return }
        let info = HandshakeInfo(
            requestPath: request.target,
            requestHeaders: request.headers,
            responseHeaders: [:],
            remote: remote
        )
        phase = .open
        deadline = nil
        armPing()
        emit(.open(info))
        emit(.flush)
        // Frames sent right after the request are parsed once the application's side is open.
        suspend()
    }

    // MARK: - Client

    /// Reads the response head once it is complete: opens on a valid 101, reads the body of any other answer,
    /// or fails.
    mutating func readResponseHead(key: String) {
        guard let client else { return }
        let limit = client.options.maximumHandshakeSize
        guard let length = findHead(), length <= limit else {
            if receive.unreadCount > limit {
                abort(
                    closeInfo: .abnormal(.local),
                    error: WebSocketError(.protocolViolation, "handshake response larger than \(limit) bytes")
                )
            }
            return
        }
        let check: WebSocketHandshake.ResponseCheck
        do {
            let head = try WebSocketHandshake.parseHead(
                receive.unread(prefix: length),
                maximumFieldCount: client.options.maximumHeaderCount
            )
            check = try WebSocketHandshake.checkResponse(head, key: key)
        } catch let error as WebSocketError {
            abort(closeInfo: .abnormal(.local), error: error)
            return
        } catch {
            abort(
                closeInfo: .abnormal(.local),
                error: WebSocketError(.protocolViolation, "malformed handshake response")
            )
            return
        }
        receive.consume(length)
        switch check {
        case .accepted(let headers):
            guard let remote else { return }
            let info = HandshakeInfo(
                requestPath: client.url.target,
                requestHeaders: client.headers,
                responseHeaders: headers,
                remote: remote
            )
            phase = .open
            deadline = nil
            armPing()
            emit(.open(info))
            // Frames sent right after the response are parsed once the application's side is open.
            suspend()
        case .rejected(let statusLine, let bodyLength):
            phase = .clientRejected(statusLine: statusLine, bodyLength: bodyLength)
            readRejectionBody(isComplete: bodyLength == 0)
        }
    }

    /// Fails a rejected handshake with the status line and the body, once the body is read (up to its length
    /// or 4 KiB) or the stream or the time is over.
    mutating func readRejectionBody(isComplete: Bool) {
        guard case .clientRejected(let statusLine, let bodyLength) = phase else { return }
        // The length was checked to be a decimal number; clamping keeps the slice in range whatever it is.
        let wanted = max(0, min(bodyLength ?? Self.maximumRejectionBody, Self.maximumRejectionBody))
        let available = max(0, receive.unreadCount)
        guard isComplete || available >= wanted else { return }
        let body = String(decoding: receive.unread(prefix: min(available, wanted)), as: UTF8.self)
        let text = oneLine(body)
        let message =
            text.isEmpty
            ? "handshake rejected with '\(statusLine)'"
            : "handshake rejected with '\(statusLine)' and body '\(text)'"
        abort(
            closeInfo: .abnormal(.local),
            error: WebSocketError(.handshakeRejected, message, statusLine: statusLine, responseBody: body)
        )
    }
}

extension WebSocketProtocolCore {
    /// The first byte of a TLS handshake record, as every TLS ClientHello begins (RFC 8446 §5.1).
    static let tlsHandshakeRecord: UInt8 = 0x16
}

extension WebSocketHandshake.Rejection {
    /// 400 for a TLS ClientHello sent to a server without TLS.
    static let tlsOnPlainServer = Self.badRequest(
        "TLS handshake on a server without TLS: connect with ws://, not wss://"
    )

    /// 431 for a head over the size limit.
    static func headTooLarge(_ limit: Int) -> Self {
        Self(
            status: 431,
            reasonPhrase: "Request Header Fields Too Large",
            body: "request head larger than \(limit) bytes"
        )
    }
}

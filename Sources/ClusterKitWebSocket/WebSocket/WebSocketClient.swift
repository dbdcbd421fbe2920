import ClusterKitModel

/// Opens client WebSocket connections (RFC 6455) to `ws://` and `wss://` URLs.
///
/// Each connection runs on its own event loop thread, which stops when the connection is closed. A `wss://` URL
/// uses TLS 1.2 or 1.3 with the system's OpenSSL 3, loaded when first needed (``Options/tls``); by default the
/// server's certificate and host name are verified against the system's CAs.
public enum WebSocketClient: Sendable {
    /// Connects, performs the upgrade handshake, and returns the open connection.
    ///
    /// The request carries `Host`, `Upgrade: websocket`, `Connection: Upgrade`, a random
    /// `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`, and the caller's headers (for example
    /// `X-Application-Name`); a caller's `Host` replaces the default one. A host name is resolved on a thread
    /// of its own, and every address it resolves to is tried in turn; the lookup and the connection attempts
    /// share the connect timeout.
    ///
    /// - Parameters:
    ///   - url: `ws://host[:port][/path][?query]` or `wss://...`; IPv6 literals in brackets.
    ///   - headers: Extra request header fields.
    ///   - options: Timeouts, limits and connection options.
    /// - Returns: The open connection.
    /// - Throws: ``WebSocketError``, located at the URL: `invalidURL`, `invalidHeader`, `invalidAddress` (a local
    ///   address that is not an IP literal or cannot be bound),
    ///   `nameResolutionFailed`, `connectionRefused`, `timedOut`, `handshakeRejected` (with the status
    ///   line and body), `protocolViolation`, `closed`, `ioError`, `tlsUnavailable` (OpenSSL 3 cannot be
    ///   loaded), `tlsFailed` (as in `certificate verify failed: ...`); or `CancellationError`.
    public static func connect(
        to url: String,
        headers: WebSocketHeaders = [:],
        options: Options = .standard
    ) async throws -> WebSocketConnection {
        try await connect(to: url, headers: headers, options: options, resolver: nil)
    }

    /// Connects as ``connect(to:headers:options:)`` does, with host names looked up by `resolver`.
    ///
    /// The resolver runs on a thread of its own (it may block) and returns IP address literals; one that is
    /// not a literal fails the connection with `nameResolutionFailed`. For tests of slow or failing lookups.
    ///
    /// - Parameters:
    ///   - url: `ws://host[:port][/path][?query]`.
    ///   - headers: Extra request header fields.
    ///   - options: Timeouts, limits and connection options.
    ///   - resolver: Returns the addresses of a host name and port.
    /// - Returns: The open connection.
    /// - Throws: ``WebSocketError`` as ``connect(to:headers:options:)``; or `CancellationError`.
    package static func connect(
        to url: String,
        headers: WebSocketHeaders = [:],
        options: Options = .standard,
        resolvingWith resolver: @escaping @Sendable (_ host: String, _ port: Int) throws(WebSocketError) -> [String]
    ) async throws -> WebSocketConnection {
        try await connect(
            to: url,
            headers: headers,
            options: options,
            resolver: { host, port throws(WebSocketError) in
                try resolver(host, port).map { text throws(WebSocketError) in
                    guard let address = SocketAddress(literal: text, port: port) else {
                        throw WebSocketError(
                            .nameResolutionFailed,
                            "cannot resolve '\(host)': '\(text)' is not an address"
                        )
                    }
                    return address
                }
            }
        )
    }

    private static func connect(
        to url: String,
        headers: WebSocketHeaders,
        options: Options,
        resolver: ClientStart.Resolver?
    ) async throws -> WebSocketConnection {
        let parsed = try WebSocketURL(url)
        do {
            try WebSocketHandshake.checkCallerHeaders(headers)
        } catch {
            throw error.located(at: url)
        }
        var localAddress: SocketAddress?
        if let local = options.localAddress {
            guard let address = SocketAddress(literal: local, port: 0) else {
                throw WebSocketError(.invalidAddress, "invalid local address '\(local)': not an IP address")
                    .located(at: url)
            }
            localAddress = address
        }
        var tls: TLSContext?
        if parsed.isSecure {
            do {
                tls = try TLSContextCache.shared.context(for: options.tls)
            } catch {
                throw error.located(at: url)
            }
        }
        let loop: EventLoop
        do {
            loop = try EventLoop(stopsWhenIdle: true)
        } catch {
            throw error.located(at: url)
        }
        let shared = ConnectionShared(id: 1, role: .client, options: options.connection, loop: loop, location: url)
        var start = ClientStart(shared: shared, url: parsed, headers: headers, options: options, tls: tls)
        start.localAddress = localAddress
        if let resolver { start.resolve = resolver }
        loop.post(.startClient(start))
        let info = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HandshakeInfo, any Error>) in
                let result = shared.state.withLock { state -> Result<HandshakeInfo, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    switch state.phase {
                    case .connecting:
                        state.connectWaiter = continuation
                        return nil
                    case .open:
                        guard let info = state.info else { return .failure(state.sendError) }
                        return .success(info)
                    case .closing, .closed:
                        return .failure(state.sendError)
                    }
                }
                if let result {
                    if case .failure(let error) = result, error is CancellationError {
                        shared.requestClose(code: .goingAway, reason: "cancelled")
                    }
                    continuation.resume(with: result)
                }
            }
        } onCancel: {
            let waiter = shared.state.withLock { state in
                defer { state.connectWaiter = nil }
                return state.connectWaiter
            }
            shared.requestClose(code: .goingAway, reason: "cancelled")
            waiter?.resume(throwing: CancellationError())
        }
        return WebSocketConnection(shared: shared, info: info)
    }
}

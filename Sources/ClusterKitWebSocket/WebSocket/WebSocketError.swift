/// An error thrown by the WebSocket client, server or a connection.
///
/// The description is one line: where (the URL, listening address or peer address), then what, as in
/// `ws://127.0.0.1:2149/v1/messages/json: connection refused`.
public struct WebSocketError: Error, Sendable, Hashable {
    /// The broad kind of problem, for programs to branch on.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The URL is not `ws://host[:port][/path]`.
        case invalidURL
        /// A listening host is not an IPv4 or IPv6 literal, or a port is out of range.
        case invalidAddress
        /// A caller-supplied header is malformed or one the handshake sets itself.
        case invalidHeader
        /// The host name could not be resolved.
        case nameResolutionFailed
        /// The listening address is already in use.
        case addressInUse
        /// Nothing listens at the address.
        case connectionRefused
        /// A wait ran past its limit (connect, handshake, close, or a missed pong).
        case timedOut
        /// The server answered the upgrade request with a status other than 101.
        case handshakeRejected
        /// The peer broke RFC 6455 or HTTP/1.1 (bad handshake response, bad frame, invalid UTF-8).
        case protocolViolation
        /// A frame or message was larger than the configured limit.
        case messageTooBig
        /// The connection is closed, by the peer or abnormally.
        case closed
        /// The peer did not read and the bounded send queue stayed full.
        case sendQueueFull
        /// A system call failed.
        case ioError
        /// TLS was asked for and OpenSSL 3 (`libssl.so.3`, `libcrypto.so.3`) cannot be loaded; the message names
        /// the file.
        case tlsUnavailable
        /// TLS failed: a certificate or key that cannot be used, a certificate the peer or this side refused
        /// (`certificate verify failed: ...`), or a broken TLS handshake or record.
        case tlsFailed
        /// A server refused a client's certificate, or its lack of one (found by
        /// ``WebSocketServer/Options/checkTLSHandshake(with:host:)``).
        case tlsClientCertificateRefused
    }

    /// The broad kind of problem.
    public var code: Code
    /// A short text for people, naming the offending value.
    public var message: String
    /// Where: the URL, the listening address, or the peer's address and port, when known.
    public var location: String?
    /// The close code involved, when the connection closed.
    public var closeCode: WebSocketCloseCode?
    /// The close reason involved, when the connection closed.
    public var closeReason: String?
    /// The HTTP status line of a rejected handshake, as in `HTTP/1.1 503 Service Unavailable`.
    public var statusLine: String?
    /// The body text of a rejected handshake (possibly shortened).
    public var responseBody: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: A short text for people.
    ///   - location: Where it happened.
    ///   - closeCode: The close code involved.
    ///   - closeReason: The close reason involved.
    ///   - statusLine: The status line of a rejected handshake.
    ///   - responseBody: The body of a rejected handshake.
    public init(
        _ code: Code,
        _ message: String,
        location: String? = nil,
        closeCode: WebSocketCloseCode? = nil,
        closeReason: String? = nil,
        statusLine: String? = nil,
        responseBody: String? = nil
    ) {
        self.code = code
        self.message = message
        self.location = location
        self.closeCode = closeCode
        self.closeReason = closeReason
        self.statusLine = statusLine
        self.responseBody = responseBody
    }

    /// The same error with a location, when it has none yet.
    func located(at location: String) -> WebSocketError {
        var copy = self
        if copy.location == nil { copy.location = location }
        return copy
    }
}

extension WebSocketError: CustomStringConvertible {
    /// The location followed by the message, as in `ws://127.0.0.1:2149/: connection refused`.
    public var description: String {
        guard let location else { return message }
        return "\(location): \(message)"
    }
}

extension WebSocketError {
    static func closedByPeer(code: WebSocketCloseCode, reason: String) -> WebSocketError {
        let text =
            reason.isEmpty
            ? "closed by peer with code \(code)"
            : "closed by peer with code \(code) and reason '\(reason)'"
        return WebSocketError(.closed, text, closeCode: code, closeReason: reason)
    }

    static func systemCall(_ name: String, errno number: Int32) -> WebSocketError {
        WebSocketError(.ioError, "\(name) failed: \(errorText(number))")
    }
}

/// A duration as short text for messages, as in `5 s` or `100 ms`.
func durationText(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
    return "\(milliseconds) ms"
}

/// One-line text for text that may span lines or be long, for error messages.
package func oneLine(_ text: String, limit: Int = 200) -> String {
    var result = ""
    for character in text {
        if result.count >= limit {
            result += "..."
            break
        }
        result.append(character.isNewline || character == "\t" ? " " : character)
    }
    return result.trimmed()
}

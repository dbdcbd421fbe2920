import ClusterKitModel

/// One open WebSocket connection, on the client or the server side.
///
/// Get one from ``WebSocketClient/connect(to:headers:options:)`` or ``WebSocketServer/accept()``. Pings
/// are answered, and the close handshake is kept, by the connection's event loop whether or not anyone
/// calls ``receive()``.
///
/// Messages can be sent and received from different tasks at once. Sends from one task go out in order;
/// ``send(text:)`` returns once the message is queued, which is immediate unless the bounded send queue
/// is full (see ``Options/sendQueueLimit``). Dropping the last reference to a connection that is still
/// open closes it with 1001 `going away`.
public final class WebSocketConnection: Sendable {
    /// Which end of the connection this object is.
    public enum Role: String, Sendable, Hashable {
        /// The side that connected.
        case client
        /// The side that accepted.
        case server
    }

    /// What a connection's TLS handshake negotiated.
    public struct TLSDetails: Sendable, Hashable {
        /// The protocol version, as in `TLSv1.3`.
        public let protocolVersion: String
        /// A Boolean value indicating whether the handshake resumed an earlier session (no certificates were
        /// exchanged: they were checked when the session was made) rather than making a full one.
        public let isResumed: Bool

        init(protocolVersion: String, isResumed: Bool) {
            self.protocolVersion = protocolVersion
            self.isResumed = isResumed
        }
    }

    /// Where the connection is in its life.
    public enum State: String, Sendable, Hashable {
        /// Messages flow both ways.
        case open
        /// A close handshake is under way; nothing more can be sent.
        case closing
        /// The socket is closed.
        case closed
    }

    /// The request target of the upgrade request, such as `/v1/messages/json` (a query is kept).
    public let requestPath: String
    /// The upgrade request's header fields: as received on the server, as sent by the caller on the client.
    public let requestHeaders: WebSocketHeaders
    /// The header fields of the server's 101 response (empty on the server side).
    public let responseHeaders: WebSocketHeaders
    /// The peer's IP address as text (IPv6 without brackets).
    public let remoteAddress: String
    /// The peer's TCP port.
    public let remotePort: Int
    /// Which end this is.
    public let role: Role
    /// What TLS negotiated for a `wss://` connection (or one accepted by a server with TLS), else `nil`.
    public let tls: TLSDetails?

    let shared: ConnectionShared

    init(shared: ConnectionShared, info: HandshakeInfo) {
        self.shared = shared
        self.requestPath = info.requestPath
        self.requestHeaders = info.requestHeaders
        self.responseHeaders = info.responseHeaders
        self.remoteAddress = info.remote.host
        self.remotePort = info.remote.port
        self.role = shared.role == .client ? .client : .server
        self.tls = info.tls
    }

    deinit {
        shared.requestClose(code: .goingAway, reason: "going away")
    }

    /// Waits for the next complete message.
    ///
    /// Messages that arrived before the connection closed are still returned; after them, a clean close
    /// (the application's own ``close(code:reason:)``, a server shutdown, or the peer's close frame with
    /// 1000, 1001 or no code) gives `nil`, anything else throws. A cancelled call throws
    /// `CancellationError` promptly and loses no message.
    ///
    /// - Returns: The message, or `nil` after a clean close.
    /// - Throws: ``WebSocketError``: `closed` (with the peer's code and reason, or 1006 when the connection
    ///   dropped), `protocolViolation`, `messageTooBig`, `timedOut` (missed pong), `sendQueueFull`, `ioError`;
    ///   or `CancellationError`.
    public func receive() async throws -> WebSocketMessage? {
        try await shared.receive()
    }

    /// Sends a text message.
    ///
    /// Returns once the message is in the send queue. When the queue is full this waits for room, up to
    /// ``Options/sendQueueTimeout``, after which the connection is closed with 1008 `send queue full`.
    ///
    /// - Parameter text: The message text.
    /// - Throws: ``WebSocketError`` with code `closed` (or the error that closed the connection) when the
    ///   connection is not open, `sendQueueFull`; or `CancellationError` while waiting for room.
    public func send(text: String) async throws {
        var text = text
        let step = text.withUTF8 { shared.enqueue(opcode: .text, payload: UnsafeRawBufferPointer($0)) }
        try await shared.complete(step)
    }

    /// Sends a binary message.
    ///
    /// Queueing works as for ``send(text:)``.
    ///
    /// - Parameter binary: The message bytes.
    /// - Throws: ``WebSocketError`` as for ``send(text:)``; or `CancellationError` while waiting for room.
    public func send(binary: [UInt8]) async throws {
        let step = binary.withUnsafeBytes { shared.enqueue(opcode: .binary, payload: $0) }
        try await shared.complete(step)
    }

    /// Sends a message of either kind.
    ///
    /// - Parameter message: The message.
    /// - Throws: ``WebSocketError`` as for ``send(text:)``; or `CancellationError` while waiting for room.
    public func send(_ message: WebSocketMessage) async throws {
        switch message {
        case .text(let text): try await send(text: text)
        case .binary(let bytes): try await send(binary: bytes)
        }
    }

    /// Closes the connection with a close handshake and waits until the socket is closed.
    ///
    /// Messages already queued are sent first. The wait is bounded by ``Options/closeTimeout``; calling
    /// this on a connection that is closing or closed just waits. The reason is cut to 123 bytes of UTF-8.
    /// ``WebSocketCloseCode/noStatus`` sends a close frame without a code, and
    /// ``WebSocketCloseCode/abnormalClosure`` drops the connection without a close handshake.
    ///
    /// - Parameters:
    ///   - code: The close code; must be sendable (``WebSocketCloseCode/isSendable``), 1005 or 1006.
    ///   - reason: The reason text.
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") async {
        precondition(
            code.isSendable || code == .noStatus || code == .abnormalClosure,
            "close code \(code) cannot be sent"
        )
        await shared.close(code: code, reason: reason)
    }

    /// Where the connection is in its life.
    public var state: State {
        switch shared.state.withLock({ $0.phase }) {
        case .connecting, .open: .open
        case .closing: .closing
        case .closed: .closed
        }
    }

    /// How the connection ended or is ending; `nil` while it is open.
    public var closeInfo: WebSocketCloseInfo? {
        shared.state.withLock { $0.closeInfo }
    }

    /// The received messages waiting for ``receive()``, and the bytes they count for against
    /// ``Options/receiveQueueLimit`` (payload plus ``Options/receiveQueueEntryOverhead`` each).
    package var receiveQueueUsage: (messages: Int, bytes: Int) {
        shared.receiveQueueUsage
    }
}

extension WebSocketConnection: CustomStringConvertible {
    /// The role, peer and path, as in `server connection from 127.0.0.1:50412 to '/v1/messages/json'`.
    public var description: String {
        let peer = remoteAddress.contains(":") ? "[\(remoteAddress)]:\(remotePort)" : "\(remoteAddress):\(remotePort)"
        return role == .client
            ? "client connection to \(peer) for '\(requestPath)'"
            : "server connection from \(peer) to '\(requestPath)'"
    }
}

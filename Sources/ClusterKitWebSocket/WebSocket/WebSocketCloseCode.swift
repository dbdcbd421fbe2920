/// A WebSocket close status code (RFC 6455 §7.4).
///
/// Any 16-bit value can be represented; ``isSendable`` says whether it may appear in a close frame.
public struct WebSocketCloseCode: RawRepresentable, Sendable, Hashable {
    /// The numeric code.
    public var rawValue: UInt16

    /// Creates a close code from its number.
    ///
    /// - Parameter rawValue: The numeric code.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 1000: the purpose of the connection has been fulfilled.
    public static let normalClosure = WebSocketCloseCode(rawValue: 1000)
    /// 1001: the endpoint is going away (a server shutting down, a client leaving).
    public static let goingAway = WebSocketCloseCode(rawValue: 1001)
    /// 1002: the peer broke the protocol.
    public static let protocolError = WebSocketCloseCode(rawValue: 1002)
    /// 1003: the peer sent a kind of data the endpoint cannot accept.
    public static let unsupportedData = WebSocketCloseCode(rawValue: 1003)
    /// 1005: the close frame carried no code; never sent on the wire.
    public static let noStatus = WebSocketCloseCode(rawValue: 1005)
    /// 1006: the connection ended without a close frame; never sent on the wire.
    public static let abnormalClosure = WebSocketCloseCode(rawValue: 1006)
    /// 1007: a text message was not valid UTF-8.
    public static let invalidPayload = WebSocketCloseCode(rawValue: 1007)
    /// 1008: the peer violated the endpoint's policy (for example a full send queue).
    public static let policyViolation = WebSocketCloseCode(rawValue: 1008)
    /// 1009: a frame or message was larger than the endpoint accepts.
    public static let messageTooBig = WebSocketCloseCode(rawValue: 1009)
    /// 1010: the server did not negotiate an extension the client requires.
    public static let mandatoryExtension = WebSocketCloseCode(rawValue: 1010)
    /// 1011: the endpoint hit an unexpected condition (also used for a missed pong).
    public static let internalError = WebSocketCloseCode(rawValue: 1011)

    /// Whether the code may be sent in a close frame.
    ///
    /// True for 1000–1003, 1007–1014 and the application range 3000–4999.
    public var isSendable: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}

extension WebSocketCloseCode: CustomStringConvertible {
    /// The number, as in `1008`.
    public var description: String { String(rawValue) }
}

/// How a WebSocket connection ended.
public struct WebSocketCloseInfo: Sendable, Hashable {
    /// Which side started the close.
    public enum Initiator: String, Sendable, Hashable {
        /// This endpoint: the application, a shutdown, or a failure detected here.
        case local
        /// The peer, with a close frame or by dropping the connection.
        case peer
    }

    /// The close code: the one in the first close frame, ``WebSocketCloseCode/noStatus`` for an empty close
    /// frame, or ``WebSocketCloseCode/abnormalClosure`` when no close frame was seen.
    public var code: WebSocketCloseCode
    /// The reason text of the first close frame (empty when there was none).
    public var reason: String
    /// Which side started the close.
    public var initiator: Initiator
    /// Whether both close frames were exchanged before the TCP connection ended.
    public var wasClean: Bool

    /// Creates a close description.
    ///
    /// - Parameters:
    ///   - code: The close code.
    ///   - reason: The reason text.
    ///   - initiator: Which side started the close.
    ///   - wasClean: Whether the close handshake completed.
    public init(code: WebSocketCloseCode, reason: String, initiator: Initiator, wasClean: Bool) {
        self.code = code
        self.reason = reason
        self.initiator = initiator
        self.wasClean = wasClean
    }
}

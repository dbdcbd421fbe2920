import FuzzSupport

// libFuzzer target `websocket-handshake` (Docs/fuzzing.md): HTTP head parsing and the upgrade checks of both
// sides.
//
// Checks, beyond not crashing:
// - a head is found only within the bytes given, and parsing it either fails or gives one-line fields;
// - a server's rejection of a request is a response its own client reads as that rejection, with the status;
// - a request the server accepts gets a 101 answer the client accepts for the request's key;
// - the `Origin` check never accepts an origin whose host differs from `Host`'s.
@testable import ClusterKitWebSocket

func parse(_ bytes: [UInt8]) -> WebSocketHandshake.Head? {
    let length = bytes.withUnsafeBytes { WebSocketHandshake.headLength(in: $0) }
    guard let length else { return nil }
    guard length <= bytes.count else { fatalError("head length \(length) is past the \(bytes.count) bytes given") }
    guard let head = try? WebSocketHandshake.parseHead(bytes[..<length], maximumFieldCount: 64) else { return nil }
    for field in head.headers.fields where field.name.contains("\n") || field.value.contains("\n") {
        fatalError("header field spans lines")
    }
    return head
}

/// The host of `host[:port]`, an IPv6 literal with its brackets.
func hostPart(_ authority: Substring) -> Substring {
    if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") { return authority[...close] }
    return authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
}

/// Checks one input.
func websocketHandshakeFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = Array(input)
    guard let head = parse(bytes) else { return }

    // As a server.
    for allowsCrossOrigin in [false, true] {
        do {
            let request = try WebSocketHandshake.checkRequest(head, allowsCrossOriginRequests: allowsCrossOrigin)
            let answer = WebSocketHandshake.switchingProtocolsResponse(key: request.key)
            guard let response = parse(answer),
                case .accepted = try? WebSocketHandshake.checkResponse(response, key: request.key)
            else { fatalError("the client refuses the server's 101 for key '\(request.key)'") }
        } catch {
            guard let response = parse(error.responseBytes()),
                case .rejected(let statusLine, _) = try? WebSocketHandshake.checkResponse(response, key: "x")
            else { fatalError("the client cannot read the server's rejection \(error.status)") }
            guard statusLine.hasPrefix("HTTP/1.1 \(error.status) ") else {
                fatalError("rejection \(error.status) reads back as '\(statusLine)'")
            }
        }
    }

    // As a client, for the key the fuzzer's own 101 answers would carry.
    _ = try? WebSocketHandshake.checkResponse(head, key: "dGhlIHNhbXBsZSBub25jZQ==")

    // The Origin rule, with the request's own fields.
    if let origin = head.headers.values(for: "Origin").first, let host = head.headers.values(for: "Host").first,
        WebSocketHandshake.origin(origin, isOriginOfHost: host)
    {
        let authority = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? ""
        guard hostPart(authority).lowercased() == hostPart(Substring(host)).lowercased() else {
            fatalError("origin '\(origin)' accepted for host '\(host)'")
        }
    }
}

runFuzzer(websocketHandshakeFuzz)

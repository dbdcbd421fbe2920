/// A parsed `ws://` or `wss://` URL: host, port and request target.
package struct WebSocketURL: Sendable, Hashable {
    /// Whether the scheme is `wss` (TLS).
    package var isSecure: Bool
    /// The host: a name, an IPv4 literal, or an IPv6 literal without brackets.
    package var host: String
    /// The TCP port (80, or 443 for `wss`, when the URL gives none).
    package var port: Int
    /// The request target: path and query, `/` when the URL gives none.
    package var target: String
    /// The URL as given, for messages.
    package var text: String

    /// Parses `ws://host[:port][/path][?query]` or the same with `wss://`.
    ///
    /// - Parameter text: The URL text.
    /// - Throws: ``WebSocketError`` with code `invalidURL`.
    package init(_ text: String) throws(WebSocketError) {
        func invalid(_ message: String) -> WebSocketError {
            WebSocketError(.invalidURL, message, location: text)
        }
        self.text = text
        let parts = text.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw invalid("missing 'ws://' or 'wss://'") }
        let scheme = parts[0].lowercased()
        guard scheme == "ws" || scheme == "wss" else { throw invalid("unsupported scheme '\(scheme)'") }
        self.isSecure = scheme == "wss"
        let rest = parts[1]
        guard !rest.contains("#") else { throw invalid("fragment not allowed") }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty { target = "/" }
        if target.hasPrefix("?") { target = "/" + target }
        guard !target.contains(" "), !target.contains(where: { $0.isNewline }) else { throw invalid("space in path") }
        guard !authority.contains("@") else { throw invalid("user information not allowed") }
        var hostPart = Substring(authority)
        var portPart: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw invalid("unclosed '['") }
            let after = hostPart[hostPart.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("junk after ']'") }
                portPart = after.dropFirst()
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw invalid("missing host") }
        self.host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else {
                throw invalid("invalid port '\(portPart)'")
            }
            self.port = port
        } else {
            self.port = isSecure ? 443 : 80
        }
        self.target = target
    }

    /// The `Host` header value: the host (IPv6 in brackets) and the port unless it is the scheme's default.
    package var hostHeader: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return port == (isSecure ? 443 : 80) ? host : "\(host):\(port)"
    }
}

extension WebSocketAPIServer {
    /// The full URL of a WebSocket API server from what a person types: `ws://HOST:PORT`,
    /// `ws://HOST:PORT/v1/messages/json` or `HOST:PORT`.
    ///
    /// The scheme `ws://` is added when missing and the path ``path`` when there is none (a lone `/` counts as
    /// none); another path is kept as given, so the server's own answer names it. `HOST` is a name, an IPv4
    /// address or a bracketed IPv6 address (`[::1]:2149`). Without a port, `defaultPort` is used when given.
    ///
    /// ```swift
    /// try WebSocketAPIServer.url(normalizing: "127.0.0.1:2149")  // "ws://127.0.0.1:2149/v1/messages/json"
    /// try WebSocketAPIServer.url(normalizing: "ws://ctl", defaultPort: 2149)  // "ws://ctl:2149/v1/messages/json"
    /// ```
    ///
    /// - Parameters:
    ///   - address: What was typed.
    ///   - defaultPort: The port when `address` has none, or `nil` (the default) to require one.
    /// - Returns: The URL, such as `ws://127.0.0.1:2149/v1/messages/json`.
    /// - Throws: ``BackendError`` with code ``BackendError/Code/invalidState`` located at `address`: another
    ///   scheme than `ws`, no host, no port (without `defaultPort`) or a port outside 1–65535.
    public static func url(normalizing address: String, defaultPort: Int? = nil) throws -> String {
        func invalid(_ reason: String) -> BackendError {
            BackendError(.invalidState, "invalid WebSocket address: \(reason)", endpoint: address)
        }
        var rest = Substring(address.trimmingSpaces())
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            let scheme = rest[..<colon].lowercased()
            guard scheme == "ws" else {
                throw invalid("unsupported scheme '\(scheme)' (expected ws://HOST:PORT)")
            }
            rest = rest[colon...].dropFirst(3)
        }
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<pathStart]
        var path = String(rest[pathStart...])
        if path.isEmpty || path == "/" { path = WebSocketAPIServer.path }
        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("missing ']' after the IPv6 address") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected '\(after)' after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty, host != "[]" else { throw invalid("no host (expected ws://HOST:PORT or HOST:PORT)") }
        let port: Int
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                throw invalid("invalid port '\(portText)' (expected 1-65535)")
            }
            port = number
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw invalid("no port (expected ws://HOST:PORT or HOST:PORT)")
        }
        return "ws://\(host):\(port)\(path)"
    }
}

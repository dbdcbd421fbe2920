import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
public import ClusterKitWebSocket

extension WebSocketAPIServer {
    /// An error in a WebSocket API address given by a user.
    public struct URLError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The text as given.
        public var text: String
        /// What is wrong with it.
        public var reason: String

        /// `invalid WebSocket address '<text>': <reason>`.
        public var description: String { "invalid WebSocket address '\(text)': \(reason)" }
    }

    /// The full API URL for an address as an operator writes it.
    ///
    /// Accepts `ws://HOST:PORT/v1/messages/json` as is, and completes the shorter forms the way
    /// `zeek-client --controller` and ZeekControl's settings are written: `ws://HOST:PORT` and `ws://HOST`
    /// get the path (and `defaultPort`), `HOST:PORT`, `HOST` and `[IPv6]:PORT` get the scheme too (`ws://`).
    /// `wss://` (TLS) is kept as given, with the same completions; another path is kept, so that the server's
    /// `invalid_uri` error tells the user.
    ///
    /// - Parameters:
    ///   - text: The address, such as `127.0.0.1:2149`.
    ///   - defaultPort: The port when none is given (2149 for a Management controller, 27759 for a node).
    ///   - allowsPortZero: Whether port 0 is accepted (for a listening address: any free port).
    /// - Returns: The URL, such as `ws://127.0.0.1:2149/v1/messages/json`.
    /// - Throws: ``URLError`` for an empty host, a scheme other than `ws://` and `wss://`, or a port outside
    ///   1...65535.
    public static func url(
        normalizing text: String,
        defaultPort: Int,
        allowsPortZero: Bool = false
    ) throws(URLError) -> String {
        let address = try parseAddress(text, defaultPort: defaultPort, allowsPortZero: allowsPortZero)
        let hostText = address.host.contains(":") ? "[\(address.host)]" : address.host
        return "\(address.scheme)://\(hostText):\(address.port)\(address.path)"
    }

    /// The server options for a listening address as an operator writes it: `HOST:PORT`, `[IPv6]:PORT`,
    /// `HOST` (`defaultPort`), and `:PORT` or `PORT` for `127.0.0.1`; port 0 picks a free port.
    ///
    /// - Parameters:
    ///   - text: The address.
    ///   - defaultPort: The port when none is given.
    /// - Returns: Options with that host and port, the rest default.
    /// - Throws: ``URLError`` for an empty host, a scheme other than `ws://`, a path, or a port outside 0...65535.
    public static func listenOptions(_ text: String, defaultPort: Int) throws(URLError) -> WebSocketServer.Options {
        var address = text
        if !address.isEmpty, address.allSatisfy(\.isNumber) { address = "127.0.0.1:" + address }
        if address.hasPrefix(":") { address = "127.0.0.1" + address }
        let parsed = try parseAddress(address, defaultPort: defaultPort, allowsPortZero: true)
        guard parsed.scheme == "ws" else {
            throw URLError(text: text, reason: "a listening address has no scheme (TLS is set by its own options)")
        }
        guard parsed.path == path else {
            throw URLError(text: text, reason: "a listening address has no path ('\(parsed.path)')")
        }
        return WebSocketServer.Options(host: parsed.host, port: parsed.port)
    }

    /// Host (IPv6 without brackets), port and path of an address; the path is ``path`` when none is given.
    private static func parseAddress(
        _ text: String,
        defaultPort: Int,
        allowsPortZero: Bool
    ) throws(URLError) -> (scheme: String, host: String, port: Int, path: String) {
        let lowest = allowsPortZero ? 0 : 1
        var rest = Substring(text).drop { $0 == " " }
        while rest.last == " " { rest = rest.dropLast() }
        var scheme = "ws"
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            scheme = rest[..<colon].lowercased()
            guard scheme == "ws" || scheme == "wss" else {
                throw URLError(text: text, reason: "scheme '\(scheme)' is not supported (use ws:// or wss://)")
            }
            rest = rest[rest.index(colon, offsetBy: 3)...]
        }
        var path = Self.path
        if let slash = rest.firstIndex(of: "/") {
            let given = rest[slash...]
            if given != "/" { path = String(given) }
            rest = rest[..<slash]
        }
        var host = rest
        var port = defaultPort
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw URLError(text: text, reason: "missing ']' after the IPv6 address")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw URLError(text: text, reason: "expected ':PORT' after ']'") }
                port = try parsePort(after.dropFirst(), in: text, lowest: lowest)
            }
        } else if let colon = rest.lastIndex(of: ":") {
            guard rest.firstIndex(of: ":") == colon else {
                throw URLError(text: text, reason: "write an IPv6 address in brackets, as [::1]:2149")
            }
            host = rest[..<colon]
            port = try parsePort(rest[rest.index(after: colon)...], in: text, lowest: lowest)
        }
        guard !host.isEmpty else { throw URLError(text: text, reason: "no host") }
        return (scheme, String(host), port, path)
    }

    private static func parsePort(_ text: Substring, in whole: String, lowest: Int) throws(URLError) -> Int {
        guard let port = Int(text), (lowest...65535).contains(port) else {
            throw URLError(text: whole, reason: "port '\(text)' is not a number in \(lowest)...65535")
        }
        return port
    }
}

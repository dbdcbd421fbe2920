import ClusterKit

/// The backend `zeekctl` uses for a WebSocket URL.
enum RemoteBackend {
    /// Makes a ``WebSocketBackend`` for `url` (already completed by ``address(_:option:defaultPort:)``),
    /// announcing itself as `zeekctl` in `X-Application-Name`, with TLS and token as `access` says.
    static func make(_ url: String, access: ClientAccess = ClientAccess()) -> any ClusterBackend {
        WebSocketBackend(url: url, options: access.backendOptions())
    }

    /// The IP address given to `option` (`--address`), or a usage error naming the option.
    static func localAddress(_ text: String, option: String) throws(UsageError) -> String {
        guard Broker.Address(text) != nil else {
            throw UsageError("invalid value '\(text)' for '\(option)' (expected an IPv4 or IPv6 address)")
        }
        return text
    }

    /// The full URL for an address given to `option`, or a usage error naming the option.
    static func address(_ text: String, option: String, defaultPort: Int) throws(UsageError) -> String {
        do {
            return try WebSocketAPIServer.url(normalizing: text, defaultPort: defaultPort)
        } catch {
            throw UsageError("\(error) for '\(option)'")
        }
    }
}

/// How a `zeekctl` client reaches a WebSocket server: TLS for `wss://` URLs (`--tls-ca`, `--tls-certificate`,
/// `--tls-key`, `--tls-insecure`) and a bearer token (`--token-file`).
package struct ClientAccess: Sendable {
    /// The options every client command takes.
    static let options: [Arguments.Option] = [
        .value("--tls-ca"), .value("--tls-certificate"), .value("--tls-key"), .flag("--tls-insecure"),
        .value("--token-file"),
    ]

    /// The usage lines of those options.
    static let usage = """
        --tls-ca FILE trusts the CA certificates in FILE (PEM) for wss:// instead of the system's; --tls-certificate
        FILE and --tls-key FILE present a client certificate (for a controller with --tls-verify-peer);
        --tls-insecure encrypts without verifying the server's certificate (anyone on the path can pose as the
        server; a warning says so). --token-file FILE sends the token in FILE (mode 0600 or stricter) as
        'Authorization: Bearer TOKEN'.
        """

    var tls = WebSocketClient.TLSOptions()
    var tokenFile: String?
    var token: String?

    package init() {}

    /// Reads the options; relative paths are resolved later against the current directory.
    ///
    /// TLS options need every URL in `urls` to be `wss://`.
    init(arguments: Arguments, urls: [String]) throws(UsageError) {
        tls.caFile = arguments.value("--tls-ca")
        tls.certificateFile = arguments.value("--tls-certificate")
        tls.keyFile = arguments.value("--tls-key")
        tls.verifiesServer = !arguments.flag("--tls-insecure")
        if (tls.certificateFile == nil) != (tls.keyFile == nil) {
            throw UsageError("'--tls-certificate' and '--tls-key' go together")
        }
        if !tls.verifiesServer, tls.caFile != nil {
            throw UsageError("'--tls-insecure' verifies nothing: it cannot be combined with '--tls-ca'")
        }
        tokenFile = arguments.value("--token-file")
        if hasTLSOptions, let plain = urls.first(where: { !$0.lowercased().hasPrefix("wss://") }) {
            throw UsageError("TLS options need a wss:// URL, not '\(plain)'")
        }
    }

    /// Whether any TLS option was given.
    var hasTLSOptions: Bool { tls != WebSocketClient.TLSOptions() }

    /// Resolves paths, reads the token file and warns about `--tls-insecure`.
    func prepared(context: CommandContext) throws -> ClientAccess {
        var copy = self
        copy.tls.caFile = tls.caFile.map(context.resolve)
        copy.tls.certificateFile = tls.certificateFile.map(context.resolve)
        copy.tls.keyFile = tls.keyFile.map(context.resolve)
        if !tls.verifiesServer {
            context.terminal.warning(
                "--tls-insecure: the server's certificate is not verified; anyone on the path can pose as the server"
            )
        }
        if let tokenFile {
            copy.token = try BearerTokenFile.read(context.resolve(tokenFile))
        }
        return copy
    }

    /// WebSocket backend options with these settings, announced as `zeekctl`.
    func backendOptions(applicationName: String? = "zeekctl") -> WebSocketBackend.Options {
        var options = WebSocketBackend.Options(applicationName: applicationName)
        apply(to: &options)
        return options
    }

    /// Puts the TLS settings and the token into backend options.
    func apply(to options: inout WebSocketBackend.Options) {
        options.client.tls = tls
        if let token { options.headers.append(name: "Authorization", value: "Bearer \(token)") }
    }
}

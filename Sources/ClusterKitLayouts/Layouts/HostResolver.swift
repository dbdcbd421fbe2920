public import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

/// Turns host names into addresses; injected so that nothing in ClusterKit touches DNS unless asked to.
///
/// ZeekControl resolves each node's `host` with `getaddrinfo(host, None, 0, 0, SOL_TCP)` and keeps the
/// first IPv4 result, else the first result, with any `%zone` cut off; ``HostResolution/zeekctlAddress``
/// applies that choice to what a resolver returns.
public protocol HostResolver: Sendable {
    /// Resolves a host name or IP literal.
    ///
    /// - Parameter host: The host as written in the configuration (an IPv6 literal may carry `%zone`).
    /// - Returns: The addresses in the resolver's order, as text, or the resolver's failure message.
    func resolve(_ host: String) -> HostResolution
}

/// What a ``HostResolver`` found for one host.
public enum HostResolution: Sendable, Hashable {
    /// The addresses, as text in the resolver's order (IPv6 possibly with `%zone`).
    case addresses([String])
    /// The lookup failed; the message is the resolver's (glibc: `Name or service not known`).
    case failed(String)

    /// The address ZeekControl would use: the first IPv4 result, else the first one, without `%zone`.
    public var zeekctlAddress: Broker.Address? {
        guard case .addresses(let texts) = self, let first = texts.first else { return nil }
        let chosen = texts.first { !$0.contains(":") } ?? first
        let withoutZone = chosen.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return Broker.Address(String(withoutZone))
    }
}

/// A resolver answering from a dictionary, for tests and for checks that must not use DNS.
///
/// IP literals (IPv4, IPv6, IPv6 with `%zone`) resolve to themselves, as `getaddrinfo` does; other names
/// are looked up in the dictionary (exactly, then lower-cased) and fail with glibc's
/// `Name or service not known` when absent.
public struct StaticHostResolver: HostResolver, Sendable, Hashable {
    /// The addresses of each known name.
    public var hosts: [String: [String]]

    /// Creates a resolver.
    ///
    /// - Parameter hosts: The addresses of each name, in the order `getaddrinfo` would return them.
    public init(_ hosts: [String: [String]] = [:]) {
        self.hosts = hosts
    }

    /// Resolves from the dictionary, or an IP literal to itself.
    ///
    /// - Parameter host: The host.
    /// - Returns: The addresses, or a failure.
    public func resolve(_ host: String) -> HostResolution {
        if let literal = Self.literal(host) { return .addresses([literal]) }
        if let addresses = hosts[host] ?? hosts[host.lowercased()], !addresses.isEmpty {
            return .addresses(addresses)
        }
        return .failed("Name or service not known")
    }

    /// The host itself when it is an IP literal (IPv6 may carry `%zone`), else `nil`.
    static func literal(_ host: String) -> String? {
        let address = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return Broker.Address(String(address)) != nil ? host : nil
    }
}

/// The system resolver: `getaddrinfo(host, NULL, {protocol = IPPROTO_TCP})`, as ZeekControl calls it.
public struct SystemHostResolver: HostResolver, Sendable, Hashable {
    /// Creates the system resolver.
    public init() {}

    /// Resolves with `getaddrinfo` (IP literals are returned as they are, as `getaddrinfo` does).
    ///
    /// - Parameter host: The host.
    /// - Returns: The numeric addresses in `getaddrinfo` order, or `gai_strerror`'s text.
    public func resolve(_ host: String) -> HostResolution {
        // `getaddrinfo` returns an IP literal as it is; answering directly avoids loading NSS modules.
        if let literal = StaticHostResolver.literal(host) { return .addresses([literal]) }
        var hints = addrinfo()
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        guard status == 0 else { return .failed(String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(result) }
        var addresses: [String] = []
        var cursor = result
        while let info = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                info.pointee.ai_addr,
                info.pointee.ai_addrlen,
                &buffer,
                socklen_t(buffer.count),
                nil,
                0,
                NI_NUMERICHOST
            ) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                addresses.append(text)
            }
            cursor = info.pointee.ai_next
        }
        return addresses.isEmpty ? .failed("no address") : .addresses(addresses)
    }
}

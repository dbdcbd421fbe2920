import CClusterKitSupport

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 socket address, with conversions to and from the C structures.
struct SocketAddress: Sendable, Hashable {
    /// The address family: `AF_INET` or `AF_INET6`.
    enum Family: Sendable, Hashable {
        case ipv4
        case ipv6
    }

    /// The address family.
    var family: Family
    /// The address as text, IPv6 without brackets.
    var host: String
    /// The port.
    var port: Int

    /// The address and port for messages, IPv6 in brackets: `127.0.0.1:2149`, `[::1]:2149`.
    var text: String {
        family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Parses an IPv4 or IPv6 literal (brackets allowed around IPv6).
    init?(literal: String, port: Int) {
        var host = literal
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            self.init(family: .ipv4, host: host, port: port)
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            self.init(family: .ipv6, host: host, port: port)
        } else {
            return nil
        }
    }

    init(family: Family, host: String, port: Int) {
        self.family = family
        self.host = host
        self.port = port
    }

    /// Reads a `sockaddr_storage` filled in by the kernel.
    init?(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            var raw = address.sin_addr
            var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            self.init(family: .ipv4, host: Self.string(buffer), port: Int(UInt16(bigEndian: address.sin_port)))
        case AF_INET6:
            let address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            var raw = address.sin6_addr
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            self.init(family: .ipv6, host: Self.string(buffer), port: Int(UInt16(bigEndian: address.sin6_port)))
        default:
            return nil
        }
    }

    private static func string(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The C address family constant.
    var cFamily: Int32 { family == .ipv4 ? AF_INET : AF_INET6 }

    /// Calls `body` with the address as a C `sockaddr` pointer and its length.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        switch family {
        case .ipv4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
            _ = inet_pton(AF_INET, host, &address.sin_addr)
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(truncatingIfNeeded: port).bigEndian
            _ = inet_pton(AF_INET6, host, &address.sin6_addr)
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// The addresses a host name or literal stands for, in the resolver's order.
    ///
    /// This blocks while the resolver works: a client calls it on a thread of its own, never on the event loop
    /// (see ``ConnectionDriver``).
    static func resolve(host: String, port: Int) throws(WebSocketError) -> [SocketAddress] {
        if let literal = SocketAddress(literal: host, port: port) { return [literal] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let text = status == 0 ? "no addresses" : String(cString: gai_strerror(status))
            throw WebSocketError(.nameResolutionFailed, "cannot resolve '\(host)': \(lowercasedFirst(text))")
        }
        defer { freeaddrinfo(first) }
        var result: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { target in
                    let length = min(Int(entry.pointee.ai_addrlen), target.count)
                    target.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: length))
                }
                if let address = SocketAddress(storage: storage), !result.contains(address) {
                    result.append(address)
                }
            }
            cursor = entry.pointee.ai_next
        }
        guard !result.isEmpty else {
            throw WebSocketError(.nameResolutionFailed, "cannot resolve '\(host)': no addresses")
        }
        return result
    }
}

/// The text of an `errno` value, lower-case first, as in `connection refused`.
func errorText(_ number: Int32) -> String {
    lowercasedFirst(String(cString: strerror(number)))
}

/// The text with its first character in lower case.
func lowercasedFirst(_ text: String) -> String {
    guard let first = text.first else { return text }
    return first.lowercased() + text.dropFirst()
}

/// Small wrappers over socket system calls.
///
/// Every descriptor is created non-blocking and close-on-exec in the same system call (`SOCK_CLOEXEC`,
/// `accept4`, `pipe2`), so a process spawned by another thread at that moment cannot inherit it.
enum SocketCalls {
    /// Creates a TCP socket, non-blocking and close-on-exec from the start; -1 with `errno` set on failure.
    static func streamSocket(family: Int32) -> Int32 {
        socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    }

    /// Accepts a connection, non-blocking and close-on-exec from the start; -1 with `errno` set on failure.
    static func accept(_ listener: Int32, into storage: inout sockaddr_storage) -> Int32 {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { ck_accept_stream(listener, $0, &length) }
        }
    }

    /// Sets an integer socket option.
    @discardableResult
    static func setOption(_ descriptor: Int32, level: Int32, name: Int32, value: Int32) -> Bool {
        var value = value
        return setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    /// The pending error of a socket (`SO_ERROR`), 0 when there is none.
    static func pendingError(_ descriptor: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }

    /// The local address a socket is bound to.
    static func localAddress(_ descriptor: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard status == 0 else { return nil }
        return SocketAddress(storage: storage)
    }

    /// Creates, binds and listens on a non-blocking TCP socket.
    static func listen(on address: SocketAddress, backlog: Int32) throws(WebSocketError) -> Int32 {
        let descriptor = streamSocket(family: address.cFamily)
        guard descriptor >= 0 else { throw .systemCall("socket", errno: errno) }
        setOption(descriptor, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
        let bound = address.withSockAddr { bind(descriptor, $0, $1) }
        guard bound == 0 else {
            let number = errno
            close(descriptor)
            if number == EADDRINUSE { throw WebSocketError(.addressInUse, "address already in use") }
            if number == EADDRNOTAVAIL {
                throw WebSocketError(.invalidAddress, "address not available on this host")
            }
            throw .systemCall("bind", errno: number)
        }
        guard Glibc.listen(descriptor, backlog) == 0 else {
            let number = errno
            close(descriptor)
            throw .systemCall("listen", errno: number)
        }
        return descriptor
    }
}

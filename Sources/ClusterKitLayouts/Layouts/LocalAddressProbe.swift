public import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

/// Finds the addresses of this machine, for ZeekControl's "the manager must run here" check; injected so
/// that the check can run anywhere in tests.
public protocol LocalAddressProbe: Sendable {
    /// The machine's addresses, in the order they are reported.
    ///
    /// - Returns: The addresses.
    func localAddresses() -> [Broker.Address]
}

/// A fixed list of local addresses.
public struct StaticLocalAddresses: LocalAddressProbe, Sendable, Hashable {
    /// The addresses.
    public var addresses: [Broker.Address]

    /// Creates a fixed list.
    ///
    /// - Parameter addresses: The addresses in order.
    public init(_ addresses: [Broker.Address]) {
        self.addresses = addresses
    }

    /// The fixed list.
    ///
    /// - Returns: The addresses.
    public func localAddresses() -> [Broker.Address] { addresses }
}

/// The interfaces' addresses from `getifaddrs`, in interface order (ZeekControl reads `ifconfig -a`).
///
/// When no address is found, ZeekControl's fallback applies: `127.0.0.1` and `::1`.
public struct SystemLocalAddresses: LocalAddressProbe, Sendable, Hashable {
    /// Creates the probe.
    public init() {}

    /// Reads the addresses with `getifaddrs`.
    ///
    /// - Returns: Every IPv4 and IPv6 interface address, without duplicates.
    public func localAddresses() -> [Broker.Address] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [.ipv4Loopback, .ipv6Loopback] }
        defer { freeifaddrs(list) }
        var addresses: [Broker.Address] = []
        var cursor = list
        while let entry = cursor {
            cursor = entry.pointee.ifa_next
            guard let socketAddress = entry.pointee.ifa_addr else { continue }
            let family = Int32(socketAddress.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let length = family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
            guard
                getnameinfo(socketAddress, socklen_t(length), &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
                    == 0
            else { continue }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let withoutZone = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if let address = Broker.Address(String(withoutZone)), !addresses.contains(address) {
                addresses.append(address)
            }
        }
        return addresses.isEmpty ? [.ipv4Loopback, .ipv6Loopback] : addresses
    }
}

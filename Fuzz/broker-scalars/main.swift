import ClusterKitModel
import FuzzSupport

// libFuzzer target `broker-scalars` (Docs/fuzzing.md): the address, subnet, port, timestamp and timespan parsers.
//
// Checks, beyond not crashing:
// - an address parses exactly when the system's `inet_pton` reads it (as IPv4 or IPv6), to the same bytes, as
//   Broker reads addresses with `inet_pton`;
// - every value that parses prints a text that parses back to the same value (a timestamp to within the
//   millisecond Broker prints), and printing is stable.
#if canImport(Glibc)
import Glibc
#endif

/// What `inet_pton` makes of `text`: the IPv4-mapped or IPv6 bytes, or `nil`.
func systemAddress(_ text: String) -> [UInt8]? {
    var ipv4 = in_addr()
    if inet_pton(AF_INET, text, &ipv4) == 1 {
        let octets = withUnsafeBytes(of: ipv4.s_addr) { Array($0) }
        return [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + octets
    }
    var ipv6 = in6_addr()
    if inet_pton(AF_INET6, text, &ipv6) == 1 { return withUnsafeBytes(of: ipv6) { Array($0) } }
    return nil
}

/// Parses `text`, prints it, parses the print and checks both agree.
func roundTrip<T: LosslessStringConvertible & Equatable>(_ type: T.Type, _ text: String) {
    guard let value = T(text) else { return }
    let printed = value.description
    guard let again = T(printed) else { fatalError("\(T.self) '\(text)' prints '\(printed)', which does not parse") }
    guard again == value else { fatalError("\(T.self) '\(text)' prints '\(printed)', which parses to another value") }
    guard again.description == printed else { fatalError("\(T.self) '\(printed)' prints differently a second time") }
}

/// Checks one input.
func brokerScalarsFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = input
    let text = String(decoding: bytes, as: UTF8.self)

    let address = Broker.Address(text)
    if bytes.contains(0) || String(validating: bytes, as: UTF8.self) == nil {
        // inet_pton reads a C string; text with a NUL or invalid UTF-8 is never an address.
        if address != nil { fatalError("an address parsed from text with a NUL or invalid UTF-8") }
    } else {
        let expected = systemAddress(text)
        guard address?.bytes == expected else {
            fatalError(
                "address '\(text)': ClusterKit reads \(String(describing: address)), inet_pton \(String(describing: expected))"
            )
        }
    }

    roundTrip(Broker.Address.self, text)
    roundTrip(Broker.Subnet.self, text)
    roundTrip(Broker.Port.self, text)
    // Broker prints timestamps to the millisecond, so a finer one prints a neighbour; printing is then stable.
    if let timestamp = Broker.Timestamp(text) {
        let printed = timestamp.description
        guard let again = Broker.Timestamp(printed), again.description == printed else {
            fatalError("timestamp '\(text)' prints '\(printed)', which does not print back the same")
        }
        let (difference, overflow) = again.nanosecondsSinceEpoch.subtractingReportingOverflow(
            timestamp.nanosecondsSinceEpoch
        )
        guard !overflow, difference.magnitude < 1_000_000 else {
            fatalError("timestamp '\(text)' prints '\(printed)', a millisecond or more away")
        }
    }
    roundTrip(Broker.Timespan.self, text)
}

runFuzzer(brokerScalarsFuzz)

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct BrokerScalarTests {
    @Test(arguments: [
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("::", "::"),
        ("::1", "::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"),  // first longest run wins
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // a single zero group is not compressed
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),  // the longer run wins
        ("fe80::", "fe80::"),
        ("::ffff:1.2.3.4", "1.2.3.4"),  // IPv4-mapped is IPv4, as in Broker
        ("::1.2.3.4", "::1.2.3.4"),  // IPv4-compatible keeps its dotted tail, as inet_ntop writes it
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1::", "1::"),
        ("0:0:0:0:0:0:0:1", "::1"),
    ])
    func addressTextIsCanonical(input: String, canonical: String) throws {
        let address = try #require(Broker.Address(input))
        #expect(address.description == canonical)
        #expect(Broker.Address(canonical) == address)
    }

    @Test(arguments: [
        "", "1", "1.2.3.4.5", "1.2.3.", ".1.2.3", "::1::", "1:2:3:4:5:6:7:8:9", ":1", "1:", "g::", "[::1]",
        "::ffff:1.2.3",
    ])
    func malformedAddressesAreRejected(input: String) {
        #expect(Broker.Address(input) == nil)
    }

    @Test func ipv4FactsHold() throws {
        let address: Broker.Address = "127.0.0.1"
        #expect(address.isIPv4)
        #expect(address.ipv4 == 0x7F00_0001)
        #expect(address.isLoopback)
        #expect(address == .ipv4Loopback)
        #expect(Broker.Address.ipv6Loopback.isLoopback)
        #expect(!Broker.Address("::2").isIPv4)
        #expect(Broker.Address("1.2.3.4").bytes.suffix(6) == [0xFF, 0xFF, 1, 2, 3, 4])
    }

    @Test func subnetsClearHostBitsAndCheckLengths() throws {
        #expect(Broker.Subnet("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(Broker.Subnet("10.1.2.3/32")?.description == "10.1.2.3/32")
        #expect(Broker.Subnet("10.1.2.3/0")?.description == "0.0.0.0/0")
        #expect(Broker.Subnet("2001:db8:1:2::5/33")?.description == "2001:db8::/33")
        #expect(Broker.Subnet("2001:db8::1/128")?.description == "2001:db8::1/128")
        #expect(Broker.Subnet("2001:db8::1/65")?.description == "2001:db8::/65")
        #expect(Broker.Subnet("10.0.0.0/33") == nil)
        #expect(Broker.Subnet("10.0.0.0/-1") == nil)
        #expect(Broker.Subnet("10.0.0.0/+8") == nil)
        #expect(Broker.Subnet("10.0.0.0") == nil)
        let net = try #require(Broker.Subnet("192.168.0.0/16"))
        #expect(net.contains("192.168.200.1"))
        #expect(!net.contains("192.169.0.1"))
        #expect(!net.contains("::1"))
    }

    @Test func portsParseAndPrintAsZeekDoes() {
        #expect(Broker.Port("80/tcp") == .tcp(80))
        #expect(Broker.Port("80") == .tcp(80))
        #expect(Broker.Port("0/?") == .unset)
        #expect(Broker.Port("7/xyz") == Broker.Port(7, .unknown))
        #expect(Broker.Port("65535/udp")?.description == "65535/udp")
        #expect(Broker.Port("65536/udp") == nil)
        #expect(Broker.Port("-1/tcp") == nil)
        #expect(Broker.Port("80/tcp").map { $0 < Broker.Port(80, .udp) } == true)
    }

    @Test func timestampsPrintUTCMillisecondsTruncated() {
        #expect(Broker.Timestamp(nanosecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000")
        #expect(Broker.Timestamp(nanosecondsSinceEpoch: 999_999).description == "1970-01-01T00:00:00.000")
        #expect(Broker.Timestamp(nanosecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999")
        #expect(
            Broker.Timestamp(nanosecondsSinceEpoch: 951_782_400_000_000_000).description == "2000-02-29T00:00:00.000"
        )
        #expect(Broker.Timestamp(secondsSinceEpoch: 1_700_000_000.5).description == "2023-11-14T22:13:20.500")
        #expect(Broker.Timestamp("2000-02-29T00:00:00")?.nanosecondsSinceEpoch == 951_782_400_000_000_000)
        #expect(Broker.Timestamp("1900-02-29T00:00:00") == nil, "1900 is not a leap year")
    }

    @Test func timespansUseTheLargestLosslessUnit() {
        #expect(Broker.Timespan(nanoseconds: 1_500_000_000).description == "1500ms")
        #expect(Broker.Timespan(nanoseconds: 1_500_000).description == "1500us")
        #expect(Broker.Timespan(nanoseconds: 1_501).description == "1501ns")
        #expect(Broker.Timespan(.seconds(3600)).description == "3600s")
        #expect(Broker.Timespan("-90min")?.duration == .seconds(-5400))
        #expect(Broker.Timespan("+1s") == nil)
        #expect(Broker.Timespan(.seconds(Int64.max)).nanoseconds == .max, "clamped instead of overflowing")
        #expect(Broker.Timespan(.milliseconds(1500)).seconds == 1.5)
    }

    @Test func valuesOrderByTypeThenValueAsBrokerDoes() {
        let ordered: [Broker.Value] = [
            .none, .boolean(false), .boolean(true), .count(1), .integer(-1), .real(0.5), .string("a"), .string("b"),
            .address("10.0.0.1"), .port(.tcp(1)), .timespan(Broker.Timespan(nanoseconds: 1)), .enumValue("A::B"),
            .set([.count(1)]), .table([]), .vector([]),
        ]
        #expect(ordered.sorted() == ordered)
        #expect(ordered.shuffled().sorted() == ordered)
    }
}

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct BrokerJSONEncodingTests {
    /// One value, its exact canonical text, and (where it differs) the value it decodes back to.
    struct Case: Sendable, CustomTestStringConvertible {
        var value: Broker.Value
        var json: String
        var testDescription: String { json }
    }

    static let canonical: [Case] = [
        Case(value: .none, json: #"{"@data-type":"none","data":{}}"#),
        Case(value: .boolean(true), json: #"{"@data-type":"boolean","data":true}"#),
        Case(value: .boolean(false), json: #"{"@data-type":"boolean","data":false}"#),
        Case(value: .count(0), json: #"{"@data-type":"count","data":0}"#),
        Case(value: .count(42), json: #"{"@data-type":"count","data":42}"#),
        Case(value: .count(.max), json: #"{"@data-type":"count","data":18446744073709551615}"#),
        Case(value: .integer(-7), json: #"{"@data-type":"integer","data":-7}"#),
        Case(value: .integer(.min), json: #"{"@data-type":"integer","data":-9223372036854775808}"#),
        Case(value: .integer(.max), json: #"{"@data-type":"integer","data":9223372036854775807}"#),
        // Reals always carry a decimal point: 1.0 never becomes the integer 1.
        Case(value: .real(1.0), json: #"{"@data-type":"real","data":1.0}"#),
        Case(value: .real(1.5), json: #"{"@data-type":"real","data":1.5}"#),
        Case(value: .real(-10), json: #"{"@data-type":"real","data":-10.0}"#),
        Case(value: .real(0), json: #"{"@data-type":"real","data":0.0}"#),
        Case(value: .real(1e-7), json: #"{"@data-type":"real","data":1.0e-07}"#),
        Case(value: .real(1.25e300), json: #"{"@data-type":"real","data":1.25e+300}"#),
        Case(value: .real(1_700_000_000.5), json: #"{"@data-type":"real","data":1700000000.5}"#),
        Case(value: .string("Hello"), json: #"{"@data-type":"string","data":"Hello"}"#),
        Case(value: .string(""), json: #"{"@data-type":"string","data":""}"#),
        Case(
            value: .string("tab\tquote\"back\\slash\nnl\u{1}ctl é"),
            json: #"{"@data-type":"string","data":"tab\tquote\"back\\slash\nnl\u0001ctl é"}"#
        ),
        Case(
            value: .enumValue("Management::RUNNING"),
            json: #"{"@data-type":"enum-value","data":"Management::RUNNING"}"#
        ),
        Case(value: .address("192.168.1.1"), json: #"{"@data-type":"address","data":"192.168.1.1"}"#),
        Case(value: .address("2001:db8::"), json: #"{"@data-type":"address","data":"2001:db8::"}"#),
        Case(value: .address("::1"), json: #"{"@data-type":"address","data":"::1"}"#),
        Case(value: .subnet(subnet("10.0.0.0/8")), json: #"{"@data-type":"subnet","data":"10.0.0.0/8"}"#),
        Case(value: .subnet(subnet("2001:db8::/32")), json: #"{"@data-type":"subnet","data":"2001:db8::/32"}"#),
        Case(value: .port(.tcp(80)), json: #"{"@data-type":"port","data":"80/tcp"}"#),
        Case(value: .port(Broker.Port(53, .udp)), json: #"{"@data-type":"port","data":"53/udp"}"#),
        Case(value: .port(Broker.Port(8, .icmp)), json: #"{"@data-type":"port","data":"8/icmp"}"#),
        Case(value: .port(.unset), json: #"{"@data-type":"port","data":"0/?"}"#),
        Case(
            value: .timestamp(Broker.Timestamp(nanosecondsSinceEpoch: 1_649_574_000_000_000_000)),
            json: #"{"@data-type":"timestamp","data":"2022-04-10T07:00:00.000"}"#
        ),
        Case(
            value: .timestamp(Broker.Timestamp(nanosecondsSinceEpoch: 1_649_574_000_123_000_000)),
            json: #"{"@data-type":"timestamp","data":"2022-04-10T07:00:00.123"}"#
        ),
        Case(
            value: .timespan(Broker.Timespan(.milliseconds(1500))),
            json: #"{"@data-type":"timespan","data":"1500ms"}"#
        ),
        Case(value: .timespan(Broker.Timespan(.seconds(60))), json: #"{"@data-type":"timespan","data":"60s"}"#),
        Case(value: .timespan(Broker.Timespan(nanoseconds: 1)), json: #"{"@data-type":"timespan","data":"1ns"}"#),
        Case(value: .timespan(Broker.Timespan(nanoseconds: 1000)), json: #"{"@data-type":"timespan","data":"1us"}"#),
        Case(value: .timespan(Broker.Timespan(nanoseconds: 0)), json: #"{"@data-type":"timespan","data":"0s"}"#),
        Case(value: .timespan(Broker.Timespan(.seconds(-3))), json: #"{"@data-type":"timespan","data":"-3s"}"#),
        Case(value: .vector([]), json: #"{"@data-type":"vector","data":[]}"#),
        Case(value: .set([]), json: #"{"@data-type":"set","data":[]}"#),
        Case(value: .table([]), json: #"{"@data-type":"table","data":[]}"#),
        Case(
            value: .vector([.count(42), .string("x")]),
            json:
                #"{"@data-type":"vector","data":[{"@data-type":"count","data":42},{"@data-type":"string","data":"x"}]}"#
        ),
        Case(
            value: .set([.string("bar"), .string("foo")]),
            json:
                #"{"@data-type":"set","data":[{"@data-type":"string","data":"bar"},{"@data-type":"string","data":"foo"}]}"#
        ),
        Case(
            value: .table([(key: .string("FOO"), value: .string("bar"))]),
            json:
                #"{"@data-type":"table","data":[{"key":{"@data-type":"string","data":"FOO"},"value":{"@data-type":"string","data":"bar"}}]}"#
        ),
    ]

    static func subnet(_ text: String) -> Broker.Subnet {
        guard let subnet = Broker.Subnet(text) else { preconditionFailure("bad subnet literal \(text)") }
        return subnet
    }

    @Test(arguments: canonical)
    func encodesCanonicalText(_ testCase: Case) {
        #expect(Broker.JSON.encode(testCase.value) == testCase.json)
    }

    @Test(arguments: canonical)
    func decodesCanonicalTextBack(_ testCase: Case) throws {
        #expect(try Broker.JSON.decode(testCase.json) == testCase.value)
    }

    @Test func setsAndTablesAreWrittenSortedAndWithoutDuplicates() {
        let set = Broker.Value.set([.string("foo"), .count(3), .string("bar"), .count(3), .none])
        #expect(
            Broker.JSON.encode(set)
                == #"{"@data-type":"set","data":[{"@data-type":"none","data":{}},{"@data-type":"count","data":3},"#
                + #"{"@data-type":"string","data":"bar"},{"@data-type":"string","data":"foo"}]}"#
        )
        let table = Broker.Value.table([
            (key: .string("b"), value: .count(1)), (key: .string("a"), value: .count(2)),
            (key: .string("b"), value: .count(3)),
        ])
        guard case .table(let entries) = table else { return #expect(Bool(false)) }
        #expect(entries.entries.map(\.key) == [.string("a"), .string("b")])
        #expect(entries[key: .string("b")] == .count(3), "the last entry for a repeated key wins")
    }

    @Test func setEqualityIgnoresConstructionOrder() {
        #expect(Broker.Value.set([.count(2), .count(1)]) == Broker.Value.set([.count(1), .count(2), .count(1)]))
    }

    @Test func decodingIgnoresKeyOrderAndWhitespace() throws {
        let reordered = """
             {
              "data" : [ { "data": 1 , "@data-type":"count" } ,
                         {"@data-type" :"string","data":"x"} ] ,
              "@data-type" : "vector"
            }
            """
        #expect(try Broker.JSON.decode(reordered) == .vector([.count(1), .string("x")]))
    }

    @Test func decodingAcceptsWhatZeekAcceptsBeyondWhatItWrites() throws {
        #expect(
            try Broker.JSON.decode(#"{"@data-type":"timespan","data":"2min"}"#)
                == .timespan(Broker.Timespan(.seconds(120)))
        )
        #expect(
            try Broker.JSON.decode(#"{"@data-type":"timespan","data":"1h"}"#)
                == .timespan(Broker.Timespan(.seconds(3600)))
        )
        #expect(
            try Broker.JSON.decode(#"{"@data-type":"timestamp","data":"2022-04-10T09:00:00.5+02:00"}"#)
                == .timestamp(Broker.Timestamp(nanosecondsSinceEpoch: 1_649_574_000_500_000_000))
        )
        #expect(
            try Broker.JSON.decode(#"{"@data-type":"timestamp","data":"2022-04-10T07:00:00Z"}"#)
                == .timestamp(Broker.Timestamp(nanosecondsSinceEpoch: 1_649_574_000_000_000_000))
        )
        #expect(
            try Broker.JSON.decode(#"{"@data-type":"timestamp","data":"2022-04-10T05:30:00.123456789-0130"}"#)
                == .timestamp(Broker.Timestamp(nanosecondsSinceEpoch: 1_649_568_600_123_456_789 + 5_400_000_000_000))
        )
        #expect(try Broker.JSON.decode(#"{"@data-type":"real","data":1}"#) == .real(1))
        #expect(try Broker.JSON.decode(#"{"@data-type":"real","data":1.500000}"#) == .real(1.5))
        #expect(try Broker.JSON.decode(#"{"@data-type":"port","data":"80"}"#) == .port(.tcp(80)))
        #expect(try Broker.JSON.decode(#"{"@data-type":"port","data":"80/sctp"}"#) == .port(Broker.Port(80, .unknown)))
        #expect(try Broker.JSON.decode(#"{"@data-type":"none","data":null}"#) == .none)
        #expect(try Broker.JSON.decode(#"{"@data-type":"none"}"#) == .none)
        #expect(
            try Broker.JSON.decode(#"{"@data-type":"subnet","data":"10.1.2.3/8"}"#)
                == .subnet(Self.subnet("10.0.0.0/8"))
        )
        // Broker's own non-JSON string quirks: \v and raw control bytes.
        #expect(
            try Broker.JSON.decode("{\"@data-type\":\"string\",\"data\":\"a\\vb\u{1}c\"}") == .string("a\u{0B}b\u{1}c")
        )
        #expect(try Broker.JSON.decode(#"{"@data-type":"string","data":"\ud83d\ude00 \u00e9\/"}"#) == .string("😀 é/"))
    }

    @Test func nonFiniteRealsAreWrittenAsZeekWritesThemAndReadBack() throws {
        #expect(Broker.JSON.encode(.real(.infinity)) == #"{"@data-type":"real","data":inf}"#)
        #expect(Broker.JSON.encode(.real(-.infinity)) == #"{"@data-type":"real","data":-inf}"#)
        #expect(try Broker.JSON.decode(#"{"@data-type":"real","data":-inf}"#) == .real(-.infinity))
        guard case .real(let nan) = try Broker.JSON.decode(#"{"@data-type":"real","data":nan}"#) else {
            return #expect(Bool(false))
        }
        #expect(nan.isNaN)
    }

    @Test func realsRoundTripExactly() throws {
        for value in [
            0.1, 1.0 / 3, 123_456_789.123_456_78, .leastNonzeroMagnitude, 1.7976931348623157e308, -2.5e-10, 1e21, 100,
        ] {
            #expect(try Broker.JSON.decode(Broker.JSON.encode(.real(value))) == .real(value))
        }
    }

    @Test func deepValuesRoundTripAndByteVariantsAgree() throws {
        let value: Broker.Value = .table([
            (key: .vector([.address("10.0.0.1"), .port(.tcp(22))]), value: .set([.subnet(Self.subnet("::/0"))])),
            (key: .enumValue("Log::WRITER_ASCII"), value: .vector([.timespan(Broker.Timespan(.milliseconds(3)))])),
        ])
        let text = Broker.JSON.encode(value)
        #expect(try Broker.JSON.decode(text) == value)
        #expect(try Broker.JSON.decode(utf8: Array(text.utf8)) == value)
        #expect(Broker.JSON.encodeUTF8(value) == Array(text.utf8))
    }
}

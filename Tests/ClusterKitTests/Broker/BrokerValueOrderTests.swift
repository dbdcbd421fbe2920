import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// The order of ``Broker/Value`` is a strict total order that agrees with `==` and hashing, NaN included.
@Suite struct BrokerValueOrderTests {
    static let reals: [Double] = [
        -.infinity, -1e300, -1, -.leastNonzeroMagnitude, -0.0, 0.0, .leastNonzeroMagnitude, 0.5, 1, .infinity, .nan,
        -.nan, Double(nan: 7, signaling: false), .signalingNaN,
    ]

    @Test func realsAreStrictlyAndTotallyOrderedWithNaNLast() {
        for a in Self.reals {
            let x = Broker.Value.real(a)
            #expect(!(x < x), "\(a) < \(a)")
            #expect(x == x, "\(a) == \(a)")
            for b in Self.reals {
                let y = Broker.Value.real(b)
                let relations = [x < y, y < x, x == y].filter { $0 }.count
                #expect(relations == 1, "\(a) and \(b): exactly one of <, >, == must hold")
                if x == y { #expect(x.hashValue == y.hashValue, "\(a) and \(b) are equal but hash apart") }
                if a.isNaN && !b.isNaN { #expect(y < x, "NaN sorts after \(b)") }
            }
        }
    }

    @Test func setsWithNaNAndSignedZerosKeepOneOfEach() {
        let set = Broker.ValueSet([
            .real(.nan), .real(1), .real(-0.0), .real(.nan), .real(0.0), .real(-.nan), .real(-1),
        ])
        #expect(set.count == 4)
        #expect(set.elements.first == .real(-1))
        #expect(set.elements[2] == .real(1))
        #expect(set.elements.last.map { if case .real(let last) = $0 { last.isNaN } else { false } } == true)
        #expect(set.contains(.real(.nan)))
        #expect(set.contains(.real(Double(nan: 3, signaling: false))))
        #expect(set.contains(.real(0.0)))
        #expect(set.contains(.real(-0.0)))
        #expect(!set.contains(.real(2)))
        // Built in another order, it is the same set; and Swift's own Set agrees.
        #expect(Broker.ValueSet([.real(-1), .real(.nan), .real(0.0), .real(1)]) == set)
        let hashed: Set<Broker.Value> = [.real(.nan), .real(-.nan), .real(.signalingNaN), .real(0.0), .real(-0.0)]
        #expect(hashed.count == 2)
        // Tables keyed by NaN keep one entry, the last given.
        let table = Broker.ValueTable([(key: .real(.nan), value: "a"), (key: .real(-.nan), value: "b")])
        #expect(table.count == 1)
        #expect(table[key: .real(.nan)] == "b")
    }

    @Test func stringsAreEqualExactlyWhenTheirBytesAre() {
        // Swift's `String ==` merges canonically equivalent spellings; Broker, and this order, do not.
        let composed = Broker.Value.string("\u{E9}")
        let decomposed = Broker.Value.string("e\u{301}")
        #expect(composed != decomposed)
        #expect((composed < decomposed) != (decomposed < composed))
        #expect(Broker.ValueSet([composed, decomposed, composed]).count == 2)
        #expect(Broker.ValueSet([composed, decomposed]).contains(decomposed))
        #expect(Broker.Value.enumValue("\u{E9}") != .enumValue("e\u{301}"))
    }

    @Test func subnetWithAHugePrefixLengthIsRejectedNotATrap() throws {
        #expect(Broker.Subnet("10.0.0.0/9223372036854775807") == nil)
        #expect(Broker.Subnet(Broker.Address(ipv4: 0x0A00_0000), prefixLength: .max) == nil)
        #expect(Broker.Subnet(Broker.Address(ipv4: 0x0A00_0000), prefixLength: .min) == nil)
        let error = try #require(throws: JSONError.self) {
            try Broker.JSON.decode(#"{"@data-type":"subnet","data":"10.0.0.0/9223372036854775807"}"#)
        }
        #expect(error.code == .invalidSubnet)
    }
}

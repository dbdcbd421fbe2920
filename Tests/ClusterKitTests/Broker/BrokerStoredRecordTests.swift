import Foundation
import Testing

@testable import ClusterKitModel

/// ``BrokerStoredRecord``: the encoder reads a conforming struct's stored properties from its memory, and writes
/// exactly what its synthesized `encode(to:)` writes through the bridge.
///
/// Each type here is generic over a marker that is not stored: `Marker == Stored` conforms (conditionally),
/// `Marker == Plain` does not, so the same declaration is encoded both ways and the values compared.
@Suite struct BrokerStoredRecordTests {
    enum Stored {}
    enum Plain {}

    /// Every direct type, and optionals of them, set and `nil`.
    struct Scalars<Marker>: Codable {
        var string = "text"
        var int = -5
        var bool = true
        var double = 2.5
        var uint64: UInt64 = .max
        var int64: Int64 = .min
        var address = Broker.Address(ipv4: 0x0A00_0001)
        var port = Broker.Port(443, .tcp)
        var timespan = Broker.Timespan(.milliseconds(1500))
        var timestamp = Broker.Timestamp(nanosecondsSinceEpoch: 1_700_000_000_123_456_789)
        var subnet: Broker.Subnet
        var value = Broker.Value.vector([.count(1), .string("x")])
        var strings = ["a", "b"]
        var date = Date(timeIntervalSince1970: 1_700_000_000.25)
        var duration = Duration.seconds(3)
        var int32: Int32 = -32
        var uint32: UInt32 = 32
        var uint16: UInt16 = 16
        var uint8: UInt8 = 8
        var uint: UInt = 7
        var int16: Int16 = -16
        var int8: Int8 = -8
        var float: Float = 0.5
        var someString: String? = "set"
        var noString: String?
        var someInt: Int? = 3
        var noInt: Int?
        var someDate: Date? = Date(timeIntervalSince1970: 5)
        var noDate: Date?
        var somePort: Broker.Port? = Broker.Port(53, .udp)
        var noPort: Broker.Port?
        var someValue: Broker.Value? = .boolean(false)
        var noValue: Broker.Value?
        var someStrings: [String]? = []
        var noFloat: Float?
    }

    struct Inner<Marker>: Codable, Hashable, Sendable {
        var name: String
        var weight: UInt8?
    }

    /// Doubles what it holds: a property wrapper is stored as `_name` and written through its own conformance.
    @propertyWrapper struct Doubled: Codable {
        var wrappedValue: Int
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(wrappedValue * 2)
        }
    }

    /// Properties that go through the bridge's general path.
    struct Nested<Marker>: Encodable {
        var inner = Inner<Marker>(name: "one", weight: 1)
        var inners = [Inner<Marker>(name: "two", weight: nil), Inner<Marker>(name: "three", weight: 3)]
        var someInner: Inner<Marker>? = Inner<Marker>(name: "four", weight: nil)
        var noInner: Inner<Marker>?
        var ports: Set<UInt16> = [22]
        var table: [String: [Int]] = ["k": [1, 2]]
        var role = Management.Role.agent
        var result = Management.Result(reqid: "r", success: false, error: "no")
        var matrix: [[Bool]] = [[true], []]
        @Doubled var doubled = 21
        let constant = "fixed"
    }

    struct Failure: Error {
        let path: String
    }

    /// Throws from its `encode(to:)`, naming the path it was asked at.
    struct Failing: Codable {
        func encode(to encoder: any Encoder) throws { throw Failure(path: BrokerCodingPath.text(encoder.codingPath)) }
    }

    struct Throwing<Marker>: Codable {
        var first = 1
        var list = [Inner<Marker>(name: "x", weight: nil)]
        var failing = [Failing(), Failing()]
    }

    @Test func scalarsAreWrittenAsTheirSynthesizedConformanceWritesThem() throws {
        #expect(BrokerStoredLayout(Scalars<Stored>.self) != nil)
        let subnet = try #require(Broker.Subnet("10.0.0.0/8"))
        let stored = try Broker.ValueEncoder().encode(Scalars<Stored>(subnet: subnet))
        let plain = try Broker.ValueEncoder().encode(Scalars<Plain>(subnet: subnet))
        #expect(stored == plain)
        guard case .vector(let fields) = stored else {
            Issue.record("not a record: \(stored)")
            return
        }
        #expect(fields.count == 35)
        #expect(fields.prefix(3) == [.string("text"), .integer(-5), .boolean(true)])
        #expect(fields[4] == .count(.max))
        #expect(fields[13] == .timestamp(Broker.Timestamp(nanosecondsSinceEpoch: 1_700_000_000_250_000_000)))
        #expect(fields[22] == .real(0.5))
        #expect(Array(fields[23...26]) == [.string("set"), .none, .integer(3), .none])
        #expect(fields[33] == .vector([]))
        #expect(fields[34] == .none)
    }

    @Test func nestedPropertiesGoThroughTheBridge() throws {
        #expect(BrokerStoredLayout(Nested<Stored>.self) != nil)
        let stored = try Broker.ValueEncoder().encode(Nested<Stored>())
        #expect(stored == (try Broker.ValueEncoder().encode(Nested<Plain>())))
        guard case .vector(let fields) = stored else {
            Issue.record("not a record: \(stored)")
            return
        }
        #expect(fields[0] == .vector([.string("one"), .count(1)]))
        #expect(fields[3] == .none)
        #expect(fields[6] == Management.Role.agent.brokerValue)
        #expect(fields[9] == .integer(42))
        #expect(fields[10] == .string("fixed"))
        // Nested in a plain type, and in collections, stored records are written the same way.
        let list = [Nested<Stored>(), Nested<Stored>()]
        #expect(try Broker.ValueEncoder().encode(list) == .vector([stored, stored]))
        let table = Broker.ValueTable([(.string("a"), stored)])
        #expect(try Broker.ValueEncoder().encode(["a": Nested<Stored>()]) == .table(table))
    }

    @Test func aThrowingPropertyFailsWithThePathItWasAskedAt() {
        for encode in [
            { try Broker.ValueEncoder().encode(Throwing<Stored>()) },
            { try Broker.ValueEncoder().encode(Throwing<Plain>()) },
        ] {
            #expect {
                _ = try encode()
            } throws: { error in
                (error as? Failure)?.path == "failing[0]"
            }
        }
        // The stored path keeps working after a failure.
        #expect((try? Broker.ValueEncoder().encode(Nested<Stored>())) != nil)
    }

    final class Reference: Codable {
        var count = 1
    }

    final class StoredClass: Codable, BrokerStoredRecord {
        var count = 2
    }

    struct WithReference: Codable, BrokerStoredRecord {
        var reference = Reference()
        var name = "r"
    }

    struct WithWeak: Codable, BrokerStoredRecord {
        weak var reference: Reference?
        var name = "w"
    }

    struct WithLazy: Codable, BrokerStoredRecord {
        var name = "l"
        lazy var length = name.count
        enum CodingKeys: CodingKey { case name }
    }

    struct WithClosure: Encodable, BrokerStoredRecord {
        var name = "c"
        var callback: @Sendable () -> Void = {}
        enum CodingKeys: CodingKey { case name }
    }

    @Test func typesThatCannotBeReadByValueGoThroughTheirEncodeTo() throws {
        #expect(BrokerStoredLayout(StoredClass.self) == nil)
        #expect(BrokerStoredLayout(WithReference.self) == nil)
        #expect(BrokerStoredLayout(WithWeak.self) == nil)
        #expect(BrokerStoredLayout(WithLazy.self) == nil)
        #expect(BrokerStoredLayout(WithClosure.self) == nil)
        let encoder = Broker.ValueEncoder()
        #expect(try encoder.encode(StoredClass()) == .vector([.integer(2)]))
        #expect(try encoder.encode(WithReference()) == .vector([.vector([.integer(1)]), .string("r")]))
        let strong = Reference()
        var weak = WithWeak()
        weak.reference = strong
        #expect(try encoder.encode(weak) == .vector([.vector([.integer(1)]), .string("w")]))
        withExtendedLifetime(strong) {}
        // (Through `encode(to:)`, the bridge places the lazy property's storage, a `nil` until read, as `none`.)
        #expect(try encoder.encode(WithLazy()) == .vector([.string("l"), .none]))
        #expect(try encoder.encode(WithClosure()) == .vector([.string("c")]))
    }

    struct Generic<Element: Codable & Sendable>: Codable, Sendable, BrokerStoredRecord {
        var element: Element
        var count: Int
    }

    @Test func typesTakenInTurnKeepTheirOwnLayouts() async throws {
        // The encoder remembers the last layout asked for; types in turn, and from several tasks at once, must each
        // get their own.
        let strings = Generic(element: "s", count: 1)
        let numbers = Generic(element: 9 as UInt16, count: 2)
        let inner = Inner<Stored>(name: "i", weight: 4)
        let expected: [Broker.Value] = [
            .vector([.string("s"), .integer(1)]),
            .vector([.count(9), .integer(2)]),
            .vector([.string("i"), .count(4)]),
        ]
        try await withThrowingTaskGroup(of: [Broker.Value].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var seen: [Broker.Value] = []
                    for _ in 0..<200 {
                        let encoder = Broker.ValueEncoder()
                        seen = [try encoder.encode(strings), try encoder.encode(numbers), try encoder.encode(inner)]
                        if seen != expected { break }
                    }
                    return seen
                }
            }
            for try await seen in group { #expect(seen == expected) }
        }
    }
}

extension BrokerStoredRecordTests.Scalars: BrokerStoredRecord where Marker == BrokerStoredRecordTests.Stored {}
extension BrokerStoredRecordTests.Inner: BrokerStoredRecord where Marker == BrokerStoredRecordTests.Stored {}
extension BrokerStoredRecordTests.Nested: BrokerStoredRecord where Marker == BrokerStoredRecordTests.Stored {}
extension BrokerStoredRecordTests.Throwing: BrokerStoredRecord where Marker == BrokerStoredRecordTests.Stored {}

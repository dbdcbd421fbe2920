import Foundation
import Testing

@testable import ClusterKitModel

/// The Codable bridge's less common paths.
///
/// Hand-written `encode(to:)` and `init(from:)` with nested containers, repeated keys, keys asked out of order,
/// superclass coders, the coding paths a type sees, and the errors of collections: they pin what the bridge does, so
/// that its faster paths keep doing it.
@Suite struct BrokerCodableEdgeTests {
    /// The coding paths the probes saw, as the bridge names them.
    static let seenPaths = Guarded<[String]>([])

    /// Records the coding path it is encoded or decoded at.
    struct PathProbe: Codable, Equatable {
        var tag: String

        init(tag: String) { self.tag = tag }

        init(from decoder: any Decoder) throws {
            BrokerCodableEdgeTests.seenPaths.withLock {
                $0.append("decode " + BrokerCodingPath.text(decoder.codingPath))
            }
            tag = try decoder.singleValueContainer().decode(String.self)
        }

        func encode(to encoder: any Encoder) throws {
            BrokerCodableEdgeTests.seenPaths.withLock {
                $0.append("encode " + BrokerCodingPath.text(encoder.codingPath))
            }
            var container = encoder.singleValueContainer()
            try container.encode(tag)
        }
    }

    struct Inner: Codable, Equatable {
        var probe: PathProbe
    }

    struct Outer: Codable, Equatable {
        var items: [Inner]
        var named: [String: Inner]
        var optional: Inner?
    }

    @Test func typesSeeTheirCodingPaths() throws {
        Self.seenPaths.withLock { $0 = [] }
        let outer = Outer(
            items: [Inner(probe: .init(tag: "a")), Inner(probe: .init(tag: "b"))],
            named: ["k": Inner(probe: .init(tag: "c"))],
            optional: Inner(probe: .init(tag: "d"))
        )
        let value = try Broker.ValueEncoder().encode(outer)
        #expect(
            value
                == .vector([
                    .vector([.vector([.string("a")]), .vector([.string("b")])]),
                    .table(Broker.ValueTable([(.string("k"), .vector([.string("c")]))])),
                    .vector([.string("d")]),
                ])
        )
        #expect(try Broker.ValueDecoder().decode(Outer.self, from: value) == outer)
        let paths = Self.seenPaths.withLock { $0 }
        #expect(
            paths == [
                "encode items[0].probe", "encode items[1].probe", "encode named.string(\"k\").probe",
                "encode optional.probe",
                "decode items[0].probe", "decode items[1].probe", "decode named.string(\"k\").probe",
                "decode optional.probe",
            ]
        )
    }

    struct Nesting: Codable, Equatable {
        var a: Int
        var inner: (x: Bool, y: Double)
        var list: [String]
        var b: String

        enum Keys: String, CodingKey { case a, inner, list, b }
        enum InnerKeys: String, CodingKey { case x, y }

        init(a: Int, inner: (x: Bool, y: Double), list: [String], b: String) {
            self.a = a
            self.inner = inner
            self.list = list
            self.b = b
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            a = try container.decode(Int.self, forKey: .a)
            let nested = try container.nestedContainer(keyedBy: InnerKeys.self, forKey: .inner)
            inner = (try nested.decode(Bool.self, forKey: .x), try nested.decode(Double.self, forKey: .y))
            var unkeyed = try container.nestedUnkeyedContainer(forKey: .list)
            var list: [String] = []
            while !unkeyed.isAtEnd { list.append(try unkeyed.decode(String.self)) }
            self.list = list
            b = try container.decode(String.self, forKey: .b)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(a, forKey: .a)
            // Nested containers are filled after later keys are written: each keeps its place.
            var nested = container.nestedContainer(keyedBy: InnerKeys.self, forKey: .inner)
            var unkeyed = container.nestedUnkeyedContainer(forKey: .list)
            try container.encode(b, forKey: .b)
            try nested.encode(inner.x, forKey: .x)
            try nested.encode(inner.y, forKey: .y)
            for item in list { try unkeyed.encode(item) }
        }

        static func == (lhs: Nesting, rhs: Nesting) -> Bool {
            lhs.a == rhs.a && lhs.inner == rhs.inner && lhs.list == rhs.list && lhs.b == rhs.b
        }
    }

    @Test func nestedContainersKeepTheirPlaces() throws {
        let nesting = Nesting(a: 1, inner: (true, 2.5), list: ["p", "q"], b: "z")
        let value = try Broker.ValueEncoder().encode(nesting)
        #expect(
            value
                == .vector([
                    .integer(1), .vector([.boolean(true), .real(2.5)]), .vector([.string("p"), .string("q")]),
                    .string("z"),
                ])
        )
        #expect(try Broker.ValueDecoder().decode(Nesting.self, from: value) == nesting)
        // Twice in a row, as the second run may take other paths than the first.
        #expect(try Broker.ValueEncoder().encode(nesting) == value)
        #expect(try Broker.ValueDecoder().decode(Nesting.self, from: value) == nesting)
    }

    struct Repeating: Encodable {
        enum Keys: String, CodingKey { case a, b }
        var rewrite: Bool

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .a)
            try container.encode("two", forKey: .b)
            if rewrite { try container.encode(3, forKey: .a) }
        }
    }

    @Test func aKeyWrittenTwiceKeepsItsFirstPlaceAndTheLastValue() throws {
        for _ in 0..<2 {
            #expect(try Broker.ValueEncoder().encode(Repeating(rewrite: false)) == .vector([.integer(1), "two"]))
            #expect(try Broker.ValueEncoder().encode(Repeating(rewrite: true)) == .vector([.integer(3), "two"]))
        }
    }

    struct Renamed: Codable, Equatable {
        var first: String
        var middle: Int?
        var last: Bool

        enum CodingKeys: String, CodingKey {
            case first = "First"
            case middle = "Middle"
            case last = "Last"
        }

        init(first: String, middle: Int?, last: Bool) {
            self.first = first
            self.middle = middle
            self.last = last
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(first, forKey: .first)
            if let middle { try container.encode(middle, forKey: .middle) }
            try container.encode(last, forKey: .last)
        }
    }

    @Test func renamedKeysThatSkipANilAreWrittenInOrderWithNoneInItsPlace() throws {
        for _ in 0..<2 {
            let skipped = try Broker.ValueEncoder().encode(Renamed(first: "a", middle: nil, last: true))
            #expect(skipped == .vector([.string("a"), .none, .boolean(true)]))
            let full = try Broker.ValueEncoder().encode(Renamed(first: "a", middle: 4, last: false))
            #expect(full == .vector([.string("a"), .integer(4), .boolean(false)]))
            #expect(
                try Broker.ValueDecoder().decode(Renamed.self, from: skipped)
                    == .init(first: "a", middle: nil, last: true)
            )
        }
    }

    struct Backwards: Decodable, Equatable {
        var a: String
        var b: Int
        var c: Bool?

        enum CodingKeys: String, CodingKey { case a, b, c }

        init(a: String, b: Int, c: Bool?) {
            self.a = a
            self.b = b
            self.c = c
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Asked b first: b is the first field. `contains` and then `decode` ask for a key twice.
            b = try container.decode(Int.self, forKey: .b)
            #expect(container.contains(.a))
            a = try container.decode(String.self, forKey: .a)
            c = try container.decodeNil(forKey: .c) ? nil : try container.decode(Bool.self, forKey: .c)
            #expect(container.allKeys.isEmpty)
        }
    }

    @Test func keysAreFieldsInTheOrderFirstAskedFor() throws {
        for _ in 0..<2 {
            let value: Broker.Value = .vector([.integer(7), .string("x"), .none])
            #expect(try Broker.ValueDecoder().decode(Backwards.self, from: value) == .init(a: "x", b: 7, c: nil))
            let short: Broker.Value = .vector([.integer(7), .string("x")])
            #expect(try Broker.ValueDecoder().decode(Backwards.self, from: short) == .init(a: "x", b: 7, c: nil))
            let full: Broker.Value = .vector([.integer(7), .string("x"), .boolean(true), .string("extra")])
            #expect(try Broker.ValueDecoder().decode(Backwards.self, from: full) == .init(a: "x", b: 7, c: true))
        }
    }

    class Base: Codable {
        var name: String
        init(name: String) { self.name = name }
    }

    final class Derived: Base {
        var extra: Int

        enum Keys: String, CodingKey { case extra }

        init(name: String, extra: Int) {
            self.extra = extra
            super.init(name: name)
        }

        required init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            extra = try container.decode(Int.self, forKey: .extra)
            try super.init(from: container.superDecoder())
        }

        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(extra, forKey: .extra)
            try super.encode(to: container.superEncoder())
        }
    }

    @Test func aSuperclassIsANestedRecord() throws {
        let value = try Broker.ValueEncoder().encode(Derived(name: "n", extra: 3))
        #expect(value == .vector([.integer(3), .vector([.string("n")])]))
        let back = try Broker.ValueDecoder().decode(Derived.self, from: value)
        #expect(back.name == "n" && back.extra == 3)
    }

    enum Action: Codable, Equatable {
        case drop(reason: String)
        case allow
    }

    enum Level: String, Codable { case low, high }
    enum Code: Int, Codable { case one = 1 }

    @Test func enumsAndSingleValues() throws {
        let encoder = Broker.ValueEncoder()
        #expect(try encoder.encode(Action.drop(reason: "x")) == .vector([.vector([.string("x")])]))
        #expect(try encoder.encode(Action.allow) == .vector([.vector([])]))
        // Record fields have no names to tell the cases apart by.
        #expect(throws: (any Error).self) {
            try Broker.ValueDecoder().decode(Action.self, from: .vector([.vector([.string("x")])]))
        }
        #expect(try encoder.encode([Level.high]) == .vector([.string("high")]))
        #expect(try encoder.encode(Code.one) == .integer(1))
        #expect(try Broker.ValueDecoder().decode(Level.self, from: "low") == .low)
        #expect(try Broker.ValueDecoder().decode(Code.self, from: .count(1)) == .one)
        #expect(try encoder.encode(Int?.some(3)) == .integer(3))
        #expect(try encoder.encode([1, nil] as [Int?]) == .vector([.integer(1), .none]))
        #expect(try Broker.ValueDecoder().decode([Int?].self, from: .vector([.none, .count(2)])) == [nil, 2])
        #expect(try encoder.encode(Int8(-3)) == .integer(-3))
        #expect(try encoder.encode(UInt16(9)) == .count(9))
        #expect(try encoder.encode(Float(1.5)) == .real(1.5))
        #expect(try encoder.encode([UInt8(1), 2]) == .vector([.count(1), .count(2)]))
        #expect(try encoder.encode(Duration.seconds(2)) == .timespan(Broker.Timespan(.seconds(2))))
        #expect(try encoder.encode(Broker.Value.string("v")) == .string("v"))
        #expect(try encoder.encode(["s"]) == .vector(["s"]))
        #expect(try encoder.encode([Broker.Port(1, .tcp)]) == .vector([.port(Broker.Port(1, .tcp))]))
        #expect(try encoder.encode([Management.State.running]) == .vector([.enumValue("Management::RUNNING")]))
        #expect(try Broker.ValueDecoder().decode(Float.self, from: .real(0.5)) == 0.5)
        #expect(
            try Broker.ValueDecoder().decode([String].self, from: .set(Broker.ValueSet(["b", "a"]))) == ["a", "b"]
        )
        #expect(try Broker.ValueDecoder().decode(Broker.Value.self, from: .count(1)) == .count(1))
        #expect(try Broker.ValueDecoder().decode(Broker.Value.self, from: .none) == .none)
    }

    struct Fields: Codable, Equatable {
        var name: String
        var any: Broker.Value
        var maybe: Broker.Value?
        var address: Broker.Address
        var tags: [String]
        var ports: Set<UInt16>
        var limits: [String: Int8]
        var count: Int
        var small: UInt8
        var state: Management.State?
        var when: Date?
    }

    static let fields: Broker.Value = .vector([
        "n", .count(1), .none, .address(Broker.Address(ipv4: 1)), .vector(["t"]), .set(Broker.ValueSet([.count(1)])),
        .table(Broker.ValueTable([("k", .integer(1))])), .count(5), .integer(6), .enumValue("Management::RUNNING"),
        .none,
    ])

    /// `fields` with one field replaced.
    static func fields(_ index: Int, _ value: Broker.Value) -> Broker.Value {
        guard case .vector(var elements) = fields else { return fields }
        elements[index] = value
        return .vector(elements)
    }

    static func decodingError(_ value: Broker.Value) -> String? {
        do {
            _ = try Broker.ValueDecoder().decode(Fields.self, from: value)
            return nil
        } catch let error as Broker.ConversionError {
            return "\(error.code.rawValue) \(error)"
        } catch {
            return "other \(error)"
        }
    }

    @Test func errorsNameTheFieldAndKeepTheirCodes() throws {
        for _ in 0..<2 {
            let decoded = try Broker.ValueDecoder().decode(Fields.self, from: Self.fields)
            #expect(decoded.any == .count(1) && decoded.maybe == nil && decoded.count == 5 && decoded.small == 6)
            // A count read as an Int is written as an int, an int read as a UInt8 as a count.
            guard case .vector(var written) = Self.fields else { return }
            written[7] = .integer(5)
            written[8] = .count(6)
            #expect(try Broker.ValueEncoder().encode(decoded) == .vector(written))
            let cases: [(Int, Broker.Value, String)] = [
                (0, .none, "missingField name: the field is not set"),
                (0, .count(1), "typeMismatch name: expected string, got count"),
                (1, .none, "missingField any: the field is not set"),
                (3, "x", "typeMismatch address: expected address, got string"),
                (4, .vector(["t", .count(2)]), "typeMismatch tags[1]: expected string, got count"),
                (4, "t", "typeMismatch tags: expected vector, got string"),
                (5, .set(Broker.ValueSet(["x"])), "typeMismatch ports[0]: expected count, got string"),
                (5, .vector([.count(1)]), "typeMismatch ports: expected set, got vector"),
                (
                    6, .table(Broker.ValueTable([("k", .integer(300))])),
                    "invalidValue limits.string(\"k\"): {\"@data-type\":\"integer\",\"data\":300} does not fit in Int8"
                ),
                (
                    6, .table(Broker.ValueTable([(.count(1), .integer(3))])),
                    "typeMismatch limits.key: expected string, got count"
                ),
                (
                    7, .count(UInt64.max),
                    "invalidValue count: {\"@data-type\":\"count\",\"data\":18446744073709551615} does not fit in Int"
                ),
                (8, .integer(-1), "invalidValue small: {\"@data-type\":\"integer\",\"data\":-1} does not fit in UInt8"),
                (9, .enumValue("X"), "invalidValue state: unknown Management::State value 'X'"),
                (10, .count(1), "typeMismatch when: expected time, got count"),
            ]
            for (index, value, expected) in cases {
                #expect(Self.decodingError(Self.fields(index, value)) == expected)
            }
            #expect(Self.decodingError("x") == "typeMismatch expected record (vector), got string")
            #expect(Self.decodingError(.vector(["n"])) == "missingField any: the field is not set")
        }
    }

    struct Reading: Decodable {
        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            _ = try container.decode(Int.self)
            _ = try container.decode(Int.self)
        }
    }

    @Test func anUnkeyedContainerPastItsEndNamesTheElement() {
        let error = #expect(throws: Broker.ConversionError.self) {
            try Broker.ValueDecoder().decode([Reading].self, from: .vector([.vector([.count(1)])]))
        }
        #expect(error?.code == .tooFewFields)
        #expect(error?.description == "[0][1]: no element 1: the vector has 1")
    }

    struct Failing: Codable {
        struct Oops: Error, Equatable {}
        func encode(to encoder: any Encoder) throws { throw Oops() }
        init(from decoder: any Decoder) throws { throw Oops() }
        init() {}
    }

    @Test func anErrorOfTheTypesOwnPassesThrough() {
        #expect(throws: Failing.Oops()) { try Broker.ValueEncoder().encode([[Failing()]]) }
        #expect(throws: Failing.Oops()) { try Broker.ValueDecoder().decode([Failing].self, from: .vector([.none])) }
    }

    struct Flipping: Codable, Equatable {
        var a: Int
        var b: String
        var flip: Bool

        enum CodingKeys: String, CodingKey { case a, b, flip }

        init(a: Int, b: String, flip: Bool) {
            self.a = a
            self.b = b
            self.flip = flip
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // The order of the keys asked depends on the first field.
            flip = try container.decode(Bool.self, forKey: .flip)
            if flip {
                b = try container.decode(String.self, forKey: .b)
                a = try container.decode(Int.self, forKey: .a)
            } else {
                a = try container.decode(Int.self, forKey: .a)
                b = try container.decode(String.self, forKey: .b)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(flip, forKey: .flip)
            if flip {
                try container.encode(b, forKey: .b)
                try container.encode(a, forKey: .a)
            } else {
                try container.encode(a, forKey: .a)
                try container.encode(b, forKey: .b)
            }
        }
    }

    @Test func aTypeWhoseKeysComeInAnotherOrderForAnotherValueGetsThemInThatOrder() throws {
        let values = [
            Flipping(a: 1, b: "x", flip: false), Flipping(a: 2, b: "y", flip: true),
            Flipping(a: 3, b: "z", flip: false),
        ]
        let encoded = try Broker.ValueEncoder().encode(values)
        #expect(
            encoded
                == .vector([
                    .vector([.boolean(false), .integer(1), "x"]), .vector([.boolean(true), "y", .integer(2)]),
                    .vector([.boolean(false), .integer(3), "z"]),
                ])
        )
        #expect(try Broker.ValueDecoder().decode([Flipping].self, from: encoded) == values)
    }

    /// Keeps the decoder it was given, to read from it later.
    struct Keeper: Decodable {
        let decoder: any Decoder
        init(from decoder: any Decoder) throws { self.decoder = decoder }
        var text: String? { try? decoder.singleValueContainer().decode(String.self) }
        var path: String { BrokerCodingPath.text(decoder.codingPath) }
    }

    @Test func aDecoderATypeKeepsIsNotLentAgain() throws {
        let keepers = try Broker.ValueDecoder().decode([Keeper].self, from: .vector(["a", "b", "c"]))
        #expect(keepers.map(\.text) == ["a", "b", "c"])
        #expect(keepers.map(\.path) == ["[0]", "[1]", "[2]"])
    }

    @Test func manyTasksEncodeAndDecodeTheSameNewTypesAtOnce() async throws {
        struct Port: Codable, Equatable, Sendable {
            var number: UInt16
            var proto: String
        }
        struct Fresh: Codable, Equatable, Sendable {
            var name: String
            var inner: [Port]
            var when: Broker.Timestamp?
        }
        let value = Fresh(name: "n", inner: [Port(number: 1, proto: "tcp")], when: nil)
        let expected: Broker.Value = .vector(["n", .vector([.vector([.count(1), "tcp"])]), .none])
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<50 {
                        let encoded = try Broker.ValueEncoder().encode(value)
                        guard encoded == expected, try Broker.ValueDecoder().decode(Fresh.self, from: encoded) == value
                        else { return false }
                    }
                    return true
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    /// Weak references to the coders the `Watched` values were given.
    static let watchedCoders = Guarded<[WeakCoder]>([])

    final class WeakCoder: @unchecked Sendable {
        // Written once, read after the coders are gone; the list it is in is behind a lock.
        weak var coder: AnyObject?
        init(_ coder: AnyObject) { self.coder = coder }
    }

    /// A record with records below it, a nested container and a superclass-style coder, that may fail.
    struct Watched: Codable {
        struct Failure: Error {}
        var children: [Watched]
        var fails: Bool

        enum CodingKeys: String, CodingKey { case children, fails, extra }
        enum ExtraKeys: String, CodingKey { case x }

        init(children: [Watched], fails: Bool) {
            self.children = children
            self.fails = fails
        }

        init(from decoder: any Decoder) throws {
            BrokerCodableEdgeTests.watchedCoders.withLock { $0.append(WeakCoder(decoder as AnyObject)) }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            children = try container.decode([Watched].self, forKey: .children)
            fails = try container.decode(Bool.self, forKey: .fails)
            let extra = try container.nestedContainer(keyedBy: ExtraKeys.self, forKey: .extra)
            _ = try extra.decode(Int.self, forKey: .x)
            if fails { throw Failure() }
        }

        func encode(to encoder: any Encoder) throws {
            BrokerCodableEdgeTests.watchedCoders.withLock { $0.append(WeakCoder(encoder as AnyObject)) }
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(children, forKey: .children)
            try container.encode(fails, forKey: .fails)
            var extra = container.nestedContainer(keyedBy: ExtraKeys.self, forKey: .extra)
            if fails { throw Failure() }
            try extra.encode(1, forKey: .x)
        }
    }

    @Test func theCodersAreGoneWhenTheValueIsDoneOrFailed() throws {
        Self.watchedCoders.withLock { $0 = [] }
        let tree = Watched(
            children: [Watched(children: [], fails: false), Watched(children: [], fails: false)],
            fails: false
        )
        let value = try Broker.ValueEncoder().encode(tree)
        _ = try Broker.ValueDecoder().decode(Watched.self, from: value)
        let failing = Watched(children: [Watched(children: [], fails: true)], fails: false)
        #expect(throws: Watched.Failure.self) { try Broker.ValueEncoder().encode(failing) }
        let failingValue: Broker.Value = .vector([
            .vector([.vector([.vector([]), .boolean(true), .vector([.count(1)])])]), .boolean(false),
            .vector([.count(1)]),
        ])
        #expect(throws: Watched.Failure.self) { try Broker.ValueDecoder().decode(Watched.self, from: failingValue) }
        let coders = Self.watchedCoders.withLock { $0 }
        #expect(coders.count == 10)
        #expect(coders.allSatisfy { $0.coder == nil })
    }
}

import Foundation
import Testing

@testable import ClusterKitModel

/// The Codable bridge: Swift types to Broker values as Zeek's types map, and back.
@Suite struct BrokerCodableTests {
    struct Port: Codable, Hashable {
        var number: UInt16
        var proto: String
    }

    struct Rule: Codable, Hashable {
        var id: String
        var priority: Int
        var comment: String?
        var enabled: Bool
        var ratio: Double
        var hits: UInt64
        var tags: [String]
        var ports: Set<UInt16>
        var limits: [String: Int]
        var created: Date
        var timeout: Duration
        var state: Management.State
        var address: Broker.Address
        var target: Port
    }

    static let created = Date(timeIntervalSince1970: 1_700_000_000.25)

    static func rule(comment: String? = nil) -> Rule {
        Rule(
            id: "r1",
            priority: -5,
            comment: comment,
            enabled: true,
            ratio: 0.5,
            hits: 7,
            tags: ["a", "b"],
            ports: [443, 80],
            limits: ["x": 1, "y": 2],
            created: created,
            timeout: .seconds(90),
            state: .running,
            address: Broker.Address(ipv4: 0x0A00_0001),
            target: Port(number: 22, proto: "tcp")
        )
    }

    static func value(comment: Broker.Value = .none) -> Broker.Value {
        .vector([
            .string("r1"), .integer(-5), comment, .boolean(true), .real(0.5), .count(7),
            .vector([.string("a"), .string("b")]),
            .set(Broker.ValueSet([.count(80), .count(443)])),
            .table(Broker.ValueTable([(.string("x"), .integer(1)), (.string("y"), .integer(2))])),
            .timestamp(Broker.Timestamp(nanosecondsSinceEpoch: 1_700_000_000_250_000_000)),
            .timespan(Broker.Timespan(.seconds(90))),
            .enumValue("Management::RUNNING"),
            .address(Broker.Address(ipv4: 0x0A00_0001)),
            .vector([.count(22), .string("tcp")]),
        ])
    }

    @Test func aStructIsARecordInDeclarationOrderWithNoneForAnUnsetOptional() throws {
        #expect(try Broker.ValueEncoder().encode(Self.rule()) == Self.value())
        #expect(try Broker.ValueEncoder().encode(Self.rule(comment: "hi")) == Self.value(comment: .string("hi")))
    }

    @Test func decodingGivesTheValueBack() throws {
        for rule in [Self.rule(), Self.rule(comment: "hi")] {
            let value = try Broker.ValueEncoder().encode(rule)
            #expect(try Broker.ValueDecoder().decode(Rule.self, from: value) == rule)
            // And through Broker's JSON, as it travels.
            let text = Broker.JSON.encode(value)
            let back = try Broker.JSON.decode(utf8: Array(text.utf8))
            #expect(try Broker.ValueDecoder().decode(Rule.self, from: back) == rule)
        }
    }

    @Test func handWrittenRecordsAndBrokerScalarsKeepTheirOwnForm() throws {
        let result = Management.Result(reqid: "x", success: false, instance: "agent-1", error: "no", node: "w1")
        #expect(try Broker.ValueEncoder().encode(result) == result.brokerValue)
        #expect(try Broker.ValueEncoder().encode([result]) == .vector([result.brokerValue]))
        #expect(try Broker.ValueDecoder().decode(Management.Result.self, from: result.brokerValue) == result)
        #expect(try Broker.ValueEncoder().encode(Broker.Port(53, .udp)) == .port(Broker.Port(53, .udp)))
    }

    @Test func aRecordFromAnOlderZeekWithFewerFieldsLeavesTrailingOptionalsNil() throws {
        struct Versioned: Codable, Equatable {
            var name: String
            var added: Int?
        }
        #expect(try Broker.ValueDecoder().decode(Versioned.self, from: .vector([.string("n")])) == .init(name: "n"))
        let error = #expect(throws: Broker.ConversionError.self) {
            try Broker.ValueDecoder().decode(Versioned.self, from: .vector([]))
        }
        #expect(error?.code == .missingField)
        #expect(error?.description == "name: the field is not set")
    }

    @Test func errorsNameTheFieldPath() throws {
        struct Rules: Codable {
            var rules: [Port]
        }
        let value: Broker.Value = .vector([
            .vector([.vector([.count(1), .string("tcp")]), .vector([.string("22"), .string("tcp")])])
        ])
        let error = #expect(throws: Broker.ConversionError.self) {
            try Broker.ValueDecoder().decode(Rules.self, from: value)
        }
        #expect(error?.code == .typeMismatch)
        #expect(error?.description == "rules[1].number: expected count, got string")

        let range = #expect(throws: Broker.ConversionError.self) {
            try Broker.ValueDecoder().decode(Port.self, from: .vector([.count(70_000), .string("tcp")]))
        }
        #expect(range?.code == .invalidValue)
        #expect(range?.description == "number: {\"@data-type\":\"count\",\"data\":70000} does not fit in UInt16")

        let enumError = #expect(throws: Broker.ConversionError.self) {
            try Broker.ValueDecoder().decode([Management.State].self, from: .vector([.enumValue("X::Y")]))
        }
        #expect(enumError?.description.hasPrefix("[0]: ") == true)
    }

    @Test func countsAndIntegersConvertWhenTheyFit() throws {
        #expect(try Broker.ValueDecoder().decode(Int.self, from: .count(5)) == 5)
        #expect(try Broker.ValueDecoder().decode(UInt8.self, from: .integer(5)) == 5)
        #expect(throws: Broker.ConversionError.self) {
            try Broker.ValueDecoder().decode(UInt8.self, from: .integer(-1))
        }
        #expect(throws: Broker.ConversionError.self) { try Broker.ValueDecoder().decode(Double.self, from: .count(1)) }
    }

    @Test func aHandWrittenEncodeThatSkipsNilKeysStillPlacesEveryField() throws {
        struct Skipping: Codable, Equatable {
            var first: String
            var middle: Int?
            var last: Bool

            enum CodingKeys: String, CodingKey { case first, middle, last }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(first, forKey: .first)
                if let middle { try container.encode(middle, forKey: .middle) }
                try container.encode(last, forKey: .last)
            }
        }
        let value = try Broker.ValueEncoder().encode(Skipping(first: "a", middle: nil, last: true))
        #expect(value == .vector([.string("a"), .none, .boolean(true)]))
        #expect(try Broker.ValueDecoder().decode(Skipping.self, from: value) == Skipping(first: "a", last: true))
    }

    @Test func optionalsSetsAndTablesAtTheTop() throws {
        let encoder = Broker.ValueEncoder()
        #expect(try encoder.encode(Int?.none) == .none)
        #expect(try encoder.encode(Set(["b", "a"])) == .set(Broker.ValueSet([.string("a"), .string("b")])))
        #expect(try encoder.encode([1: "one"]) == .table(Broker.ValueTable([(.integer(1), .string("one"))])))
        #expect(try Broker.ValueDecoder().decode([Int: String].self, from: encoder.encode([1: "one"])) == [1: "one"])
        #expect(throws: Broker.ConversionError.self) {
            try Broker.ValueDecoder().decode(Set<UInt8>.self, from: .vector([.count(1)]))
        }
    }
}

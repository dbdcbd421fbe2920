import Testing

@testable import ClusterKitModel

/// The `Array`, `Set` and `Dictionary` conversions, which are inlinable so that other modules specialize them.
@Suite struct BrokerContainerConversionTests {
    @Test func arraysReadVectorsAndSetsInOrder() throws {
        #expect(try [String](brokerValue: .vector(["b", "a", "c"])) == ["b", "a", "c"])
        #expect(try [String](brokerValue: .set(["b", "a", "c"])) == ["a", "b", "c"])
        #expect(try [UInt64](brokerValue: .vector([])) == [])
        #expect(try [[String]](brokerValue: .vector([.vector(["x"]), .vector([])])) == [["x"], []])
    }

    @Test func arrayErrorsNameTheElement() {
        let error = #expect(throws: Broker.ConversionError.self) {
            try [String](brokerValue: .vector(["a", "b", .count(3)]))
        }
        #expect(error?.code == .typeMismatch)
        #expect(error?.path == ["[2]"])
        #expect(error?.description == "[2]: expected string, got count")

        let nested = #expect(throws: Broker.ConversionError.self) {
            try [[String]](brokerValue: .vector([.vector(["a"]), .vector(["b", true])]))
        }
        #expect(nested?.path == ["[1]", "[1]"])

        let notVector = #expect(throws: Broker.ConversionError.self) { try [String](brokerValue: "a") }
        #expect(notVector?.description == "expected vector, got string")
    }

    @Test func arraysWriteVectors() {
        #expect(["a", "b"].brokerValue == .vector(["a", "b"]))
        #expect([String]().brokerValue == .vector([]))
    }

    @Test func setsReadSetsAndVectors() throws {
        #expect(try Set<String>(brokerValue: .set(["a", "b"])) == ["a", "b"])
        #expect(try Set<String>(brokerValue: .vector(["a", "b", "a"])) == ["a", "b"])
        let error = #expect(throws: Broker.ConversionError.self) {
            try Set<String>(brokerValue: .set(["a", .count(1)]))
        }
        #expect(error?.code == .typeMismatch)
        #expect(error?.path.count == 1)
        let notSet = #expect(throws: Broker.ConversionError.self) { try Set<String>(brokerValue: .count(1)) }
        #expect(notSet?.description == "expected set, got count")
        #expect(Set(["b", "a"]).brokerValue == .set(["a", "b"]))
    }

    @Test func dictionariesReadTablesAndNameTheBadKey() throws {
        let table = Broker.Value.table(Broker.ValueTable([(key: "a", value: .count(1)), (key: "b", value: .count(2))]))
        #expect(try [String: UInt64](brokerValue: table) == ["a": 1, "b": 2])
        #expect(["b": UInt64(2), "a": 1].brokerValue == table)

        let bad = Broker.Value.table(Broker.ValueTable([(key: "a", value: "x")]))
        let error = #expect(throws: Broker.ConversionError.self) { try [String: UInt64](brokerValue: bad) }
        // The key is named in Broker's JSON form, which shows its type as well as its value.
        #expect(error?.path == [#"[{"@data-type":"string","data":"a"}]"#])
        let notTable = #expect(throws: Broker.ConversionError.self) { try [String: UInt64](brokerValue: .vector([])) }
        #expect(notTable?.description == "expected table, got vector")
    }
}

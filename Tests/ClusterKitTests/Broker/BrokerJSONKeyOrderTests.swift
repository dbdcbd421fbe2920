import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// `data` before `@data-type` decodes to the same value, in one pass whatever the nesting.
@Suite struct BrokerJSONKeyOrderTests {
    /// The text of `value` with every Broker value object's `data` member moved before its `@data-type`.
    static func dataFirst(_ value: Broker.Value) -> String {
        let typeFirst = Broker.JSON.encode(value)
        // The encoder writes `{"@data-type":"T","data":D}`; rewrite each object, innermost first.
        return reorder(typeFirst)
    }

    private static func reorder(_ text: String) -> String {
        guard let json = try? JSONValue.parse(text) else { return text }
        return write(json)
    }

    private static func write(_ json: JSONValue) -> String {
        switch json {
        case .object(let members):
            let ordered = members.filter { $0.key == "data" } + members.filter { $0.key != "data" }
            let parts = ordered.map { JSONValue.string($0.key).text() + ":" + write($0.value) }
            return "{" + parts.joined(separator: ",") + "}"
        case .array(let elements):
            return "[" + elements.map(write).joined(separator: ",") + "]"
        default:
            return json.text()
        }
    }

    /// Decodes with the decoder itself, to see how many bytes its data-first skips passed over.
    static func decodeCountingSkips(_ text: String) throws -> (value: Broker.Value, skipped: Int) {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer throws -> (value: Broker.Value, skipped: Int) in
            var decoder = try BrokerJSONDecoder(bytes: buffer, validatesUTF8: true, limits: .standard)
            let value = try decoder.decodeValue(depth: 0)
            try decoder.scanner.expectEnd()
            return (value, decoder.deferredBytesSkipped)
        }
    }

    @Test func dataFirstAtEveryLevelDecodesTheSameValue() throws {
        let subnet = try #require(Broker.Subnet("10.0.0.0/8"))
        let value: Broker.Value = .vector([
            .set([.count(1), .real(2.5), "x", .address("10.0.0.1")]),
            .table([(key: "k", value: .vector([.timespan(Broker.Timespan(nanoseconds: 5_000_000)), .none]))]),
            .vector([.enumValue("Management::RUNNING"), .port(.tcp(2149)), .subnet(subnet)]),
            .integer(-7), .boolean(true),
        ])
        let text = Self.dataFirst(value)
        #expect(text.hasPrefix(#"{"data":[{"data":["#))
        #expect(try Broker.JSON.decode(text) == value)
        #expect(try Broker.JSON.decode(utf8: Array(text.utf8)) == value)
        let message = #"{"type":"data-message","topic":"t","data":"x","@data-type":"string"}"#
        #expect(try Broker.JSON.decodeMessage(message) == .data(Broker.DataMessage(topic: "t", value: "x")))
    }

    @Test func dataFirstNestingIsReadInOnePass() throws {
        // 60 vectors (120 JSON levels of the 128 allowed), each with `data` first, around a 20 kB string:
        // skipping at every level would pass over the string 60 times; one pass skips every byte at most once.
        var value: Broker.Value = .string(String(repeating: "z", count: 20_000))
        for _ in 0..<60 { value = .vector([value, .count(1)]) }
        let text = Self.dataFirst(value)
        let (decoded, skipped) = try Self.decodeCountingSkips(text)
        #expect(decoded == value)
        #expect(skipped <= text.utf8.count, "skipped \(skipped) bytes of a \(text.utf8.count)-byte input")
    }

    @Test func zeekNonFiniteRealsMayComeBeforeTheirType() throws {
        #expect(try Broker.JSON.decode(#"{"data":inf,"@data-type":"real"}"#) == .real(.infinity))
        #expect(try Broker.JSON.decode(#"{"data": -inf ,"@data-type":"real"}"#) == .real(-.infinity))
        let nan = try Broker.JSON.decode(#"{"data":[{"data":nan,"@data-type":"real"}],"@data-type":"vector"}"#)
        guard case .vector(let elements) = nan, case .real(let real)? = elements.first else {
            return #expect(Bool(false), "\(nan)")
        }
        #expect(real.isNaN)
        #expect(try Broker.JSON.decode(#"{"@data-type":"real","data": inf}"#) == .real(.infinity))
    }

    @Test func dataFirstErrorsAreTheSameKinds() {
        let cases: [(String, JSONError.Code)] = [
            (#"{"data":1,"@data-type":"bogus"}"#, .unknownDataType),
            (#"{"data":[{"data":1,"@data-type":"bogus"}],"@data-type":"vector"}"#, .unknownDataType),
            (#"{"data":[{"data":1,"@data-type":"count","@data-type":"count"}],"@data-type":"vector"}"#, .duplicateKey),
            (#"{"data":[{"data":1,"data":2,"@data-type":"count"}],"@data-type":"vector"}"#, .duplicateKey),
            (#"{"data":[{"data":"x","@data-type":"count"}],"@data-type":"vector"}"#, .wrongPayloadType),
            (#"{"data":[{"data":1}],"@data-type":"vector"}"#, .missingKey),
            (#"{"data":[{"data":1,"@data-type":7}],"@data-type":"vector"}"#, .invalidJSON),
            (#"{"data":[{"data":nul,"@data-type":"none"}],"@data-type":"vector"}"#, .invalidJSON),
            (#"{"data":1}"#, .missingKey),
        ]
        for (input, code) in cases {
            let error = #expect(throws: JSONError.self, "\(input)") { try Broker.JSON.decode(input) }
            #expect(error?.code == code, "\(input): \(String(describing: error))")
        }
    }
}

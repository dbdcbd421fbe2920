import Foundation
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct BrokerEventTests {
    @Test func eventValueIsFormatVersionTypeAndContent() {
        let event = Broker.Event("Management::Node::API::notify_node_hello", ["worker-1"])
        #expect(
            event.value
                == .vector([
                    .count(1), .count(1), .vector(["Management::Node::API::notify_node_hello", .vector(["worker-1"])]),
                ])
        )
        let withMetadata = Broker.Event("X::y", [], metadata: [])
        #expect(withMetadata.value == .vector([.count(1), .count(1), .vector(["X::y", .vector([]), .vector([])])]))
    }

    @Test func decodingAcceptsTwoOrThreeInnerElements() throws {
        let two: Broker.Value = .vector([.count(1), .count(1), .vector(["e", .vector([.count(5)])])])
        #expect(try Broker.Event(two) == Broker.Event("e", [.count(5)]))
        let three: Broker.Value = .vector([.count(1), .count(1), .vector(["e", .vector([]), .vector([])])])
        #expect(try Broker.Event(three).metadata == [])
        let timestamp = Broker.Timestamp(nanosecondsSinceEpoch: 1_681_827_194_000_000_000)
        let stamped: Broker.Value = .vector([
            .count(1), .count(1), .vector(["e", .vector([]), .vector([.vector([.count(1), .timestamp(timestamp)])])]),
        ])
        let event = try Broker.Event(stamped)
        #expect(event.networkTimestamp == timestamp)
        #expect(event.value == stamped)
    }

    @Test func constructedExampleFromTheProtocolDecodes() throws {
        let frame = """
            {"type":"data-message","topic":"zeek/management/controller","@data-type":"vector","data":[
              {"@data-type":"count","data":1},
              {"@data-type":"count","data":1},
              {"@data-type":"vector","data":[
                {"@data-type":"string","data":"Management::Controller::API::get_id_value_request"},
                {"@data-type":"vector","data":[
                  {"@data-type":"string","data":"a2c1f350-e61e-11f1-9eef-02fc00000001"},
                  {"@data-type":"string","data":"bits_per_uid"},
                  {"@data-type":"set","data":[{"@data-type":"string","data":"manager"}]}]}]}]}
            """
        guard case .data(let message) = try Broker.JSON.decodeMessage(frame) else { return #expect(Bool(false)) }
        #expect(message.topic == "zeek/management/controller")
        let event = try message.event()
        #expect(event.name == "Management::Controller::API::get_id_value_request")
        #expect(event.arguments == ["a2c1f350-e61e-11f1-9eef-02fc00000001", "bits_per_uid", .set(["manager"])])
        #expect(event.metadata == nil)
    }

    @Test(arguments: [
        (Broker.Value.count(1), "event must be a vector, got count"),
        (.vector([.count(1), .count(1)]), "event vector has 2 elements, expected 3"),
        (.vector([.count(2), .count(1), .vector([])]), "event format version must be count 2, got count 2"),
        (.vector([.count(1), .count(3), .vector([])]), "message type must be count 1 (event), got count 3"),
        (.vector([.count(1), .count(1), .string("e")]), "event content must be a vector, got string"),
        (.vector([.count(1), .count(1), .vector(["e"])]), "event content has 1 elements, expected 2 or 3"),
        (
            .vector([.count(1), .count(1), .vector([.count(1), .vector([])])]), "event name must be a string, got count"
        ),
        (.vector([.count(1), .count(1), .vector(["e", .set([])])]), "arguments of 'e' must be a vector, got set"),
        (
            .vector([.count(1), .count(1), .vector(["e", .vector([]), .count(1)])]),
            "metadata of 'e' must be a vector, got count"
        ),
    ])
    func malformedEventsNameWhatIsWrong(value: Broker.Value, message: String) {
        let error = #expect(throws: Broker.ConversionError.self) { try Broker.Event(value) }
        #expect(error?.description == message.replacingOccurrences(of: "must be count 2", with: "must be count 1"))
    }
}

@Suite struct BrokerMessageTests {
    @Test func dataMessagesDecodeWhateverTheKeyOrder() throws {
        // zeek-client writes json.dumps(sort_keys=True): @data-type, data, topic, type with ", " and ": ".
        let sorted = #"{"@data-type": "count", "data": 7, "topic": "t", "type": "data-message"}"#
        let zeek = #"{"type":"data-message","topic":"t","@data-type":"count","data":7}"#
        let dataFirst = #"{"data": 7, "type": "data-message", "@data-type": "count", "topic": "t"}"#
        let expected = Broker.Message.data(Broker.DataMessage(topic: "t", value: .count(7)))
        for text in [sorted, zeek, dataFirst] {
            #expect(try Broker.JSON.decodeMessage(text) == expected, "\(text)")
        }
        #expect(Broker.JSON.encode(expected) == zeek)
    }

    @Test func ackAndErrorRoundTrip() throws {
        let ack = Broker.Message.ack(Broker.Ack(endpoint: "d955d990-websocket-0", version: "8.0.10"))
        #expect(Broker.JSON.encode(ack) == #"{"type":"ack","endpoint":"d955d990-websocket-0","version":"8.0.10"}"#)
        #expect(try Broker.JSON.decodeMessage(Broker.JSON.encode(ack)) == ack)
        #expect(
            try Broker.JSON.decodeMessage(#"{"version": 1, "endpoint": "e", "type": "ack"}"#)
                == .ack(Broker.Ack(endpoint: "e", version: "1"))
        )
        let error = Broker.Message.error(
            Broker.ErrorMessage(code: "deserialization_failed", context: "failed to decode JSON object")
        )
        #expect(
            Broker.JSON.encode(error)
                == #"{"type":"error","code":"deserialization_failed","context":"failed to decode JSON object"}"#
        )
        #expect(try Broker.JSON.decodeMessage(Broker.JSON.encode(error)) == error)
    }

    @Test(arguments: [
        (#"{"type":"data-message","@data-type":"count","data":1}"#, "byte 0: no topic in top-level JSON object"),
        (#"{"type":"ack","version":"1"}"#, "byte 0: ack has no 'endpoint'"),
        (#"{"type":"bogus"}"#, "byte 0: unknown message type 'bogus'"),
        (#"{"endpoint":"x"}"#, "byte 0: message has no 'type'"),
        (#"[]"#, "byte 0: expected a JSON object, got array"),
        (#"{"type":1}"#, "byte 8: 'type' must be a string, got number"),
        (
            #"{"type":"data-message","topic":"t","@data-type":"count","data":-1}"#,
            "byte 63: count must not be negative: -1"
        ),
    ])
    func malformedEnvelopesAreRejected(text: String, description: String) {
        let error = #expect(throws: JSONError.self) { try Broker.JSON.decodeMessage(text) }
        #expect(error?.description == description)
    }

    @Test func subscriptionFramesUseZeeksErrorContexts() throws {
        #expect(
            try Broker.JSON.decodeSubscriptions(#"["zeek/management/controller"]"#) == ["zeek/management/controller"]
        )
        #expect(try Broker.JSON.decodeSubscriptions(" [ ] ") == [])
        #expect(Broker.JSON.encodeSubscriptions(["a", "b\"c"]) == #"["a","b\"c"]"#)
        let notArray = #expect(throws: JSONError.self) { try Broker.JSON.decodeSubscriptions(#"{"a":1}"#) }
        #expect(notArray?.message == "subscriptions not an array")
        let notString = #expect(throws: JSONError.self) { try Broker.JSON.decodeSubscriptions(#"["a", 1]"#) }
        #expect(notString?.message == "individual subscription not a string")
        let broken = #expect(throws: JSONError.self) { try Broker.JSON.decodeSubscriptions(#"["a""#) }
        #expect(broken?.code == .invalidJSON)
    }
}

@Suite struct BrokerFixtureTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/broker-json/\(name)")
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test func getIDValueResponseDecodesIntoOneHundredResults() throws {
        let text = try Self.fixture("get_id_value_response_100.json")
        guard case .data(let message) = try Broker.JSON.decodeMessage(text) else { return #expect(Bool(false)) }
        #expect(message.topic == "zeek/management/controller")
        let event = try message.event()
        #expect(event.name == "Management::Controller::API::get_id_value_response")
        #expect(event.arguments.count == 2)
        #expect(event.arguments[0] == "a2c1f350-e61e-11f1-9eef-02fc00000001")
        let results = try [Management.Result](brokerValue: event.arguments[1])
        #expect(results.count == 100)
        #expect(results[0].node == "worker-0")
        #expect(results[0].data == .string(#"{"ts": 1700000000.5, "name": "worker-0", "ports": [0, 1]}"#))
        #expect(results.allSatisfy { $0.success && $0.instance == "instance-1" && $0.error == nil })
        // Re-encoding gives a value equal to the original.
        let reencoded = Broker.JSON.encode(.data(message))
        #expect(try Broker.JSON.decodeMessage(reencoded) == .data(message))
        #expect(try Broker.JSON.decode(Broker.JSON.encode(message.value)) == message.value)
    }

    @Test func getNodesResponseDecodesIntoOneResultWithOneHundredStatuses() throws {
        let text = try Self.fixture("get_nodes_response_100.json")
        guard case .data(let message) = try Broker.JSON.decodeMessage(text) else { return #expect(Bool(false)) }
        let event = try message.event()
        #expect(event.name == "Management::Controller::API::get_nodes_response")
        #expect(event.arguments.count == 2)
        let results = try [Management.Result](brokerValue: event.arguments[1])
        #expect(results.count == 1)
        let statuses = try [Management.NodeStatus](brokerValue: try #require(results[0].data))
        #expect(statuses.count == 100)
        #expect(
            statuses[0]
                == Management.NodeStatus(
                    node: "worker-0",
                    state: .running,
                    mgmtRole: .none,
                    clusterRole: .worker,
                    pid: 4000,
                    p: .tcp(2200),
                    metricsPort: .tcp(9000)
                )
        )
        #expect(try Broker.JSON.decodeMessage(Broker.JSON.encode(.data(message))) == .data(message))
    }
}

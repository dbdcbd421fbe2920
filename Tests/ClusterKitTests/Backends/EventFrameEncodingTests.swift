import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct EventFrameEncodingTests {
    static let events: [Broker.Event] = [
        Broker.Event("X::ping", [.count(0)]),
        Broker.Event("X::none", []),
        Broker.Event(
            "Management::Controller::API::get_id_value_request",
            [.string("a \"quoted\"\n\\ reqid"), .string("Cluster::node"), .set([.string("manager"), .string("w")])]
        ),
        Broker.Event("X::empty_metadata", [.real(1.5), .none], metadata: []),
        Broker.Event(
            "X::metadata",
            [.table([.string("k"): .vector([.boolean(true), .integer(-3)])])],
            metadata: [
                Broker.Event.MetadataEntry(key: 1, value: .count(12_345_678_901)),
                Broker.Event.MetadataEntry(key: 200, value: .string("é")),
            ]
        ),
    ]

    @Test(arguments: events)
    func directEncodingMatchesTheGenericOne(event: Broker.Event) throws {
        for topic in ["zeek/management/controller", "", "t\"x"] {
            let direct = BrokerJSONEncoder.dataMessage(event, topic: topic)
            #expect(direct == Broker.JSON.encodeUTF8(.data(Broker.DataMessage(topic: topic, event: event))))
            let decoded = try Broker.JSON.decodeMessage(utf8: direct)
            #expect(decoded == .data(Broker.DataMessage(topic: topic, event: event)))
        }
    }

    @Test(arguments: events)
    func compactFramesAreReadWithoutTheGeneralDecoder(event: Broker.Event) throws {
        for topic in ["zeek/management/controller", "", "t\"x"] {
            let frame = WebSocketMessage.text(
                String(decoding: BrokerJSONEncoder.dataMessage(event, topic: topic), as: UTF8.self)
            )
            let compact = frame.compactEvent()
            if event.metadata == nil {
                #expect(compact?.topic == topic)
                #expect(compact?.event == event)
            } else {
                #expect(compact == nil, "metadata goes through the general decoder")
            }
        }
    }

    @Test func otherSpellingsFallBackToTheGeneralDecoder() throws {
        let frames = [
            // zeek-client: sorted keys and spaces.
            #"{"@data-type": "vector", "data": [{"@data-type": "count", "data": 1}, {"@data-type": "count", "data": 1}, "#
                + #"{"@data-type": "vector", "data": [{"@data-type": "string", "data": "X::ping"}, "#
                + #"{"@data-type": "vector", "data": []}]}], "topic": "t", "type": "data-message"}"#,
            // A bad argument.
            #"{"type":"data-message","topic":"t","@data-type":"vector","data":[{"@data-type":"count","data":1},"#
                + #"{"@data-type":"count","data":1},{"@data-type":"vector","data":[{"@data-type":"string","data":"X"},"#
                + #"{"@data-type":"vector","data":[{"@data-type":"count","data":-1}]}]}]}"#,
            // Trailing garbage.
            String(decoding: BrokerJSONEncoder.dataMessage(Broker.Event("X", []), topic: "t"), as: UTF8.self) + "x",
            // Format version 2.
            #"{"type":"data-message","topic":"t","@data-type":"vector","data":[{"@data-type":"count","data":2},"#
                + #"{"@data-type":"count","data":1},{"@data-type":"vector","data":[{"@data-type":"string","data":"X"},"#
                + #"{"@data-type":"vector","data":[]}]}]}"#,
        ]
        for frame in frames { #expect(WebSocketMessage.text(frame).compactEvent() == nil, "\(frame)") }
        let spaced =
            String(decoding: BrokerJSONEncoder.dataMessage(Broker.Event("X", []), topic: "t"), as: UTF8.self) + " \n"
        #expect(WebSocketMessage.text(spaced).compactEvent()?.event == Broker.Event("X", []))
        #expect(WebSocketMessage.binary(Array(spaced.utf8)).compactEvent() == nil)
    }
}

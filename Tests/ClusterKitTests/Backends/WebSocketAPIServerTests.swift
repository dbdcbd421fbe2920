import Synchronization
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite(.timeLimit(.minutes(1))) struct WebSocketAPIServerTests {
    // MARK: - Handshake and ack

    @Test func ackHasZeeksShapeAndFollowsActiveSubscriptions() async throws {
        let hub = InMemoryBackend.Hub()
        let log = LogLines()
        try await withAPIServer(hub: hub, log: log) { server in
            let (first, ack) = try await subscribeRaw(
                server,
                ["zeek/b", "zeek/a", "zeek/b"],
                applicationName: "zeekctl/2.6.0-67"
            )
            #expect(ack == #"{"type":"ack","endpoint":"node-1-websocket-0","version":"clusterkit/0.1.0"}"#)
            #expect(hub.hasSubscribers("zeek/a/x") && hub.hasSubscribers("zeek/bee"))
            #expect(!hub.hasSubscribers("zeek/c"))
            let port = try #require(server.clients.last).remotePort
            #expect(
                server.clients == [
                    WebSocketAPIServer.Client(
                        endpoint: "node-1-websocket-0",
                        remoteAddress: "127.0.0.1",
                        remotePort: port,
                        applicationName: "zeekctl/2.6.0-67",
                        subscriptions: ["zeek/a", "zeek/b"]
                    )
                ]
            )
            #expect(
                log.all == [
                    "WebSocket client 'node-1-websocket-0' (127.0.0.1:\(port)) application_name=zeekctl/2.6.0-67 "
                        + "subscribed to [zeek/a, zeek/b]"
                ]
            )

            let (second, secondAck) = try await subscribeRaw(server, [])
            #expect(secondAck == #"{"type":"ack","endpoint":"node-1-websocket-1","version":"clusterkit/0.1.0"}"#)
            let secondPort = try #require(server.clients.last).remotePort
            #expect(log.all.last == "WebSocket client 'node-1-websocket-1' (127.0.0.1:\(secondPort)) subscribed to []")

            await first.close(code: .normalClosure, reason: "bye")
            #expect(
                await log.next(containing: "websocket-0' (127.0.0.1:\(port)) application_name=zeekctl/2.6.0-67 gone")
                    == "WebSocket client 'node-1-websocket-0' (127.0.0.1:\(port)) application_name=zeekctl/2.6.0-67 "
                    + "gone with code 1000 and reason 'bye'"
            )
            await second.close()
            #expect(
                await log.next(containing: "websocket-1' (127.0.0.1:\(secondPort)) gone")
                    == "WebSocket client 'node-1-websocket-1' (127.0.0.1:\(secondPort)) gone with code 1000"
            )
            #expect(server.clients.isEmpty)
        }
    }

    @Test func versionAndNodeIDAreConfigurable() async throws {
        let server = try WebSocketAPIServer(
            hub: InMemoryBackend.Hub(),
            options: WebSocketAPIServer.Options(webSocket: WebSocketServer.Options(port: 0), version: "8.0.10")
        )
        async let running: Void = server.run()
        let connection = try await connectRaw(server)
        try await connection.send(text: "[]")
        let ack = try #require(try await connection.receive()?.text)
        #expect(ack == #"{"type":"ack","endpoint":"\#(server.nodeID)-websocket-0","version":"8.0.10"}"#)
        #expect(server.nodeID.count == 36, "a UUID by default")
        #expect(server.url == "ws://127.0.0.1:\(server.port)/v1/messages/json")
        await server.shutdown()
        await running
    }

    @Test(arguments: ["/", "/v1/messages/json/", "/v1/messages/json?x=1", "/v1/messages"])
    func wrongPathGetsInvalidURIAndClose1008(path: String) async throws {
        let log = LogLines()
        try await withAPIServer(log: log) { server in
            let connection = try await connectRaw(server, path: path)
            #expect(
                try await connection.receive()
                    == .text(#"{"type":"error","code":"invalid_uri","context":"Invalid URI - use /v1/messages/json"}"#)
            )
            let error = await #expect(throws: WebSocketError.self) { try await connection.receive() }
            #expect(error?.code == .closed)
            #expect(error?.closeCode == .policyViolation)
            #expect(error?.closeReason == "Invalid URI - use /v1/messages/json")
        }
        #expect(log.all.isEmpty, "rejected clients are not logged, as in Zeek")
    }

    @Test func connectionsTheWebSocketLayerRefusesAreLogged() async throws {
        let log = LogLines()
        let patient: (inout WebSocketServer.Options) -> Void = { $0.handshakeTimeout = .seconds(600) }
        try await withAPIServer(log: log, configure: patient) { server in
            let url = "wss://127.0.0.1:\(server.port)/v1/messages/json"
            let error = await #expect(throws: WebSocketError.self) {
                try await WebSocketClient.connect(to: url, options: TLSFixtures.trustingTestCA)
            }
            #expect(error?.code == .tlsFailed)
            let line = await log.next(containing: "refused with 400")
            #expect(
                line?.hasPrefix("WebSocket client (127.0.0.1:") == true
                    && line?.hasSuffix(
                        ") refused with 400 Bad Request: TLS handshake on a server without TLS: connect with ws://, "
                            + "not wss://"
                    ) == true,
                "\(line ?? "no line")"
            )
        }
    }

    @Test(arguments: ["zeek ctl", "zeekctl,2", "zéek", "a\"b", "tab\there"])
    func badApplicationNameGetsAnErrorAndClose1008(name: String) async throws {
        try await withAPIServer { server in
            let connection = try await connectRaw(server, applicationName: name)
            #expect(
                try await connection.receive()
                    == .text(
                        #"{"type":"error","code":"invalid_application_name","context":"Invalid X-Application-Name"}"#
                    )
            )
            let error = await #expect(throws: WebSocketError.self) { try await connection.receive() }
            #expect(error?.closeCode == .policyViolation)
            #expect(error?.closeReason == "Invalid X-Application-Name")
        }
    }

    @Test func everyAllowedApplicationNameCharacterPasses() async throws {
        #expect(WebSocketAPIServer.isValidApplicationName("-/_.=:*@azAZ09"))
        #expect(WebSocketAPIServer.isValidApplicationName(""))
        for byte in UInt8(0x20)...UInt8(0x7E) {
            let character = String(UnicodeScalar(byte))
            let allowed =
                "-/_.=:*@".contains(character) || character.first?.isLetter == true
                || character.first?.isNumber == true
            #expect(WebSocketAPIServer.isValidApplicationName(character) == allowed, "\(character)")
        }
        try await withAPIServer { server in
            let (_, ack) = try await subscribeRaw(server, ["t"], applicationName: "a-b_c.d=e:f*g@h/1")
            #expect(ack.hasPrefix(#"{"type":"ack""#))
        }
    }

    // MARK: - Bad subscription frames

    private struct BadSubscription: Sendable, CustomTestStringConvertible {
        var frame: String
        var context: String
        var testDescription: String { frame }
    }

    private static let badSubscriptions = [
        BadSubscription(frame: "{}", context: "subscriptions not an array"),
        BadSubscription(frame: #""zeek/a""#, context: "subscriptions not an array"),
        BadSubscription(frame: "not json", context: "subscriptions not an array"),
        BadSubscription(frame: #"["a", 1"#, context: "subscriptions not an array"),
        BadSubscription(frame: "[1]", context: "individual subscription not a string"),
        BadSubscription(frame: #"["a", ["b"]]"#, context: "individual subscription not a string"),
    ]

    @Test(arguments: badSubscriptions)
    private func badSubscriptionFrameGetsAnErrorAndNoAck(bad: BadSubscription) async throws {
        let hub = InMemoryBackend.Hub()
        let log = LogLines()
        try await withAPIServer(hub: hub, log: log) { server in
            let listener = try await participant(hub, "listener", ["zeek/"])
            let connection = try await connectRaw(server)
            try await connection.send(text: bad.frame)
            #expect(
                try await connection.receive()
                    == .text(#"{"type":"error","code":"deserialization_failed","context":"\#(bad.context)"}"#)
            )
            // The connection stays open, but nothing later counts: neither a second subscription frame nor events.
            try await connection.send(text: #"["zeek/"]"#)
            try await connection.send(text: dataFrame("zeek/x", ping(1)))
            #expect(connection.state == .open)
            await connection.close()
            await log.next(containing: "gone with code 1000")
            #expect(server.clients.isEmpty)
            #expect(hub.endpointCount == 1, "only the listener is left")
            #expect(log.all.count == 1, "never subscribed, so only the gone line: \(log.all)")
            await listener.close()
            #expect(try await nextEvent(listener) == nil, "nothing was published")
        }
    }

    // MARK: - Bad frames after the ack

    private struct BadFrame: Sendable, CustomTestStringConvertible {
        var name: String
        var frame: String
        var context: String
        var testDescription: String { name }
    }

    private static let badFrames = [
        BadFrame(name: "not JSON", frame: "{oops", context: "failed to decode JSON object"),
        BadFrame(name: "not an object", frame: "[1, 2]", context: "failed to decode JSON object"),
        BadFrame(
            name: "an ack",
            frame: #"{"type":"ack","endpoint":"e","version":"1"}"#,
            context: "failed to decode JSON object"
        ),
        BadFrame(
            name: "an unknown data type",
            frame: #"{"type":"data-message","topic":"t","@data-type":"float","data":1}"#,
            context: "failed to decode JSON object"
        ),
        BadFrame(
            name: "no topic",
            frame: #"{"type":"data-message","@data-type":"count","data":1}"#,
            context: "no topic in top-level JSON object"
        ),
        BadFrame(
            name: "no topic and no type",
            frame: #"{"@data-type":"count","data":1}"#,
            context: "no topic in top-level JSON object"
        ),
        BadFrame(
            name: "not an event",
            frame: #"{"type":"data-message","topic":"zeek/x","@data-type":"count","data":1}"#,
            context: "failed to create Zeek event"
        ),
        BadFrame(
            name: "unknown event",
            frame: dataFrame("zeek/x", ping(1, "X::pong")),
            context: "failed to create Zeek event"
        ),
        BadFrame(
            name: "too many arguments",
            frame: dataFrame("zeek/x", Broker.Event("X::ping", [.count(1), .count(2)])),
            context: "failed to create Zeek event"
        ),
        BadFrame(
            name: "too few arguments",
            frame: dataFrame("zeek/x", Broker.Event("Control::id_value_response", [.string("id")])),
            context: "failed to create Zeek event"
        ),
        BadFrame(
            name: "argument of the wrong type",
            frame: dataFrame("zeek/x", Broker.Event("X::ping", [.integer(1)])),
            context: "failed to create Zeek event"
        ),
        BadFrame(
            name: "none for a record",
            frame: dataFrame("zeek/x", Broker.Event(ControllerAPI.getIDValueResponse, [.string("r"), .none])),
            context: "failed to create Zeek event"
        ),
    ]

    static let catalog = EventCatalog.standard.merging(
        EventCatalog([EventCatalog.Signature("X::ping", [("n", .count)])])
    )

    @Test(arguments: badFrames)
    private func badFrameGetsAnErrorAndTheConnectionStaysUsable(bad: BadFrame) async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub, catalog: Self.catalog) { server in
            let listener = try await participant(hub, "listener", ["zeek/"])
            let (connection, _) = try await subscribeRaw(server, [])
            try await connection.send(text: bad.frame)
            #expect(
                try await connection.receive()
                    == .text(#"{"type":"error","code":"deserialization_failed","context":"\#(bad.context)"}"#)
            )
            try await connection.send(text: dataFrame("zeek/x", ping(7)))
            #expect(try await nextEvent(listener) == TopicEvent(topic: "zeek/x", event: ping(7)))
            await connection.close()
        }
    }

    @Test func withoutACatalogEveryEventIsForwarded() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub) { server in
            let listener = try await participant(hub, "listener", ["zeek/"])
            let (connection, _) = try await subscribeRaw(server, [])
            let odd = Broker.Event("Anything::at_all", [.none, .integer(-1)], metadata: [])
            try await connection.send(text: dataFrame("zeek/x", odd))
            #expect(try await nextEvent(listener) == TopicEvent(topic: "zeek/x", event: odd))
            // A data message that is no event is still refused: the hub carries events.
            try await connection.send(text: #"{"type":"data-message","topic":"zeek/x","@data-type":"count","data":1}"#)
            #expect(
                try await connection.receive()
                    == .text(
                        #"{"type":"error","code":"deserialization_failed","context":"failed to create Zeek event"}"#
                    )
            )
        }
    }

    @Test func framesSentBeforeTheAckAreHandledAfterIt() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub) { server in
            let listener = try await participant(hub, "listener", ["zeek/"])
            let connection = try await connectRaw(server)
            try await connection.send(text: #"["zeek/"]"#)
            try await connection.send(text: dataFrame("zeek/early", ping(1)))
            #expect(try await connection.receive()?.text?.hasPrefix(#"{"type":"ack""#) == true)
            #expect(try await nextEvent(listener) == TopicEvent(topic: "zeek/early", event: ping(1)))
        }
    }

    // MARK: - Delivery

    @Test func prefixesDeliverBetweenClientsAndParticipantsButNeverBackToThePublisher() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub) { server in
            let inProcess = try await participant(hub, "in-process", ["zeek/x"])
            let (a, _) = try await subscribeRaw(server, ["zeek/x"])
            let (b, _) = try await subscribeRaw(server, ["zeek/"])

            // Client → client and participant; a byte prefix, not a path prefix.
            try await a.send(text: dataFrame("zeek/xy", ping(1)))
            #expect(try await receiveEvent(b) == TopicEvent(topic: "zeek/xy", event: ping(1)))
            #expect(try await nextEvent(inProcess) == TopicEvent(topic: "zeek/xy", event: ping(1)))

            // Participant → both clients; not to a non-matching topic.
            try await inProcess.publish(ping(2), to: "zeek/other")
            try await inProcess.publish(ping(3), to: "zeek/x1")
            #expect(try await receiveEvent(b) == TopicEvent(topic: "zeek/other", event: ping(2)))
            #expect(try await receiveEvent(b) == TopicEvent(topic: "zeek/x1", event: ping(3)))
            // A's own publication (ping 1) would be ahead of ping 3 in its queue had it come back.
            #expect(try await receiveEvent(a) == TopicEvent(topic: "zeek/x1", event: ping(3)))

            // The other direction: B → A and the participant, not back to B.
            try await b.send(text: dataFrame("zeek/x", ping(4)))
            #expect(try await receiveEvent(a) == TopicEvent(topic: "zeek/x", event: ping(4)))
            #expect(try await nextEvent(inProcess) == TopicEvent(topic: "zeek/x", event: ping(4)))
            try await inProcess.publish(ping(5), to: "zeek/")
            #expect(try await receiveEvent(b) == TopicEvent(topic: "zeek/", event: ping(5)))
            await inProcess.close()
        }
    }

    @Test func eventsKeepTheirMetadata() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub) { server in
            let inProcess = try await participant(hub, "in-process", ["t"])
            let (client, _) = try await subscribeRaw(server, ["t"])
            let stamped = Broker.Event(
                "X::ping",
                [.count(1)],
                metadata: [Broker.Event.MetadataEntry(key: 1, value: .count(9))]
            )
            try await client.send(text: dataFrame("t", stamped))
            #expect(try await nextEvent(inProcess)?.event == stamped)
            try await inProcess.publish(stamped, to: "t")
            #expect(try await receiveEvent(client)?.event == stamped)
        }
    }

    // MARK: - Limits

    @Test func aClientThatStopsReadingIsClosedWhileAnotherKeepsWorking() async throws {
        let hub = InMemoryBackend.Hub(inboxLimit: 16)
        let log = LogLines()
        try await withAPIServer(hub: hub, log: log) {
            $0.connection.pingInterval = nil
            $0.connection.sendQueueLimit = 64 << 10
            $0.connection.sendQueueTimeout = .milliseconds(100)
            $0.connection.closeTimeout = .milliseconds(100)
        } _: { server in
            let stalled = try await RawPeer.connectWebSocket(
                port: server.port,
                path: WebSocketAPIServer.path,
                receiveBufferSize: 8192
            )
            try await stalled.write([clientFrame(.text, Array(#"["zeek/"]"#.utf8))])
            #expect(try await stalled.readFrame()?.opcode == WebSocketFrame.Opcode.text.rawValue)
            let healthy = WebSocketBackend(url: server.url)
            try await healthy.subscribe("zeek/small")
            try await healthy.connect()
            let publisher = try await participant(hub, "publisher", [])

            // Big events for the stalled client only, and a small one the healthy client must get each time,
            // until the stalled client's hub inbox overflows (its forwarder waits on a full send queue) or the RFC
            // layer has already closed it for the full send queue; either way it is closed with 1008.
            let big = Broker.Event("X::blob", [.string(String(repeating: "z", count: 32 << 10))])
            let gone = [
                "gone with code 1008 and reason 'send queue full'",
                "gone with code 1008 and reason 'event queue full'",
            ]
            var sent: UInt64 = 0
            while hub.diagnostics.closedForFullInbox == 0, !log.all.contains(where: { $0.hasSuffix(gone[0]) }) {
                try await publisher.publish(big, to: "zeek/blob")
                try await publisher.publish(ping(sent), to: "zeek/small")
                #expect(try await nextEvent(healthy) == TopicEvent(topic: "zeek/small", event: ping(sent)))
                sent += 1
                try #require(sent < 10_000, "the stalled client was never closed")
            }
            let line = await log.next(containing: "gone")
            #expect(gone.contains { line?.hasSuffix($0) == true }, "\(line ?? "")")
            try await publisher.publish(ping(1), to: "zeek/small/after")
            #expect(try await nextEvent(healthy) == TopicEvent(topic: "zeek/small/after", event: ping(1)))
            await healthy.close()
            stalled.close()
        }
    }

    @Test func aClientThatNeverAnswersPingsIsDropped() async throws {
        let log = LogLines()
        try await withAPIServer(log: log) {
            $0.connection.pingInterval = .milliseconds(50)
            $0.connection.closeTimeout = .milliseconds(100)
        } _: { server in
            let peer = try await RawPeer.connectWebSocket(port: server.port, path: WebSocketAPIServer.path)
            try await peer.write([clientFrame(.text, Array("[]".utf8))])
            // Pings (and the ack, unless the first missed pong came first on a busy machine) are read, never
            // answered.
            let close = try await peer.readClose()
            #expect(close.code == 1011)
            #expect(close.reason == "ping timeout: no pong received")
            #expect(
                await log.next(containing: "gone")?.hasSuffix(
                    "gone with code 1011 and reason 'ping timeout: no pong received'"
                )
                    == true
            )
            peer.close()
        }
    }

    // MARK: - Stopping

    @Test func shutdownClosesEveryClientWithTerminating() async throws {
        let log = LogLines()
        let server = try WebSocketAPIServer(
            hub: InMemoryBackend.Hub(),
            options: WebSocketAPIServer.Options(webSocket: WebSocketServer.Options(port: 0), nodeID: "n"),
            log: log.sink
        )
        async let running: Void = server.run()
        let (a, _) = try await subscribeRaw(server, ["t"])
        let (b, _) = try await subscribeRaw(server, [])
        await server.shutdown()
        await running
        for connection in [a, b] {
            #expect(try await connection.receive() == nil)
            #expect(connection.closeInfo?.code == .goingAway)
            #expect(connection.closeInfo?.reason == "Terminating")
        }
        #expect(log.all.filter { $0.hasSuffix("gone with code 1001 and reason 'Terminating'") }.count == 2)
    }

    @Test func cancellingRunClosesEveryClientWithTerminating() async throws {
        let server = try WebSocketAPIServer(
            hub: InMemoryBackend.Hub(),
            options: WebSocketAPIServer.Options(webSocket: WebSocketServer.Options(port: 0))
        )
        let connection = try await withThrowingTaskGroup(of: WebSocketConnection?.self) { group in
            group.addTask {
                await server.run()
                return nil
            }
            let (connection, _) = try await subscribeRaw(server, ["t"])
            group.cancelAll()
            while try await group.next() != nil {}
            return connection
        }
        #expect(try await connection.receive() == nil)
        #expect(connection.closeInfo?.code == .goingAway)
        #expect(connection.closeInfo?.reason == "Terminating")
    }
}

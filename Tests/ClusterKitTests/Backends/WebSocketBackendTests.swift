import Synchronization
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite(.timeLimit(.minutes(1))) struct WebSocketBackendTests {
    /// A plain WebSocket server standing in for Zeek, scripted by the test.
    static func withFakeZeek<Value>(_ body: (WebSocketServer, String) async throws -> Value) async throws -> Value {
        var options = WebSocketServer.Options(port: 0)
        options.connection.closeTimeout = .milliseconds(200)
        let server = try WebSocketServer(options: options)
        do {
            let value = try await body(server, "ws://127.0.0.1:\(server.port)/v1/messages/json")
            await server.shutdown()
            return value
        } catch {
            await server.shutdown()
            throw error
        }
    }

    static func ack(_ endpoint: String) -> String {
        Broker.JSON.encode(.ack(Broker.Ack(endpoint: endpoint, version: "8.0.10")))
    }

    // MARK: - Connecting

    @Test func subscriptionsGoOutAtTheHandshakeAndTheAckNamesTheEndpoint() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub) { server in
            let backend = WebSocketBackend(url: server.url, options: .init(applicationName: "clusterkit/test"))
            #expect(backend.nodeID == "")
            try await backend.subscribe("zeek/b")
            try await backend.subscribe("zeek/a")
            try await backend.subscribe("zeek/a")
            try await backend.connect()
            try await backend.connect()
            #expect(backend.nodeID == "node-1-websocket-0")
            #expect(server.clients.map(\.subscriptions) == [["zeek/a", "zeek/b"]])
            #expect(server.clients.map(\.applicationName) == ["clusterkit/test"])
            let diagnostics = backend.diagnostics
            #expect(diagnostics.ack == Broker.Ack(endpoint: "node-1-websocket-0", version: "clusterkit/0.1.0"))
            #expect(diagnostics.subscriptions == ["zeek/b", "zeek/a"])
            #expect(diagnostics.isConnected && diagnostics.connections == 1)

            let inProcess = try await participant(hub, "in-process", ["zeek/"])
            try await backend.publish(ping(1), to: "zeek/x")
            #expect(try await nextEvent(inProcess) == TopicEvent(topic: "zeek/x", event: ping(1)))
            try await inProcess.publish(ping(2), to: "zeek/a1")
            #expect(try await nextEvent(backend) == TopicEvent(topic: "zeek/a1", event: ping(2)))
            await backend.close()
            #expect(try await nextEvent(backend) == nil)
            #expect(!backend.diagnostics.isConnected)
        }
    }

    @Test func readingBeforeConnectingWaitsForTheConnection() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub) { server in
            let backend = WebSocketBackend(url: server.url)
            try await backend.subscribe("t")
            async let next = nextEvent(backend)
            try await backend.connect()
            let inProcess = try await participant(hub, "in-process", [])
            try await inProcess.publish(ping(1), to: "t")
            #expect(try await next == TopicEvent(topic: "t", event: ping(1)))
            await backend.close()
            let late = await #expect(throws: BackendError.self) { try await backend.publish(ping(2), to: "t") }
            #expect(late?.code == .closed)
        }
    }

    @Test func refusedOnAClosedPort() async throws {
        let closed = try RefusingPort()
        let url = "ws://127.0.0.1:\(closed.port)/v1/messages/json"
        let backend = WebSocketBackend(url: url)
        let error = await #expect(throws: BackendError.self) { try await backend.connect() }
        #expect(error == BackendError(.connectionRefused, "connection refused", endpoint: url))
        #expect(error?.description == "\(url): connection refused")
        withExtendedLifetime(closed) {}
    }

    @Test func rejectedOnABadPathWithZeeksText() async throws {
        try await withAPIServer { server in
            let url = "ws://127.0.0.1:\(server.port)/v1/json"
            let error = await #expect(throws: BackendError.self) { try await WebSocketBackend(url: url).connect() }
            #expect(
                error?.description == "\(url): handshake rejected: invalid_uri: Invalid URI - use /v1/messages/json"
            )
            #expect(error?.code == .handshakeRejected)
        }
    }

    @Test func rejectedForABadApplicationName() async throws {
        try await withAPIServer { server in
            let backend = WebSocketBackend(url: server.url, options: .init(applicationName: "my tool"))
            let error = await #expect(throws: BackendError.self) { try await backend.connect() }
            #expect(
                error
                    == BackendError(
                        .handshakeRejected,
                        "handshake rejected: invalid_application_name: Invalid X-Application-Name",
                        endpoint: server.url
                    )
            )
            let later = await #expect(throws: BackendError.self) { try await backend.publish(ping(1), to: "t") }
            #expect(later?.code == .notConnected)
        }
    }

    @Test func rejectedOverTheConnectionLimitWithTheHTTPStatus() async throws {
        var options = WebSocketServer.Options(port: 0)
        options.maximumConnections = 0
        let server = try WebSocketServer(options: options)
        let url = "ws://127.0.0.1:\(server.port)/v1/messages/json"
        let error = await #expect(throws: BackendError.self) { try await WebSocketBackend(url: url).connect() }
        #expect(error?.code == .handshakeRejected)
        #expect(error?.message.hasPrefix("handshake rejected with 'HTTP/1.1 503 Service Unavailable'") == true)
        await server.shutdown()
    }

    @Test func rejectedOverTheClientLimitWithTheServersErrorFrame() async throws {
        try await withAPIServer(clientLimit: 1) { server in
            let first = WebSocketBackend(url: server.url)
            try await first.connect()
            let error = await #expect(throws: BackendError.self) {
                try await WebSocketBackend(url: server.url).connect()
            }
            #expect(
                error
                    == BackendError(
                        .handshakeRejected,
                        "handshake rejected: connection_limit: too many clients (limit 1), try again later",
                        endpoint: server.url
                    )
            )
            await first.close()
        }
    }

    @Test func noAckInTimeIsATimeoutOnTheInjectedClock() async throws {
        try await Self.withFakeZeek { server, url in
            let clock = ManualClock()
            let backend = WebSocketBackend(url: url, clock: clock)
            async let connecting: Void = backend.connect()
            let accepted = try #require(try await server.accept())
            #expect(try await accepted.receive() == .text("[]"))
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(10))
            do {
                try await connecting
                Issue.record("connected without an ack")
            } catch let error as BackendError {
                #expect(error == BackendError(.timedOut, "no ack within 10 s", endpoint: url))
            }
        }
    }

    @Test func somethingElseThanAnAckIsAProtocolViolation() async throws {
        try await Self.withFakeZeek { server, url in
            let backend = WebSocketBackend(url: url)
            async let connecting: Void = backend.connect()
            let accepted = try #require(try await server.accept())
            _ = try await accepted.receive()
            try await accepted.send(text: dataFrame("zeek/x", ping(1)))
            do {
                try await connecting
                Issue.record("connected without an ack")
            } catch let error as BackendError {
                #expect(
                    error
                        == BackendError(
                            .protocolViolation,
                            "expected an ack, got a data message on topic 'zeek/x'",
                            endpoint: url
                        )
                )
            }
        }
    }

    @Test func operationsBeforeConnectingAndAfterClosing() async throws {
        let backend = WebSocketBackend(url: "ws://127.0.0.1:1/v1/messages/json")
        let early = await #expect(throws: BackendError.self) { try await backend.publish(ping(1), to: "t") }
        #expect(early?.description == "ws://127.0.0.1:1/v1/messages/json: endpoint is not connected")
        await backend.close()
        #expect(try await nextEvent(backend) == nil)
        let late = await #expect(throws: BackendError.self) { try await backend.connect() }
        #expect(late?.code == .closed)
        let subscribe = await #expect(throws: BackendError.self) { try await backend.subscribe("t") }
        #expect(subscribe?.code == .closed)
    }

    @Test func invalidURLIsAnInvalidState() async throws {
        let backend = WebSocketBackend(url: "http://127.0.0.1/v1/messages/json")
        let error = await #expect(throws: BackendError.self) { try await backend.connect() }
        #expect(error?.code == .invalidState)
    }

    // MARK: - Receiving

    @Test func serverClosingEndsTheEventsWithItsCodeAndReason() async throws {
        try await withAPIServer { server in
            let backend = WebSocketBackend(url: server.url)
            try await backend.connect()
            await server.shutdown()
            let expected = BackendError(
                .connectionClosed,
                "closed by the server with code 1001 and reason 'Terminating'",
                endpoint: server.url
            )
            let error = await #expect(throws: BackendError.self) { try await nextEvent(backend) }
            #expect(error == expected)
            let publishing = await #expect(throws: BackendError.self) { try await backend.publish(ping(1), to: "t") }
            #expect(publishing == expected)
            #expect(backend.diagnostics.lastError == expected)
        }
    }

    @Test func anyCloseCodeAndReasonAreReported() async throws {
        try await Self.withFakeZeek { server, url in
            let backend = WebSocketBackend(url: url)
            async let connecting: Void = backend.connect()
            let accepted = try #require(try await server.accept())
            _ = try await accepted.receive()
            try await accepted.send(text: Self.ack("e-0"))
            try await connecting
            try await accepted.send(text: dataFrame("t", ping(1)))
            await accepted.close(code: WebSocketCloseCode(rawValue: 4000), reason: "maintenance")
            #expect(try await nextEvent(backend)?.event == ping(1), "what came before the close comes first")
            let error = await #expect(throws: BackendError.self) { try await nextEvent(backend) }
            #expect(error?.description == "\(url): closed by the server with code 4000 and reason 'maintenance'")
            #expect(error?.code == .connectionClosed)
        }
    }

    @Test func errorFramesAndNonEventsAfterTheAckAreCountedAndSkipped() async throws {
        try await Self.withFakeZeek { server, url in
            let log = LogLines()
            let backend = WebSocketBackend(url: url, log: log.sink)
            async let connecting: Void = backend.connect()
            let accepted = try #require(try await server.accept())
            _ = try await accepted.receive()
            try await accepted.send(text: Self.ack("e-0"))
            try await connecting
            let error = Broker.ErrorMessage(code: "deserialization_failed", context: "failed to create Zeek event")
            try await accepted.send(text: Broker.JSON.encode(.error(error)))
            try await accepted.send(text: #"{"type":"data-message","topic":"t","@data-type":"count","data":1}"#)
            try await accepted.send(text: "garbage")
            try await accepted.send(text: Self.ack("e-0"))
            try await accepted.send(text: dataFrame("t", ping(1)))
            #expect(try await nextEvent(backend) == TopicEvent(topic: "t", event: ping(1)))
            let diagnostics = backend.diagnostics
            #expect(diagnostics.errorFrames == 1)
            #expect(diagnostics.recentErrors == [error])
            #expect(diagnostics.skippedDataMessages == 1)
            #expect(diagnostics.invalidFrames == 2)
            #expect(diagnostics.receivedEvents == 1)
            #expect(log.all.contains("error from \(url): deserialization_failed: failed to create Zeek event"))
            #expect(log.all.contains { $0.hasPrefix("skipped a data message on topic 't' that is not an event") })
            await backend.close()
        }
    }

    @Test func longErrorFramesAreCutInTheDiagnosticsTheLogAndTheHandshakeError() async throws {
        let long = String(repeating: "x", count: 100_000) + "\nsecond line"
        let cut = String(repeating: "x", count: WebSocketBackend.Diagnostics.recentErrorTextLimit) + "..."
        try await Self.withFakeZeek { server, url in
            let log = LogLines()
            let backend = WebSocketBackend(url: url, log: log.sink)
            async let connecting: Void = backend.connect()
            let accepted = try #require(try await server.accept())
            _ = try await accepted.receive()
            try await accepted.send(text: Self.ack("e-0"))
            try await connecting
            try await accepted.send(text: Broker.JSON.encode(.error(Broker.ErrorMessage(code: long, context: long))))
            try await accepted.send(text: dataFrame("t", ping(1)))
            #expect(try await nextEvent(backend)?.event == ping(1))
            #expect(backend.diagnostics.recentErrors == [Broker.ErrorMessage(code: cut, context: cut)])
            #expect(log.all.contains("error from \(url): \(cut): \(cut)"))
            await backend.close()

            let rejected = WebSocketBackend(url: url)
            async let rejecting: BackendError? = {
                do {
                    try await rejected.connect()
                    return nil
                } catch {
                    return error as? BackendError
                }
            }()
            let second = try #require(try await server.accept())
            _ = try await second.receive()
            try await second.send(text: Broker.JSON.encode(.error(Broker.ErrorMessage(code: "c", context: long))))
            #expect(await rejecting?.message == "handshake rejected: c: \(cut)")
            await second.close()
        }
    }

    @Test func extraHeadersGoWithEveryUpgradeRequest() async throws {
        try await Self.withFakeZeek { server, url in
            var headers = WebSocketHeaders()
            headers.append(name: WebSocketAPIServer.nodeTokenHeader, value: "sesame")
            let backend = WebSocketBackend(url: url, options: .init(applicationName: "n", headers: headers))
            async let connecting: Void = backend.connect()
            let first = try #require(try await server.accept())
            #expect(first.requestHeaders[WebSocketAPIServer.nodeTokenHeader] == "sesame")
            #expect(first.requestHeaders["X-Application-Name"] == "n")
            _ = try await first.receive()
            try await first.send(text: Self.ack("e-0"))
            try await connecting
            // A resubscription opens a new connection: the header goes with it too.
            async let subscribing: Void = backend.subscribe("t")
            let second = try #require(try await server.accept())
            #expect(second.requestHeaders[WebSocketAPIServer.nodeTokenHeader] == "sesame")
            _ = try await second.receive()
            try await second.send(text: Self.ack("e-1"))
            try await subscribing
            await backend.close()
        }
    }

    @Test func onlyTheLatestErrorFramesAreKept() async throws {
        try await Self.withFakeZeek { server, url in
            let backend = WebSocketBackend(url: url)
            async let connecting: Void = backend.connect()
            let accepted = try #require(try await server.accept())
            _ = try await accepted.receive()
            try await accepted.send(text: Self.ack("e-0"))
            try await connecting
            for number in 0..<20 {
                try await accepted.send(
                    text: Broker.JSON.encode(.error(Broker.ErrorMessage(code: "c", context: "\(number)")))
                )
            }
            try await accepted.send(text: dataFrame("t", ping(1)))
            #expect(try await nextEvent(backend)?.event == ping(1))
            #expect(backend.diagnostics.errorFrames == 20)
            #expect(backend.diagnostics.recentErrors.map(\.context) == (4..<20).map { "\($0)" })
            await backend.close()
        }
    }

    // MARK: - Changing subscriptions

    @Test func subscribingWhileConnectedSwitchesToANewConnection() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub) { server in
            let backend = WebSocketBackend(url: server.url)
            try await backend.subscribe("a/")
            try await backend.connect()
            let inProcess = try await participant(hub, "in-process", [])
            try await inProcess.publish(ping(1), to: "a/1")

            try await backend.subscribe("b/")
            #expect(backend.nodeID == "node-1-websocket-1")
            #expect(hub.hasSubscribers("b/x"))
            try await inProcess.publish(ping(2), to: "b/1")
            // What the old connection had received comes first.
            #expect(try await nextEvent(backend) == TopicEvent(topic: "a/1", event: ping(1)))
            #expect(try await nextEvent(backend) == TopicEvent(topic: "b/1", event: ping(2)))

            try await backend.unsubscribe("a/")
            try await backend.unsubscribe("never/")
            #expect(backend.nodeID == "node-1-websocket-2")
            #expect(backend.diagnostics.subscriptions == ["b/"])
            try await inProcess.publish(ping(3), to: "a/2")
            try await inProcess.publish(ping(4), to: "b/2")
            #expect(try await nextEvent(backend) == TopicEvent(topic: "b/2", event: ping(4)))
            try await backend.publish(ping(5), to: "b/")
            #expect(backend.diagnostics.connections == 3)
            await backend.close()
        }
    }

    // MARK: - Reconnecting

    @Test func reconnectsWithExponentialBackOffOnTheInjectedClock() async throws {
        try await Self.withFakeZeek { server, url in
            let clock = ManualClock()
            let log = LogLines()
            let policy = WebSocketBackend.Options.Reconnect(
                initialDelay: .seconds(1),
                maximumDelay: .seconds(3),
                maximumAttempts: 4
            )
            let backend = WebSocketBackend(url: url, options: .init(reconnect: policy), clock: clock, log: log.sink)
            try await backend.subscribe("zeek/")
            async let connecting: Void = backend.connect()
            let first = try #require(try await server.accept())
            #expect(try await first.receive() == .text(#"["zeek/"]"#))
            try await first.send(text: Self.ack("fake-0"))
            try await connecting
            try await first.send(text: dataFrame("zeek/a", ping(1)))
            #expect(try await nextEvent(backend) == TopicEvent(topic: "zeek/a", event: ping(1)))
            await first.close(code: .goingAway, reason: "Terminating")

            async let next = nextEvent(backend)
            #expect(await log.next(containing: "reconnecting") == "reconnecting to \(url) in 1 s (attempt 1 of 4)")
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            // The first attempt meets Zeek's answer to a wrong path.
            let second = try #require(try await server.accept())
            #expect(try await second.receive() == .text(#"["zeek/"]"#))
            try await second.send(
                text: #"{"type":"error","code":"invalid_uri","context":"Invalid URI - use /v1/messages/json"}"#
            )
            await second.close(code: .policyViolation, reason: "Invalid URI - use /v1/messages/json")
            #expect(await log.next(containing: "reconnecting") == "reconnecting to \(url) in 2 s (attempt 2 of 4)")
            await clock.waitForSleepers(1)
            clock.advance(by: .milliseconds(1999))
            #expect(clock.sleepers() == 1, "still waiting out the 2 s")
            clock.advance(by: .milliseconds(1))
            let third = try #require(try await server.accept())
            #expect(try await third.receive() == .text(#"["zeek/"]"#))
            try await third.send(text: Self.ack("fake-2"))
            try await third.send(text: dataFrame("zeek/b", ping(2)))
            #expect(try await next == TopicEvent(topic: "zeek/b", event: ping(2)))
            #expect(backend.nodeID == "fake-2")
            #expect(backend.diagnostics.reconnectAttempts == 2)
            #expect(backend.diagnostics.connections == 2)
            #expect(
                log.all.contains(
                    "reconnection attempt 1 failed: handshake rejected: invalid_uri: Invalid URI - use /v1/messages/json"
                )
            )
            await backend.close()
        }
    }

    @Test func givesUpAfterTheLastAttempt() async throws {
        try await Self.withFakeZeek { server, url in
            let clock = ManualClock()
            let log = LogLines()
            let policy = WebSocketBackend.Options.Reconnect(initialDelay: .seconds(1), maximumAttempts: 2)
            let backend = WebSocketBackend(url: url, options: .init(reconnect: policy), clock: clock, log: log.sink)
            async let connecting: Void = backend.connect()
            let first = try #require(try await server.accept())
            _ = try await first.receive()
            try await first.send(text: Self.ack("fake-0"))
            try await connecting
            await first.close(code: .goingAway, reason: "Terminating")

            async let next = nextEvent(backend)
            for (attempt, delay) in [(1, 1), (2, 2)] {
                await log.next(containing: "in \(delay) s (attempt \(attempt) of 2)")
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(delay))
                let refused = try #require(try await server.accept())
                _ = try await refused.receive()
                try await refused.send(text: Broker.JSON.encode(.error(Broker.ErrorMessage(code: "c", context: "no"))))
                await refused.close(code: .policyViolation, reason: "no")
            }
            let expected = BackendError(
                .handshakeRejected,
                "gave up after 2 reconnection attempts: handshake rejected: c: no",
                endpoint: url
            )
            do {
                _ = try await next
                Issue.record("events went on")
            } catch let error as BackendError {
                #expect(error == expected)
            }
            let publishing = await #expect(throws: BackendError.self) { try await backend.publish(ping(1), to: "t") }
            #expect(publishing == expected)
            #expect(backend.diagnostics.reconnectAttempts == 2)
            await backend.close()
        }
    }

    @Test func closingStopsAReconnectionThatIsWaiting() async throws {
        try await Self.withFakeZeek { server, url in
            let clock = ManualClock()
            let log = LogLines()
            let backend = WebSocketBackend(url: url, options: .init(reconnect: .standard), clock: clock, log: log.sink)
            async let connecting: Void = backend.connect()
            let first = try #require(try await server.accept())
            _ = try await first.receive()
            try await first.send(text: Self.ack("fake-0"))
            try await connecting
            await first.close(code: .goingAway, reason: "Terminating")
            async let next = nextEvent(backend)
            await log.next(containing: "in 1 s (attempt 1 of 10)")
            await backend.close()
            #expect(try await next == nil)
        }
    }

    @Test func theReconnectHandlerPublishesFirstOnEveryConnectionThatReplacesALostOne() async throws {
        try await Self.withFakeZeek { server, url in
            let clock = ManualClock()
            let log = LogLines()
            let backend = WebSocketBackend(
                url: url,
                options: .init(reconnect: .standard),
                clock: clock,
                log: log.sink,
                onReconnect: { backend in try? await backend.publish(ping(99), to: "zeek/hello") }
            )
            try await backend.subscribe("zeek/")
            async let connecting: Void = backend.connect()
            let first = try #require(try await server.accept())
            _ = try await first.receive()
            try await first.send(text: Self.ack("fake-0"))
            try await connecting
            // The first connection is no reconnection: what the backend sends first is its own event.
            try await backend.publish(ping(1), to: "zeek/a")
            #expect(try await receiveEvent(first) == TopicEvent(topic: "zeek/a", event: ping(1)))
            await first.close(code: .goingAway, reason: "Terminating")

            async let next = nextEvent(backend)
            await log.next(containing: "in 1 s (attempt 1 of 10)")
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            let second = try #require(try await server.accept())
            #expect(try await second.receive() == .text(#"["zeek/"]"#))
            try await second.send(text: Self.ack("fake-1"))
            #expect(try await receiveEvent(second) == TopicEvent(topic: "zeek/hello", event: ping(99)))
            try await second.send(text: dataFrame("zeek/b", ping(2)))
            #expect(try await next == TopicEvent(topic: "zeek/b", event: ping(2)))

            // A resubscription replaces a connection that was not lost: no handler.
            async let subscribing: Void = backend.subscribe("other/")
            let third = try #require(try await server.accept())
            #expect(try await third.receive() == .text(#"["zeek/","other/"]"#))
            try await third.send(text: Self.ack("fake-2"))
            try await subscribing
            try await backend.publish(ping(3), to: "zeek/c")
            #expect(try await receiveEvent(third) == TopicEvent(topic: "zeek/c", event: ping(3)))
            #expect(backend.diagnostics.connections == 3)
            await backend.close()
        }
    }

    // MARK: - End to end

    @Test func controllerClientOverWebSocketDrivesAManagementCluster() async throws {
        let hub = InMemoryBackend.Hub()
        let cluster = ManagementCluster(hub: hub)
        let configuration = Management.Configuration(
            id: "cfg-1",
            instances: [Management.Instance(name: "agent-1")],
            nodes: [
                Management.Node(name: "manager", instance: "agent-1", role: .manager),
                Management.Node(name: "worker-1", instance: "agent-1", role: .worker),
                Management.Node(name: "worker-2", instance: "agent-1", role: .worker),
            ]
        )
        try await withAPIServer(hub: hub, catalog: .standard) { server in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                let ready = AsyncStream<Void>.makeStream()
                group.addTask {
                    try await cluster.run { _ in ready.continuation.yield() }
                    return false
                }
                group.addTask {
                    for await _ in ready.stream { break }
                    let backend = WebSocketBackend(url: server.url, options: .init(applicationName: "zeek-client"))
                    try await withDispatcher(
                        backend: backend,
                        protocols: [.managementController],
                        options: DispatchOptions(timeout: .seconds(30))
                    ) { dispatcher in
                        let client = ControllerClient(dispatcher: dispatcher)
                        #expect(try await client.getInstances().data == .vector([]))
                        #expect(try await client.stage(configuration).map(\.data) == [.string("cfg-1")])
                        let deployed = try await client.deploy()
                        #expect(deployed.last?.data == .string("cfg-1"))
                        #expect(deployed.compactMap(\.node).sorted() == ["manager", "worker-1", "worker-2"])
                        #expect(deployed.allSatisfy { $0.success })
                        let instances = try await client.getInstances()
                        #expect(
                            instances.data
                                == .vector([Management.Instance(name: "agent-1", host: .ipv4Loopback).brokerValue])
                        )
                        let all = try await client.getIDValue("Cluster::node")
                        #expect(Set(all.compactMap(\.node)) == ["manager", "worker-1", "worker-2"])
                        #expect(all.first { $0.node == "worker-2" }?.data == .string(#""worker-2""#))
                        let one = try await client.getIDValue("bits_per_uid", nodes: ["manager"])
                        #expect(one.map(\.data) == [.string("96")])
                    }
                    #expect(server.clients.map(\.applicationName) == ["zeek-client"])
                    await backend.close()
                    return true
                }
                defer { group.cancelAll() }
                while let finished = try await group.next() {
                    if finished { return }
                }
            }
        }
    }
}

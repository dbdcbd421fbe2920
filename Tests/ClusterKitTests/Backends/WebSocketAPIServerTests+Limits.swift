import Synchronization
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// Reads until the connection ends and returns how it ended (a close other than 1000/1001 makes `receive` throw).
private func closeInfo(_ connection: WebSocketConnection) async -> WebSocketCloseInfo? {
    do {
        while try await connection.receive() != nil {}
    } catch {}
    return connection.closeInfo
}

/// Waits (without sleeping) until `condition` holds, yielding to the tasks it waits for; a cancelled wait (the test's
/// time limit) throws.
private func until(_ condition: () -> Bool) async throws {
    while !condition() {
        try Task.checkCancellation()
        await Task.yield()
    }
}

extension WebSocketAPIServerTests {
    // MARK: - Subscription timeout

    @Test func silentClientsAreClosedAtTheSubscriptionTimeoutAndFreeTheirSlots() async throws {
        let clock = ManualClock()
        let log = LogLines()
        try await withAPIServer(log: log, clock: clock, clientLimit: 2) { server in
            let silent = [try await connectRaw(server), try await connectRaw(server)]
            await clock.waitForSleepers(2)
            let third = try await connectRaw(server)
            #expect(
                try await receiveError(third)
                    == Broker.ErrorMessage(
                        code: "connection_limit",
                        context: "too many clients (limit 2), try again later"
                    )
            )
            #expect(await closeInfo(third)?.code == WebSocketCloseCode(rawValue: 1013))

            clock.advance(by: .seconds(10))
            for connection in silent {
                #expect(
                    try await receiveError(connection)
                        == Broker.ErrorMessage(code: "subscription_timeout", context: "no subscriptions within 10 s")
                )
                let info = await closeInfo(connection)
                #expect(info?.code == .policyViolation)
                #expect(info?.reason == "no subscriptions within 10 s")
            }
            await log.next(containing: "gone")
            await log.next(containing: "gone")
            let (late, ack) = try await subscribeRaw(server, ["t"])
            #expect(ack.contains(#""type":"ack""#))
            #expect(server.diagnostics.subscriptionTimeouts == 2)
            #expect(server.diagnostics.refusedClients == 1)
            #expect(server.diagnostics.clients == 1)
            await late.close()
        }
    }

    @Test func aRefusedSubscriptionFrameIsClosedAtTheSubscriptionTimeoutToo() async throws {
        let clock = ManualClock()
        try await withAPIServer(clock: clock) { server in
            let connection = try await connectRaw(server)
            try await connection.send(text: "{}")
            #expect(try await receiveError(connection)?.context == "subscriptions not an array")
            try await connection.send(text: #"["t"]"#)
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(10))
            // The later frame was read and dropped: the next frame is the timeout's.
            #expect(try await receiveError(connection)?.code == "subscription_timeout")
            #expect(await closeInfo(connection)?.code == .policyViolation)
        }
    }

    @Test func subscribedClientsOutliveTheSubscriptionTimeout() async throws {
        let clock = ManualClock()
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub, clock: clock) { server in
            let inProcess = try await participant(hub, "in-process", ["t"])
            let (connection, _) = try await subscribeRaw(server, ["t"])
            clock.advance(by: .seconds(60))
            try await connection.send(text: dataFrame("t", ping(1)))
            #expect(try await nextEvent(inProcess)?.event == ping(1))
            try await inProcess.publish(ping(2), to: "t")
            #expect(try await receiveEvent(connection)?.event == ping(2))
            #expect(server.diagnostics.subscriptionTimeouts == 0)
            await connection.close()
        }
    }

    @Test func tooManyOrTooLongSubscriptionsAreRefusedWithClose1008() async throws {
        try await withAPIServer { server in
            let many = try await connectRaw(server)
            let topics = (0...WebSocketAPIServer.maximumSubscriptions).map { "t\($0)" }
            try await many.send(text: Broker.JSON.encodeSubscriptions(topics))
            #expect(
                try await receiveError(many)
                    == Broker.ErrorMessage(code: "subscription_limit", context: "more than 1024 subscriptions")
            )
            #expect(await closeInfo(many)?.code == .policyViolation)

            let long = try await connectRaw(server)
            try await long.send(text: Broker.JSON.encodeSubscriptions([String(repeating: "t", count: 1_025)]))
            #expect(try await receiveError(long)?.context == "subscription longer than 1024 bytes")
            #expect(await closeInfo(long)?.code == .policyViolation)

            let (fine, ack) = try await subscribeRaw(server, Array(topics.dropLast()))
            #expect(ack.contains(#""type":"ack""#))
            await fine.close()
        }
    }

    // MARK: - Clients and nodes

    @Test func nodesAreCountedApartFromClients() async throws {
        try await withAPIServer(clientLimit: 1, nodeLimit: 2, nodeToken: "sesame") { server in
            #expect(server.options.webSocket.maximumConnections == 1 + 2 + WebSocketAPIServer.connectionHeadroom)
            let (client, _) = try await subscribeRaw(server, [])
            let (first, _) = try await subscribeRaw(server, [], nodeToken: "sesame")
            let (second, _) = try await subscribeRaw(server, [], nodeToken: "sesame")
            let third = try await connectRaw(server, nodeToken: "sesame")
            #expect(
                try await receiveError(third)
                    == Broker.ErrorMessage(
                        code: "connection_limit",
                        context: "too many nodes (limit 2), try again later"
                    )
            )
            #expect(await closeInfo(third)?.code == WebSocketCloseCode(rawValue: 1013))
            // A wrong token makes a client, and the client slot is taken.
            let impostor = try await connectRaw(server, nodeToken: "sesamE")
            #expect(try await receiveError(impostor)?.context == "too many clients (limit 1), try again later")
            #expect(server.clients.map(\.isNode) == [false, true, true])
            var expected = WebSocketAPIServer.Diagnostics()
            (expected.clients, expected.nodes, expected.refusedClients, expected.refusedNodes) = (1, 2, 1, 1)
            #expect(server.diagnostics == expected)

            // A node that leaves makes room for another (node processes retry).
            await first.close()
            try await until { server.diagnostics.nodes == 1 }
            let (replacement, ack) = try await subscribeRaw(server, [], nodeToken: "sesame")
            #expect(ack.contains(#""type":"ack""#))
            for connection in [client, second, replacement] { await connection.close() }
        }
    }

    @Test func withoutANodeTokenEveryConnectionIsAClient() async throws {
        try await withAPIServer(clientLimit: 1) { server in
            let (client, _) = try await subscribeRaw(server, [], nodeToken: "anything")
            #expect(server.clients.map(\.isNode) == [false])
            let refused = try await connectRaw(server, nodeToken: "anything")
            #expect(try await receiveError(refused)?.code == "connection_limit")
            await client.close()
        }
    }

    @Test func moreNodesThanZeeksConnectionLimitJoinBesideAHundredClients() async throws {
        try await withAPIServer(nodeToken: "sesame") { server in
            var connections: [WebSocketConnection] = []
            for _ in 0..<150 { connections.append(try await subscribeRaw(server, [], nodeToken: "sesame").0) }
            for _ in 0..<100 { connections.append(try await subscribeRaw(server, []).0) }
            #expect(server.diagnostics.nodes == 150)
            #expect(server.diagnostics.clients == 100)
            let refused = try await connectRaw(server)
            #expect(try await receiveError(refused)?.context == "too many clients (limit 100), try again later")
            for connection in connections { await connection.close() }
        }
    }

    @Test func nodeTokensAreComparedWhole() {
        #expect(WebSocketAPIServer.isNodeToken("abc", "abc"))
        for sent in ["abd", "ab", "abcd", "", "ABC"] { #expect(!WebSocketAPIServer.isNodeToken(sent, "abc")) }
        #expect(!WebSocketAPIServer.isNodeToken(nil, "abc"))
        #expect(!WebSocketAPIServer.isNodeToken("", ""))
        let token = WebSocketAPIServer.makeNodeToken()
        #expect(token.count == 64)
        #expect(token.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(token != WebSocketAPIServer.makeNodeToken())
    }

    // MARK: - Who may publish what

    @Test func withANodeTokenClientsMayNotPoseAsNodesOrAgents() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub, catalog: .standard, nodeToken: "sesame") { server in
            let agent = try await participant(hub, "agent", ["zeek/management/node"])
            let (client, _) = try await subscribeRaw(server, [])
            let hello = NodeRuntime.hello("worker-1")
            try await client.send(text: dataFrame("zeek/management/node", hello))
            #expect(
                try await receiveError(client)
                    == Broker.ErrorMessage(
                        code: "not_permitted",
                        context:
                            "event 'Management::Node::API::notify_node_hello' may only be published by the cluster's nodes"
                    )
            )
            let agentResponse = Broker.Event(AgentAPI.getNodesResponse, [.string("r"), .vector([])])
            try await client.send(text: dataFrame("zeek/management/agent/a", agentResponse))
            #expect(
                try await receiveError(client)?.context
                    == "event 'Management::Agent::API::get_nodes_response' may only be published inside the controller"
            )
            // The connection stays open, and requests on the node topic still go through (zeekctl dispatch
            // --websocket against the controller).
            let request = Broker.Event(
                NodeRuntime.API.dispatchRequest,
                [.string("r1"), .vector([.string("get_id_value"), .string("Cluster::node")]), .set([])]
            )
            try await client.send(text: dataFrame("zeek/management/node", request))
            #expect(try await nextEvent(agent) == TopicEvent(topic: "zeek/management/node", event: request))

            // A node may say hello, but not speak for an agent either.
            let (node, _) = try await subscribeRaw(server, [], nodeToken: "sesame")
            try await node.send(text: dataFrame("zeek/management/node", hello))
            #expect(try await nextEvent(agent)?.event == hello)
            try await node.send(text: dataFrame("zeek/management/agent/a", agentResponse))
            #expect(try await receiveError(node)?.code == "not_permitted")
            #expect(server.diagnostics.refusedEvents == 3)
            await client.close()
            await node.close()
        }
    }

    @Test func withoutANodeTokenEveryEventIsForwardedAsZeekDoes() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub, catalog: .standard) { server in
            let agent = try await participant(hub, "agent", ["zeek/management/node"])
            let (client, _) = try await subscribeRaw(server, [])
            try await client.send(text: dataFrame("zeek/management/node", NodeRuntime.hello("worker-1")))
            #expect(try await nextEvent(agent)?.event == NodeRuntime.hello("worker-1"))
            await client.close()
        }
    }

    @Test func theRestrictedEventsAreWhatOnlyNodesAndInProcessParticipantsSend() {
        let nodeOnly = WebSocketAPIServer.standardNodeOnlyEvents
        let inProcessOnly = WebSocketAPIServer.standardInProcessOnlyEvents
        #expect(nodeOnly.contains(NodeRuntime.API.dispatchResponse))
        #expect(nodeOnly.contains("Control::id_value_response"))
        #expect(!nodeOnly.contains(NodeRuntime.API.dispatchRequest))
        #expect(!nodeOnly.contains("Control::id_value_request"))
        for name in EventCatalog.managementAgent.signatures.keys { #expect(inProcessOnly.contains(name)) }
        #expect(inProcessOnly.contains(ControllerAPI.getNodesResponse))
        #expect(inProcessOnly.contains(ClusterKitControllerAPI.shutdownResponse))
        #expect(!inProcessOnly.contains(ControllerAPI.getNodesRequest))
        #expect(!inProcessOnly.contains(ClusterKitControllerAPI.shutdownRequest))
        #expect(nodeOnly.isDisjoint(with: inProcessOnly))
    }

    // MARK: - Hub inboxes

    @Test func aClientWhoseHubInboxOverflowsIsClosedWith1008() async throws {
        let hub = InMemoryBackend.Hub(inboxLimit: 8)
        let log = LogLines()
        try await withAPIServer(hub: hub, log: log) {
            $0.connection.pingInterval = nil
            $0.connection.sendQueueLimit = 16 << 10
            // Long enough that the RFC layer's own limit does not close the client first.
            $0.connection.sendQueueTimeout = .seconds(60)
            $0.connection.closeTimeout = .milliseconds(100)
        } _: { server in
            let stalled = try await RawPeer.connectWebSocket(
                port: server.port,
                path: WebSocketAPIServer.path,
                receiveBufferSize: 8192
            )
            try await stalled.write([clientFrame(.text, Array(#"["zeek/"]"#.utf8))])
            #expect(try await stalled.readFrame()?.opcode == WebSocketFrame.Opcode.text.rawValue)
            let publisher = try await participant(hub, "publisher", [])
            let big = Broker.Event("X::blob", [.string(String(repeating: "z", count: 32 << 10))])
            var sent = 0
            while hub.diagnostics.closedForFullInbox == 0 {
                try await publisher.publish(big, to: "zeek/blob")
                sent += 1
                try #require(sent < 100_000, "the stalled client's inbox never overflowed")
            }
            #expect(
                await log.next(containing: "gone")?.hasSuffix("gone with code 1008 and reason 'event queue full'")
                    == true
            )
            #expect(server.diagnostics.closedForFullQueue == 1)
            stalled.close()
        }
    }

    @Test func aClientsEventsWaitForRoomInAFullInProcessInboxAndNoneIsLost() async throws {
        let hub = InMemoryBackend.Hub(inboxLimit: 2)
        try await withAPIServer(hub: hub) { server in
            let consumer = try await participant(hub, "consumer", ["t"])
            let (client, _) = try await subscribeRaw(server, [])
            for number in 0..<20 { try await client.send(text: dataFrame("t", ping(UInt64(number)))) }
            try await until { hub.diagnostics.waitingPublishers == 1 }
            var iterator = consumer.events.makeAsyncIterator()
            for number in 0..<20 { #expect(try await iterator.next()?.event == ping(UInt64(number))) }
            #expect(hub.diagnostics.waits >= 1)
            #expect(server.diagnostics.publishTimeouts == 0)
            await client.close()
        }
    }

    // MARK: - max_event_queue_size

    /// Zeek's `max_event_queue_size` (ClientEventQueue): a client whose events the in-process side has not taken
    /// reaches its queue's size and is stalled — not read, nothing dropped, no error frame, as Zeek's WebSocket server
    /// blocks the client's thread when its OnLoop queue is full — while another client goes on.
    @Test func aClientAtItsEventQueueSizeIsStalledAloneAndLosesNothing() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub, maxEventQueueSize: 8) { server in
            let slow = try await participant(hub, "slow", ["t"])
            let (flooding, _) = try await subscribeRaw(server, [])
            for number in 0..<500 { try await flooding.send(text: dataFrame("t", ping(UInt64(number)))) }
            try await until { hub.diagnostics.waitingPublishers == 1 }
            // Memory stays bounded: the participant holds the queue's size of the flooding client's events; the
            // rest waits in the RFC layer's bounded receive queue and in TCP.
            #expect(hub.diagnostics.backlogEvents == 8)
            #expect(server.diagnostics.eventQueueStalls == 1)
            // Another client is not stalled by it: its event reaches the same participant at once.
            let (other, _) = try await subscribeRaw(server, [])
            try await other.send(text: dataFrame("t", ping(9_999, "X::other")))
            try await until { hub.diagnostics.backlogEvents == 9 }
            #expect(hub.diagnostics.waitingPublishers == 1)
            // Once the participant reads, every event arrives, in order, and nobody got an error frame.
            var iterator = slow.events.makeAsyncIterator()
            var numbers: [UInt64] = []
            while numbers.count < 500, let received = try await iterator.next() {
                guard received.event.name == "X::ping", case .count(let number)? = received.event.arguments.first
                else { continue }
                numbers.append(number)
            }
            #expect(numbers == Array(0..<500))
            // Whether it stalls again while the participant drains depends on which side is faster, so only the
            // first stall, above, is asserted.
            #expect(server.diagnostics.publishTimeouts == 0)
            #expect(server.clients.count == 2)
            await flooding.close()
            await other.close()
        }
    }

    @Test func aStalledClientIsWokenOnceHalfItsQueueIsTaken() async throws {
        let hub = InMemoryBackend.Hub()
        let consumer = try await participant(hub, "consumer", ["t"])
        let client = hub.makeClientEndpoint(name: "client", nodeID: "client", isMember: false, eventQueueLimit: 4) {}
        try await client.connect()
        for number: UInt64 in 0..<4 {
            #expect(try client.tryPublish(TopicEvent(topic: "t", event: ping(number)), size: nil) == nil)
        }
        let blocked = try client.tryPublish(TopicEvent(topic: "t", event: ping(4)), size: nil)
        #expect(blocked == .eventQueue(limit: 4))
        #expect(blocked?.description == "the client's event queue (max_event_queue_size 4)")
        // Events for other clients (no in-process receiver) never wait for it.
        #expect(try client.tryPublish(TopicEvent(topic: "elsewhere", event: ping(5)), size: nil) == nil)
        async let publishing: Void = client.publish(ping(4), to: "t")
        try await until { hub.diagnostics.waitingPublishers == 1 }
        var iterator = consumer.events.makeAsyncIterator()
        #expect(try await iterator.next()?.event == ping(0))
        // Three left: not woken yet (the wait ends at half the queue).
        #expect(hub.diagnostics.waitingPublishers == 1)
        #expect(try await iterator.next()?.event == ping(1))
        try await publishing
        #expect(client.eventQueue?.waiting == 3)
        // A participant that leaves takes its events out of the client's queue.
        await consumer.close()
        #expect(client.eventQueue?.waiting == 0)
        await client.close()
    }

    @Test func zeeksServerOptionsGiveTheEventQueueSize() throws {
        var zeek = Cluster.WebSocketServerOptions(
            listenAddr: Broker.Address("127.0.0.1"),
            listenPort: Broker.Port(0, .tcp)
        )
        #expect(try WebSocketAPIServer.Options(zeek: zeek).maxEventQueueSize == 32)
        zeek.maxEventQueueSize = 0
        #expect(try WebSocketAPIServer.Options(zeek: zeek).maxEventQueueSize == 0)
        zeek.maxEventQueueSize = .max
        #expect(try WebSocketAPIServer.Options(zeek: zeek).maxEventQueueSize == 0)
        zeek.maxEventQueueSize = 5
        zeek.pingInterval = Broker.Timespan(.seconds(-1))
        let options = try WebSocketAPIServer.Options(zeek: zeek)
        #expect(options.maxEventQueueSize == 5)
        #expect(options.webSocket.connection.pingInterval == nil)
    }

    @Test func aClientsEventThatWaitsTooLongIsRefusedWithABrokerError() async throws {
        let clock = ManualClock()
        let hub = InMemoryBackend.Hub(inboxLimit: 1)
        try await withAPIServer(hub: hub, clock: clock) { server in
            let slow = try await participant(hub, "slow", ["t"])
            let (client, _) = try await subscribeRaw(server, [])
            try await client.send(text: dataFrame("t", ping(1)))
            try await client.send(text: dataFrame("t", ping(2)))
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(30))
            #expect(
                try await receiveError(client)
                    == Broker.ErrorMessage(
                        code: "broker_error",
                        context: "Could not process remote event on topic 't': the inbox of 'slow' stayed full for 30 s"
                    )
            )
            #expect(try await nextEvent(slow)?.event == ping(1))
            try await client.send(text: dataFrame("t", ping(3)))
            #expect(try await nextEvent(slow)?.event == ping(3))
            #expect(server.diagnostics.publishTimeouts == 1)
            await client.close()
        }
    }

    @Test func aManagementClusterAnswersEveryRequestWithTinyInboxes() async throws {
        // Every inbox is full after two events, and clients wait once the inboxes are overrun by four: the
        // controller, its agent and nodes overrun their inboxes rather than wait for one another, and the client
        // waits for room. The byte limit holds two responses whatever the timing (at 256 bytes, two responses
        // that came before the server had sent the first on did not fit: seen under ThreadSanitizer's slowdown).
        let hub = InMemoryBackend.Hub(
            options: .init(inboxLimit: 2, inboxByteLimit: 1_024, overrunLimit: 4, overrunByteLimit: 1_024)
        )
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
                    try await cluster.run(deploying: configuration) { _ in ready.continuation.yield() }
                    return false
                }
                group.addTask {
                    for await _ in ready.stream { break }
                    let backend = WebSocketBackend(url: server.url)
                    try await withDispatcher(
                        backend: backend,
                        protocols: [.managementController],
                        options: DispatchOptions(timeout: .seconds(30))
                    ) { dispatcher in
                        let client = ControllerClient(dispatcher: dispatcher)
                        // Two requests at a time: the client's own inbox holds two responses (a client that lets
                        // more pile up is closed with 1008, as it should be); each request makes three nodes
                        // answer into the agent's inbox of two.
                        for _ in 0..<10 {
                            try await withThrowingTaskGroup(of: Set<String>.self) { requests in
                                for _ in 0..<2 {
                                    requests.addTask {
                                        Set(try await client.getIDValue("Cluster::node").compactMap(\.node))
                                    }
                                }
                                for try await nodes in requests {
                                    #expect(nodes == ["manager", "worker-1", "worker-2"])
                                }
                            }
                        }
                    }
                    await backend.close()
                    return true
                }
                defer { group.cancelAll() }
                while let finished = try await group.next() {
                    if finished { break }
                }
            }
        }
        #expect(hub.diagnostics.overruns > 0)
    }
}

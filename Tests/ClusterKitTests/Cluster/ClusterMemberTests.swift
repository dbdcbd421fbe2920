import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// Membership on the in-memory hub: hellos, `node_up`/`node_down`, type topics, pools.
@Suite struct ClusterMemberTests {
    static let layout = EmbeddedCluster.example

    /// What a member saw.
    final class Record: Sendable {
        let logs = Guarded<[String]>([])
        let reports = Guarded<[String]>([])
        let events = Guarded<[ClusterMember.Event]>([])
        let received = Guarded<[TopicEvent]>([])
    }

    /// A member on `hub`, with its cluster log and reports collected.
    final class Joined: Sendable {
        let member: ClusterMember
        let backend: InMemoryBackend
        let record = Record()
        /// Reads the events once connected, as a node's runtime does: a hello answering a notice can only go out then.
        let task = Guarded<Task<Void, Never>?>(nil)

        var logs: Guarded<[String]> { _read { yield record.logs } }
        var reports: Guarded<[String]> { _read { yield record.reports } }
        var events: Guarded<[ClusterMember.Event]> { _read { yield record.events } }
        var received: Guarded<[TopicEvent]> { _read { yield record.received } }

        init(_ name: String, hub: InMemoryBackend.Hub, scheme: TopicScheme = .broker, nodeID: String? = nil) throws {
            let backend = hub.makeBackend(name: name, nodeID: nodeID ?? "id-\(name)")
            self.backend = backend
            let record = self.record
            member = try ClusterMember(
                layout: ClusterMemberTests.layout,
                node: name,
                scheme: scheme,
                backend: backend,
                now: { Broker.Timestamp(nanosecondsSinceEpoch: 1_000_000_000) },
                clusterLog: { info in record.logs.withLock { $0.append("\(info.node): \(info.message)") } },
                report: { message in record.reports.withLock { $0.append(message) } }
            )
        }

        func start() async throws {
            try await member.subscribe()
            try await backend.connect()
            let (member, backend, record) = (self.member, self.backend, self.record)
            let memberEvents = Task {
                for await event in member.events { record.events.withLock { $0.append(event) } }
            }
            task.withLock {
                $0 = Task {
                    do {
                        for try await event in backend.events {
                            if try await member.handle(event) { continue }
                            record.received.withLock { $0.append(event) }
                        }
                    } catch {}
                    memberEvents.cancel()
                }
            }
        }

        func stop() async {
            await backend.close()
            await task.withLock { $0 }?.value
        }
    }

    /// Waits (polling, bounded) until `condition` holds.
    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<500 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func nodesThatJoinSeeEachOtherUpAndGoDownWhenOneLeaves() async throws {
        let hub = InMemoryBackend.Hub()
        let manager = try Joined("manager", hub: hub)
        let worker = try Joined("worker-1", hub: hub)
        try await manager.start()
        try await worker.start()
        try await Self.eventually("both up") {
            manager.events.withLock { $0.count } == 1 && worker.events.withLock { $0.count } == 1
        }
        #expect(manager.events.withLock { $0 } == [.nodeUp(name: "worker-1", id: "id-worker-1")])
        #expect(worker.events.withLock { $0 } == [.nodeUp(name: "manager", id: "id-manager")])
        #expect(manager.logs.withLock { $0 } == ["manager: got hello from worker-1 (id-worker-1)"])
        #expect(manager.member.upNodes == ["worker-1"])
        #expect(hub.memberCount == 2)

        await worker.stop()
        try await Self.eventually("worker down") { manager.events.withLock { $0.count } == 2 }
        #expect(manager.member.activeNodeCount(of: .worker) == 0)
        #expect(manager.events.withLock { $0.last } == .nodeDown(name: "worker-1", id: "id-worker-1"))
        #expect(manager.logs.withLock { $0.last } == "manager: node down: worker-1")
        #expect(manager.member.upNodes.isEmpty)

        // Back with a new id: up again.
        let again = try Joined("worker-1", hub: hub, nodeID: "id-worker-1b")
        try await again.start()
        try await Self.eventually("worker up again") { manager.events.withLock { $0.count } == 3 }
        #expect(manager.member.activeNodeCount(of: .worker) == 1)
        #expect(manager.events.withLock { $0.last } == .nodeUp(name: "worker-1", id: "id-worker-1b"))
        #expect(manager.reports.withLock { $0 }.isEmpty)
        await again.stop()
        await manager.stop()
    }

    @Test func nodesSubscribeToTheirNodeNodeIDAndTypeTopics() async throws {
        let hub = InMemoryBackend.Hub()
        let worker = try Joined("worker-2", hub: hub)
        #expect(
            worker.member.subscriptions == [
                "zeek/cluster/node/worker-2/", "zeek/cluster/nodeid/id-worker-2/", "zeek/cluster/worker",
            ]
        )
        try await worker.start()
        let tool = hub.makeBackend(name: "tool")
        try await tool.connect()
        try await tool.publish(Broker.Event("Site::reload", []), to: "zeek/cluster/worker")
        try await Self.eventually("the type topic's event") { worker.received.withLock { $0.count } == 1 }
        #expect(worker.received.withLock { $0.first?.event.name } == "Site::reload")
        await worker.stop()

        let zeroMQ = try Joined("proxy-1", hub: hub, scheme: .zeroMQ)
        #expect(
            zeroMQ.member.subscriptions == [
                "zeek.cluster.node.proxy-1.", "zeek.cluster.nodeid.id-proxy-1.", "zeek.cluster.proxy",
            ]
        )
    }

    @Test func zeroMQNamingWorksTheSameWay() async throws {
        let hub = InMemoryBackend.Hub()
        let manager = try Joined("manager", hub: hub, scheme: .zeroMQ)
        let proxy = try Joined("proxy-1", hub: hub, scheme: .zeroMQ)
        try await manager.start()
        try await proxy.start()
        try await Self.eventually("proxy up") { manager.member.activeNodeCount(of: .proxy) == 1 }
        await proxy.stop()
        try await Self.eventually("proxy down") { manager.member.activeNodeCount(of: .proxy) == 0 }
        await manager.stop()
    }

    @Test func anUnexpectedNodeIsReportedAsZeekDoes() async throws {
        let hub = InMemoryBackend.Hub()
        let manager = try Joined("manager", hub: hub)
        let stranger = try Joined("worker-9", hub: hub)
        try await manager.start()
        try await stranger.start()
        try await Self.eventually("the report") { !manager.reports.withLock { $0 }.isEmpty }
        #expect(manager.reports.withLock { $0 } == ["error: Got Cluster::hello msg from unexpected node: worker-9"])
        #expect(manager.member.upNodes.isEmpty)
        await stranger.stop()
        try await Self.eventually("the warning") { manager.reports.withLock { $0.count } == 2 }
        #expect(manager.reports.withLock { $0.last } == "warning: unsubscription of unknown node with id 'id-worker-9'")
        await manager.stop()
    }

    @Test func clientsThatAreNotNodesTakeNoPart() async throws {
        let hub = InMemoryBackend.Hub()
        let manager = try Joined("manager", hub: hub)
        try await manager.start()
        let client = hub.makeClientEndpoint(name: "client", nodeID: "client", isMember: false) {}
        try await client.subscribe("zeek/cluster/nodeid/client/")
        try await client.connect()
        #expect(hub.memberCount == 1)
        try await Task.sleep(for: .milliseconds(20))
        #expect(manager.reports.withLock { $0 }.isEmpty)
        await client.close()
        await manager.stop()
    }

    @Test func poolsPublishToMembersThatAreUp() async throws {
        let hub = InMemoryBackend.Hub()
        let manager = try Joined("manager", hub: hub)
        let worker1 = try Joined("worker-1", hub: hub)
        let worker2 = try Joined("worker-2", hub: hub)
        try await manager.start()
        let pool = Cluster.Options.standard.workerPoolSpec.topic
        // Nobody up: Zeek's F.
        #expect(try await manager.member.publishHRW(pool: Topic(pool), key: "k", Broker.Event("E", [])) == nil)
        #expect(try await manager.member.publishRR(pool: Topic(pool), Broker.Event("E", [])) == nil)
        try await worker1.start()
        try await worker2.start()
        try await Self.eventually("workers up") { manager.member.activeNodeCount(of: .worker) == 2 }

        var hrwTopics = Set<Topic>()
        for key in 0..<32 {
            let chosen = try await manager.member.publishHRW(
                pool: Topic(pool),
                key: "key-\(key)",
                Broker.Event("E", [])
            )
            hrwTopics.insert(try #require(chosen))
            // The same key always goes to the same node.
            #expect(
                try await manager.member.publishHRW(pool: Topic(pool), key: "key-\(key)", Broker.Event("E", []))
                    == chosen
            )
        }
        #expect(hrwTopics == ["zeek/cluster/node/worker-1/", "zeek/cluster/node/worker-2/"])
        let rr1 = try await manager.member.publishRR(pool: Topic(pool), Broker.Event("R", []))
        let rr2 = try await manager.member.publishRR(pool: Topic(pool), Broker.Event("R", []))
        #expect(Set([rr1, rr2]) == ["zeek/cluster/node/worker-1/", "zeek/cluster/node/worker-2/"])
        try await Self.eventually("the events") {
            worker1.received.withLock { $0.count } + worker2.received.withLock { $0.count } == 66
        }

        // worker-2 leaves: everything goes to worker-1; back, it is picked again.
        await worker2.stop()
        try await Self.eventually("worker-2 down") { manager.member.activeNodeCount(of: .worker) == 1 }
        for key in 0..<16 {
            #expect(
                try await manager.member.publishHRW(pool: Topic(pool), key: "key-\(key)", Broker.Event("E", []))
                    == "zeek/cluster/node/worker-1/"
            )
        }
        #expect(
            try await manager.member.publishRR(pool: Topic(pool), Broker.Event("R", []))
                == "zeek/cluster/node/worker-1/"
        )
        #expect(manager.member.pool(Topic(pool))?.aliveCount == 1)
        await worker1.stop()
        await manager.stop()
    }

    @Test func theStateMachineFollowsZeeksZeroMQScripts() {
        var options = Cluster.Options.standard
        options.node = "manager"
        var machine = MembershipStateMachine(
            cluster: ClusterState(layout: Self.layout, options: options),
            nodeID: "me"
        )
        let now = Broker.Timestamp(nanosecondsSinceEpoch: 0)
        // Its own topic, and topics that are not node id topics, cause nothing.
        #expect(machine.handle(.subscriptionObserved("zeek/cluster/nodeid/me/"), now: now).isEmpty)
        #expect(machine.handle(.subscriptionObserved("zeek/cluster/node/x/"), now: now).isEmpty)
        #expect(
            machine.handle(.subscriptionObserved("zeek/cluster/nodeid/w1/"), now: now) == [
                .publish(
                    Broker.Event("Cluster::hello", [.string("manager"), .string("me")]),
                    to: "zeek/cluster/nodeid/w1/"
                )
            ]
        )
        #expect(
            machine.handle(.hello(name: "worker-1", id: "w1"), now: now).first == .nodeUp(name: "worker-1", id: "w1")
        )
        // A new id without a goodbye: Zeek's warning, a node_down for the old id, a node_up for the new one.
        let back = machine.handle(.hello(name: "worker-1", id: "w1b"), now: now)
        #expect(back.first == .warning("node 'worker-1' never said goodbye (old id:w1 new id:w1b"))
        #expect(back.contains(.nodeDown(name: "worker-1", id: "w1")))
        #expect(back.contains(.nodeUp(name: "worker-1", id: "w1b")))
        #expect(machine.activeNodeCount(of: .worker) == 1)
        // A lost connection takes every node down.
        _ = machine.handle(.hello(name: "proxy-1", id: "p1"), now: now)
        let lost = machine.handle(.reconnected, now: now)
        #expect(lost.filter { if case .nodeDown = $0 { true } else { false } }.count == 2)
        #expect(machine.activeNodeCount(of: .worker) == 0 && machine.activeNodeCount(of: .proxy) == 0)
        // Malformed membership events are not inputs.
        #expect(MembershipStateMachine.input(from: Broker.Event("Cluster::hello", [.string("x")])) == nil)
        #expect(MembershipStateMachine.input(from: Broker.Event("ClusterKit::Hub::subscription", [.count(1)])) == nil)
    }

    @Test func nodeIDTopicsParseAsZeekDoes() {
        #expect(TopicScheme.broker.nodeID(inNodeIDTopic: "zeek/cluster/nodeid/abc/") == "abc")
        #expect(TopicScheme.broker.nodeID(inNodeIDTopic: "zeek/cluster/nodeid//") == nil)
        #expect(TopicScheme.broker.nodeID(inNodeIDTopic: "zeek/cluster/nodeid/a/b/") == nil)
        #expect(TopicScheme.zeroMQ.nodeID(inNodeIDTopic: "zeek.cluster.nodeid.abc.") == "abc")
        #expect(TopicScheme.zeroMQ.nodeID(inNodeIDTopic: "zeek/cluster/nodeid/abc/") == nil)
        #expect(TopicScheme.broker.typeTopic(for: .worker) == "zeek/cluster/worker")
        #expect(TopicScheme.zeroMQ.typeTopic(for: .logger) == "zeek.cluster.logger")
        #expect(TopicScheme.broker.typeTopic(for: .control) == nil)
    }
}

/// Node processes reconnect after Broker's retry interval.
@Suite struct NodeRetryIntervalTests {
    @Test func reconnectingFollowsRetryIntervalAndZeekDefaultConnectRetry() throws {
        let standard = try NodeProcessTests.resolve(name: "worker-1", layoutFile: "/c/node.cfg")
        #expect(standard.backend.reconnect == .init(initialDelay: .seconds(1), maximumDelay: .seconds(30)))
        let slower = try NodeProcessTests.resolve(
            name: "worker-1",
            layoutFile: "/c/node.cfg",
            environment: ["ZEEK_DEFAULT_CONNECT_RETRY": "45"]
        )
        #expect(slower.backend.reconnect == .init(initialDelay: .seconds(45), maximumDelay: .seconds(45)))
        let never = try NodeProcessTests.resolve(
            name: "worker-1",
            layoutFile: "/c/node.cfg",
            environment: ["ZEEK_DEFAULT_CONNECT_RETRY": "0"]
        )
        #expect(never.backend.reconnect == nil)
    }
}

/// A hub's view of membership for its cluster.log.
@Suite struct MembershipObserverTests {
    @Test func theObserverLogsHellosAndDeparturesWithoutSayingHello() async throws {
        let hub = InMemoryBackend.Hub()
        let lines = Guarded<[String]>([])
        let observer = MembershipObserver(backend: hub.makeBackend(name: "hub", nodeID: "hub-id")) { line in
            lines.withLock { $0.append(line) }
        }
        let watching = Task { try await observer.run() }
        defer { watching.cancel() }
        try await ClusterMemberTests.eventually("the observer on the hub") { hub.memberCount == 1 }
        let manager = try ClusterMemberTests.Joined("manager", hub: hub)
        let worker = try ClusterMemberTests.Joined("worker-1", hub: hub)
        try await manager.start()
        try await worker.start()
        try await ClusterMemberTests.eventually("two hellos") { lines.withLock { $0.count } == 2 }
        #expect(
            Set(lines.withLock { $0 }) == [
                "got hello from manager (id-manager)", "got hello from worker-1 (id-worker-1)",
            ]
        )
        #expect(observer.nodes == ["manager", "worker-1"])
        await worker.stop()
        try await ClusterMemberTests.eventually("the departure") { lines.withLock { $0.count } == 3 }
        #expect(lines.withLock { $0.last } == "node down: worker-1")
        // The nodes never heard from the observer.
        #expect(manager.reports.withLock { $0 }.isEmpty)
        #expect(manager.member.upNodes.isEmpty)
        await manager.stop()
    }
}

/// Zeek's `Cluster::on_subscribe` and `Cluster::on_unsubscribe` hooks on any backend.
@Suite struct SubscriptionHookTests {
    @Test func hooksSeeEverySubscriptionBeforeTheBackendDoes() async throws {
        let hub = InMemoryBackend.Hub()
        let seen = Guarded<[String]>([])
        let inner = hub.makeBackend(name: "worker-1", nodeID: "w1")
        let backend = inner.withSubscriptionHooks(
            onSubscribe: { topic in
                // Before the backend subscribes: nobody holds the topic yet.
                seen.withLock { $0.append("+\(topic.name) \(hub.hasSubscribers(topic))") }
            },
            onUnsubscribe: { topic in seen.withLock { $0.append("-\(topic.name) \(hub.hasSubscribers(topic))") } }
        )
        #expect(backend.nodeID == "w1")
        let member = try ClusterMember(layout: ClusterMemberTests.layout, node: "worker-1", backend: backend)
        try await member.subscribe()
        try await backend.subscribe("site/", eventNames: ["Site::e"])
        try await backend.connect()
        try await backend.unsubscribe("zeek/cluster/worker")
        #expect(
            seen.withLock { $0 } == [
                "+zeek/cluster/node/worker-1/ false", "+zeek/cluster/nodeid/w1/ false", "+zeek/cluster/worker false",
                "+site/ false", "-zeek/cluster/worker true",
            ]
        )
        #expect(!hub.hasSubscribers("zeek/cluster/worker"))
        #expect(hub.memberCount == 1)
        await backend.close()
        #expect(hub.memberCount == 0)
    }
}

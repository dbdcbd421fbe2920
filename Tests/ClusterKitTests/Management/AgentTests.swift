import Synchronization
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// A node host whose stops wait until the test opens the gate; it records what it is asked, in order.
final class GatedNodeHost: NodeHost {
    struct Record: Sendable {
        /// Every call, in order: `launch NAME`, `stop NAME`, `stopped NAME`.
        var calls: [String] = []
        /// Stops begun and not yet ended.
        var stopping: Set<String> = []
        /// The most stops in progress at once.
        var mostAtOnce = 0
    }

    let record: Observed<Record>
    private let gate: Observed<Bool>
    private let inner: InProcessNodeHost

    /// Creates a host; hosts made with the same `record` and `gate` share them.
    init(
        hub: InMemoryBackend.Hub,
        record: Observed<Record> = Observed(Record()),
        gate: Observed<Bool> = Observed(false)
    ) {
        inner = InProcessNodeHost(hub: hub)
        self.record = record
        self.gate = gate
    }

    /// Lets every stop, waiting or to come, end.
    func open() { gate.update { $0 = true } }

    func run() async { await inner.run() }

    func launch(_ launch: NodeLaunch) async -> String? {
        record.update { $0.calls.append("launch \(launch.name)") }
        return await inner.launch(launch)
    }

    func stop(_ name: String) async {
        record.update { record in
            record.calls.append("stop \(name)")
            record.stopping.insert(name)
            record.mostAtOnce = max(record.mostAtOnce, record.stopping.count)
        }
        _ = try? await gate.wait(for: "the gate", timeout: .seconds(60)) { $0 }
        await inner.stop(name)
        record.update { record in
            record.stopping.remove(name)
            record.calls.append("stopped \(name)")
        }
    }

    func restart(_ name: String) async -> Bool { await inner.restart(name) }
    func status() -> [String: HostedNodeStatus] { inner.status() }
}

@Suite(.timeLimit(.minutes(2))) struct AgentTests {
    /// Runs an agent for instance `a` on a hub with a gated node host, and a controller-side backend.
    static func withAgent(
        maximumConcurrentStops: Int = Agent.Options.defaultMaximumConcurrentStops,
        _ body: @escaping @Sendable (GatedNodeHost, InMemoryBackend, Observed<[Broker.Event]>) async throws -> Void
    ) async throws {
        let hub = InMemoryBackend.Hub()
        let host = GatedNodeHost(hub: hub)
        let agent = Agent(
            options: Agent.Options(instance: "a", maximumConcurrentStops: maximumConcurrentStops),
            backend: hub.makeBackend(name: "a"),
            host: host,
            clock: ManualClock()
        )
        let controller = hub.makeBackend(name: "controller")
        try await controller.subscribe(Topic(AgentAPI.topicPrefix))
        try await controller.connect()
        let received = Observed<[Broker.Event]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await agent.run() }
            group.addTask {
                for try await event in controller.events { received.update { $0.append(event.event) } }
            }
            try await received.wait(for: "the agent's hello") { $0.contains { $0.name == AgentAPI.notifyAgentHello } }
            defer { group.cancelAll() }
            try await body(host, controller, received)
        }
    }

    static func configuration(_ id: String, nodes: [String]) -> Management.Configuration {
        Management.Configuration(
            id: id,
            instances: [Management.Instance(name: "a")],
            nodes: nodes.map { Management.Node(name: $0, instance: "a", role: .worker) }
        )
    }

    static func deploy(
        _ configuration: Management.Configuration,
        _ reqid: String,
        through controller: InMemoryBackend,
        received: Observed<[Broker.Event]>
    ) async throws -> [Management.Result] {
        try await controller.publish(
            Broker.Event(AgentAPI.deployRequest, [.string(reqid), configuration.brokerValue, .boolean(false)]),
            to: AgentAPI.topic("a")
        )
        let events = try await received.wait(for: "the deploy response \(reqid)") { events in
            events.contains { $0.name == AgentAPI.deployResponse && $0.arguments.first == .string(reqid) }
        }
        let response = try #require(
            events.first { $0.name == AgentAPI.deployResponse && $0.arguments.first == .string(reqid) }
        )
        return try [Management.Result](brokerValue: try #require(response.arguments.last))
    }

    @Test func aDeploymentStopsTheOldNodesInParallelAndStartsTheNewOnesAfterwards() async throws {
        try await Self.withAgent { host, controller, received in
            let first = try await Self.deploy(
                Self.configuration("c1", nodes: ["w1", "w2", "w3"]),
                "d1",
                through: controller,
                received: received
            )
            #expect(first.map(\.node) == ["w1", "w2", "w3"] && first.allSatisfy { $0.success })

            try await controller.publish(
                Broker.Event(
                    AgentAPI.deployRequest,
                    [.string("d2"), Self.configuration("c2", nodes: ["n1"]).brokerValue, .boolean(false)]
                ),
                to: AgentAPI.topic("a")
            )
            // All three stops are under way at once, and nothing new starts while they are.
            try await host.record.wait(for: "three stops at once") { $0.stopping.count == 3 }
            #expect(!host.record.value.calls.contains("launch n1"))
            host.open()
            let second = try await received.wait(for: "the second deploy response") { events in
                events.contains { $0.name == AgentAPI.deployResponse && $0.arguments.first == .string("d2") }
            }
            #expect(!second.isEmpty)
            let calls = host.record.value.calls
            let launch = try #require(calls.firstIndex(of: "launch n1"))
            for name in ["w1", "w2", "w3"] {
                #expect(try #require(calls.firstIndex(of: "stopped \(name)")) < launch, "\(calls)")
            }
        }
    }

    @Test func standbyStopsTheNodesInParallel() async throws {
        try await Self.withAgent { host, controller, received in
            _ = try await Self.deploy(
                Self.configuration("c1", nodes: ["w1", "w2", "w3", "w4"]),
                "d1",
                through: controller,
                received: received
            )
            try await controller.publish(
                Broker.Event(AgentAPI.agentStandbyRequest, [.string("")]),
                to: AgentAPI.topic("a")
            )
            try await host.record.wait(for: "four stops at once") { $0.stopping.count == 4 }
            #expect(!received.value.contains { $0.name == AgentAPI.agentStandbyResponse })
            host.open()
            try await received.wait(for: "the standby response") {
                $0.contains { $0.name == AgentAPI.agentStandbyResponse }
            }
            #expect(host.record.value.stopping.isEmpty)
        }
    }

    @Test func stopsInParallelAreBounded() async throws {
        try await Self.withAgent(maximumConcurrentStops: 2) { host, controller, received in
            _ = try await Self.deploy(
                Self.configuration("c1", nodes: ["w1", "w2", "w3", "w4", "w5"]),
                "d1",
                through: controller,
                received: received
            )
            try await controller.publish(
                Broker.Event(AgentAPI.agentStandbyRequest, [.string("")]),
                to: AgentAPI.topic("a")
            )
            try await host.record.wait(for: "two stops") { $0.stopping.count == 2 }
            host.open()
            try await received.wait(for: "the standby response") {
                $0.contains { $0.name == AgentAPI.agentStandbyResponse }
            }
            let record = host.record.value
            #expect(record.mostAtOnce == 2)
            #expect(record.calls.filter { $0.hasPrefix("stopped ") }.count == 5)
        }
    }

    @Test func aMalformedRequestIsAnsweredWithWhatIsWrong() async throws {
        try await Self.withAgent { host, controller, received in
            host.open()
            try await controller.publish(
                Broker.Event(AgentAPI.deployRequest, [.string("bad"), .string("not a configuration")]),
                to: AgentAPI.topic("a")
            )
            try await controller.publish(
                Broker.Event(AgentAPI.restartRequest, [.string("bad"), .count(1)]),
                to: AgentAPI.topic("a")
            )
            try await controller.publish(
                Broker.Event(AgentAPI.nodeDispatchRequest, [.string("bad"), .string("get_id_value")]),
                to: AgentAPI.topic("a")
            )
            let events = try await received.wait(for: "three answers") { events in
                events.filter { $0.arguments.first == .string("bad") }.count == 3
            }
            let errors = try events.filter { $0.arguments.first == .string("bad") }.flatMap { event in
                try [Management.Result](brokerValue: try #require(event.arguments.last)).map { $0.error ?? "" }
            }
            #expect(errors.count == 3)
            #expect(errors[0].hasPrefix("deploy_request: argument 2 (config) is not a Management::Configuration: "))
            #expect(errors[1].hasPrefix("restart_request: argument 2 (nodes) is not a set of strings: "))
            #expect(errors[2].hasPrefix("node_dispatch_request: argument 2 (action) is not a vector of strings: "))
        }
    }
}

extension AgentTests {
    @Test func aDeploymentWaitsForTheNodesOfInstancesThatLeftToBeGone() async throws {
        let record = Observed(GatedNodeHost.Record())
        let gate = Observed(false)
        let hosts: @Sendable (InMemoryBackend.Hub) -> any NodeHost = { hub in
            GatedNodeHost(hub: hub, record: record, gate: gate)
        }
        try await ControllerHarness.with(agents: .cluster(makeNodeHost: hosts)) { harness in
            let old = Management.Configuration(
                id: "old",
                instances: [Management.Instance(name: "a")],
                nodes: [
                    Management.Node(name: "w1", instance: "a", role: .worker),
                    Management.Node(name: "w2", instance: "a", role: .worker),
                ]
            )
            #expect(try await harness.stageAndDeploy(old, reqid: "d1").allSatisfy { $0.success })
            let new = Management.Configuration(
                id: "new",
                instances: [Management.Instance(name: "b")],
                nodes: [Management.Node(name: "n1", instance: "b", role: .worker)]
            )
            try await harness.send(ControllerAPI.stageConfigurationRequest, [.string("s2"), new.brokerValue])
            try await harness.send(ControllerAPI.deployRequest, [.string("d2")])
            try await record.wait(for: "both old nodes stopping") { $0.stopping == ["w1", "w2"] }
            #expect(!record.value.calls.contains("launch n1"))
            gate.update { $0 = true }
            let results = try await harness.response(ControllerAPI.deployResponse, "d2")
            #expect(results.map(\.node) == ["n1", nil] && results.allSatisfy { $0.success }, "\(results)")
            let calls = record.value.calls
            let launch = try #require(calls.firstIndex(of: "launch n1"))
            #expect(try #require(calls.firstIndex(of: "stopped w1")) < launch)
            #expect(try #require(calls.firstIndex(of: "stopped w2")) < launch)
            #expect(Set(harness.controller.agents.keys) == ["b"])
        }
    }
}

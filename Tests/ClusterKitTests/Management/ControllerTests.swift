import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// A node host whose listed nodes say hello but never answer a dispatch.
final class MuteNodeHost: NodeHost {
    private let inner: InProcessNodeHost
    private let hub: InMemoryBackend.Hub
    private let mute: Set<String>
    private let muted = Guarded<[String: InMemoryBackend]>([:])

    init(hub: InMemoryBackend.Hub, mute: Set<String>) {
        self.inner = InProcessNodeHost(hub: hub)
        self.hub = hub
        self.mute = mute
    }

    func run() async { await inner.run() }

    func launch(_ launch: NodeLaunch) async -> String? {
        guard mute.contains(launch.name) else { return await inner.launch(launch) }
        let backend = hub.makeBackend(name: launch.name)
        muted.withLock { $0[launch.name] = backend }
        do {
            try await backend.subscribe(NodeRuntime.API.topic, eventNames: [NodeRuntime.API.dispatchRequest])
            try await backend.connect()
            try await backend.publish(NodeRuntime.hello(launch.name), to: NodeRuntime.API.topic)
        } catch {
            return "\(error)"
        }
        return nil
    }

    func stop(_ name: String) async {
        if let backend = muted.withLock({ $0.removeValue(forKey: name) }) { await backend.close() }
        await inner.stop(name)
    }

    func restart(_ name: String) async -> Bool { await inner.restart(name) }

    func status() -> [String: HostedNodeStatus] { inner.status() }
}

/// A node host whose listed nodes run in process but are reported as exited processes waiting for revival.
final class ExitedNodeHost: NodeHost {
    private let inner: InProcessNodeHost
    private let exited: [String: Int]

    init(hub: InMemoryBackend.Hub, exited: [String: Int]) {
        self.inner = InProcessNodeHost(hub: hub)
        self.exited = exited
    }

    func run() async { await inner.run() }
    func launch(_ launch: NodeLaunch) async -> String? { await inner.launch(launch) }
    func stop(_ name: String) async { await inner.stop(name) }
    func restart(_ name: String) async -> Bool { await inner.restart(name) }

    func status() -> [String: HostedNodeStatus] {
        var statuses = inner.status()
        for (name, pid) in exited { statuses[name] = HostedNodeStatus(pid: pid, isRunning: false, restarts: 2) }
        return statuses
    }
}

@Suite struct ControllerTests {
    static let configuration = Management.Configuration(
        id: "cfg-1",
        instances: [Management.Instance(name: "agent-1")],
        nodes: [
            Management.Node(name: "manager", instance: "agent-1", role: .manager),
            Management.Node(name: "logger-1", instance: "agent-1", role: .logger),
            Management.Node(name: "worker-1", instance: "agent-1", role: .worker),
            Management.Node(name: "worker-2", instance: "agent-1", role: .worker),
        ]
    )

    /// Runs a management cluster and a client beside it.
    static func withCluster<T: Sendable>(
        deploying configuration: Management.Configuration? = nil,
        clock: any Clock<Duration> = ContinuousClock(),
        makeNodeHost: (@Sendable (InMemoryBackend.Hub) -> any NodeHost)? = nil,
        timeout: Duration = .seconds(30),
        _ body: @escaping @Sendable (ControllerClient, ManagementCluster) async throws -> T
    ) async throws -> T {
        let hub = InMemoryBackend.Hub()
        var hostMaker: (@Sendable (String) -> any NodeHost)?
        if let makeNodeHost {
            hostMaker = { _ in makeNodeHost(hub) }
        }
        let cluster = ManagementCluster(hub: hub, clock: clock, makeNodeHost: hostMaker)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            let ready = AsyncStream<Void>.makeStream()
            group.addTask {
                try await cluster.run(deploying: configuration) { _ in ready.continuation.yield() }
                return nil
            }
            group.addTask {
                for await _ in ready.stream { break }
                return try await withDispatcher(
                    backend: hub.makeBackend(name: "client"),
                    protocols: [.managementController],
                    clock: ContinuousClock(),
                    options: DispatchOptions(timeout: timeout)
                ) { dispatcher in
                    try await body(ControllerClient(dispatcher: dispatcher), cluster)
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw BackendError(.closed, "the cluster stopped", endpoint: "test")
        }
    }

    @Test func anEmptyControllerAnswersWithZeeksErrors() async throws {
        try await Self.withCluster { client, _ in
            let instances = try await client.getInstances()
            #expect(instances.success && instances.data == .vector([]))
            let nodes = try await client.getNodes()
            #expect(nodes.map(\.error) == ["no instances connected"])
            let value = try await client.getIDValue("bits_per_uid")
            #expect(value.map(\.error) == ["no cluster deployed"])
            let staged = try await client.getConfiguration(deployed: false)
            #expect(staged.error == "no staged configuration available")
            let deployed = try await client.getConfiguration(deployed: true)
            #expect(deployed.error == "no deployed configuration available")
            let deploy = try await client.deploy()
            #expect(deploy.map(\.error) == ["no configuration available to deploy"])
            let restart = try await client.restart()
            #expect(restart.map(\.error) == ["no instances connected"])
        }
    }

    @Test func stagingReportsEveryValidationErrorSorted() async throws {
        try await Self.withCluster { client, _ in
            let bad = Management.Configuration(
                // Distinct records: identical ones would collapse in the Broker set, as in Zeek.
                instances: [
                    Management.Instance(name: "a", host: "10.0.0.1"), Management.Instance(name: "a", host: "10.0.0.2"),
                ],
                nodes: [
                    Management.Node(name: "x", instance: "nowhere", role: .worker),
                    Management.Node(name: "x", instance: "a", role: .worker),
                ]
            )
            let results = try await client.stage(bad)
            #expect(results.allSatisfy { !$0.success && $0.node == nil })
            #expect(
                results.compactMap(\.error) == [
                    "multiple instances named 'a'", "multiple nodes named 'x'",
                    "node 'x' has undeclared instance name 'nowhere'",
                ]
            )
            let good = try await client.stage(Self.configuration)
            #expect(good.map(\.data) == [.string("cfg-1")])
            let staged = try await client.getConfiguration(deployed: false)
            #expect(staged.data == Self.configuration.brokerValue)
        }
    }

    @Test func deployStartsAgentsAndNodesThenEveryRequestWorks() async throws {
        try await Self.withCluster { client, cluster in
            #expect(try await client.stage(Self.configuration).first?.success == true)
            let deployed = try await client.deploy()
            #expect(deployed.last == Management.Result(reqid: deployed.last?.reqid ?? "", data: .string("cfg-1")))
            #expect(deployed.compactMap(\.node).sorted() == ["logger-1", "manager", "worker-1", "worker-2"])
            #expect(deployed.allSatisfy { $0.success })
            #expect(Set(cluster.runningAgents.keys) == ["agent-1"])

            let instances = try await client.getInstances()
            #expect(instances.data == .vector([Management.Instance(name: "agent-1", host: .ipv4Loopback).brokerValue]))

            let nodes = try await client.getNodes()
            #expect(nodes.count == 1)
            #expect(nodes.first?.instance == "agent-1")
            let statuses = try [Management.NodeStatus](brokerValue: try #require(nodes.first?.data))
            #expect(statuses.map(\.node) == ["logger-1", "manager", "worker-1", "worker-2", "agent-1", "controller"])
            #expect(statuses.first { $0.node == "manager" }?.p == .tcp(2200), "ports are assigned from 2200/tcp")
            #expect(statuses.first { $0.node == "worker-1" }?.p == nil, "workers get no Broker port")
            #expect(statuses.first { $0.node == "agent-1" }?.mgmtRole == .agent)
            #expect(statuses.first { $0.node == "controller" }?.mgmtRole == .controller)
            #expect(statuses.prefix(4).allSatisfy { $0.state == .running })

            let all = try await client.getIDValue("Cluster::node")
            #expect(Set(all.compactMap(\.node)) == ["logger-1", "manager", "worker-1", "worker-2"])
            #expect(all.first { $0.node == "worker-2" }?.data == .string(#""worker-2""#))
            #expect(all.allSatisfy { $0.instance == "agent-1" && $0.success })

            let some = try await client.getIDValue("bits_per_uid", nodes: ["manager", "ghost"])
            #expect(some.map(\.node) == ["ghost", "manager"])
            #expect(some.first?.error == "unknown cluster node")
            #expect(some.last?.data == .string("96"))

            let unknownID = try await client.getIDValue("No::such", nodes: ["worker-1"])
            #expect(unknownID.map(\.error) == ["unknown id"])

            let deployedConfiguration = try await client.getConfiguration(deployed: true)
            let configuration = try Management.Configuration(brokerValue: try #require(deployedConfiguration.data))
            #expect(configuration.nodes.first { $0.name == "manager" }?.p == .tcp(2200))
            #expect(configuration.nodes.first { $0.name == "logger-1" }?.metricsPort == .tcp(9001))

            let restarted = try await client.restart(["worker-1"])
            #expect(restarted.map(\.node) == ["worker-1"])
            #expect(restarted.allSatisfy { $0.success })
            let unknownRestart = try await client.restart(["ghost"])
            #expect(unknownRestart.map(\.error) == ["unknown cluster node"])
        }
    }

    @Test func aNodeWhoseProcessExitedIsReportedCrashedWithItsLastPID() async throws {
        let host: @Sendable (InMemoryBackend.Hub) -> any NodeHost = {
            ExitedNodeHost(hub: $0, exited: ["worker-1": 4242])
        }
        try await Self.withCluster(deploying: Self.configuration, makeNodeHost: host) { client, cluster in
            let nodes = try await client.getNodes()
            let statuses = try [Management.NodeStatus](brokerValue: try #require(nodes.first?.data))
            let states = Dictionary(uniqueKeysWithValues: statuses.map { ($0.node, $0.state) })
            #expect(states["worker-1"] == .crashed)
            #expect(statuses.first { $0.node == "worker-1" }?.pid == 4242)
            #expect(states["worker-2"] == .running && states["manager"] == .running)

            let agent = try #require(cluster.runningAgents["agent-1"])
            let processes = agent.processStatuses
            #expect(processes.map(\.node) == ["logger-1", "manager", "worker-1", "worker-2"])
            let crashed = try #require(processes.first { $0.node == "worker-1" })
            #expect(crashed.state == .crashed && crashed.pid == 4242 && crashed.restarts == 2)
            #expect(processes.filter { $0.state == .running }.map(\.node) == ["logger-1", "manager", "worker-2"])
        }
    }

    @Test func aSilentNodeKeepsTheOthersResultsAndIsNamed() async throws {
        let clock = ManualClock()
        let mute: @Sendable (InMemoryBackend.Hub) -> any NodeHost = { hub in MuteNodeHost(hub: hub, mute: ["worker-2"])
        }
        try await Self.withCluster(deploying: Self.configuration, clock: clock, makeNodeHost: mute) { client, cluster in
            let agent = try #require(cluster.runningAgents["agent-1"])
            async let answer = client.getIDValue("bits_per_uid")
            // Once the agent's dispatch waits for worker-2 only, let its 5 s deadline pass.
            while agent.awaitedNodes != ["worker-2"] { await Task.yield() }
            clock.advance(by: .seconds(5))
            let results = try await answer
            let replied = Set(results.filter { $0.success }.compactMap { $0.node })
            #expect(replied == ["logger-1", "manager", "worker-1"])
            let errors = results.filter { !$0.success }.compactMap { $0.error }
            #expect(
                errors == [
                    "request timed out", "request timed out after 5 s waiting for worker-2 (instance 'agent-1')",
                ]
            )
        }
    }
}

import Synchronization
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// A controller on an in-memory hub with a manual clock, and a raw client beside it that sends any event and
/// records every response, so that tests can send what no well-behaved client would.
struct ControllerHarness: Sendable {
    /// Where agents come from.
    enum Agents: Sendable {
        /// A ``ManagementCluster``: real agents, nodes from the node host (in process by default).
        case cluster(makeNodeHost: (@Sendable (InMemoryBackend.Hub) -> any NodeHost)? = nil)
        /// A bare controller whose `launchAgents` starts ``SilentAgent``s: they say hello and answer the
        /// welcome, then never answer anything.
        case silent
        /// A bare controller whose agents never come.
        case none
    }

    let hub: InMemoryBackend.Hub
    let clock: ManualClock
    let controller: Controller
    let client: InMemoryBackend
    /// Every event the client received, in order.
    let responses: Observed<[Broker.Event]>
    /// Every line of the controller's log, in order.
    let log: Observed<[String]>
    /// The events the silent agents received, in order.
    let agentEvents: Observed<[String]>

    /// Runs `body` with a running controller and a connected client.
    static func with(
        agents: Agents = .cluster(),
        controllerOptions: Management.ControllerOptions = .standard,
        maximumPendingRequests: Int = Controller.Options.defaultMaximumPendingRequests,
        _ body: @escaping @Sendable (ControllerHarness) async throws -> Void
    ) async throws {
        let hub = InMemoryBackend.Hub()
        let clock = ManualClock()
        let log = Observed<[String]>([])
        let agentEvents = Observed<[String]>([])
        let launched = AsyncStream<[Management.Instance]>.makeStream()
        var options = Controller.Options(
            controllerOptions: controllerOptions,
            log: { line in log.update { $0.append(line) } },
            maximumPendingRequests: maximumPendingRequests
        )
        var cluster: ManagementCluster?
        let controller: Controller
        switch agents {
        case .cluster(let makeNodeHost):
            var hostMaker: (@Sendable (String) -> any NodeHost)?
            if let makeNodeHost { hostMaker = { _ in makeNodeHost(hub) } }
            let made = ManagementCluster(hub: hub, controllerOptions: options, clock: clock, makeNodeHost: hostMaker)
            cluster = made
            controller = made.controller
        case .silent:
            options.launchAgents = { instances in launched.continuation.yield(instances) }
            controller = Controller(options: options, backend: hub.makeBackend(name: "controller"), clock: clock)
        case .none:
            options.launchAgents = { _ in }
            controller = Controller(options: options, backend: hub.makeBackend(name: "controller"), clock: clock)
        }
        let client = hub.makeBackend(name: "client")
        try await client.subscribe(ControllerAPI.topic)
        try await client.connect()
        let harness = ControllerHarness(
            hub: hub,
            clock: clock,
            controller: controller,
            client: client,
            responses: Observed([]),
            log: log,
            agentEvents: agentEvents
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let cluster {
                let ready = AsyncStream<Void>.makeStream()
                group.addTask { try await cluster.run { _ in ready.continuation.yield() } }
                for await _ in ready.stream { break }
            } else {
                try await controller.subscribe()
                group.addTask { try await controller.serve() }
                group.addTask {
                    await withDiscardingTaskGroup { agents in
                        for await instances in launched.stream {
                            for instance in instances {
                                agents.addTask {
                                    try? await SilentAgent.run(instance.name, on: hub, recording: agentEvents)
                                }
                            }
                        }
                    }
                }
            }
            group.addTask {
                for try await received in client.events {
                    harness.responses.update { $0.append(received.event) }
                }
            }
            defer { group.cancelAll() }
            try await body(harness)
        }
    }

    /// Publishes a request on the controller topic.
    func send(_ name: String, _ arguments: [Broker.Value]) async throws {
        try await client.publish(Broker.Event(name, arguments), to: ControllerAPI.topic)
    }

    /// Waits for the response `name` to `reqid` and returns its results (one for a `result` response).
    func response(_ name: String, _ reqid: String) async throws -> [Management.Result] {
        let events = try await responses.wait(for: "\(name) to '\(reqid)'") { events in
            events.contains { $0.name == name && $0.arguments.first == .string(reqid) }
        }
        let event = try #require(events.first { $0.name == name && $0.arguments.first == .string(reqid) })
        #expect(event.arguments.count == 2, "every response has two arguments")
        let payload = try #require(event.arguments.last)
        if case .vector(let items) = payload, items.first.map({ if case .vector = $0 { true } else { false } }) == true
        {
            return try [Management.Result](brokerValue: payload)
        }
        if case .vector(let items) = payload, items.isEmpty { return [] }
        return [try Management.Result(brokerValue: payload)]
    }

    /// The number of responses to `reqid` received so far.
    func responseCount(_ reqid: String) -> Int {
        responses.value.filter { $0.arguments.first == .string(reqid) }.count
    }

    /// Stages `configuration` and deploys it with request id `reqid`, returning the deploy's results.
    func stageAndDeploy(_ configuration: Management.Configuration, reqid: String) async throws -> [Management.Result] {
        try await send(ControllerAPI.stageConfigurationRequest, [.string("stage-" + reqid), configuration.brokerValue])
        let staged = try await response(ControllerAPI.stageConfigurationResponse, "stage-" + reqid)
        let succeeded = staged.allSatisfy { $0.success }
        #expect(succeeded, "\(staged)")
        try await send(ControllerAPI.deployRequest, [.string(reqid)])
        return try await response(ControllerAPI.deployResponse, reqid)
    }
}

/// An agent that says hello and answers the controller's welcome, then stays silent.
enum SilentAgent {
    static func run(_ instance: String, on hub: InMemoryBackend.Hub, recording: Observed<[String]>) async throws {
        let backend = hub.makeBackend(name: instance)
        try await backend.subscribe(AgentAPI.topic(instance))
        try await backend.connect()
        try await backend.publish(
            Broker.Event(
                AgentAPI.notifyAgentHello,
                [.string(instance), .string(backend.nodeID), .boolean(true), .count(AgentAPI.version)]
            ),
            to: AgentAPI.topic(instance)
        )
        for try await received in backend.events {
            recording.update { $0.append(received.event.name) }
            guard received.event.name == AgentAPI.agentWelcomeRequest,
                case .string(let areq)? = received.event.arguments.first
            else { continue }
            try await backend.publish(
                Broker.Event(
                    AgentAPI.agentWelcomeResponse,
                    [.string(areq), Management.Result(reqid: areq, instance: instance).brokerValue]
                ),
                to: AgentAPI.topic(instance)
            )
        }
    }
}

import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// A Management controller with its agents and their nodes, all in one process on an in-memory hub.
///
/// Deploying a configuration (at start, or from a client) starts an in-process ``Agent`` for each of its
/// instances, each running its nodes through a ``NodeHost`` (``InProcessNodeHost`` unless
/// `makeNodeHost` says otherwise), at most ``Management/ControllerOptions/maximumInstances`` agents at once.
/// An agent whose instance leaves the configuration stops its nodes gracefully (``Agent/stopNodes()``), and the
/// deployment goes on once they are gone. Anything else joining the hub — a WebSocket server's clients, a
/// ``Dispatcher`` — talks to the controller as `zeek-client` would.
public final class ManagementCluster: Sendable {
    /// The hub everything meets on.
    public let hub: InMemoryBackend.Hub
    /// The controller.
    public let controller: Controller
    private let agentTimeout: Duration
    private let clock: any Clock<Duration>
    private let nodeSettings: [String: ZeekValue?]
    private let makeNodeHost: @Sendable (String) -> any NodeHost
    private let spawner = TaskSpawner()
    private let agents = Guarded<[String: Agent]>([:])
    /// Where each agent writes its management log, or `nil`.
    private let logs: LogDirectory?

    /// Creates the cluster's controller; agents start with the first deployment.
    ///
    /// - Parameters:
    ///   - hub: The hub; default a new one.
    ///   - controllerOptions: The controller's settings (its agent launching is wired here).
    ///   - agentTimeout: How long agents wait for their nodes; default 5 s (Zeek's).
    ///   - nodeSettings: Identifiers to set on every node.
    ///   - clock: The clock for every deadline.
    ///   - makeNodeHost: Builds the node host of an instance; default in-process nodes on `hub`.
    ///   - launchesAgents: Whether deployments start in-process agents (the default); `false` leaves every instance
    ///     to an agent that joins the hub on its own (an agent process, `zeekctl agent`), and a deployment waits for
    ///     their hellos.
    ///   - logs: Where each agent writes its management log (`management-<instance>.log`); default none. (The
    ///     controller's log is ``Controller/Options/managementLog``; the owner flushes and closes the logs.)
    ///   - connectAgents: Without `launchesAgents`, called with the instances a deployment has no agent for yet,
    ///     to connect to those that listen (``AgentLinks/connect(_:)``); it must return at once. Default none.
    public init(
        hub: InMemoryBackend.Hub = InMemoryBackend.Hub(),
        controllerOptions: Controller.Options = Controller.Options(),
        agentTimeout: Duration = .seconds(5),
        nodeSettings: [String: ZeekValue?] = [:],
        clock: any Clock<Duration> = ContinuousClock(),
        makeNodeHost: (@Sendable (String) -> any NodeHost)? = nil,
        launchesAgents: Bool = true,
        logs: LogDirectory? = nil,
        connectAgents: (@Sendable ([Management.Instance]) async -> Void)? = nil
    ) {
        self.hub = hub
        self.logs = logs
        self.agentTimeout = agentTimeout
        self.clock = clock
        self.nodeSettings = nodeSettings
        self.makeNodeHost = makeNodeHost ?? { _ in InProcessNodeHost(hub: hub) }
        var options = controllerOptions
        let launcher = AgentLauncher()
        if launchesAgents {
            options.launchAgents = { instances in await launcher.launch?(instances) }
            options.stopAgents = { names in await launcher.stop?(names) }
        } else {
            // Remote agents come on their own, or are connected to when they listen; one whose instance leaves the
            // configuration gets Zeek's agent_standby_request (the controller's default without a stopAgents).
            options.launchAgents = connectAgents
            options.stopAgents = nil
        }
        // Where an agent's connection comes from, for get-instances (a WebSocket client's address).
        options.endpointAddress = { [hub] origin in hub.remoteAddress(of: origin) }
        self.controller = Controller(options: options, backend: hub.makeBackend(name: options.name), clock: clock)
        launcher.set(
            launch: { [weak self] instances in await self?.launchAgents(instances) },
            stop: { [weak self] names in await self?.stopAgents(names) }
        )
    }

    /// The agents running, by instance.
    public var runningAgents: [String: Agent] { agents.withLock { $0 } }

    /// Runs the controller (and the agents it starts) until cancelled, deploying `configuration` first
    /// when given.
    ///
    /// - Parameters:
    ///   - configuration: A configuration to deploy at start.
    ///   - onReady: Called once the controller answers requests, with the start-up deployment's results
    ///     (empty without a configuration).
    /// - Throws: ``BackendError`` from the controller's backend.
    public func run(
        deploying configuration: Management.Configuration? = nil,
        onReady: @escaping @Sendable ([Management.Result]) async -> Void = { _ in }
    ) async throws {
        try await controller.subscribe()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.controller.serve() }
            group.addTask { await self.spawner.run() }
            group.addTask {
                var results: [Management.Result] = []
                if let configuration { results = await self.controller.deploy(configuration) }
                await onReady(results)
            }
            defer {
                group.cancelAll()
                spawner.finish()
            }
            // Runs until cancelled (or the controller's backend fails): the controller and the spawner
            // only return then.
            try await group.waitForAll()
        }
    }

    private func launchAgents(_ instances: [Management.Instance]) async {
        let limit = controller.options.controllerOptions.maximumInstances
        for instance in instances {
            // Staging caps a configuration's instances; this keeps the cap even if something else asks.
            guard agents.withLock({ $0[instance.name] != nil || $0.count < limit }) else { continue }
            let agent = Agent(
                options: Agent.Options(
                    instance: instance.name,
                    requestTimeout: agentTimeout,
                    listenPort: instance.listenPort,
                    colocatedController: agents.withLock { $0.isEmpty } ? controller.options.name : nil,
                    nodeSettings: nodeSettings
                ),
                backend: hub.makeBackend(name: instance.name),
                host: makeNodeHost(instance.name),
                clock: clock,
                managementLog: logs?.managementLog(node: instance.name, role: .agent)
            )
            agents.withLock { $0[instance.name] = agent }
            spawner.spawn { try? await agent.run() }
        }
    }

    /// Stops the agents' nodes gracefully and waits until they are gone, then closes the agents.
    private func stopAgents(_ names: [String]) async {
        let stopped = agents.withLock { agents in names.compactMap { agents.removeValue(forKey: $0) } }
        await withDiscardingTaskGroup { group in
            for agent in stopped {
                group.addTask {
                    await agent.stopNodes()
                    await agent.backend.close()
                }
            }
        }
    }
}

/// Late-bound agent launching, so the controller's options can refer to the cluster that owns it.
private final class AgentLauncher: Sendable {
    typealias Launch = @Sendable ([Management.Instance]) async -> Void
    typealias Stop = @Sendable ([String]) async -> Void

    private let state = Guarded<(launch: Launch?, stop: Stop?)>((nil, nil))

    var launch: Launch? { state.withLock { $0.launch } }
    var stop: Stop? { state.withLock { $0.stop } }

    func set(launch: @escaping Launch, stop: @escaping Stop) {
        state.withLock { $0 = (launch, stop) }
    }
}

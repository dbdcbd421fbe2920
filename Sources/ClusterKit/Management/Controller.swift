import Synchronization

/// A Management controller that Zeek's own `zeek-client` drives, with the semantics of Zeek's
/// `policy/frameworks/management/controller/main.zeek` (Zeek 8.0.10).
///
/// Clients publish requests on `zeek/management/controller` and get every response there. The controller
/// talks to agents on `zeek/management/agent/<instance>`; agents answer on their own topics. Requests that
/// need agents time out after ``Options/requestTimeout`` (Zeek: 10 s) with the results collected so far, the
/// controller's `request timed out`, and ClusterKit's extra error naming what stayed silent.
///
/// Deploying a configuration starts an agent for each of its instances that has none (through
/// ``Options/launchAgents``) and stops agents whose instance left the configuration.
public final class Controller: Sendable {
    /// Controller settings.
    public struct Options: Sendable {
        /// The controller's name (Zeek: `controller-<hostname>` unless `ZEEK_CONTROLLER_NAME` is set).
        public var name: String
        /// How long a request waits for agents; default 10 s (Zeek's controller).
        public var requestTimeout: Duration
        /// Port checks and auto-assignment settings.
        public var controllerOptions: Management.ControllerOptions
        /// Starts agents for instances that have none (in process, or otherwise); `nil` means agents come
        /// from elsewhere.
        public var launchAgents: (@Sendable ([Management.Instance]) async -> Void)?
        /// Stops agents of instances that left the configuration.
        public var stopAgents: (@Sendable ([String]) async -> Void)?
        /// Called with one line for each request the controller handles (for `--verbose`).
        public var log: (@Sendable (String) -> Void)?

        /// Creates options with Zeek's defaults.
        ///
        /// - Parameters:
        ///   - name: The controller's name.
        ///   - requestTimeout: How long requests wait for agents.
        ///   - controllerOptions: Port settings.
        ///   - launchAgents: Starts agents for new instances.
        ///   - stopAgents: Stops agents of removed instances.
        ///   - log: A sink for one line per request.
        public init(
            name: String = "controller",
            requestTimeout: Duration = .seconds(10),
            controllerOptions: Management.ControllerOptions = .standard,
            launchAgents: (@Sendable ([Management.Instance]) async -> Void)? = nil,
            stopAgents: (@Sendable ([String]) async -> Void)? = nil,
            log: (@Sendable (String) -> Void)? = nil
        ) {
            self.name = name
            self.requestTimeout = requestTimeout
            self.controllerOptions = controllerOptions
            self.launchAgents = launchAgents
            self.stopAgents = stopAgents
            self.log = log
        }
    }

    /// An agent the controller knows.
    public struct AgentInfo: Sendable, Hashable {
        /// The instance name.
        public var instance: String
        /// The agent's address.
        public var host: Broker.Address
        /// The port it listens on, when the controller connected to it.
        public var listenPort: Broker.Port?
        /// Its backend node id.
        public var nodeID: String
        /// Whether it answered the welcome.
        public var isReady: Bool
    }

    /// What an agent's answer to a sub-request belongs to.
    private enum SubRequest: Sendable {
        /// The welcome of a new agent.
        case welcome(instance: String)
        /// A part of a client request, sent to one agent.
        case child(parent: String, instance: String)
    }

    private struct State {
        var agents: [String: AgentInfo] = [:]
        var staged: Management.Configuration?
        var ready: Management.Configuration?
        var deployed: Management.Configuration?
        var deployInProgress: String?
        var subRequests: [String: SubRequest] = [:]
        /// Deploys waiting for their agents to become ready, by client request id.
        var waitingForAgents: [String: Management.Configuration] = [:]
        /// Deploys started without a client, by request id.
        var internalDeploys: [String: AsyncStream<[Management.Result]>.Continuation] = [:]
    }

    /// The options.
    public let options: Options
    /// The backend the controller talks through.
    public let backend: any ClusterBackend
    private let tracker: RequestTracker<Management.Result>
    private let spawner = TaskSpawner()
    private let state = Mutex(State())

    /// Creates a controller.
    ///
    /// - Parameters:
    ///   - options: Settings.
    ///   - backend: The backend (connected by ``run()``).
    ///   - clock: The clock for request deadlines.
    public init(
        options: Options = Options(),
        backend: any ClusterBackend,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.options = options
        self.backend = backend
        self.tracker = RequestTracker(
            options: RequestTrackerOptions(defaultTimeout: options.requestTimeout),
            clock: clock
        )
    }

    /// The number of requests waiting for agents.
    public var pendingRequests: Int { tracker.pendingCount }

    /// The agents that said hello, by instance.
    public var agents: [String: AgentInfo] { state.withLock { $0.agents } }

    /// The deployed configuration (hosts filled in, ports assigned), if any.
    public var deployedConfiguration: Management.Configuration? { state.withLock { $0.deployed } }

    /// Subscribes and answers until cancelled or the backend's events end.
    ///
    /// - Throws: ``BackendError`` from the backend.
    public func run() async throws {
        try await subscribe()
        try await serve()
    }

    /// Subscribes to the client and agent topics and connects.
    ///
    /// - Throws: ``BackendError`` from the backend.
    public func subscribe() async throws {
        try await backend.subscribe(ControllerAPI.topic)
        try await backend.subscribe(Topic(AgentAPI.topicPrefix))
        try await backend.connect()
    }

    /// Answers requests (after ``subscribe()``) until cancelled or the backend's events end.
    ///
    /// - Throws: ``BackendError`` from the backend.
    public func serve() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.tracker.run() }
            group.addTask { await self.spawner.run() }
            group.addTask {
                do {
                    for try await received in self.backend.events {
                        do {
                            try await self.handle(received.event)
                        } catch let error as BackendError where error.code == .closed {
                            throw error
                        } catch {
                            // One bad request must not stop the controller.
                            self.options.log?("error handling \(received.event.name): \(error)")
                        }
                    }
                } catch is CancellationError {
                    return
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Stages and deploys a configuration as `zeek-client deploy-config` would, without a client.
    ///
    /// - Parameter configuration: The configuration.
    /// - Returns: The stage errors, or the deploy results.
    public func deploy(_ configuration: Management.Configuration) async -> [Management.Result] {
        let reqid = UniqueID.make()
        let staged = stage(configuration, reqid: reqid)
        guard staged.allSatisfy(\.success) else { return staged }
        let (stream, continuation) = AsyncStream<[Management.Result]>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.internalDeploys[reqid] = continuation }
        await startDeploy(reqid: reqid)
        for await results in stream { return results }
        return []
    }

    // MARK: - Publishing

    private func respond(_ name: String, _ reqid: String, _ payload: Broker.Value) async throws {
        options.log?("tx \(name.split(separator: ":").last.map(String.init) ?? name) \(reqid)")
        if let continuation = state.withLock({ $0.internalDeploys.removeValue(forKey: reqid) }) {
            if name == ControllerAPI.deployResponse, let results = try? [Management.Result](brokerValue: payload) {
                continuation.yield(results)
            }
            continuation.finish()
            return
        }
        try await backend.publish(Broker.Event(name, [.string(reqid), payload]), to: ControllerAPI.topic)
    }

    private func respondLater(_ name: String, _ reqid: String, _ payload: Broker.Value) {
        spawner.spawn { try? await self.respond(name, reqid, payload) }
    }

    private func send(toAgent instance: String, _ name: String, _ arguments: [Broker.Value]) async throws {
        try await backend.publish(Broker.Event(name, arguments), to: AgentAPI.topic(instance))
    }

    // MARK: - Events

    private func handle(_ event: Broker.Event) async throws {
        let arguments = event.arguments
        if event.name == AgentAPI.notifyAgentHello {
            try await agentSaidHello(arguments)
            return
        }
        guard case .string(let reqid)? = arguments.first else { return }
        if event.name.hasPrefix("Management::Controller::API::") && event.name.hasSuffix("_request") {
            options.log?("rx \(event.name.dropFirst("Management::Controller::API::".count)) \(reqid)")
        }
        switch event.name {
        case ControllerAPI.getInstancesRequest:
            try await respond(ControllerAPI.getInstancesResponse, reqid, instancesResult(reqid).brokerValue)
        case ControllerAPI.getNodesRequest:
            try await getNodes(reqid)
        case ControllerAPI.getConfigurationRequest:
            guard arguments.count >= 2, case .boolean(let deployed) = arguments[1] else { return }
            let configuration = state.withLock { deployed ? $0.deployed : $0.staged }
            let result =
                configuration.map { Management.Result(reqid: reqid, data: $0.brokerValue) }
                ?? Management.Result(
                    reqid: reqid,
                    success: false,
                    error: deployed ? "no deployed configuration available" : "no staged configuration available"
                )
            try await respond(ControllerAPI.getConfigurationResponse, reqid, result.brokerValue)
        case ControllerAPI.stageConfigurationRequest:
            guard arguments.count >= 2, let configuration = try? Management.Configuration(brokerValue: arguments[1])
            else {
                return
            }
            let results = stage(configuration, reqid: reqid)
            try await respond(ControllerAPI.stageConfigurationResponse, reqid, .vector(results.map(\.brokerValue)))
        case ControllerAPI.deployRequest:
            await startDeploy(reqid: reqid)
        case ControllerAPI.getIDValueRequest:
            guard arguments.count >= 2, case .string(let id) = arguments[1] else { return }
            let nodes = arguments.count >= 3 ? (try? Set<String>(brokerValue: arguments[2])) ?? [] : []
            try await getIDValue(reqid, id: id, nodes: nodes)
        case ControllerAPI.restartRequest:
            let nodes = arguments.count >= 2 ? (try? Set<String>(brokerValue: arguments[1])) ?? [] : []
            try await restart(reqid, nodes: nodes)
        case ControllerAPI.testTimeoutRequest:
            guard arguments.count >= 2, case .boolean(true) = arguments[1] else { return }
            try tracker.start(RequestID(reqid), awaiting: [], finishesWhenAllAnswered: false) { _, _ in
                let result = Management.Result(reqid: reqid, success: false, error: RequestTimeout.zeekMessage)
                self.respondLater(ControllerAPI.testTimeoutResponse, reqid, result.brokerValue)
            }
        case AgentAPI.agentWelcomeResponse:
            agentAnswered(
                reqid,
                results: arguments.count >= 2
                    ? [try? Management.Result(brokerValue: arguments[1])].compactMap { $0 } : []
            )
        case AgentAPI.getNodesResponse:
            guard arguments.count >= 2, let result = try? Management.Result(brokerValue: arguments[1]) else { return }
            agentAnswered(reqid, results: [result])
        case AgentAPI.nodeDispatchResponse, AgentAPI.deployResponse, AgentAPI.restartResponse:
            guard arguments.count >= 2, let results = try? [Management.Result](brokerValue: arguments[1]) else {
                return
            }
            agentAnswered(reqid, results: results)
        default:
            return
        }
    }

    // MARK: - Agents

    private func agentSaidHello(_ arguments: [Broker.Value]) async throws {
        guard arguments.count >= 4, case .string(let instance) = arguments[0], case .string(let nodeID) = arguments[1],
            case .boolean(let connecting) = arguments[2]
        else { return }
        let configured = state.withLock { state in
            (state.ready ?? state.staged)?.instances.first { $0.name == instance }
        }
        let info = AgentInfo(
            instance: instance,
            host: configured.map { $0.host == .ipv4Unspecified ? .ipv4Loopback : $0.host } ?? .ipv4Loopback,
            listenPort: connecting ? nil : configured?.listenPort,
            nodeID: nodeID,
            isReady: false
        )
        state.withLock { $0.agents[instance] = info }
        options.log?("agent \(instance) said hello")
        let areq = UniqueID.make()
        state.withLock { $0.subRequests[areq] = .welcome(instance: instance) }
        try tracker.start(RequestID(areq), awaiting: [.instance(instance)]) { _, outcome in
            self.state.withLock { state in
                state.subRequests[areq] = nil
                if outcome.timeout == nil { state.agents[instance]?.isReady = true }
            }
            self.agentsChanged()
        }
        try await send(toAgent: instance, AgentAPI.agentWelcomeRequest, [.string(areq)])
    }

    /// Records an agent's answer to a sub-request with the request it belongs to.
    private func agentAnswered(_ areq: String, results: [Management.Result]) {
        guard let subRequest = state.withLock({ $0.subRequests[areq] }) else { return }
        switch subRequest {
        case .welcome(let instance):
            tracker.markAnswered(.instance(instance), for: RequestID(areq))
        case .child(let parent, let instance):
            state.withLock { _ = $0.subRequests.removeValue(forKey: areq) }
            for result in results { tracker.record(result, for: RequestID(parent)) }
            tracker.markAnswered(.instance(instance), for: RequestID(parent))
        }
    }

    private func instancesResult(_ reqid: String) -> Management.Result {
        let agents = state.withLock { $0.agents.values.sorted { $0.instance < $1.instance } }
        let instances = agents.map { Management.Instance(name: $0.instance, host: $0.host, listenPort: $0.listenPort) }
        return Management.Result(reqid: reqid, data: .vector(instances.map(\.brokerValue)))
    }

    private func agentsChanged() {
        let startable = state.withLock { state -> [(String, Management.Configuration)] in
            let ready = Set(state.agents.values.filter(\.isReady).map(\.instance))
            let now = state.waitingForAgents.filter { $0.value.instances.allSatisfy { ready.contains($0.name) } }
            for reqid in now.keys { state.waitingForAgents[reqid] = nil }
            return now.map { ($0.key, $0.value) }
        }
        for (reqid, configuration) in startable {
            spawner.spawn { await self.sendDeploy(reqid: reqid, configuration: configuration) }
        }
    }

    // MARK: - Requests

    /// Sends a sub-request to each of `instances` and finishes when all replied or on timeout.
    private func fanOut(
        _ reqid: String,
        instances: [String],
        request: @escaping @Sendable (String) -> (String, [Broker.Value]),
        onFinish: @escaping @Sendable (RequestTracker<Management.Result>.Outcome) -> Void
    ) async throws {
        let children = instances.map { (UniqueID.make(), $0) }
        try tracker.start(RequestID(reqid), awaiting: instances.map { .instance($0) }) { _, outcome in
            self.state.withLock { state in for (areq, _) in children { state.subRequests[areq] = nil } }
            onFinish(outcome)
        }
        state.withLock { state in
            for (areq, instance) in children { state.subRequests[areq] = .child(parent: reqid, instance: instance) }
        }
        for (areq, instance) in children {
            let (name, arguments) = request(areq)
            try await send(toAgent: instance, name, arguments)
        }
    }

    private func timeoutResults(
        _ reqid: String,
        _ outcome: RequestTracker<Management.Result>.Outcome
    ) -> [Management.Result] {
        guard let timeout = outcome.timeout else { return [] }
        var results = [Management.Result(reqid: reqid, success: false, error: RequestTimeout.zeekMessage)]
        // ClusterKit's addition: which agents stayed silent, and for how long.
        results.append(Management.Result(reqid: reqid, success: false, error: timeout.description))
        return results
    }

    private func readyInstances() -> [String] {
        state.withLock { $0.agents.values.filter(\.isReady).map(\.instance).sorted() }
    }

    private func getNodes(_ reqid: String) async throws {
        let instances = readyInstances()
        guard !instances.isEmpty else {
            let result = Management.Result(reqid: reqid, success: false, error: "no instances connected")
            try await respond(ControllerAPI.getNodesResponse, reqid, .vector([result.brokerValue]))
            return
        }
        try await fanOut(reqid, instances: instances) { areq in
            (AgentAPI.getNodesRequest, [.string(areq)])
        } onFinish: { outcome in
            let results = outcome.results + self.timeoutResults(reqid, outcome)
            self.respondLater(ControllerAPI.getNodesResponse, reqid, .vector(results.map(\.brokerValue)))
        }
    }

    private func getIDValue(_ reqid: String, id: String, nodes requested: Set<String>) async throws {
        guard let deployed = state.withLock({ $0.deployed }), !deployed.instances.isEmpty else {
            let result = Management.Result(reqid: reqid, success: false, error: "no cluster deployed")
            try await respond(ControllerAPI.getIDValueResponse, reqid, .vector([result.brokerValue]))
            return
        }
        let known = Set(deployed.nodes.map(\.name))
        let unknown = requested.filter { !known.contains($0) }.sorted()
        let early = unknown.map {
            Management.Result(reqid: reqid, success: false, error: "unknown cluster node", node: $0)
        }
        let remaining = requested.subtracting(unknown)
        if !requested.isEmpty && remaining.isEmpty {
            try await respond(ControllerAPI.getIDValueResponse, reqid, .vector(early.map(\.brokerValue)))
            return
        }
        let instances = readyInstances()
        try await fanOut(reqid, instances: instances) { areq in
            (AgentAPI.nodeDispatchRequest, [.string(areq), ["get_id_value", .string(id)], remaining.brokerValue])
        } onFinish: { outcome in
            var results = early
            for var result in outcome.results {
                if case let data? = result.data, data.stringValue == nil {
                    result.data = .string(Broker.JSON.encode(data))
                }
                results.append(result)
            }
            results += self.timeoutResults(reqid, outcome)
            self.respondLater(ControllerAPI.getIDValueResponse, reqid, .vector(results.map(\.brokerValue)))
        }
    }

    private func restart(_ reqid: String, nodes requested: Set<String>) async throws {
        let instances = readyInstances()
        guard !instances.isEmpty else {
            let result = Management.Result(reqid: reqid, success: false, error: "no instances connected")
            try await respond(ControllerAPI.restartResponse, reqid, .vector([result.brokerValue]))
            return
        }
        guard let deployed = state.withLock({ $0.deployed }) else {
            let result = Management.Result(reqid: reqid, success: false, error: "no active cluster deployment")
            try await respond(ControllerAPI.restartResponse, reqid, .vector([result.brokerValue]))
            return
        }
        let known = Set(deployed.nodes.map(\.name))
        let early = requested.filter { !known.contains($0) }.sorted().map {
            Management.Result(reqid: reqid, success: false, error: "unknown cluster node", node: $0)
        }
        if !early.isEmpty {
            try await respond(ControllerAPI.restartResponse, reqid, .vector(early.map(\.brokerValue)))
            return
        }
        let involved = instances.filter { instance in deployed.nodes.contains { $0.instance == instance } }
        try await fanOut(reqid, instances: involved) { areq in
            (AgentAPI.restartRequest, [.string(areq), requested.brokerValue])
        } onFinish: { outcome in
            let results = outcome.results + self.timeoutResults(reqid, outcome)
            self.respondLater(ControllerAPI.restartResponse, reqid, .vector(results.map(\.brokerValue)))
        }
    }

    // MARK: - Stage and deploy

    private func stage(_ configuration: Management.Configuration, reqid: String) -> [Management.Result] {
        let errors = configuration.controllerErrors(options: options.controllerOptions)
        guard errors.isEmpty else {
            return errors.map { Management.Result(reqid: reqid, success: false, error: $0.message) }
        }
        let agents = state.withLock { $0.agents }
        var addresses: [String: Broker.Address] = [:]
        for instance in configuration.instances where instance.host == .ipv4Unspecified {
            addresses[instance.name] = agents[instance.name]?.host ?? .ipv4Loopback
        }
        var ready = configuration.assigningPorts(options: options.controllerOptions, instanceAddresses: addresses)
        ready.instances = ready.instances.map { instance in
            var filled = instance
            if let address = addresses[instance.name] { filled.host = address }
            return filled
        }
        state.withLock { state in
            state.staged = configuration
            state.ready = ready
        }
        return [Management.Result(reqid: reqid, data: .string(configuration.id))]
    }

    private func startDeploy(reqid: String) async {
        let (ready, busy) = state.withLock { ($0.ready, $0.deployInProgress) }
        guard let ready else {
            let result = Management.Result(reqid: reqid, success: false, error: "no configuration available to deploy")
            try? await respond(ControllerAPI.deployResponse, reqid, .vector([result.brokerValue]))
            return
        }
        if let busy {
            let result = Management.Result(
                reqid: reqid,
                success: false,
                error: "earlier deployment \(busy) still pending"
            )
            try? await respond(ControllerAPI.deployResponse, reqid, .vector([result.brokerValue]))
            return
        }
        state.withLock { $0.deployInProgress = reqid }
        let wanted = Set(ready.instances.map(\.name))
        let obsolete = state.withLock { state in state.agents.keys.filter { !wanted.contains($0) } }
        if !obsolete.isEmpty {
            for instance in obsolete { try? await send(toAgent: instance, AgentAPI.agentStandbyRequest, [.string("")]) }
            await options.stopAgents?(obsolete)
            state.withLock { state in for instance in obsolete { state.agents[instance] = nil } }
        }
        let missing = state.withLock { state in ready.instances.filter { state.agents[$0.name] == nil } }
        if !missing.isEmpty { await options.launchAgents?(missing) }
        let allReady = state.withLock { state in ready.instances.allSatisfy { state.agents[$0.name]?.isReady == true } }
        if allReady {
            await sendDeploy(reqid: reqid, configuration: ready)
            return
        }
        // Wait (bounded) for the agents to say hello; the deploy goes out when they are all ready.
        state.withLock { $0.waitingForAgents[reqid] = ready }
        _ = try? tracker.start(RequestID(reqid + "-agents"), awaiting: [], finishesWhenAllAnswered: false) { _, _ in
            let stillWaiting = self.state.withLock { state -> Bool in
                guard state.waitingForAgents.removeValue(forKey: reqid) != nil else { return false }
                state.deployInProgress = nil
                return true
            }
            guard stillWaiting else { return }
            let result = Management.Result(reqid: reqid, success: false, error: RequestTimeout.zeekMessage)
            self.respondLater(ControllerAPI.deployResponse, reqid, .vector([result.brokerValue]))
        }
        agentsChanged()
    }

    private func sendDeploy(reqid: String, configuration: Management.Configuration) async {
        tracker.finish(RequestID(reqid + "-agents"))
        state.withLock { $0.deployed = configuration }
        let instances = configuration.instances.map(\.name).sorted()
        guard !instances.isEmpty else {
            state.withLock { $0.deployInProgress = nil }
            let result = Management.Result(reqid: reqid, data: .string(configuration.id))
            try? await respond(ControllerAPI.deployResponse, reqid, .vector([result.brokerValue]))
            return
        }
        try? await fanOut(reqid, instances: instances) { areq in
            (AgentAPI.deployRequest, [.string(areq), configuration.brokerValue, .boolean(false)])
        } onFinish: { outcome in
            self.state.withLock { $0.deployInProgress = nil }
            var results = outcome.results
            results += self.timeoutResults(reqid, outcome)
            results.append(Management.Result(reqid: reqid, data: .string(configuration.id)))
            self.respondLater(ControllerAPI.deployResponse, reqid, .vector(results.map(\.brokerValue)))
        }
    }
}

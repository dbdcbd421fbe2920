import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
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
///
/// Where ClusterKit's controller is stricter than Zeek's:
/// - **Request ids.** The controller tracks its own work under ids it makes itself, so a client's request id
///   never meets them. A client request whose id belongs to a request of the same client still pending is
///   answered at once with a failed result, `request id 'X' is already pending` (Zeek's controller replaces
///   the pending request, whose response is then never sent).
/// - **Malformed requests.** A request whose arguments are missing or of the wrong type is answered with a
///   failed result naming the request and the argument, such as
///   `stage_configuration_request: argument 2 (config) is not a Management::Configuration: …`; one without
///   a string request id cannot be answered and is dropped (and logged). Zeek's WebSocket server refuses
///   such events before any handler sees them (`failed to create Zeek event`), so its client gets an error
///   frame and no response at all.
/// - **Staging** also applies ClusterKit's own checks: names, node environments, and the instance and node
///   limits of ``Management/ControllerOptions`` (see ``Management/Configuration/stagingErrors(options:)``).
/// - **Agents.** At most ``Management/ControllerOptions/maximumInstances`` agents are known at once; hellos
///   from more are dropped.
///
/// Every line given to ``Options/log`` is one line: control characters in client-chosen text (request ids,
/// names) are written as visible escapes such as `\n` and `\u{1b}`.
public final class Controller: Sendable {
    /// Controller settings.
    public struct Options: Sendable {
        /// The controller's name (Zeek: `controller-<hostname>` unless `ZEEK_CONTROLLER_NAME` is set).
        public var name: String
        /// How long a request waits for agents; default 10 s (Zeek's controller).
        public var requestTimeout: Duration
        /// Port checks, auto-assignment settings and configuration limits.
        public var controllerOptions: Management.ControllerOptions
        /// Starts agents for instances that have none (in process, or otherwise); `nil` means agents come
        /// from elsewhere.
        public var launchAgents: (@Sendable ([Management.Instance]) async -> Void)?
        /// Stops agents of instances that left the configuration, returning once their nodes are gone; `nil`
        /// sends them Zeek's `agent_standby_request` instead.
        public var stopAgents: (@Sendable ([String]) async -> Void)?
        /// Called with one line for each request the controller handles (for `--verbose`), and for each
        /// request or agent message it drops; control characters are escaped, so each call is one line.
        public var log: (@Sendable (String) -> Void)?
        /// The most requests waiting at once.
        ///
        /// Client requests waiting for agents, agent welcomes and deployments waiting for agents count;
        /// default ``defaultMaximumPendingRequests`` (10,000), at least 1. A client request that would exceed it is answered at once with a failed result,
        /// `get_nodes_request: 10000 requests are pending, the most this tracker allows`, so that a flood of
        /// requests (each `test_timeout_request` with state waits 10 s) cannot grow the controller's memory.
        public var maximumPendingRequests: Int

        /// Creates options with Zeek's defaults.
        ///
        /// - Parameters:
        ///   - name: The controller's name.
        ///   - requestTimeout: How long requests wait for agents.
        ///   - controllerOptions: Port settings and configuration limits.
        ///   - launchAgents: Starts agents for new instances.
        ///   - stopAgents: Stops agents of removed instances.
        ///   - log: A sink for one line per request.
        ///   - maximumPendingRequests: The most requests waiting at once; at least 1.
        public init(
            name: String = "controller",
            requestTimeout: Duration = .seconds(10),
            controllerOptions: Management.ControllerOptions = .standard,
            launchAgents: (@Sendable ([Management.Instance]) async -> Void)? = nil,
            stopAgents: (@Sendable ([String]) async -> Void)? = nil,
            log: (@Sendable (String) -> Void)? = nil,
            maximumPendingRequests: Int = Options.defaultMaximumPendingRequests
        ) {
            precondition(maximumPendingRequests >= 1, "maximumPendingRequests must be at least 1")
            self.name = name
            self.requestTimeout = requestTimeout
            self.controllerOptions = controllerOptions
            self.launchAgents = launchAgents
            self.stopAgents = stopAgents
            self.log = log
            self.maximumPendingRequests = maximumPendingRequests
        }

        /// The default of ``maximumPendingRequests``: 10,000 requests.
        public static let defaultMaximumPendingRequests = 10_000
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
        /// A part of a client request, sent to one agent; `parent` is the controller's id for the request.
        case child(parent: RequestID, instance: String)
    }

    /// A deployment waiting for its agents to become ready.
    private struct WaitingDeploy: Sendable {
        /// The client's request id.
        var reqid: String
        /// The configuration to deploy.
        var configuration: Management.Configuration
    }

    private struct State {
        var agents: [String: AgentInfo] = [:]
        var staged: Management.Configuration?
        var ready: Management.Configuration?
        var deployed: Management.Configuration?
        /// The client request id of the deployment in progress.
        ///
        /// Every way a deployment ends goes through `endDeploy`, which clears it.
        var deployInProgress: String?
        /// Agent sub-requests, by the controller's own id.
        var subRequests: [String: SubRequest] = [:]
        /// Client request ids of the requests still pending (answered later), including internal deploys.
        var pendingClientRequests: Set<String> = []
        /// Deploys waiting for their agents to become ready, by the controller's id for the wait.
        var waitingForAgents: [RequestID: WaitingDeploy] = [:]
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
            options: RequestTrackerOptions(
                defaultTimeout: options.requestTimeout,
                maximumPendingRequests: options.maximumPendingRequests
            ),
            clock: clock
        )
    }

    /// The number of requests waiting for agents.
    public var pendingRequests: Int { tracker.pendingCount }

    /// The agents that said hello, by instance.
    public var agents: [String: AgentInfo] { state.withLock { $0.agents } }

    /// The deployed configuration (hosts filled in, ports assigned), if any.
    public var deployedConfiguration: Management.Configuration? { state.withLock { $0.deployed } }

    /// The client request id of the deployment in progress, or `nil` when none is.
    public var deploymentInProgress: String? { state.withLock { $0.deployInProgress } }

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
                            self.log("error handling \(received.event.name): \(error)")
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

    // MARK: - Logging and publishing

    /// Hands one line to the log, with control characters escaped.
    private func log(_ line: @autoclosure () -> String) {
        guard let sink = options.log else { return }
        sink(line().escapingControlCharacters)
    }

    private func respond(_ name: String, _ reqid: String, _ payload: Broker.Value) async throws {
        log("tx \(name.split(separator: ":").last.map(String.init) ?? name) \(reqid)")
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

    /// A request clients send, with the response that answers it.
    private struct ClientRequest: Sendable {
        /// The request's name without `Management::Controller::API::`, as messages name it.
        var shortName: String
        /// The response event.
        var response: String
        /// Whether the response carries one `Result` (`result`) rather than a vector of them (`results`).
        var answersWithOneResult: Bool

        /// A response payload holding just `result`.
        func payload(_ result: Management.Result) -> Broker.Value {
            answersWithOneResult ? result.brokerValue : .vector([result.brokerValue])
        }
    }

    private static let clientRequests: [String: ClientRequest] = {
        let requests: [(String, String, Bool)] = [
            (ControllerAPI.getInstancesRequest, ControllerAPI.getInstancesResponse, true),
            (ControllerAPI.getNodesRequest, ControllerAPI.getNodesResponse, false),
            (ControllerAPI.getConfigurationRequest, ControllerAPI.getConfigurationResponse, true),
            (ControllerAPI.stageConfigurationRequest, ControllerAPI.stageConfigurationResponse, false),
            (ControllerAPI.deployRequest, ControllerAPI.deployResponse, false),
            (ControllerAPI.getIDValueRequest, ControllerAPI.getIDValueResponse, false),
            (ControllerAPI.restartRequest, ControllerAPI.restartResponse, false),
            (ControllerAPI.testTimeoutRequest, ControllerAPI.testTimeoutResponse, true),
        ]
        var table: [String: ClientRequest] = [:]
        for (request, response, one) in requests {
            let shortName = String(request.split(separator: ":").last ?? Substring(request))
            table[request] = ClientRequest(shortName: shortName, response: response, answersWithOneResult: one)
        }
        return table
    }()

    /// Reads one argument of a client request; `defaultValue` stands in when it is missing.
    private static func argument<T: BrokerConvertible>(
        _ arguments: [Broker.Value],
        _ index: Int,
        _ name: String,
        _ typeName: String,
        of request: ClientRequest,
        default defaultValue: T? = nil
    ) throws(RequestArgumentError) -> T {
        try RequestArgumentError.read(arguments, index, name, typeName, of: request.shortName, default: defaultValue)
    }

    private func handle(_ event: Broker.Event) async throws {
        if event.name == AgentAPI.notifyAgentHello {
            try await agentSaidHello(event.arguments)
        } else if let request = Self.clientRequests[event.name] {
            try await handle(event.arguments, of: request)
        } else {
            agentMessage(event)
        }
    }

    /// Answers one client request; a malformed one gets a failed result naming what is wrong.
    private func handle(_ arguments: [Broker.Value], of request: ClientRequest) async throws {
        guard case .string(let reqid)? = arguments.first else {
            let what = arguments.isEmpty ? "is missing" : "is not a string"
            log("dropped \(request.shortName): argument 1 (reqid) \(what)")
            return
        }
        log("rx \(request.shortName) \(reqid)")
        if state.withLock({ $0.pendingClientRequests.contains(reqid) }) {
            try await refuse(request, reqid, "request id '\(reqid)' is already pending")
            return
        }
        do {
            try await answer(request, reqid, arguments)
        } catch let error as RequestArgumentError {
            try await refuse(request, reqid, error.description)
        } catch let error as RequestError {
            // The tracker is full: the request could not be started.
            try await refuse(request, reqid, "\(request.shortName): \(error.message)")
        }
    }

    /// Answers a request with one failed result.
    private func refuse(_ request: ClientRequest, _ reqid: String, _ message: String) async throws {
        log("refused \(request.shortName) \(reqid): \(message)")
        let result = Management.Result(reqid: reqid, success: false, error: message)
        try await respond(request.response, reqid, request.payload(result))
    }

    private func answer(_ request: ClientRequest, _ reqid: String, _ arguments: [Broker.Value]) async throws {
        switch request.response {
        case ControllerAPI.getInstancesResponse:
            try await respond(request.response, reqid, instancesResult(reqid).brokerValue)
        case ControllerAPI.getNodesResponse:
            try await getNodes(reqid)
        case ControllerAPI.getConfigurationResponse:
            let deployed: Bool = try Self.argument(arguments, 1, "deployed", "a bool", of: request)
            let configuration = state.withLock { deployed ? $0.deployed : $0.staged }
            let result =
                configuration.map { Management.Result(reqid: reqid, data: $0.brokerValue) }
                ?? Management.Result(
                    reqid: reqid,
                    success: false,
                    error: deployed ? "no deployed configuration available" : "no staged configuration available"
                )
            try await respond(request.response, reqid, result.brokerValue)
        case ControllerAPI.stageConfigurationResponse:
            let configuration: Management.Configuration = try Self.argument(
                arguments,
                1,
                "config",
                "a Management::Configuration",
                of: request
            )
            let results = stage(configuration, reqid: reqid)
            try await respond(request.response, reqid, .vector(results.map(\.brokerValue)))
        case ControllerAPI.deployResponse:
            await startDeploy(reqid: reqid)
        case ControllerAPI.getIDValueResponse:
            let id: String = try Self.argument(arguments, 1, "id", "a string", of: request)
            let nodes: Set<String> = try Self.argument(
                arguments,
                2,
                "nodes",
                "a set of strings",
                of: request,
                default: []
            )
            try await getIDValue(reqid, id: id, nodes: nodes)
        case ControllerAPI.restartResponse:
            let nodes: Set<String> = try Self.argument(
                arguments,
                1,
                "nodes",
                "a set of strings",
                of: request,
                default: []
            )
            try await restart(reqid, nodes: nodes)
        case ControllerAPI.testTimeoutResponse:
            let withState: Bool = try Self.argument(arguments, 1, "with_state", "a bool", of: request)
            // Zeek's controller does nothing without state: the client times out.
            guard withState else { return }
            try track(reqid) { _ in
                let result = Management.Result(reqid: reqid, success: false, error: RequestTimeout.zeekMessage)
                self.respondLater(ControllerAPI.testTimeoutResponse, reqid, result.brokerValue)
            }
        default:
            return
        }
    }

    /// An agent's answer (or something else on the agent topics).
    private func agentMessage(_ event: Broker.Event) {
        let arguments = event.arguments
        let expectsVector: Bool
        switch event.name {
        case AgentAPI.agentWelcomeResponse, AgentAPI.getNodesResponse:
            expectsVector = false
        case AgentAPI.nodeDispatchResponse, AgentAPI.deployResponse, AgentAPI.restartResponse:
            expectsVector = true
        default:
            return
        }
        let shortName = event.name.split(separator: ":").last.map(String.init) ?? event.name
        guard arguments.count >= 2, case .string(let areq) = arguments[0] else {
            log("dropped \(shortName): expected a request id and results")
            return
        }
        do {
            let results =
                expectsVector
                ? try [Management.Result](brokerValue: arguments[1])
                : [try Management.Result(brokerValue: arguments[1])]
            agentAnswered(areq, results: results)
        } catch {
            log(
                "dropped \(shortName) \(areq): argument 2 is not \(expectsVector ? "a vector of " : "a ")result: \(error)"
            )
        }
    }

    // MARK: - Agents

    private func agentSaidHello(_ arguments: [Broker.Value]) async throws {
        guard arguments.count >= 4, case .string(let instance) = arguments[0], case .string(let nodeID) = arguments[1],
            case .boolean(let connecting) = arguments[2]
        else {
            log("dropped notify_agent_hello: expected instance, id, connecting and api_version")
            return
        }
        let limit = options.controllerOptions.maximumInstances
        let (isAccepted, configured) = state.withLock { state -> (Bool, Management.Instance?) in
            guard state.agents[instance] != nil || state.agents.count < limit else { return (false, nil) }
            return (true, (state.ready ?? state.staged)?.instances.first { $0.name == instance })
        }
        guard isAccepted else {
            log("dropped notify_agent_hello from \(instance): \(limit) agents are known already")
            return
        }
        let info = AgentInfo(
            instance: instance,
            host: configured.map { $0.host == .ipv4Unspecified ? .ipv4Loopback : $0.host } ?? .ipv4Loopback,
            listenPort: connecting ? nil : configured?.listenPort,
            nodeID: nodeID,
            isReady: false
        )
        state.withLock { $0.agents[instance] = info }
        log("agent \(instance) said hello")
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
            for result in results { tracker.record(result, for: parent) }
            tracker.markAnswered(.instance(instance), for: parent)
        }
    }

    private func instancesResult(_ reqid: String) -> Management.Result {
        let agents = state.withLock { $0.agents.values.sorted { $0.instance < $1.instance } }
        let instances = agents.map { Management.Instance(name: $0.instance, host: $0.host, listenPort: $0.listenPort) }
        return Management.Result(reqid: reqid, data: .vector(instances.map(\.brokerValue)))
    }

    private func agentsChanged() {
        let (startable, readyInstances) = state.withLock {
            state -> ([(RequestID, WaitingDeploy)], [String]) in
            let ready = Set(state.agents.values.filter(\.isReady).map(\.instance))
            let now = state.waitingForAgents.filter { entry in
                entry.value.configuration.instances.allSatisfy { ready.contains($0.name) }
            }
            for id in now.keys { state.waitingForAgents[id] = nil }
            return (now.map { ($0.key, $0.value) }, Array(ready))
        }
        // Waits still pending learn which agents are ready, so that a timeout names the others.
        for id in state.withLock({ Array($0.waitingForAgents.keys) }) {
            for instance in readyInstances { tracker.markAnswered(.instance(instance), for: id) }
        }
        for (id, waiting) in startable {
            spawner.spawn {
                self.tracker.finish(id)
                await self.sendDeploy(reqid: waiting.reqid, configuration: waiting.configuration)
            }
        }
    }

    // MARK: - Requests

    /// Starts tracking a client request under an id of the controller's own, marking the client's id
    /// pending until `onFinish` has run.
    ///
    /// - Throws: ``RequestError`` when the tracker is full.
    @discardableResult
    private func track(
        _ reqid: String,
        awaiting targets: [RequestTarget] = [],
        onFinish: @escaping @Sendable (RequestTracker<Management.Result>.Outcome) -> Void
    ) throws -> RequestID {
        let id = RequestID(UniqueID.make())
        state.withLock { _ = $0.pendingClientRequests.insert(reqid) }
        do {
            try tracker.start(id, awaiting: targets, finishesWhenAllAnswered: !targets.isEmpty) { _, outcome in
                self.state.withLock { _ = $0.pendingClientRequests.remove(reqid) }
                onFinish(outcome)
            }
        } catch {
            state.withLock { _ = $0.pendingClientRequests.remove(reqid) }
            throw error
        }
        return id
    }

    /// Sends a sub-request to each of `instances` and finishes when all replied or on timeout.
    ///
    /// An agent the sub-request cannot be sent to answers at once with a failed result naming it.
    ///
    /// - Throws: ``RequestError`` when the tracker is full; nothing was sent then.
    private func fanOut(
        _ reqid: String,
        instances: [String],
        request: @escaping @Sendable (String) -> (String, [Broker.Value]),
        onFinish: @escaping @Sendable (RequestTracker<Management.Result>.Outcome) -> Void
    ) async throws {
        let children = instances.map { (UniqueID.make(), $0) }
        let parent = try track(reqid, awaiting: instances.map { .instance($0) }) { outcome in
            self.state.withLock { state in for (areq, _) in children { state.subRequests[areq] = nil } }
            onFinish(outcome)
        }
        state.withLock { state in
            for (areq, instance) in children { state.subRequests[areq] = .child(parent: parent, instance: instance) }
        }
        for (areq, instance) in children {
            let (name, arguments) = request(areq)
            do {
                try await send(toAgent: instance, name, arguments)
            } catch {
                let failure = Management.Result(
                    reqid: reqid,
                    success: false,
                    instance: instance,
                    error: "could not reach the agent of instance '\(instance)': \(error)"
                )
                agentAnswered(areq, results: [failure])
            }
        }
    }

    /// Zeek's `request timed out`, then ClusterKit's line naming what stayed silent, under the client's id.
    private func timeoutResults(
        _ reqid: String,
        _ outcome: RequestTracker<Management.Result>.Outcome
    ) -> [Management.Result] {
        guard var timeout = outcome.timeout else { return [] }
        timeout.requestID = RequestID(reqid)
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
        let involvedInstances = Set(deployed.nodes.map(\.instance))
        let involved = instances.filter { involvedInstances.contains($0) }
        try await fanOut(reqid, instances: involved) { areq in
            (AgentAPI.restartRequest, [.string(areq), requested.brokerValue])
        } onFinish: { outcome in
            let results = outcome.results + self.timeoutResults(reqid, outcome)
            self.respondLater(ControllerAPI.restartResponse, reqid, .vector(results.map(\.brokerValue)))
        }
    }

    // MARK: - Stage and deploy

    private func stage(_ configuration: Management.Configuration, reqid: String) -> [Management.Result] {
        let errors = configuration.stagingErrors(options: options.controllerOptions)
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
        enum Start {
            case nothingStaged
            case busy(String)
            case start(Management.Configuration)
        }
        let start = state.withLock { state -> Start in
            guard let ready = state.ready else { return .nothingStaged }
            if let busy = state.deployInProgress { return .busy(busy) }
            state.deployInProgress = reqid
            state.pendingClientRequests.insert(reqid)
            return .start(ready)
        }
        let ready: Management.Configuration
        switch start {
        case .nothingStaged:
            let result = Management.Result(reqid: reqid, success: false, error: "no configuration available to deploy")
            try? await respond(ControllerAPI.deployResponse, reqid, .vector([result.brokerValue]))
            return
        case .busy(let busy):
            let result = Management.Result(
                reqid: reqid,
                success: false,
                error: "earlier deployment \(busy) still pending"
            )
            try? await respond(ControllerAPI.deployResponse, reqid, .vector([result.brokerValue]))
            return
        case .start(let configuration):
            ready = configuration
        }
        let wanted = Set(ready.instances.map(\.name))
        let obsolete = state.withLock { state in state.agents.keys.filter { !wanted.contains($0) } }
        if !obsolete.isEmpty {
            if let stopAgents = options.stopAgents {
                // ClusterKit stops such agents itself, and returns once their nodes are gone: the new nodes may
                // need their ports. (A standby request would race with the agent being stopped.)
                await stopAgents(obsolete)
            } else {
                // Zeek's way: the agents stay and stop their nodes.
                for instance in obsolete {
                    try? await send(toAgent: instance, AgentAPI.agentStandbyRequest, [.string("")])
                }
            }
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
        let waitID = RequestID(UniqueID.make())
        state.withLock { $0.waitingForAgents[waitID] = WaitingDeploy(reqid: reqid, configuration: ready) }
        do {
            let instances = ready.instances.map { RequestTarget.instance($0.name) }
            try tracker.start(waitID, awaiting: instances, finishesWhenAllAnswered: false) { _, outcome in
                let stillWaiting = self.state.withLock { $0.waitingForAgents.removeValue(forKey: waitID) != nil }
                guard stillWaiting else { return }
                self.endDeploy(reqid, self.timeoutResults(reqid, outcome))
            }
        } catch {
            state.withLock { _ = $0.waitingForAgents.removeValue(forKey: waitID) }
            endDeploy(
                reqid,
                [Management.Result(reqid: reqid, success: false, error: "deploy_request: \(Self.message(error))")]
            )
            return
        }
        agentsChanged()
    }

    private func sendDeploy(reqid: String, configuration: Management.Configuration) async {
        state.withLock { $0.deployed = configuration }
        let instances = configuration.instances.map(\.name).sorted()
        let success = Management.Result(reqid: reqid, data: .string(configuration.id))
        guard !instances.isEmpty else {
            endDeploy(reqid, [success])
            return
        }
        // One encoding for every agent: the configuration may hold thousands of nodes.
        let payload = configuration.brokerValue
        do {
            try await fanOut(reqid, instances: instances) { areq in
                (AgentAPI.deployRequest, [.string(areq), payload, .boolean(false)])
            } onFinish: { outcome in
                self.endDeploy(reqid, outcome.results + self.timeoutResults(reqid, outcome) + [success])
            }
        } catch {
            endDeploy(
                reqid,
                [Management.Result(reqid: reqid, success: false, error: "deploy_request: \(Self.message(error))")]
            )
        }
    }

    /// An error's text for a client, without the controller's own request ids.
    private static func message(_ error: any Error) -> String {
        (error as? RequestError)?.message ?? "\(error)"
    }

    /// Ends the deployment `reqid`, whichever way it ended, and sends its results.
    private func endDeploy(_ reqid: String, _ results: [Management.Result]) {
        state.withLock { state in
            if state.deployInProgress == reqid { state.deployInProgress = nil }
            state.pendingClientRequests.remove(reqid)
        }
        respondLater(ControllerAPI.deployResponse, reqid, .vector(results.map(\.brokerValue)))
    }
}

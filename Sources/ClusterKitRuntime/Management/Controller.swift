import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

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
///
/// Inside, every decision is a step of one state machine (`ControllerStateMachine`) behind one lock: events are
/// decoded once into a typed request (or an agent's hello or response), the step returns effects, and the
/// controller performs them outside the lock. The ``RequestTracker``'s callbacks feed the same step.
public final class Controller: Sendable {
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

    typealias Effect = ControllerStateMachine.Effect

    /// The options.
    public let options: Options
    /// The backend the controller talks through.
    public let backend: any ClusterBackend
    private let tracker: RequestTracker<Management.Result>
    private let spawner = TaskSpawner()
    /// Every piece of the controller's mutable state; changed only by its `step`.
    private let machine: Guarded<ControllerStateMachine>
    /// ``deploy(_:)`` calls waiting for their results, by request id.
    private let internalDeploys = Guarded<[String: AsyncStream<[Management.Result]>.Continuation]>([:])

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
        self.machine = Guarded(ControllerStateMachine(settings: ControllerStateMachine.Settings(options)))
    }

    /// The number of requests waiting for agents.
    public var pendingRequests: Int { tracker.pendingCount }

    /// The agents that said hello, by instance.
    public var agents: [String: AgentInfo] { machine.withLock { $0.agents } }

    /// The deployed configuration (hosts filled in, ports assigned), if any.
    public var deployedConfiguration: Management.Configuration? { machine.withLock { $0.deployed } }

    /// The client request id of the deployment in progress, or `nil` when none is.
    public var deploymentInProgress: String? { machine.withLock { $0.deploymentInProgress } }

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
                            try await self.handle(received.event, from: received.origin)
                        } catch let error as BackendError where error.code == .closed {
                            throw error
                        } catch {
                            // One bad request must not stop the controller.
                            self.log("error handling \(received.event.name): \(error)")
                            self.note(.error, "error handling \(received.event.name): \(error)")
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
        let (stream, continuation) = AsyncStream<[Management.Result]>.makeStream(bufferingPolicy: .bufferingNewest(1))
        internalDeploys.withLock { $0[reqid] = continuation }
        note(.info, "deploying configuration \(configuration.id), request \(reqid)")
        await performReportingErrors(step(.internalDeploy(reqid: reqid, configuration)))
        for await results in stream { return results }
        return []
    }

    // MARK: - Events

    /// Decodes an event once and hands it to the state machine; a malformed request is answered or dropped.
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - origin: The hub endpoint that sent it, which alone gets the answer to a request (`nil`: everyone).
    /// - Throws: ``BackendError`` when an answer cannot be published.
    private func handle(_ event: Broker.Event, from origin: UInt64?) async throws {
        let message: Message
        do throws(DecodingError) {
            guard let decoded = try Message.decode(event) else { return }
            message = decoded
        } catch {
            try await reject(error, from: origin)
            return
        }
        note(.info, Self.receivedLine(message, eventName: event.name))
        switch message {
        case .request(let request):
            log("rx \(request.kind.shortName) \(request.reqid)")
            try await perform(step(.request(request, from: origin)))
        case .agentHello(var hello):
            hello.address = origin.flatMap { options.endpointAddress?($0) }
            try await perform(step(.agentHello(hello)))
        case .agentResponse(let response):
            try await perform(step(.agentResponse(response)))
        }
    }

    /// Answers a malformed request that has a request id with what is wrong; logs and drops anything else.
    private func reject(_ error: DecodingError, from origin: UInt64?) async throws {
        guard error.code == .invalidArgument, let kind = error.request, let reqid = error.reqid else {
            log("dropped \(error.message)")
            note(.warning, "dropped \(error.message)")
            return
        }
        log("rx \(kind.shortName) \(reqid)")
        note(.info, "rx \(kind.eventName) \(reqid)")
        try await perform(step(.malformedRequest(kind, reqid: reqid, message: error.message, from: origin)))
    }

    // MARK: - Stepping and performing

    /// One step of the state machine, in one lock scope.
    private func step(_ input: ControllerStateMachine.Input) -> [Effect] {
        let (effects, deployed) = machine.withLock { machine in
            let before = machine.deployed?.id
            let effects = machine.step(input)
            return (effects, machine.deployed?.id == before ? nil : machine.deployed)
        }
        if let deployed { options.onDeployed?(deployed) }
        return effects
    }

    /// A tracker callback: it runs inside whatever ended the request, so what needs waiting is spawned.
    private func trackerFinished(_ id: RequestID, _ outcome: ControllerStateMachine.Outcome) {
        if outcome.timeout != nil { note(.info, "request \(id.rawValue) timed out") }
        performLater(step(.trackerFinished(id, outcome)))
    }

    /// Performs `effects` in order in the calling task.
    ///
    /// - Throws: A publishing error; the effects after it are not performed.
    private func perform(_ effects: [Effect]) async throws {
        try await StateMachineEffects.perform(effects, atOnce: performAtOnce, waiting: performWaiting)
    }

    /// Performs the effects that need no waiting at once, in order, and the rest from the first one that does
    /// in a spawned task.
    private func performLater(_ effects: [Effect]) {
        let rest = StateMachineEffects.performUntilWaiting(effects, atOnce: performAtOnce)
        guard !rest.isEmpty else { return }
        spawner.spawn { await self.performReportingErrors(rest) }
    }

    /// Performs `effects` in order, logging a publishing error instead of throwing it.
    private func performReportingErrors(_ effects: [Effect]) async {
        do {
            try await perform(effects)
        } catch let error as BackendError where error.code == .closed {
            // The controller is stopping with its backend: no client is left to answer.
        } catch {
            log("error sending a response: \(error)")
            note(.error, "error sending a response: \(error)")
        }
    }

    private func performAtOnce(_ effect: Effect) -> ImmediateEffect<Effect> {
        switch effect {
        case .log(let line):
            log(line)
            note(Self.managementLevel(of: line), line)
        case .finishInternalDeploy(let reqid, let results):
            finishInternalDeploy(reqid, results)
        case .startTracking(let id, let targets, let finishesWhenAllAnswered):
            do {
                let finishes = finishesWhenAllAnswered
                try tracker.start(id, awaiting: targets, finishesWhenAllAnswered: finishes, onFinish: trackerFinished)
            } catch {
                return .trackingFailed(step(.trackingFailed(id, error)))
            }
        case .record(let results, let id):
            for result in results { tracker.record(result, for: id) }
        case .markAnswered(let target, let id):
            tracker.markAnswered(target, for: id)
        case .finishTracking(let id):
            tracker.finish(id)
        case .respond, .sendWelcome, .fanOut, .retireAgents, .launchAgents:
            return .needsWaiting
        }
        return .performed
    }

    private func performWaiting(_ effect: Effect) async throws {
        switch effect {
        case .respond(let response):
            try await respond(response)
        case .sendWelcome(let areq, let instance):
            note(.info, "tx \(AgentAPI.agentWelcomeRequest) \(areq) to \(instance)")
            try await send(toAgent: instance, AgentAPI.agentWelcomeRequest, [.string(areq)])
        case .fanOut(let fanOut):
            try await send(fanOut)
        case .retireAgents(let instances, let reqid):
            await retire(instances)
            try await perform(step(.agentsRetired(deploy: reqid)))
        case .launchAgents(let instances, let reqid):
            await options.launchAgents?(instances)
            try await perform(step(.agentsLaunched(deploy: reqid)))
        case .log, .finishInternalDeploy, .startTracking, .record, .markAnswered, .finishTracking:
            // Performed at once by `performAtOnce`, never handed here.
            break
        }
    }

    // MARK: - Logging, publishing, agents

    /// Hands one line to the log, with control characters escaped.
    private func log(_ line: @autoclosure () -> String) {
        guard let sink = options.log else { return }
        sink(line().escapingControlCharacters)
    }

    private func respond(_ response: ControllerStateMachine.Response) async throws {
        log("tx \(response.request.responseShortName) \(response.reqid)")
        switch response.delivery {
        case .internalDeploy:
            finishInternalDeploy(response.reqid, response.results)
        case .logOnly:
            let failures = response.results.filter { !$0.success }.map { $0.error ?? "failed" }
            log(failures.isEmpty ? "\(response.reqid): done" : "\(response.reqid): \(failures.joined(separator: "; "))")
        case .client:
            note(.info, "tx \(response.request.responseName) \(response.reqid)")
            let event = Broker.Event(response.request.responseName, [.string(response.reqid), response.payload])
            if let hub = backend as? InMemoryBackend {
                try await hub.publish(event, to: ControllerAPI.topic, onlyTo: response.recipient)
            } else {
                try await backend.publish(event, to: ControllerAPI.topic)
            }
        }
    }

    private func finishInternalDeploy(_ reqid: String, _ results: [Management.Result]) {
        guard let continuation = internalDeploys.withLock({ $0.removeValue(forKey: reqid) }) else { return }
        continuation.yield(results)
        continuation.finish()
    }

    private func send(toAgent instance: String, _ name: String, _ arguments: [Broker.Value]) async throws {
        try await backend.publish(Broker.Event(name, arguments), to: AgentAPI.topic(instance))
    }

    /// Sends each agent its copy of a sub-request; one that cannot be sent to answers at once with a failed
    /// result naming it.
    private func send(_ fanOut: ControllerStateMachine.FanOut) async throws {
        let name = fanOut.request.eventName
        let arguments = fanOut.request.arguments
        for child in fanOut.children {
            do {
                note(.info, "tx \(name) \(child.areq) to \(child.instance)")
                try await send(toAgent: child.instance, name, [.string(child.areq)] + arguments)
            } catch {
                note(.error, "could not send \(name) to instance '\(child.instance)': \(error)")
                try await perform(step(.agentUnreachable(areq: child.areq, error: "\(error)")))
            }
        }
    }

    /// Stops the agents of instances that left the configuration, or asks them to stand by.
    private func retire(_ instances: [String]) async {
        if let stopAgents = options.stopAgents {
            // ClusterKit stops such agents itself, and returns once their nodes are gone: the new nodes may
            // need their ports. (A standby request would race with the agent being stopped.)
            await stopAgents(instances)
            for instance in instances { note(.info, "dropped instance \(instance)") }
            return
        }
        // Zeek's way: the agents stay and stop their nodes.
        for instance in instances {
            do {
                note(.info, "tx \(AgentAPI.agentStandbyRequest) to \(instance)")
                try await send(toAgent: instance, AgentAPI.agentStandbyRequest, [.string("")])
            } catch {
                log("could not send agent_standby_request to instance '\(instance)': \(error)")
                note(.error, "could not send \(AgentAPI.agentStandbyRequest) to instance '\(instance)': \(error)")
            }
        }
    }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Every decision of a ``Controller``, as a value: the controller's mutable state, and one ``step(_:)`` that
/// takes an ``Input`` and returns the ``Effect``s to perform.
///
/// The controller keeps it behind one lock and performs the effects outside it, in order: publishing,
/// sending to agents, starting agents, and the ``RequestTracker`` calls (whose callbacks come back as
/// inputs). So every check and the change it guards happen in one step; nothing here does I/O, waits or
/// reads a clock, and tests drive it directly.
///
/// Request ids: the tracker is keyed by ids the machine makes (`makeID`), never by a client's `reqid`, which
/// is only echoed in responses and kept in ``pendingClientRequests`` while its request is pending.
///
/// Limits: the machine counts the requests it asked the tracker to hold and refuses one past
/// ``Settings/maximumPendingRequests`` with the tracker's own error, so that a refusal is decided in the same
/// step as the request. Entries leave the count when the tracker reports them finished, so the tracker never
/// holds more than the machine counts.
struct ControllerStateMachine {
    /// The settings decisions depend on.
    struct Settings: Sendable {
        /// Port checks, auto-assignment settings and configuration limits.
        var controllerOptions: Management.ControllerOptions
        /// The tracker's timeout for every request.
        var requestTimeout: Duration
        /// The most requests tracked at once.
        var maximumPendingRequests: Int

        init(_ options: Controller.Options) {
            controllerOptions = options.controllerOptions
            requestTimeout = options.requestTimeout
            maximumPendingRequests = options.maximumPendingRequests
        }
    }

    /// The settings.
    let settings: Settings
    private let makeID: RequestIDGenerator

    /// The agents that said hello, by instance.
    private(set) var agents: [String: Controller.AgentInfo] = [:]
    /// The configuration as staged by the client.
    private(set) var staged: Management.Configuration?
    /// The staged configuration ready to deploy: hosts filled in, ports assigned.
    private(set) var ready: Management.Configuration?
    /// The configuration deployed last.
    private(set) var deployed: Management.Configuration?
    /// The deployment in progress.
    private(set) var deployment: Deployment?
    /// Agents that came back while a deployment's requests were already out: they get the deployed configuration
    /// once it ends (an agent that runs it already changes nothing).
    private(set) var rejoinedDuringDeployment: Set<String> = []
    /// Client request ids of requests still pending (answered later), deployments included.
    private(set) var pendingClientRequests: Set<String> = []
    /// The hub endpoint of each pending client request's sender, where its response goes.
    private(set) var replyTo: [String: UInt64] = [:]
    /// Agent sub-requests, by the controller's id for them.
    private(set) var subRequests: [String: SubRequest] = [:]
    /// Requests the tracker holds for the controller, by the tracker's id.
    private(set) var tracked: [RequestID: Tracked] = [:]

    /// Creates a machine with nothing staged, deployed or known.
    ///
    /// - Parameters:
    ///   - settings: The settings.
    ///   - makeID: Makes the controller's own request ids; random Zeek-style ids by default.
    init(settings: Settings, makeID: RequestIDGenerator = .uniqueIDs) {
        self.settings = settings
        self.makeID = makeID
    }

    /// The client request id of the deployment in progress.
    var deploymentInProgress: String? { deployment?.reqid }

    /// Takes one input and returns what to do, in order.
    mutating func step(_ input: Input) -> [Effect] {
        routeResponses(react(to: input), for: input)
    }

    /// Addresses each client response to the client that asked.
    ///
    /// A response in the same step as its request (a refusal, a duplicate id, an answer at once) goes to that
    /// request's sender; a request answered later has its sender kept until then. So two clients that use the
    /// same request id each get their own answer: the second one's refusal never reaches the first.
    private mutating func routeResponses(_ effects: [Effect], for input: Input) -> [Effect] {
        let asking: (reqid: String, origin: UInt64?)?
        switch input {
        case .request(let request, let origin): asking = (request.reqid, origin)
        case .malformedRequest(_, let reqid, _, let origin): asking = (reqid, origin)
        default: asking = nil
        }
        var answeredNow = false
        let routed = effects.map { effect -> Effect in
            guard case .respond(var response) = effect, response.delivery == .client else { return effect }
            if let asking, asking.reqid == response.reqid {
                answeredNow = true
                response.recipient = asking.origin
            } else {
                response.recipient = replyTo.removeValue(forKey: response.reqid)
            }
            return .respond(response)
        }
        if let asking, !answeredNow, let origin = asking.origin, pendingClientRequests.contains(asking.reqid) {
            replyTo[asking.reqid] = origin
        }
        return routed
    }

    /// What an input does, before responses are addressed.
    private mutating func react(to input: Input) -> [Effect] {
        switch input {
        case .request(let request, _):
            handle(request)
        case .malformedRequest(let kind, let reqid, let message, _):
            // The pending id is checked first, as for a well-formed request.
            refuse(kind, reqid, pendingClientRequests.contains(reqid) ? Self.alreadyPending(reqid) : message)
        case .agentHello(let hello):
            agentSaidHello(hello)
        case .agentResponse(let response):
            agentAnswered(response.areq, results: response.results)
        case .agentUnreachable(let areq, let error):
            agentUnreachable(areq, error: error)
        case .trackerFinished(let id, let outcome):
            trackerFinished(id, outcome)
        case .trackingFailed(let id, let error):
            trackingFailed(id, error)
        case .internalDeploy(let reqid, let configuration):
            internalDeploy(reqid, configuration)
        case .agentsRetired(let reqid):
            agentsRetired(reqid)
        case .agentsLaunched(let reqid):
            agentsLaunched(reqid)
        }
    }

    // MARK: - Client requests

    private mutating func handle(_ request: Controller.Request) -> [Effect] {
        let reqid = request.reqid
        if pendingClientRequests.contains(reqid) { return refuse(request.kind, reqid, Self.alreadyPending(reqid)) }
        switch request {
        case .getInstances:
            let instances = agents.values.sorted { $0.instance < $1.instance }.map {
                Management.Instance(name: $0.instance, host: $0.host, listenPort: $0.listenPort)
            }
            let result = Management.Result(reqid: reqid, data: .vector(instances.map { $0.brokerValue }))
            return [.respond(Response(.getInstances, reqid, [result]))]
        case .getNodes:
            let instances = readyInstances
            guard !instances.isEmpty else {
                return [.respond(Response(.getNodes, reqid, [Self.failure(reqid, "no instances connected")]))]
            }
            return startFanOut(.getNodes, reqid, to: instances, .getNodes)
        case .getConfiguration(_, let wantsDeployed):
            let result =
                (wantsDeployed ? deployed : staged).map { Management.Result(reqid: reqid, data: $0.brokerValue) }
                ?? Self.failure(
                    reqid,
                    wantsDeployed ? "no deployed configuration available" : "no staged configuration available"
                )
            return [.respond(Response(.getConfiguration, reqid, [result]))]
        case .stageConfiguration(_, let configuration):
            return [.respond(Response(.stageConfiguration, reqid, stage(configuration, reqid: reqid)))]
        case .deploy:
            return startDeploy(reqid, isInternal: false)
        case .getIDValue(_, let id, let nodes):
            return getIDValue(reqid, id: id, nodes: nodes)
        case .restart(_, let nodes):
            return restart(reqid, nodes: nodes)
        case .testTimeout(_, let withState):
            // Zeek's controller does nothing without state: the client times out.
            guard withState else { return [] }
            do {
                let start = try track(.testTimeout(reqid: reqid), id: makeID.next(), awaiting: [])
                pendingClientRequests.insert(reqid)
                return [start]
            } catch {
                return refuse(.testTimeout, reqid, Self.trackerMessage(.testTimeout, error))
            }
        }
    }

    private mutating func getIDValue(_ reqid: String, id: String, nodes requested: Set<String>) -> [Effect] {
        guard let deployed, !deployed.instances.isEmpty else {
            return [.respond(Response(.getIDValue, reqid, [Self.failure(reqid, "no cluster deployed")]))]
        }
        let known = Set(deployed.nodes.map(\.name))
        let unknown = requested.filter { !known.contains($0) }.sorted()
        let early = unknown.map { Self.failure(reqid, "unknown cluster node", node: $0) }
        let remaining = requested.subtracting(unknown)
        if !requested.isEmpty && remaining.isEmpty { return [.respond(Response(.getIDValue, reqid, early))] }
        let dispatch = AgentRequest.nodeDispatch(action: ["get_id_value", id], nodes: remaining)
        return startFanOut(.getIDValue, reqid, to: readyInstances, dispatch, early: early)
    }

    private mutating func restart(_ reqid: String, nodes requested: Set<String>) -> [Effect] {
        let instances = readyInstances
        guard !instances.isEmpty else {
            return [.respond(Response(.restart, reqid, [Self.failure(reqid, "no instances connected")]))]
        }
        guard let deployed else {
            return [.respond(Response(.restart, reqid, [Self.failure(reqid, "no active cluster deployment")]))]
        }
        let known = Set(deployed.nodes.map(\.name))
        let early = requested.filter { !known.contains($0) }.sorted().map {
            Self.failure(reqid, "unknown cluster node", node: $0)
        }
        if !early.isEmpty { return [.respond(Response(.restart, reqid, early))] }
        let involvedInstances = Set(deployed.nodes.map(\.instance))
        let involved = instances.filter { involvedInstances.contains($0) }
        return startFanOut(.restart, reqid, to: involved, .restart(nodes: requested))
    }

    /// A client request sent to agents, or its refusal when the tracker is full.
    private mutating func startFanOut(
        _ kind: Controller.Request.Kind,
        _ reqid: String,
        to instances: [String],
        _ request: AgentRequest,
        early: [Management.Result] = []
    ) -> [Effect] {
        do {
            return try fanOut(kind, reqid, to: instances, request, early: early).effects
        } catch {
            return refuse(kind, reqid, Self.trackerMessage(kind, error))
        }
    }

    /// Tracks a request to `instances` and sends each its sub-request.
    ///
    /// The response goes out when all answered or at the deadline. With no instances it only times out, as
    /// Zeek's controller does.
    ///
    /// - Returns: The tracker's id for the request, and the effects.
    /// - Throws: The tracker's error when it is full; nothing changed then.
    private mutating func fanOut(
        _ kind: Controller.Request.Kind,
        _ reqid: String,
        to instances: [String],
        _ request: AgentRequest,
        early: [Management.Result] = [],
        trailer: [Management.Result] = []
    ) throws(RequestError) -> (parent: RequestID, effects: [Effect]) {
        let parent = makeID.next()
        let children = instances.map { FanOut.Child(areq: makeID.next().rawValue, instance: $0) }
        let entry = FanOutRequest(
            request: kind,
            reqid: reqid,
            children: children.map(\.areq),
            early: early,
            trailer: trailer
        )
        let start = try track(
            .fanOut(entry),
            id: parent,
            awaiting: instances.map { .instance($0) },
            finishesWhenAllAnswered: !instances.isEmpty
        )
        pendingClientRequests.insert(reqid)
        for child in children { subRequests[child.areq] = .child(parent: parent, instance: child.instance) }
        guard !children.isEmpty else { return (parent, [start]) }
        return (parent, [start, .fanOut(FanOut(request: request, children: children))])
    }

    /// Answers a request with one failed result.
    private func refuse(_ kind: Controller.Request.Kind, _ reqid: String, _ message: String) -> [Effect] {
        [
            .log("refused \(kind.shortName) \(reqid): \(message)"),
            .respond(Response(kind, reqid, [Self.failure(reqid, message)])),
        ]
    }

    // MARK: - Agents

    private mutating func agentSaidHello(_ hello: Controller.AgentHello) -> [Effect] {
        let instance = hello.instance
        let limit = settings.controllerOptions.maximumInstances
        guard agents[instance] != nil || agents.count < limit else {
            return [.log("dropped notify_agent_hello from \(instance): \(limit) agents are known already")]
        }
        let configured = (ready ?? staged)?.instances.first { $0.name == instance }
        agents[instance] = Controller.AgentInfo(
            instance: instance,
            host: hello.address ?? configured.map { $0.host == .ipv4Unspecified ? .ipv4Loopback : $0.host }
                ?? .ipv4Loopback,
            listenPort: hello.isConnecting ? nil : configured?.listenPort,
            nodeID: hello.nodeID,
            isReady: false
        )
        var effects: [Effect] = [.log("agent \(instance) said hello")]
        let areq = makeID.next()
        do {
            effects.append(try track(.welcome(instance: instance), id: areq, awaiting: [.instance(instance)]))
        } catch {
            effects.append(.log("error handling \(AgentAPI.notifyAgentHello): \(error)"))
            return effects
        }
        subRequests[areq.rawValue] = .welcome(instance: instance)
        effects.append(.sendWelcome(areq: areq.rawValue, instance: instance))
        return effects
    }

    /// Records an agent's answer with the request it belongs to.
    private mutating func agentAnswered(_ areq: String, results: [Management.Result]) -> [Effect] {
        switch subRequests[areq] {
        case nil:
            return []
        case .welcome(let instance)?:
            return [.markAnswered(.instance(instance), for: RequestID(areq))]
        case .child(let parent, let instance)?:
            subRequests[areq] = nil
            return [.record(results, for: parent), .markAnswered(.instance(instance), for: parent)]
        }
    }

    /// An agent that could not be sent to answers at once with a failed result naming it.
    private mutating func agentUnreachable(_ areq: String, error: String) -> [Effect] {
        guard case .child(let parent, let instance)? = subRequests[areq],
            case .fanOut(let request)? = tracked[parent]
        else { return [] }
        let failure = Management.Result(
            reqid: request.reqid,
            success: false,
            instance: instance,
            error: "could not reach the agent of instance '\(instance)': \(error)"
        )
        return agentAnswered(areq, results: [failure])
    }

    private var readyInstances: [String] {
        agents.values.filter(\.isReady).map(\.instance).sorted()
    }

    // MARK: - Staging

    /// Validates and stages a configuration: Zeek's and ClusterKit's checks, then host addresses and ports.
    ///
    /// - Returns: The staging errors, or one result carrying the configuration's id.
    private mutating func stage(_ configuration: Management.Configuration, reqid: String) -> [Management.Result] {
        let errors = configuration.stagingErrors(options: settings.controllerOptions)
        guard errors.isEmpty else { return errors.map { Self.failure(reqid, $0.message) } }
        var addresses: [String: Broker.Address] = [:]
        for instance in configuration.instances where instance.host == .ipv4Unspecified {
            addresses[instance.name] = agents[instance.name]?.host ?? .ipv4Loopback
        }
        var prepared = configuration.assigningPorts(
            options: settings.controllerOptions,
            instanceAddresses: addresses
        )
        prepared.instances = prepared.instances.map { instance in
            var filled = instance
            if let address = addresses[instance.name] { filled.host = address }
            return filled
        }
        staged = configuration
        ready = prepared
        return [Management.Result(reqid: reqid, data: .string(configuration.id))]
    }

    // MARK: - Deploying

    /// ``Controller/deploy(_:)``: stages, then deploys as a client's `deploy_request` would, in one step.
    private mutating func internalDeploy(_ reqid: String, _ configuration: Management.Configuration) -> [Effect] {
        let staged = stage(configuration, reqid: reqid)
        guard staged.allSatisfy(\.success) else { return [.finishInternalDeploy(reqid: reqid, results: staged)] }
        return startDeploy(reqid, isInternal: true)
    }

    /// Starts deploying the staged configuration: retire the agents of instances that left it, launch agents
    /// for instances that have none, wait for them, then send each its part.
    private mutating func startDeploy(_ reqid: String, isInternal: Bool) -> [Effect] {
        let delivery: Response.Delivery = isInternal ? .internalDeploy : .client
        guard let ready else {
            let result = Self.failure(reqid, "no configuration available to deploy")
            return [.respond(Response(.deploy, reqid, [result], delivery: delivery))]
        }
        if let busy = deployment {
            let result = Self.failure(reqid, "earlier deployment \(busy.reqid) still pending")
            return [.respond(Response(.deploy, reqid, [result], delivery: delivery))]
        }
        pendingClientRequests.insert(reqid)
        let wanted = Set(ready.instances.map(\.name))
        let obsolete = agents.keys.filter { !wanted.contains($0) }.sorted()
        deployment = Deployment(
            reqid: reqid,
            configuration: ready,
            isInternal: isInternal,
            phase: .retiringAgents(obsolete)
        )
        guard obsolete.isEmpty else { return [.retireAgents(obsolete, deploy: reqid)] }
        return launchMissingAgents()
    }

    private mutating func agentsRetired(_ reqid: String) -> [Effect] {
        guard let deployment, deployment.reqid == reqid, case .retiringAgents(let obsolete) = deployment.phase
        else { return [] }
        for instance in obsolete { agents[instance] = nil }
        return launchMissingAgents()
    }

    private mutating func agentsLaunched(_ reqid: String) -> [Effect] {
        guard let deployment, deployment.reqid == reqid, deployment.phase == .launchingAgents else { return [] }
        return awaitAgents()
    }

    private mutating func launchMissingAgents() -> [Effect] {
        guard let deployment else { return [] }
        let missing = deployment.configuration.instances.filter { agents[$0.name] == nil }
        guard missing.isEmpty else {
            self.deployment?.phase = .launchingAgents
            return [.launchAgents(missing, deploy: deployment.reqid)]
        }
        return awaitAgents()
    }

    /// Deploys at once when every agent is ready; else waits (bounded) for them to say hello.
    private mutating func awaitAgents() -> [Effect] {
        guard let deployment else { return [] }
        let instances = deployment.configuration.instances
        if instances.allSatisfy({ agents[$0.name]?.isReady == true }) { return sendDeploy() }
        let waitID = makeID.next()
        let start: Effect
        do {
            start = try track(
                .deployWait(reqid: deployment.reqid),
                id: waitID,
                awaiting: instances.map { .instance($0.name) },
                finishesWhenAllAnswered: false
            )
        } catch {
            return endDeploy(deployment.reqid, [Self.failure(deployment.reqid, Self.trackerMessage(.deploy, error))])
        }
        self.deployment?.phase = .waitingForAgents(waitID, answered: [])
        return [start] + agentsChanged()
    }

    /// Goes on with a deployment waiting for agents: the deploy goes out once they are all ready; until then
    /// the wait learns which are, so that its timeout names the others.
    private mutating func agentsChanged() -> [Effect] {
        guard let deployment, case .waitingForAgents(let waitID, let answered) = deployment.phase else { return [] }
        let instances = deployment.configuration.instances.map(\.name)
        let readyNow = instances.filter { agents[$0]?.isReady == true }
        if readyNow.count == instances.count {
            // Its finish then ends nothing.
            tracked[waitID] = nil
            return [.finishTracking(waitID)] + sendDeploy()
        }
        let newlyReady = Set(readyNow).subtracting(answered)
        guard !newlyReady.isEmpty else { return [] }
        self.deployment?.phase = .waitingForAgents(waitID, answered: answered.union(newlyReady))
        return newlyReady.sorted().map { .markAnswered(.instance($0), for: waitID) }
    }

    /// Sends the configuration to every agent; the deployment ends when all answered or at the deadline.
    private mutating func sendDeploy() -> [Effect] {
        guard let deployment else { return [] }
        let configuration = deployment.configuration
        let reqid = deployment.reqid
        deployed = configuration
        let instances = configuration.instances.map(\.name).sorted()
        let success = Management.Result(reqid: reqid, data: .string(configuration.id))
        guard !instances.isEmpty else { return endDeploy(reqid, [success]) }
        do {
            let (parent, effects) = try fanOut(
                .deploy,
                reqid,
                to: instances,
                .deploy(configuration),
                trailer: [success]
            )
            self.deployment?.phase = .deploying(parent)
            return effects
        } catch {
            return endDeploy(reqid, [Self.failure(reqid, Self.trackerMessage(.deploy, error))])
        }
    }

    /// Sends the deployed configuration to one agent that said hello again; the outcome is only logged.
    private mutating func redeploy(_ configuration: Management.Configuration, to instance: String) -> [Effect] {
        let reqid = "rejoin-" + makeID.next().rawValue
        do {
            var (parent, effects) = try fanOut(.deploy, reqid, to: [instance], .deploy(configuration))
            if case .fanOut(var request)? = tracked[parent] {
                request.delivery = .logOnly
                tracked[parent] = .fanOut(request)
            }
            effects.insert(.log("agent \(instance) rejoined: deploying configuration \(configuration.id) to it"), at: 0)
            return effects
        } catch {
            return [
                .log("agent \(instance) rejoined, but its deployment failed: \(Self.trackerMessage(.deploy, error))")
            ]
        }
    }

    /// Ends the deployment `reqid`, whichever way it ended, and sends its results.
    private mutating func endDeploy(_ reqid: String, _ results: [Management.Result]) -> [Effect] {
        var delivery = Response.Delivery.client
        if let deployment, deployment.reqid == reqid {
            if deployment.isInternal { delivery = .internalDeploy }
            self.deployment = nil
        }
        pendingClientRequests.remove(reqid)
        var effects: [Effect] = [.respond(Response(.deploy, reqid, results, delivery: delivery))]
        if self.deployment == nil, let deployed {
            let rejoined = rejoinedDuringDeployment.filter { name in
                agents[name]?.isReady == true && deployed.instances.contains { $0.name == name }
            }
            rejoinedDuringDeployment = []
            for instance in rejoined.sorted() { effects += redeploy(deployed, to: instance) }
        }
        return effects
    }

    // MARK: - Tracking

    /// Asks the tracker to hold `entry` under `id`, unless that would exceed the limit.
    ///
    /// - Returns: The ``Effect/startTracking(_:awaiting:finishesWhenAllAnswered:)`` to perform.
    /// - Throws: The error the tracker would throw: too many pending requests, or a negative timeout.
    private mutating func track(
        _ entry: Tracked,
        id: RequestID,
        awaiting targets: [RequestTarget],
        finishesWhenAllAnswered: Bool? = nil
    ) throws(RequestError) -> Effect {
        try RequestError.checkStart(
            id,
            pending: tracked.count,
            limit: settings.maximumPendingRequests,
            timeout: settings.requestTimeout
        )
        tracked[id] = entry
        return .startTracking(
            id,
            awaiting: targets,
            finishesWhenAllAnswered: finishesWhenAllAnswered ?? !targets.isEmpty
        )
    }

    private mutating func trackerFinished(_ id: RequestID, _ outcome: Outcome) -> [Effect] {
        guard let entry = tracked.removeValue(forKey: id) else { return [] }
        switch entry {
        case .welcome(let instance):
            subRequests[id.rawValue] = nil
            guard outcome.timeout == nil else { return agentsChanged() }
            agents[instance]?.isReady = true
            // An agent that comes back (a restarted agent process, or one that reconnected) while no deployment
            // runs gets its part of the deployed configuration again, as Zeek's controller deploys to agents
            // once they are ready.
            if deployment == nil, let deployed, deployed.instances.contains(where: { $0.name == instance }) {
                return redeploy(deployed, to: instance)
            }
            if case .deploying? = deployment?.phase { rejoinedDuringDeployment.insert(instance) }
            return agentsChanged()
        case .fanOut(let request):
            for areq in request.children { subRequests[areq] = nil }
            var results = request.early
            results.reserveCapacity(request.early.count + outcome.results.count + 2 + request.trailer.count)
            if request.request == .getIDValue {
                // Values reach `zeek-client` as text.
                for result in outcome.results { results.append(result.renderingDataAsText) }
            } else {
                results += outcome.results
            }
            results += Self.timeoutResults(request.reqid, outcome)
            results += request.trailer
            if let delivery = request.delivery {
                pendingClientRequests.remove(request.reqid)
                return [.respond(Response(request.request, request.reqid, results, delivery: delivery))]
            }
            if request.request == .deploy { return endDeploy(request.reqid, results) }
            pendingClientRequests.remove(request.reqid)
            return [.respond(Response(request.request, request.reqid, results))]
        case .deployWait(let reqid):
            guard case .waitingForAgents(id, _)? = deployment?.phase else { return [] }
            return endDeploy(reqid, Self.timeoutResults(reqid, outcome))
        case .testTimeout(let reqid):
            pendingClientRequests.remove(reqid)
            let result = Self.failure(reqid, RequestTimeout.zeekMessage)
            return [.respond(Response(.testTimeout, reqid, [result]))]
        }
    }

    private mutating func trackingFailed(_ id: RequestID, _ error: any Error) -> [Effect] {
        guard let entry = tracked.removeValue(forKey: id) else { return [] }
        switch entry {
        case .welcome:
            subRequests[id.rawValue] = nil
            return [.log("error handling \(AgentAPI.notifyAgentHello): \(error)")]
        case .fanOut(let request):
            for areq in request.children { subRequests[areq] = nil }
            if request.request == .deploy {
                return endDeploy(request.reqid, [Self.failure(request.reqid, Self.trackerMessage(.deploy, error))])
            }
            pendingClientRequests.remove(request.reqid)
            return refuse(request.request, request.reqid, Self.trackerMessage(request.request, error))
        case .deployWait(let reqid):
            return endDeploy(reqid, [Self.failure(reqid, Self.trackerMessage(.deploy, error))])
        case .testTimeout(let reqid):
            pendingClientRequests.remove(reqid)
            return refuse(.testTimeout, reqid, Self.trackerMessage(.testTimeout, error))
        }
    }

    // MARK: - Texts and results

    /// An error's text for a client, without the controller's own request ids.
    static func trackerMessage(_ kind: Controller.Request.Kind, _ error: any Error) -> String {
        "\(kind.shortName): \((error as? RequestError)?.message ?? "\(error)")"
    }

    static func alreadyPending(_ reqid: String) -> String {
        "request id '\(reqid)' is already pending"
    }

    static func failure(_ reqid: String, _ message: String, node: String? = nil) -> Management.Result {
        Management.Result(reqid: reqid, success: false, error: message, node: node)
    }

    /// Zeek's `request timed out`, then ClusterKit's line naming what stayed silent, under the client's id;
    /// nothing for a request that completed.
    static func timeoutResults(_ reqid: String, _ outcome: Outcome) -> [Management.Result] {
        guard var timeout = outcome.timeout else { return [] }
        timeout.requestID = RequestID(reqid)
        // ClusterKit's addition: which agents stayed silent, and for how long.
        return [failure(reqid, RequestTimeout.zeekMessage), failure(reqid, timeout.description)]
    }
}

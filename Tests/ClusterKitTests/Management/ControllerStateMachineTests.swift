import Synchronization
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// The controller's state machine with a real tracker on a manual clock and no backend.
///
/// Tracker effects are performed and their callbacks fed back as inputs; every other effect is returned, and the
/// test plays the clients, the agents and the driver.
struct ControllerMachine {
    typealias Effect = ControllerStateMachine.Effect
    typealias Input = ControllerStateMachine.Input
    typealias Response = ControllerStateMachine.Response

    var machine: ControllerStateMachine
    let tracker: StateMachineTracker

    init(
        controllerOptions: Management.ControllerOptions = .standard,
        maximumPendingRequests: Int = Controller.Options.defaultMaximumPendingRequests
    ) {
        let options = Controller.Options(
            controllerOptions: controllerOptions,
            maximumPendingRequests: maximumPendingRequests
        )
        machine = ControllerStateMachine(
            settings: ControllerStateMachine.Settings(options),
            makeID: .sequential(prefix: "c-")
        )
        tracker = StateMachineTracker(timeout: options.requestTimeout, maximumPendingRequests: maximumPendingRequests)
    }

    /// One input, and every input its tracker effects lead to; returns the other effects in order.
    mutating func step(_ input: Input) -> [Effect] {
        run([input])
    }

    /// Lets time pass: requests whose deadline passed end, and what they lead to happens.
    mutating func advance(by duration: Duration) -> [Effect] {
        tracker.advance(by: duration)
        return run([])
    }

    private mutating func run(_ first: [Input]) -> [Effect] {
        var inputs = first[...]
        var output: [Effect] = []
        while true {
            inputs.append(contentsOf: tracker.takeFinished().map { Input.trackerFinished($0.id, $0.outcome) })
            guard let input = inputs.popFirst() else { return output }
            effects: for effect in machine.step(input) {
                switch effect {
                case .startTracking(let id, let targets, let finishesWhenAllAnswered):
                    do {
                        try tracker.start(id, awaiting: targets, finishesWhenAllAnswered: finishesWhenAllAnswered)
                    } catch {
                        inputs.append(.trackingFailed(id, error))
                        break effects
                    }
                case .record(let results, let id):
                    for result in results { tracker.tracker.record(result, for: id) }
                case .markAnswered(let target, let id):
                    tracker.tracker.markAnswered(target, for: id)
                case .finishTracking(let id):
                    tracker.tracker.finish(id)
                default:
                    output.append(effect)
                }
            }
        }
    }

    /// An agent says hello and answers its welcome: it is ready then.
    mutating func welcome(_ instance: String) -> [Effect] {
        var effects = step(
            .agentHello(Controller.AgentHello(instance: instance, nodeID: "id-" + instance, isConnecting: true))
        )
        guard case .sendWelcome(let areq, _)? = effects.last else { return effects }
        let welcomed = Management.Result(reqid: areq, instance: instance)
        effects += step(.agentResponse(Controller.AgentResponse(kind: .agentWelcome, areq: areq, results: [welcomed])))
        return effects
    }

    /// A client request.
    mutating func request(_ request: Controller.Request) -> [Effect] {
        step(.request(request))
    }
}

@Suite struct ControllerStateMachineTests {
    typealias Effect = ControllerStateMachine.Effect
    typealias Response = ControllerStateMachine.Response
    typealias FanOut = ControllerStateMachine.FanOut

    static let configuration = Management.Configuration(
        id: "cfg-1",
        instances: [Management.Instance(name: "agent-1")],
        nodes: [
            Management.Node(name: "manager", instance: "agent-1", role: .manager),
            Management.Node(name: "worker-1", instance: "agent-1", role: .worker),
        ]
    )

    static func failure(_ reqid: String, _ error: String, node: String? = nil) -> Management.Result {
        Management.Result(reqid: reqid, success: false, error: error, node: node)
    }

    static func respond(
        _ kind: Controller.Request.Kind,
        _ reqid: String,
        _ results: [Management.Result],
        delivery: Response.Delivery = .client
    ) -> Effect {
        .respond(Response(kind, reqid, results, delivery: delivery))
    }

    /// A machine with `configuration` deployed on a ready `agent-1`; ids `c-1` … `c-3` are used.
    static func deployedMachine() -> ControllerMachine {
        var machine = ControllerMachine()
        _ = machine.welcome("agent-1")
        _ = machine.request(.stageConfiguration(reqid: "s", Self.configuration))
        let effects = machine.request(.deploy(reqid: "d"))
        if case .fanOut(let fanOut)? = effects.last, let child = fanOut.children.first {
            _ = machine.step(.agentResponse(Controller.AgentResponse(kind: .deploy, areq: child.areq, results: [])))
        }
        return machine
    }

    // MARK: - Answers from the state alone

    @Test func withoutAgentsEveryRequestIsAnsweredAtOnceWithZeeksErrors() {
        var machine = ControllerMachine()
        #expect(
            machine.request(.getInstances(reqid: "i")) == [
                Self.respond(.getInstances, "i", [.init(reqid: "i", data: .vector([]))])
            ]
        )
        #expect(
            machine.request(.getNodes(reqid: "n")) == [
                Self.respond(.getNodes, "n", [Self.failure("n", "no instances connected")])
            ]
        )
        #expect(
            machine.request(.getConfiguration(reqid: "g", deployed: false))
                == [Self.respond(.getConfiguration, "g", [Self.failure("g", "no staged configuration available")])]
        )
        #expect(
            machine.request(.deploy(reqid: "d"))
                == [Self.respond(.deploy, "d", [Self.failure("d", "no configuration available to deploy")])]
        )
        #expect(
            machine.request(.getIDValue(reqid: "v", id: "x", nodes: []))
                == [Self.respond(.getIDValue, "v", [Self.failure("v", "no cluster deployed")])]
        )
        #expect(
            machine.request(.restart(reqid: "r", nodes: []))
                == [Self.respond(.restart, "r", [Self.failure("r", "no instances connected")])]
        )
        #expect(machine.request(.testTimeout(reqid: "t", withState: false)) == [])
        #expect(machine.machine.pendingClientRequests.isEmpty && machine.machine.tracked.isEmpty)
    }

    // MARK: - Request ids and limits

    @Test func aPendingRequestIDIsRefusedUntilItsRequestEnds() {
        var machine = ControllerMachine()
        #expect(
            machine.machine.step(.request(.testTimeout(reqid: "X", withState: true)))
                == [.startTracking("c-1", awaiting: [], finishesWhenAllAnswered: false)]
        )
        #expect(machine.machine.pendingClientRequests == ["X"])
        // Checked and refused in the same step that would have started it, before the tracker holds anything.
        let pending = "request id 'X' is already pending"
        #expect(
            machine.request(.getNodes(reqid: "X"))
                == [
                    .log("refused get_nodes_request X: \(pending)"),
                    Self.respond(.getNodes, "X", [Self.failure("X", pending)]),
                ]
        )
        // A malformed request with that id gets the same answer.
        #expect(
            machine.step(.malformedRequest(.deploy, reqid: "X", message: "deploy_request: whatever"))
                == [
                    .log("refused deploy_request X: \(pending)"),
                    Self.respond(.deploy, "X", [Self.failure("X", pending)]),
                ]
        )
    }

    @Test func aTestTimeoutWithStateAnswersAtTheDeadlineAndFreesItsID() throws {
        var machine = ControllerMachine()
        #expect(machine.request(.testTimeout(reqid: "X", withState: true)) == [])
        #expect(machine.advance(by: .seconds(9)) == [])
        #expect(
            machine.advance(by: .seconds(1)) == [
                Self.respond(.testTimeout, "X", [Self.failure("X", "request timed out")])
            ]
        )
        #expect(machine.machine.pendingClientRequests.isEmpty && machine.machine.tracked.isEmpty)
        #expect(
            machine.request(.getNodes(reqid: "X")) == [
                Self.respond(.getNodes, "X", [Self.failure("X", "no instances connected")])
            ]
        )
    }

    @Test func aRequestPastTheLimitIsRefusedWithTheTrackersOwnError() throws {
        var machine = ControllerMachine(maximumPendingRequests: 1)
        #expect(machine.request(.testTimeout(reqid: "t1", withState: true)) == [])
        let message = "test_timeout_request: 1 requests are pending, the most this tracker allows"
        #expect(
            machine.request(.testTimeout(reqid: "t2", withState: true))
                == [
                    .log("refused test_timeout_request t2: \(message)"),
                    Self.respond(.testTimeout, "t2", [Self.failure("t2", message)]),
                ]
        )
        #expect(machine.machine.pendingClientRequests == ["t1"] && machine.tracker.tracker.pendingCount == 1)

        // The text is the tracker's own.
        let tracker = RequestTracker<Management.Result>(options: RequestTrackerOptions(maximumPendingRequests: 1))
        try tracker.start("a")
        let error = try #require(throws: RequestError.self) { try tracker.start("b") }
        #expect("test_timeout_request: " + error.message == message)
    }

    @Test func aRequestTheTrackerRefusesAfterAllEndsAsIfRefusedAtOnce() throws {
        var machine = ControllerMachine()
        _ = machine.welcome("agent-1")
        let effects = machine.machine.step(.request(.getNodes(reqid: "n")))
        #expect(
            effects == [
                .startTracking("c-2", awaiting: [.instance("agent-1")], finishesWhenAllAnswered: true),
                .fanOut(FanOut(request: .getNodes, children: [.init(areq: "c-3", instance: "agent-1")])),
            ]
        )
        #expect(machine.machine.subRequests["c-3"] == .child(parent: "c-2", instance: "agent-1"))
        let error = RequestError(
            .tooManyPendingRequests,
            "2 requests are pending, the most this tracker allows",
            requestID: "c-2"
        )
        let message = "get_nodes_request: 2 requests are pending, the most this tracker allows"
        #expect(
            machine.machine.step(.trackingFailed("c-2", error))
                == [
                    .log("refused get_nodes_request n: \(message)"),
                    Self.respond(.getNodes, "n", [Self.failure("n", message)]),
                ]
        )
        #expect(machine.machine.pendingClientRequests.isEmpty)
        #expect(machine.machine.subRequests.isEmpty && machine.machine.tracked.isEmpty)
    }

    // MARK: - Agents

    @Test func anAgentThatSaysHelloIsWelcomedThenReady() throws {
        var machine = ControllerMachine()
        let hello = Controller.AgentHello(instance: "agent-1", nodeID: "node-id", isConnecting: true)
        #expect(
            machine.machine.step(.agentHello(hello))
                == [
                    .log("agent agent-1 said hello"),
                    .startTracking("c-1", awaiting: [.instance("agent-1")], finishesWhenAllAnswered: true),
                    .sendWelcome(areq: "c-1", instance: "agent-1"),
                ]
        )
        #expect(
            machine.machine.agents["agent-1"]
                == Controller.AgentInfo(
                    instance: "agent-1",
                    host: .ipv4Loopback,
                    listenPort: nil,
                    nodeID: "node-id",
                    isReady: false
                )
        )
        try machine.tracker.start("c-1", awaiting: [.instance("agent-1")], finishesWhenAllAnswered: true)
        let welcomed = Controller.AgentResponse(kind: .agentWelcome, areq: "c-1", results: [])
        #expect(machine.step(.agentResponse(welcomed)) == [])
        #expect(machine.machine.agents["agent-1"]?.isReady == true)
        #expect(machine.machine.subRequests.isEmpty && machine.machine.tracked.isEmpty)
    }

    @Test func anAgentWhoseWelcomeTimesOutStaysUnready() {
        var machine = ControllerMachine()
        _ = machine.step(.agentHello(Controller.AgentHello(instance: "a", nodeID: "id", isConnecting: true)))
        #expect(machine.advance(by: .seconds(10)) == [])
        #expect(machine.machine.agents["a"]?.isReady == false)
        #expect(
            machine.request(.getNodes(reqid: "n")) == [
                Self.respond(.getNodes, "n", [Self.failure("n", "no instances connected")])
            ]
        )
    }

    @Test func hellosBeyondTheInstanceLimitAreDropped() {
        var limits = Management.ControllerOptions.standard
        limits.maximumInstances = 1
        var machine = ControllerMachine(controllerOptions: limits)
        _ = machine.welcome("a")
        #expect(
            machine.step(.agentHello(Controller.AgentHello(instance: "b", nodeID: "id", isConnecting: true)))
                == [.log("dropped notify_agent_hello from b: 1 agents are known already")]
        )
        // A known agent may say hello again.
        #expect(machine.welcome("a").first == .log("agent a said hello"))
        #expect(Set(machine.machine.agents.keys) == ["a"])
    }

    @Test func anAgentThatCannotBeReachedAnswersWithAFailureNamingIt() {
        var machine = ControllerMachine()
        _ = machine.welcome("agent-1")
        let effects = machine.request(.getNodes(reqid: "n"))
        #expect(effects == [.fanOut(FanOut(request: .getNodes, children: [.init(areq: "c-3", instance: "agent-1")]))])
        let failure = Management.Result(
            reqid: "n",
            success: false,
            instance: "agent-1",
            error: "could not reach the agent of instance 'agent-1': the connection is closed"
        )
        #expect(
            machine.step(.agentUnreachable(areq: "c-3", error: "the connection is closed"))
                == [Self.respond(.getNodes, "n", [failure])]
        )
        // A late answer to the same sub-request changes nothing.
        #expect(machine.step(.agentResponse(Controller.AgentResponse(kind: .getNodes, areq: "c-3", results: []))) == [])
    }
}

extension ControllerStateMachineTests {
    // MARK: - Deployments

    @Test func aDeploymentRetiresLaunchesWaitsThenSendsAndEndsOnce() throws {
        var machine = ControllerMachine()
        _ = machine.welcome("old")
        #expect(
            machine.request(.stageConfiguration(reqid: "s", Self.configuration))
                == [Self.respond(.stageConfiguration, "s", [Management.Result(reqid: "s", data: .string("cfg-1"))])]
        )
        let ready = try #require(machine.machine.ready)
        #expect(ready.instances == [Management.Instance(name: "agent-1", host: .ipv4Loopback)])
        #expect(machine.request(.deploy(reqid: "D")) == [.retireAgents(["old"], deploy: "D")])
        #expect(machine.machine.deploymentInProgress == "D" && machine.machine.pendingClientRequests == ["D"])
        // A second deployment is refused while this one runs.
        #expect(
            machine.request(.deploy(reqid: "E"))
                == [Self.respond(.deploy, "E", [Self.failure("E", "earlier deployment D still pending")])]
        )
        // Inputs for another deployment, or out of order, change nothing.
        #expect(machine.step(.agentsLaunched(deploy: "D")) == [] && machine.step(.agentsRetired(deploy: "E")) == [])

        #expect(machine.step(.agentsRetired(deploy: "D")) == [.launchAgents(ready.instances, deploy: "D")])
        #expect(machine.machine.agents["old"] == nil)
        #expect(machine.step(.agentsLaunched(deploy: "D")) == [])
        #expect(machine.machine.deployment?.phase == .waitingForAgents("c-2", answered: []))

        let fanOut = FanOut(request: .deploy(ready), children: [.init(areq: "c-5", instance: "agent-1")])
        #expect(
            machine.welcome("agent-1")
                == [.log("agent agent-1 said hello"), .sendWelcome(areq: "c-3", instance: "agent-1"), .fanOut(fanOut)]
        )
        #expect(machine.machine.deployment?.phase == .deploying("c-4"))
        #expect(machine.machine.deployed == ready)

        let nodeResults = ["manager", "worker-1"].map { Management.Result(reqid: "c-5", instance: "agent-1", node: $0) }
        let answer = Controller.AgentResponse(kind: .deploy, areq: "c-5", results: nodeResults)
        let success = Management.Result(reqid: "D", data: .string("cfg-1"))
        #expect(machine.step(.agentResponse(answer)) == [Self.respond(.deploy, "D", nodeResults + [success])])
        #expect(machine.machine.deployment == nil && machine.machine.pendingClientRequests.isEmpty)
        #expect(machine.machine.tracked.isEmpty && machine.machine.subRequests.isEmpty)
        #expect(machine.tracker.tracker.pendingCount == 0)
    }

    @Test func aDeploymentWhoseAgentsNeverComeTimesOutNamingThem() {
        var machine = ControllerMachine()
        _ = machine.request(.stageConfiguration(reqid: "s", Self.configuration))
        _ = machine.request(.deploy(reqid: "D"))
        #expect(machine.step(.agentsLaunched(deploy: "D")) == [])
        #expect(
            machine.advance(by: .seconds(10))
                == [
                    Self.respond(
                        .deploy,
                        "D",
                        [
                            Self.failure("D", "request timed out"),
                            Self.failure("D", "request 'D' timed out after 10 s waiting for instance 'agent-1'"),
                        ]
                    )
                ]
        )
        #expect(machine.machine.deployment == nil && machine.machine.pendingClientRequests.isEmpty)
    }

    @Test func aWaitingDeploymentNamesOnlyTheAgentsThatStayedSilent() throws {
        var machine = ControllerMachine()
        var configuration = Self.configuration
        configuration.instances.append(Management.Instance(name: "agent-2"))
        configuration.nodes.append(Management.Node(name: "worker-2", instance: "agent-2", role: .worker))
        _ = machine.request(.stageConfiguration(reqid: "s", configuration))
        _ = machine.request(.deploy(reqid: "D"))
        _ = machine.step(.agentsLaunched(deploy: "D"))
        _ = machine.welcome("agent-1")
        #expect(machine.machine.deployment?.phase == .waitingForAgents("c-1", answered: ["agent-1"]))
        let timedOut = machine.advance(by: .seconds(10))
        #expect(
            timedOut == [
                Self.respond(
                    .deploy,
                    "D",
                    [
                        Self.failure("D", "request timed out"),
                        Self.failure("D", "request 'D' timed out after 10 s waiting for instance 'agent-2'"),
                    ]
                )
            ]
        )
    }

    @Test func anEmptyConfigurationDeploysAtOnce() {
        var machine = ControllerMachine()
        _ = machine.request(.stageConfiguration(reqid: "s", Management.Configuration(id: "empty")))
        #expect(
            machine.request(.deploy(reqid: "E"))
                == [Self.respond(.deploy, "E", [Management.Result(reqid: "E", data: .string("empty"))])]
        )
        #expect(machine.machine.deployment == nil && machine.machine.deployed == Management.Configuration(id: "empty"))
    }

    @Test func internalDeploymentsAnswerTheirCallerNotAClient() {
        var machine = ControllerMachine()
        let bad = Management.Configuration(
            id: "bad",
            instances: [Management.Instance(name: "a")],
            nodes: [Management.Node(name: "w", instance: "b", role: .worker)]
        )
        #expect(
            machine.step(.internalDeploy(reqid: "I1", bad))
                == [
                    .finishInternalDeploy(
                        reqid: "I1",
                        results: [Self.failure("I1", "node 'w' has undeclared instance name 'b'")]
                    )
                ]
        )
        _ = machine.request(.stageConfiguration(reqid: "s", Self.configuration))
        _ = machine.request(.deploy(reqid: "D"))
        #expect(
            machine.step(.internalDeploy(reqid: "I2", Management.Configuration(id: "empty")))
                == [
                    Self.respond(
                        .deploy,
                        "I2",
                        [Self.failure("I2", "earlier deployment D still pending")],
                        delivery: .internalDeploy
                    )
                ]
        )
        _ = machine.step(.agentsLaunched(deploy: "D"))
        _ = machine.advance(by: .seconds(10))
        #expect(
            machine.step(.internalDeploy(reqid: "I3", Management.Configuration(id: "empty")))
                == [
                    Self.respond(
                        .deploy,
                        "I3",
                        [Management.Result(reqid: "I3", data: .string("empty"))],
                        delivery: .internalDeploy
                    )
                ]
        )
    }

    @Test func aDeploymentTheTrackerCannotHoldEndsWithTheReason() {
        var machine = ControllerMachine(maximumPendingRequests: 1)
        _ = machine.request(.stageConfiguration(reqid: "s", Self.configuration))
        _ = machine.request(.testTimeout(reqid: "t", withState: true))
        _ = machine.request(.deploy(reqid: "D"))
        let message = "deploy_request: 1 requests are pending, the most this tracker allows"
        #expect(
            machine.step(.agentsLaunched(deploy: "D")) == [Self.respond(.deploy, "D", [Self.failure("D", message)])]
        )
        #expect(machine.machine.deployment == nil && machine.machine.pendingClientRequests == ["t"])
    }

    /// An agent that comes back (a revived agent process) while a deployment's requests are out is not forgotten:
    /// once the deployment ends, it gets the deployed configuration too (one that runs it already changes nothing).
    @Test func anAgentThatRejoinsDuringADeploymentGetsTheConfigurationAfterIt() throws {
        var machine = ControllerMachine()
        _ = machine.welcome("agent-1")
        _ = machine.request(.stageConfiguration(reqid: "s", Self.configuration))
        let sent = machine.request(.deploy(reqid: "d"))
        guard case .fanOut(let fanOut)? = sent.last, let child = fanOut.children.first else {
            Issue.record("no deploy_request went out: \(sent)")
            return
        }
        // The agent process dies and another says hello under the same instance before the first one answered.
        let rejoined = machine.welcome("agent-1")
        #expect(!rejoined.contains { if case .fanOut = $0 { true } else { false } }, "\(rejoined)")
        #expect(machine.machine.rejoinedDuringDeployment == ["agent-1"])

        let ended = machine.step(.agentResponse(Controller.AgentResponse(kind: .deploy, areq: child.areq, results: [])))
        guard case .respond(let response)? = ended.first else {
            Issue.record("the deployment did not end: \(ended)")
            return
        }
        #expect(response.reqid == "d")
        #expect(ended.contains(.log("agent agent-1 rejoined: deploying configuration cfg-1 to it")))
        guard case .fanOut(let again)? = ended.last else {
            Issue.record("no deploy_request after the deployment: \(ended)")
            return
        }
        #expect(again.children.map(\.instance) == ["agent-1"])
        #expect(machine.machine.rejoinedDuringDeployment.isEmpty)
    }

    // MARK: - Requests to a deployed cluster

    @Test func getIDValueAnswersUnknownNodesFirstAndPassesValuesAsText() {
        var machine = Self.deployedMachine()
        let dispatch = FanOut(
            request: .nodeDispatch(action: ["get_id_value", "Site::local_nets"], nodes: ["manager"]),
            children: [.init(areq: "c-5", instance: "agent-1")]
        )
        #expect(
            machine.request(.getIDValue(reqid: "G", id: "Site::local_nets", nodes: ["manager", "ghost"])) == [
                .fanOut(dispatch)
            ]
        )
        let value = Broker.Value.vector([.string("a"), .count(1)])
        let answer = Management.Result(reqid: "c-5", instance: "agent-1", data: value, node: "manager")
        var rendered = answer
        rendered.data = .string(Broker.JSON.encode(value))
        #expect(
            machine.step(.agentResponse(Controller.AgentResponse(kind: .nodeDispatch, areq: "c-5", results: [answer])))
                == [
                    Self.respond(
                        .getIDValue,
                        "G",
                        [Self.failure("G", "unknown cluster node", node: "ghost"), rendered]
                    )
                ]
        )
        #expect(
            machine.request(.getIDValue(reqid: "H", id: "x", nodes: ["ghost"]))
                == [Self.respond(.getIDValue, "H", [Self.failure("H", "unknown cluster node", node: "ghost")])]
        )
    }

    @Test func restartGoesOnlyToAgentsWithNodesAndTimesOutNamingThem() {
        var machine = Self.deployedMachine()
        _ = machine.welcome("spare")
        #expect(
            machine.request(.restart(reqid: "R", nodes: ["worker-1"]))
                == [
                    .fanOut(
                        FanOut(
                            request: .restart(nodes: ["worker-1"]),
                            children: [.init(areq: "c-6", instance: "agent-1")]
                        )
                    )
                ]
        )
        #expect(
            machine.advance(by: .seconds(10))
                == [
                    Self.respond(
                        .restart,
                        "R",
                        [
                            Self.failure("R", "request timed out"),
                            Self.failure("R", "request 'R' timed out after 10 s waiting for instance 'agent-1'"),
                        ]
                    )
                ]
        )
        #expect(
            machine.request(.restart(reqid: "U", nodes: ["ghost"]))
                == [Self.respond(.restart, "U", [Self.failure("U", "unknown cluster node", node: "ghost")])]
        )
    }

    @Test func getConfigurationAndInstancesReportTheDeployment() throws {
        var machine = Self.deployedMachine()
        let deployed = try #require(machine.machine.deployed)
        #expect(
            machine.request(.getConfiguration(reqid: "g", deployed: true))
                == [Self.respond(.getConfiguration, "g", [Management.Result(reqid: "g", data: deployed.brokerValue)])]
        )
        #expect(
            machine.request(.getConfiguration(reqid: "s", deployed: false))
                == [
                    Self.respond(
                        .getConfiguration,
                        "s",
                        [Management.Result(reqid: "s", data: Self.configuration.brokerValue)]
                    )
                ]
        )
        let instance = Management.Instance(name: "agent-1", host: .ipv4Loopback)
        #expect(
            machine.request(.getInstances(reqid: "i"))
                == [
                    Self.respond(
                        .getInstances,
                        "i",
                        [Management.Result(reqid: "i", data: .vector([instance.brokerValue]))]
                    )
                ]
        )
    }

    @Test func anAgentIsListedWithTheAddressItsConnectionComesFrom() {
        var machine = ControllerMachine()
        var hello = Controller.AgentHello(instance: "agent-b", nodeID: "id-b", isConnecting: true)
        hello.address = Broker.Address("127.0.0.3")
        _ = machine.step(.agentHello(hello))
        let expected = Management.Instance(name: "agent-b", host: Broker.Address("127.0.0.3"))
        #expect(
            machine.request(.getInstances(reqid: "i")) == [
                Self.respond(.getInstances, "i", [Management.Result(reqid: "i", data: .vector([expected.brokerValue]))])
            ]
        )
    }

    @Test func aResponseCarriesOneResultOrAVectorAsItsRequestDeclares() {
        let result = Management.Result(reqid: "r")
        #expect(Response(.getInstances, "r", [result]).payload == result.brokerValue)
        #expect(Response(.testTimeout, "r", [result]).payload == result.brokerValue)
        #expect(Response(.getNodes, "r", [result]).payload == .vector([result.brokerValue]))
        #expect(Response(.deploy, "r", []).payload == .vector([]))
    }
}

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// An agent's state machine with a real tracker on a manual clock and no backend or node host.
///
/// Tracker effects are performed and their callbacks fed back as inputs; every other effect is returned, and the
/// test plays the controller, the nodes and the driver.
struct AgentMachine {
    typealias Effect = AgentStateMachine.Effect
    typealias Input = AgentStateMachine.Input

    var machine: AgentStateMachine
    let tracker: StateMachineTracker

    init(instance: String = "a", maximumPendingRequests: Int = 1_000_000) {
        machine = AgentStateMachine(
            settings: AgentStateMachine.Settings(
                instance: instance,
                requestTimeout: .seconds(5),
                maximumPendingRequests: maximumPendingRequests
            ),
            makeID: .sequential(prefix: "a-")
        )
        tracker = StateMachineTracker(timeout: .seconds(5), maximumPendingRequests: maximumPendingRequests)
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
                case .startTracking(let id, let targets):
                    do {
                        try tracker.start(id, awaiting: targets, finishesWhenAllAnswered: true)
                    } catch {
                        inputs.append(.trackingFailed(id, error))
                        break effects
                    }
                case .record(let result, let id, let target):
                    tracker.tracker.record(result, for: id, from: target)
                case .markAnswered(let target, let id):
                    tracker.tracker.markAnswered(target, for: id)
                default:
                    output.append(effect)
                }
            }
        }
    }

    /// A node's answer, as the driver handles it: recorded in the tracker without a step.
    mutating func nodeAnswered(_ response: Agent.NodeResponse) -> [Effect] {
        let recording = AgentStateMachine.recording(response, instance: machine.settings.instance)
        if case .record(let result, let id, let target) = recording {
            tracker.tracker.record(result, for: id, from: target)
        }
        return run([])
    }

    /// Deploys `configuration` (no old nodes to stop), with the `failed` nodes failing to launch, and has every
    /// node of `hellos` say hello; returns what the last step led to.
    @discardableResult
    mutating func deploy(
        _ configuration: Management.Configuration,
        _ reqid: String,
        hellos: [String],
        failed: [String] = []
    ) -> [Effect] {
        _ = step(.request(.deploy(reqid: reqid, configuration)))
        var effects = step(.nodesStopped(.deploy(reqid: reqid, configuration)))
        guard case .launchNodes(let id, _, _)? = effects.last else { return effects }
        effects = step(.nodesLaunched(id, failed: failed))
        for name in hellos { effects = step(.nodeHello(name)) }
        return effects
    }
}

@Suite struct AgentStateMachineTests {
    typealias Effect = AgentStateMachine.Effect
    typealias Response = AgentStateMachine.Response
    typealias DeployReport = AgentStateMachine.DeployReport

    static func configuration(_ id: String, nodes: [String], elsewhere: [String] = []) -> Management.Configuration {
        Management.Configuration(
            id: id,
            instances: [Management.Instance(name: "a"), Management.Instance(name: "b")],
            nodes: nodes.map { Management.Node(name: $0, instance: "a", role: .worker) }
                + elsewhere.map { Management.Node(name: $0, instance: "b", role: .worker) }
        )
    }

    static func failure(_ reqid: String, _ error: String, node: String? = nil) -> Management.Result {
        Management.Result(reqid: reqid, success: false, instance: "a", error: error, node: node)
    }

    // MARK: - Deployments

    @Test func aDeploymentStopsTheOldNodesFirstThenStartsTheNewAndWaitsForThem() throws {
        var machine = AgentMachine()
        let first = Self.configuration("c1", nodes: ["w2", "w1"], elsewhere: ["x"])
        #expect(
            machine.step(.request(.deploy(reqid: "d1", first))) == [.stopNodes([], then: .deploy(reqid: "d1", first))]
        )
        let mine = first.nodes.filter { $0.instance == "a" }.sorted { $0.name < $1.name }
        #expect(machine.step(.nodesStopped(.deploy(reqid: "d1", first))) == [.launchNodes("a-1", mine, in: first)])
        #expect(machine.machine.configuration == first)
        #expect(machine.machine.nodes.mapValues(\.state) == ["w1": .pending, "w2": .pending])
        #expect(machine.machine.pending == ["a-1": .deploy(agentRequest: "d1", nodes: ["w1", "w2"])])

        #expect(machine.step(.nodesLaunched("a-1", failed: ["w2"])) == [])
        #expect(machine.machine.nodes["w2"]?.state == .failed)
        let report = DeployReport(agentRequest: "d1", nodes: ["w1", "w2"], running: ["w1"], timedOut: false)
        #expect(machine.step(.nodeHello("w1")) == [.publishDeployResults(report)])
        #expect(machine.machine.pending.isEmpty)

        // The next deployment stops the nodes before it replaces them.
        let second = Self.configuration("c2", nodes: ["n1"])
        #expect(
            machine.step(.request(.deploy(reqid: "d2", second)))
                == [.stopNodes(["w1", "w2"], then: .deploy(reqid: "d2", second))]
        )
        #expect(machine.machine.nodes.keys.sorted() == ["w1", "w2"])
        _ = machine.step(.nodesStopped(.deploy(reqid: "d2", second)))
        #expect(machine.machine.nodes.mapValues(\.state) == ["n1": .pending])
    }

    /// Zeek's agent: "already running config" — a deployment of the configuration it runs (same id) is answered at
    /// once and leaves its nodes alone, unless forced.
    @Test func theConfigurationItRunsIsNotDeployedAgainUnlessForced() throws {
        var machine = AgentMachine()
        let first = Self.configuration("c1", nodes: ["w1"])
        _ = machine.step(.request(.deploy(reqid: "d1", first)))
        _ = machine.step(.nodesStopped(.deploy(reqid: "d1", first)))
        _ = machine.step(.nodeHello("w1"))
        #expect(machine.machine.nodes["w1"]?.state == .running)

        let again = machine.step(.request(.deploy(reqid: "d2", first)))
        #expect(again == [.publish(Response(.deploy, "d2", [Management.Result(reqid: "d2", instance: "a")]))])
        #expect(machine.machine.nodes["w1"]?.state == .running)

        let forced = machine.step(.request(.deploy(reqid: "d3", first, force: true)))
        #expect(forced == [.stopNodes(["w1"], then: .deploy(reqid: "d3", first))])
    }

    @Test func deployResultsCarryTheOutputOfNodesThatDidNotStart() {
        let outputs = Management.NodeOutputs(stdout: "out", stderr: "fatal error")
        let report = DeployReport(agentRequest: "d1", nodes: ["w1", "w2", "w3"], running: ["w1"], timedOut: true)
        let results = report.results(
            instance: "a",
            hosted: ["w2": HostedNodeStatus(isRunning: false, outputs: outputs)]
        )
        #expect(
            results == [
                Self.failure("d1", "request timed out"),
                Management.Result(reqid: "d1", instance: "a", node: "w1"),
                Management.Result(reqid: "d1", success: false, instance: "a", data: outputs.brokerValue, node: "w2"),
                Management.Result(
                    reqid: "d1",
                    success: false,
                    instance: "a",
                    data: Management.NodeOutputs(stdout: "", stderr: "").brokerValue,
                    node: "w3"
                ),
            ]
        )
    }

    @Test func aDeploymentThatTimesOutFailsTheNodesThatStayedSilent() {
        var machine = AgentMachine()
        machine.deploy(Self.configuration("c1", nodes: ["w1", "w2"]), "d1", hellos: ["w1"])
        let report = DeployReport(agentRequest: "d1", nodes: ["w1", "w2"], running: ["w1"], timedOut: true)
        #expect(machine.advance(by: .seconds(5)) == [.publishDeployResults(report)])
        #expect(machine.machine.nodes.mapValues(\.state) == ["w1": .running, "w2": .failed])
    }

    @Test func aDeploymentWithoutNodesOfItsOwnAnswersAtItsDeadlineAsZeeksAgentDoes() {
        var machine = AgentMachine()
        machine.deploy(Self.configuration("c1", nodes: [], elsewhere: ["x"]), "d1", hellos: [])
        let report = DeployReport(agentRequest: "d1", nodes: [], running: [], timedOut: true)
        #expect(machine.advance(by: .seconds(5)) == [.publishDeployResults(report)])
    }

    // MARK: - Dispatch

    @Test func aDispatchGoesToRunningNodesAndNamesTheSilentOnesAtItsDeadline() {
        var machine = AgentMachine()
        machine.deploy(
            Self.configuration("c1", nodes: ["w1", "w2", "w3"]),
            "d1",
            hellos: ["w1", "w2"],
            failed: ["w3"]
        )
        let action = ["get_id_value", "Cluster::node"]
        #expect(
            machine.step(.request(.nodeDispatch(reqid: "x", action: action, nodes: [])))
                == [.dispatch("a-2", action: action, nodes: [])]
        )
        let value = Broker.Value.vector(["w", .count(1)])
        let answer = Management.Result(reqid: "a-2", data: value, node: "w1")
        #expect(machine.nodeAnswered(Agent.NodeResponse(reqid: "a-2", node: "w1", result: answer)) == [])

        var rendered = answer
        rendered.data = .string(Broker.JSON.encode(value))
        rendered.instance = "a"
        #expect(
            machine.advance(by: .seconds(5))
                == [
                    .publish(
                        Response(
                            .nodeDispatch,
                            "x",
                            [
                                Self.failure("x", "cluster node w3 not in running state", node: "w3"), rendered,
                                Self.failure("x", "request timed out"),
                                Self.failure("x", "request timed out after 5 s waiting for w2 (instance 'a')"),
                            ]
                        )
                    )
                ]
        )
    }

    @Test func aNodesAnswerIsRecordedWithItsDataAsTextAndTheAgentsInstance() {
        let value = Broker.Value.vector(["w", .count(1)])
        let answer = Management.Result(reqid: "d-1", data: value, node: "w1")
        var recorded = answer
        recorded.data = .string(Broker.JSON.encode(value))
        recorded.instance = "a"
        #expect(
            AgentStateMachine.recording(Agent.NodeResponse(reqid: "d-1", node: "w1", result: answer), instance: "a")
                == .record(recorded, for: "d-1", from: .node("w1"))
        )
        var text = answer
        text.data = "96"
        text.instance = "a"
        #expect(
            AgentStateMachine.recording(Agent.NodeResponse(reqid: "d-1", node: "w1", result: text), instance: "a")
                == .record(text, for: "d-1", from: .node("w1"))
        )
    }

    @Test func aNodesAnswerToADeploymentIsNoAnswerToIt() {
        // Deployments wait for `node(name, instance:)`; a dispatch answer names `node(name)`, so the tracker drops it.
        var machine = AgentMachine()
        machine.deploy(Self.configuration("c1", nodes: ["w1", "w2"]), "d1", hellos: [])
        let stray = Agent.NodeResponse(reqid: "a-1", node: "w1", result: Management.Result(reqid: "a-1", node: "w1"))
        #expect(machine.nodeAnswered(stray) == [])
        #expect(machine.tracker.tracker.lookup("a-1").answered.isEmpty)
        #expect(machine.tracker.tracker.lookup("a-1").results.isEmpty)
    }

    @Test func aDispatchToNoRunningNodeIsAnsweredAtOnce() {
        var machine = AgentMachine()
        machine.deploy(Self.configuration("c1", nodes: ["w1", "w2"]), "d1", hellos: ["w1"])
        #expect(
            machine.step(.request(.nodeDispatch(reqid: "x", action: ["get_id_value", "y"], nodes: ["w2"])))
                == [
                    .publish(
                        Response(
                            .nodeDispatch,
                            "x",
                            [Self.failure("x", "cluster node w2 not in running state", node: "w2")]
                        )
                    )
                ]
        )
    }

    @Test func aNodeWhoseProcessIsDownIsAnsweredForAtOnceWithWhy() {
        // w1 said hello, then its process died: the host says why, and the dispatch does not wait for it.
        var machine = AgentMachine()
        machine.deploy(Self.configuration("c1", nodes: ["w1", "w2"]), "d1", hellos: ["w1", "w2"])
        let action = ["get_id_value", "Cluster::node"]
        let down = ["w1": "exited on signal 9, restarting in 1 s"]
        #expect(
            machine.step(.request(.nodeDispatch(reqid: "x", action: action, nodes: []), notRunning: down))
                == [.dispatch("a-2", action: action, nodes: [])]
        )
        #expect(machine.tracker.tracker.lookup("a-2").targets == [.node("w2")])
        let answer = Management.Result(reqid: "a-2", data: "w2", node: "w2")
        let effects = machine.nodeAnswered(Agent.NodeResponse(reqid: "a-2", node: "w2", result: answer))
        var rendered = answer
        rendered.instance = "a"
        #expect(
            effects == [
                .publish(
                    Response(
                        .nodeDispatch,
                        "x",
                        [
                            Self.failure(
                                "x",
                                "node w1 is not running: exited on signal 9, restarting in 1 s",
                                node: "w1"
                            ),
                            rendered,
                        ]
                    )
                )
            ]
        )

        // Asked for alone, it is answered in the same step.
        #expect(
            machine.step(.request(.nodeDispatch(reqid: "y", action: action, nodes: ["w1"]), notRunning: down))
                == [
                    .publish(
                        Response(
                            .nodeDispatch,
                            "y",
                            [
                                Self.failure(
                                    "y",
                                    "node w1 is not running: exited on signal 9, restarting in 1 s",
                                    node: "w1"
                                )
                            ]
                        )
                    )
                ]
        )
    }

    @Test func aNodeThatExitsMidRequestIsAnsweredForAtOnceAndUntilItSaysHelloAgain() {
        // Two dispatches wait for w1 and w2; w1's process dies: both end now, with w2's values and w1 named,
        // not at the 5 s timeout.
        var machine = AgentMachine()
        machine.deploy(Self.configuration("c1", nodes: ["w1", "w2"]), "d1", hellos: ["w1", "w2"])
        let action = ["get_id_value", "Cluster::node"]
        #expect(
            machine.step(.request(.nodeDispatch(reqid: "x", action: action, nodes: [])))
                == [.dispatch("a-2", action: action, nodes: [])]
        )
        #expect(
            machine.step(.request(.nodeDispatch(reqid: "y", action: action, nodes: [])))
                == [.dispatch("a-3", action: action, nodes: [])]
        )
        var answers: [Management.Result] = []
        for id in ["a-2", "a-3"] {
            let answer = Management.Result(reqid: id, data: "w2", node: "w2")
            #expect(machine.nodeAnswered(Agent.NodeResponse(reqid: id, node: "w2", result: answer)) == [])
            var rendered = answer
            rendered.instance = "a"
            answers.append(rendered)
        }
        let reason = "exited on signal 9, restarting in 1 s"
        #expect(
            machine.step(.nodeExited("w1", reason: reason)) == [
                .publish(
                    Response(
                        .nodeDispatch,
                        "x",
                        [answers[0], Self.failure("x", "node w1 is not running: \(reason)", node: "w1")]
                    )
                ),
                .publish(
                    Response(
                        .nodeDispatch,
                        "y",
                        [answers[1], Self.failure("y", "node w1 is not running: \(reason)", node: "w1")]
                    )
                ),
            ]
        )
        #expect(machine.machine.pending.isEmpty)

        // Revived but not yet ready (the host says it runs): still answered for, without waiting.
        #expect(
            machine.step(.request(.nodeDispatch(reqid: "z", action: action, nodes: ["w1"])))
                == [
                    .publish(
                        Response(
                            .nodeDispatch,
                            "z",
                            [Self.failure("z", "node w1 is not running: \(reason)", node: "w1")]
                        )
                    )
                ]
        )
        // Once it says hello, it is asked again.
        _ = machine.step(.nodeHello("w1"))
        #expect(
            machine.step(.request(.nodeDispatch(reqid: "v", action: action, nodes: ["w1"])))
                == [.dispatch("a-4", action: action, nodes: ["w1"])]
        )
        // An exit of a node the agent does not run changes nothing.
        #expect(machine.step(.nodeExited("w9", reason: reason)) == [])
    }

    // MARK: - Restart, standby, welcome, nodes

    @Test func aRestartWaitsForTheHellosAndReportsNodesThatCouldNotRestart() {
        var machine = AgentMachine()
        machine.deploy(Self.configuration("c1", nodes: ["w1", "w2"]), "d1", hellos: ["w1", "w2"])
        #expect(machine.step(.request(.restart(reqid: "r", nodes: []))) == [.restartNodes("a-2", ["w1", "w2"])])
        #expect(machine.machine.nodes.mapValues(\.state) == ["w1": .pending, "w2": .pending])
        #expect(machine.step(.nodeRestartFailed("a-2", node: "w2")) == [])
        #expect(
            machine.step(.nodeHello("w1"))
                == [
                    .publish(
                        Response(
                            .restart,
                            "r",
                            [
                                Management.Result(reqid: "r", instance: "a", node: "w1"),
                                Self.failure("r", "could not restart node w2", node: "w2"),
                            ]
                        )
                    )
                ]
        )
    }

    @Test func aRestartThatTimesOutNamesTheAgentsOwnRequestAsZeeksAgentDoes() {
        var machine = AgentMachine()
        machine.deploy(Self.configuration("c1", nodes: ["w1", "w2"]), "d1", hellos: ["w1", "w2"])
        _ = machine.step(.request(.restart(reqid: "r", nodes: ["w1", "w2"])))
        _ = machine.step(.nodeHello("w1"))
        #expect(
            machine.advance(by: .seconds(5))
                == [
                    .publish(
                        Response(
                            .restart,
                            "r",
                            [
                                Management.Result(reqid: "r", instance: "a", node: "w1"),
                                Self.failure("a-2", "request timed out"),
                            ]
                        )
                    )
                ]
        )
    }

    @Test func standbyStopsEveryNodeThenForgetsThemAndAnswers() {
        var machine = AgentMachine()
        machine.deploy(Self.configuration("c1", nodes: ["w1", "w2"]), "d1", hellos: ["w1", "w2"])
        #expect(
            machine.step(.request(.agentStandby(reqid: "s"))) == [.stopNodes(["w1", "w2"], then: .standby(reqid: "s"))]
        )
        #expect(machine.machine.nodes.count == 2)
        #expect(
            machine.step(.nodesStopped(.standby(reqid: "s")))
                == [.publish(Response(.agentStandby, "s", [Management.Result(reqid: "s", instance: "a")]))]
        )
        #expect(machine.machine.nodes.isEmpty && machine.machine.configuration == nil)
    }

    @Test func welcomeAndGetNodesAreAnsweredFromTheState() throws {
        var machine = AgentMachine()
        #expect(
            machine.step(.request(.agentWelcome(reqid: "w")))
                == [.publish(Response(.agentWelcome, "w", [Management.Result(reqid: "w", instance: "a")]))]
        )
        machine.deploy(Self.configuration("c1", nodes: ["w1"]), "d1", hellos: ["w1"])
        let nodes = machine.machine.nodes
        #expect(machine.step(.request(.getNodes(reqid: "n"))) == [.publishNodeStatuses(reqid: "n", nodes: nodes)])

        let options = Agent.Options(instance: "a", listenPort: .tcp(2151), colocatedController: "controller")
        let result = AgentStateMachine.nodeStatusResult(
            "n",
            nodes: nodes,
            hosted: ["w1": HostedNodeStatus(pid: 42, isRunning: false, restarts: 1)],
            options: options,
            pid: 7
        )
        let statuses = try [Management.NodeStatus](brokerValue: try #require(result.data))
        #expect(statuses.map(\.node) == ["w1", "a", "controller"])
        #expect(statuses.first?.state == .crashed && statuses.first?.pid == 42)
        #expect(statuses.dropFirst().allSatisfy { $0.pid == 7 && $0.p == .tcp(2151) && $0.state == .running })
        #expect(result.reqid == "n" && result.instance == "a")
    }

    @Test func aMalformedRequestIsAnsweredWithWhatIsWrong() {
        var machine = AgentMachine()
        let message = "restart_request: argument 2 (nodes) is not a set of strings: x"
        #expect(
            machine.step(.malformedRequest(.restart, reqid: "bad", message: message))
                == [.publish(Response(.restart, "bad", [Self.failure("bad", message)]))]
        )
    }

    @Test func aRequestTheTrackerCannotHoldIsAnsweredWithTheReason() {
        var machine = AgentMachine(maximumPendingRequests: 1)
        machine.deploy(Self.configuration("c1", nodes: ["w1", "w2"]), "d1", hellos: ["w1"])
        let message = "restart_request: 1 requests are pending, the most this tracker allows"
        #expect(
            machine.step(.request(.restart(reqid: "r", nodes: [])))
                == [.publish(Response(.restart, "r", [Self.failure("r", message)]))]
        )
        #expect(machine.machine.nodes.mapValues(\.state) == ["w1": .running, "w2": .pending])
    }
}

/// How a process node host says why a node is not running (issue 12: a dispatch to a crashed node is answered at
/// once with this).
@Suite struct NodeNotRunningPhraseTests {
    @Test func thePhraseSaysHowTheProcessEndedAndWhenItComesBack() {
        #expect(
            ProcessNodeHost.notRunningPhrase(lastExit: .signaled(signal: 9), spawns: 1, revivalIn: .milliseconds(300))
                == "exited on signal 9, restarting in 1 s"
        )
        #expect(
            ProcessNodeHost.notRunningPhrase(lastExit: .exited(status: 3), spawns: 4, revivalIn: .seconds(2))
                == "exited with status 3, restarting in 2 s"
        )
        #expect(ProcessNodeHost.notRunningPhrase(lastExit: .unknown, spawns: 1, revivalIn: nil) == "exited")
        #expect(
            ProcessNodeHost.notRunningPhrase(lastExit: nil, spawns: 0, revivalIn: nil)
                == "its process could not be started"
        )
        // A revival already due reads as 0 s, never as a negative wait.
        #expect(
            ProcessNodeHost.notRunningPhrase(lastExit: .signaled(signal: 15), spawns: 2, revivalIn: .seconds(-1))
                == "exited on signal 15, restarting in 0 s"
        )
    }
}

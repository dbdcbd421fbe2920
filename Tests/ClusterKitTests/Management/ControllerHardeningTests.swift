import Synchronization
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// What a careless or hostile client sends, and every way a deployment ends.
@Suite(.timeLimit(.minutes(2))) struct ControllerHardeningTests {
    typealias Harness = ControllerHarness

    static let configuration = ControllerTests.configuration

    // MARK: - Request ids

    @Test func aClientIDThatIsPendingIsRefusedAndLaterDeploysStillWork() async throws {
        try await Harness.with { harness in
            try await harness.send(
                ControllerAPI.stageConfigurationRequest,
                [.string("stage"), Self.configuration.brokerValue]
            )
            _ = try await harness.response(ControllerAPI.stageConfigurationResponse, "stage")
            try await harness.send(ControllerAPI.testTimeoutRequest, [.string("X"), .boolean(true)])
            try await harness.send(ControllerAPI.deployRequest, [.string("X")])
            let refused = try await harness.response(ControllerAPI.deployResponse, "X")
            #expect(
                refused == [Management.Result(reqid: "X", success: false, error: "request id 'X' is already pending")]
            )
            #expect(harness.controller.deploymentInProgress == nil)

            try await harness.send(ControllerAPI.deployRequest, [.string("Y")])
            let deployed = try await harness.response(ControllerAPI.deployResponse, "Y")
            #expect(deployed.count == 5 && deployed.allSatisfy { $0.success }, "\(deployed)")
            #expect(deployed.last == Management.Result(reqid: "Y", data: .string("cfg-1")))
            #expect(harness.controller.deploymentInProgress == nil)

            // The test_timeout request is the one pending under X; it answers at its deadline, once.
            harness.clock.advance(by: .seconds(10))
            let timedOut = try await harness.response(ControllerAPI.testTimeoutResponse, "X")
            #expect(timedOut == [Management.Result(reqid: "X", success: false, error: "request timed out")])
            // X is free again.
            try await harness.send(ControllerAPI.getNodesRequest, [.string("X")])
            let nodes = try await harness.response(ControllerAPI.getNodesResponse, "X")
            #expect(nodes.count == 1 && nodes.first?.instance == "agent-1")
            #expect(harness.responseCount("X") == 3)
        }
    }

    @Test func controllerIDsNeverMeetClientIDs() async throws {
        // The controller once waited for agents under `<deploy id>-agents`: a client's pending request of that
        // id was then ended by the deployment, long before its deadline.
        try await Harness.with { harness in
            try await harness.send(ControllerAPI.testTimeoutRequest, [.string("D-agents"), .boolean(true)])
            let deployed = try await harness.stageAndDeploy(Self.configuration, reqid: "D")
            #expect(deployed.count == 5 && deployed.allSatisfy { $0.success }, "\(deployed)")
            try await harness.send(ControllerAPI.getInstancesRequest, [.string("after")])
            _ = try await harness.response(ControllerAPI.getInstancesResponse, "after")
            #expect(harness.responseCount("D-agents") == 0)
            harness.clock.advance(by: .seconds(10))
            let timedOut = try await harness.response(ControllerAPI.testTimeoutResponse, "D-agents")
            #expect(timedOut.map(\.error) == ["request timed out"])
        }
    }

    @Test func tooManyPendingRequestsAreRefusedAtOnce() async throws {
        try await Harness.with(maximumPendingRequests: 2) { harness in
            for reqid in ["t1", "t2", "t3"] {
                try await harness.send(ControllerAPI.testTimeoutRequest, [.string(reqid), .boolean(true)])
            }
            let refused = try await harness.response(ControllerAPI.testTimeoutResponse, "t3")
            #expect(
                refused == [
                    Management.Result(
                        reqid: "t3",
                        success: false,
                        error: "test_timeout_request: 2 requests are pending, the most this tracker allows"
                    )
                ]
            )
            #expect(harness.controller.pendingRequests == 2)
        }
    }

    // MARK: - Every way a deployment ends

    @Test func aDeployWhoseAgentStaysSilentTimesOutAndEnds() async throws {
        try await Harness.with(agents: .silent) { harness in
            try await harness.send(
                ControllerAPI.stageConfigurationRequest,
                [.string("stage"), Self.configuration.brokerValue]
            )
            try await harness.send(ControllerAPI.deployRequest, [.string("D1")])
            try await harness.agentEvents.wait(for: "the deploy request") { $0.contains(AgentAPI.deployRequest) }
            harness.clock.advance(by: .seconds(10))
            let results = try await harness.response(ControllerAPI.deployResponse, "D1")
            #expect(
                results == [
                    Management.Result(reqid: "D1", success: false, error: "request timed out"),
                    Management.Result(
                        reqid: "D1",
                        success: false,
                        error: "request 'D1' timed out after 10 s waiting for instance 'agent-1'"
                    ),
                    Management.Result(reqid: "D1", data: .string("cfg-1")),
                ]
            )
            #expect(harness.controller.deploymentInProgress == nil)

            try await harness.send(ControllerAPI.deployRequest, [.string("D2")])
            try await harness.agentEvents.wait(for: "the second deploy request") {
                $0.filter { $0 == AgentAPI.deployRequest }.count == 2
            }
            #expect(harness.controller.deploymentInProgress == "D2")
            harness.clock.advance(by: .seconds(10))
            let again = try await harness.response(ControllerAPI.deployResponse, "D2")
            #expect(again.first?.error == "request timed out")
            #expect(harness.controller.deploymentInProgress == nil)
        }
    }

    @Test func aDeployWhoseAgentsNeverComeTimesOutAndEnds() async throws {
        try await Harness.with(agents: .none) { harness in
            try await harness.send(
                ControllerAPI.stageConfigurationRequest,
                [.string("stage"), Self.configuration.brokerValue]
            )
            try await harness.send(ControllerAPI.deployRequest, [.string("D1")])
            try await harness.log.wait(for: "the deploy") { $0.contains("rx deploy_request D1") }
            while harness.controller.pendingRequests == 0 { await Task.yield() }
            harness.clock.advance(by: .seconds(10))
            let results = try await harness.response(ControllerAPI.deployResponse, "D1")
            #expect(
                results.map(\.error) == [
                    "request timed out", "request 'D1' timed out after 10 s waiting for instance 'agent-1'",
                ]
            )
            #expect(harness.controller.deploymentInProgress == nil)
            try await harness.send(ControllerAPI.deployRequest, [.string("D2")])
            try await harness.log.wait(for: "the second deploy") { $0.contains("rx deploy_request D2") }
            while harness.controller.deploymentInProgress != "D2" { await Task.yield() }
        }
    }

    @Test func aDeployThatCannotBeTrackedEndsWithTheReason() async throws {
        try await Harness.with(agents: .none, maximumPendingRequests: 1) { harness in
            try await harness.send(
                ControllerAPI.stageConfigurationRequest,
                [.string("stage"), Self.configuration.brokerValue]
            )
            try await harness.send(ControllerAPI.testTimeoutRequest, [.string("t"), .boolean(true)])
            try await harness.send(ControllerAPI.deployRequest, [.string("D1")])
            let results = try await harness.response(ControllerAPI.deployResponse, "D1")
            #expect(
                results == [
                    Management.Result(
                        reqid: "D1",
                        success: false,
                        error: "deploy_request: 1 requests are pending, the most this tracker allows"
                    )
                ]
            )
            #expect(harness.controller.deploymentInProgress == nil)
            harness.clock.advance(by: .seconds(10))
            _ = try await harness.response(ControllerAPI.testTimeoutResponse, "t")
            try await harness.send(ControllerAPI.deployRequest, [.string("D2")])
            while harness.controller.deploymentInProgress != "D2" { await Task.yield() }
        }
    }

    @Test func anEmptyConfigurationDeploysAtOnce() async throws {
        try await Harness.with(agents: .none) { harness in
            let empty = Management.Configuration(id: "empty")
            for reqid in ["E1", "E2"] {
                let results = try await harness.stageAndDeploy(empty, reqid: reqid)
                #expect(results == [Management.Result(reqid: reqid, data: .string("empty"))])
                #expect(harness.controller.deploymentInProgress == nil)
            }
        }
    }

    @Test func internalDeploysAlwaysReturnAndEnd() async throws {
        try await Harness.with(agents: .none) { harness in
            let controller = harness.controller
            let bad = Management.Configuration(
                id: "bad",
                instances: [Management.Instance(name: "a")],
                nodes: [Management.Node(name: "w", instance: "b", role: .worker)]
            )
            #expect(await controller.deploy(bad).map(\.error) == ["node 'w' has undeclared instance name 'b'"])
            #expect(controller.deploymentInProgress == nil)

            // A client deployment waits for its agent...
            try await harness.send(
                ControllerAPI.stageConfigurationRequest,
                [.string("stage"), Self.configuration.brokerValue]
            )
            try await harness.send(ControllerAPI.deployRequest, [.string("D1")])
            while controller.deploymentInProgress != "D1" { await Task.yield() }
            // ...so an internal one is refused at once,
            let refused = await controller.deploy(Management.Configuration(id: "empty"))
            #expect(refused.map(\.error) == ["earlier deployment D1 still pending"])
            #expect(controller.deploymentInProgress == "D1")
            harness.clock.advance(by: .seconds(10))
            _ = try await harness.response(ControllerAPI.deployResponse, "D1")
            // and goes through once the client's has ended.
            let empty = await controller.deploy(Management.Configuration(id: "empty"))
            #expect(empty.count == 1 && empty.first?.success == true && empty.first?.data == .string("empty"))
            #expect(controller.deploymentInProgress == nil)
        }
    }

    // MARK: - Malformed requests

    struct MalformedCase: Sendable, CustomTestStringConvertible {
        var request: String
        var arguments: [Broker.Value]
        var response: String
        var error: String

        var testDescription: String { error }
    }

    static let malformed: [MalformedCase] = [
        MalformedCase(
            request: ControllerAPI.getConfigurationRequest,
            arguments: [],
            response: ControllerAPI.getConfigurationResponse,
            error: "get_configuration_request: argument 2 (deployed) is missing"
        ),
        MalformedCase(
            request: ControllerAPI.getConfigurationRequest,
            arguments: [.count(1)],
            response: ControllerAPI.getConfigurationResponse,
            error: "get_configuration_request: argument 2 (deployed) is not a bool: "
        ),
        MalformedCase(
            request: ControllerAPI.stageConfigurationRequest,
            arguments: [],
            response: ControllerAPI.stageConfigurationResponse,
            error: "stage_configuration_request: argument 2 (config) is missing"
        ),
        MalformedCase(
            request: ControllerAPI.stageConfigurationRequest,
            arguments: [.vector([.string("id"), .set([]), .set([.vector([.string("w")])])])],
            response: ControllerAPI.stageConfigurationResponse,
            error: "stage_configuration_request: argument 2 (config) is not a Management::Configuration: "
        ),
        MalformedCase(
            request: ControllerAPI.getIDValueRequest,
            arguments: [],
            response: ControllerAPI.getIDValueResponse,
            error: "get_id_value_request: argument 2 (id) is missing"
        ),
        MalformedCase(
            request: ControllerAPI.getIDValueRequest,
            arguments: [.string("bits_per_uid"), .string("worker-1")],
            response: ControllerAPI.getIDValueResponse,
            error: "get_id_value_request: argument 3 (nodes) is not a set of strings: "
        ),
        MalformedCase(
            request: ControllerAPI.restartRequest,
            arguments: [.count(2)],
            response: ControllerAPI.restartResponse,
            error: "restart_request: argument 2 (nodes) is not a set of strings: "
        ),
        MalformedCase(
            request: ControllerAPI.testTimeoutRequest,
            arguments: [.string("true")],
            response: ControllerAPI.testTimeoutResponse,
            error: "test_timeout_request: argument 2 (with_state) is not a bool: "
        ),
    ]

    @Test(arguments: malformed)
    func aMalformedRequestIsAnsweredWithWhatIsWrong(_ item: MalformedCase) async throws {
        try await Harness.with { harness in
            try await harness.send(item.request, [.string("m")] + item.arguments)
            let results = try await harness.response(item.response, "m")
            #expect(results.count == 1)
            let result = try #require(results.first)
            #expect(result.reqid == "m" && !result.success && result.instance == nil && result.node == nil)
            #expect(result.error?.hasPrefix(item.error) == true, "\(result.error ?? "")")
            #expect(result.error?.contains("\n") == false)
        }
    }

    @Test func aRequestWithoutAnIDIsDroppedAndLogged() async throws {
        try await Harness.with { harness in
            try await harness.send(ControllerAPI.getNodesRequest, [])
            try await harness.send(ControllerAPI.deployRequest, [.count(7)])
            try await harness.send(ControllerAPI.getInstancesRequest, [.string("after")])
            _ = try await harness.response(ControllerAPI.getInstancesResponse, "after")
            // Responses come in order: nothing was sent for the first two.
            #expect(harness.responses.value.map(\.name) == [ControllerAPI.getInstancesResponse])
            let log = harness.log.value
            #expect(log.contains("dropped get_nodes_request: argument 1 (reqid) is missing"))
            #expect(log.contains("dropped deploy_request: argument 1 (reqid) is not a string"))
        }
    }

    @Test func malformedAgentMessagesAreDroppedAndLogged() async throws {
        try await Harness.with(agents: .none) { harness in
            let agent = harness.hub.makeBackend(name: "agent")
            try await agent.connect()
            try await agent.publish(
                Broker.Event(AgentAPI.deployResponse, [.string("a1"), .string("not results")]),
                to: AgentAPI.topic("agent")
            )
            try await agent.publish(Broker.Event(AgentAPI.notifyAgentHello, [.string("i")]), to: AgentAPI.topic("i"))
            try await harness.log.wait(for: "both dropped") { lines in
                lines.contains { $0.hasPrefix("dropped deploy_response a1: argument 2 is not a vector of result: ") }
                    && lines.contains("dropped notify_agent_hello: expected instance, id, connecting and api_version")
            }
        }
    }

    // MARK: - Agents and limits

    @Test func hellosBeyondTheInstanceLimitAreDropped() async throws {
        var limits = Management.ControllerOptions.standard
        limits.maximumInstances = 1
        try await Harness.with(agents: .none, controllerOptions: limits) { harness in
            let agent = harness.hub.makeBackend(name: "agents")
            try await agent.connect()
            for instance in ["a", "b"] {
                try await agent.publish(
                    Broker.Event(
                        AgentAPI.notifyAgentHello,
                        [.string(instance), .string("id-" + instance), .boolean(true), .count(1)]
                    ),
                    to: AgentAPI.topic(instance)
                )
            }
            try await harness.log.wait(for: "b dropped") {
                $0.contains("dropped notify_agent_hello from b: 1 agents are known already")
            }
            #expect(Set(harness.controller.agents.keys) == ["a"])
        }
    }

    @Test func stagingRefusesWhatTheControllerMustNotRun() async throws {
        var limits = Management.ControllerOptions.standard
        limits.maximumNodes = 3
        try await Harness.with(controllerOptions: limits) { harness in
            let hostile = Management.Configuration(
                id: "hostile",
                instances: [Management.Instance(name: ".."), Management.Instance(name: "agent-1")],
                nodes: [
                    Management.Node(name: "../../home/u/x", instance: "agent-1", role: .manager),
                    Management.Node(
                        name: "worker-1",
                        instance: "agent-1",
                        role: .worker,
                        env: ["LD_PRELOAD": "./evil.so", "GOOD": "1", "A=B": "x"]
                    ),
                ]
            )
            try await harness.send(ControllerAPI.stageConfigurationRequest, [.string("s1"), hostile.brokerValue])
            let results = try await harness.response(ControllerAPI.stageConfigurationResponse, "s1")
            #expect(
                results.map(\.error) == [
                    "instance name '..' is not allowed",
                    "node 'worker-1' env key 'A=B' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
                    "node 'worker-1' env key 'LD_PRELOAD' is reserved",
                    "node name '../../home/u/x' has characters outside [A-Za-z0-9._-]",
                ]
            )
            #expect(results.allSatisfy { !$0.success && $0.reqid == "s1" })

            var large = Self.configuration
            large.nodes.append(Management.Node(name: "worker-9", instance: "agent-1", role: .worker, env: ["PATH": ""]))
            try await harness.send(ControllerAPI.stageConfigurationRequest, [.string("s2"), large.brokerValue])
            let tooLarge = try await harness.response(ControllerAPI.stageConfigurationResponse, "s2")
            #expect(tooLarge.map(\.error) == ["configuration has 5 nodes, more than the limit of 3"])
            try await harness.send(ControllerAPI.getConfigurationRequest, [.string("g"), .boolean(false)])
            let staged = try await harness.response(ControllerAPI.getConfigurationResponse, "g")
            #expect(staged.map(\.error) == ["no staged configuration available"])
        }
    }

    // MARK: - The log

    @Test func everyLogLineIsOneLine() async throws {
        try await Harness.with { harness in
            let reqid = "a\nrx deploy_request forged\u{1b}[31m\r\u{2028}"
            try await harness.send(ControllerAPI.getInstancesRequest, [.string(reqid)])
            try await harness.send(ControllerAPI.testTimeoutRequest, [.string(reqid), .count(1)])
            _ = try await harness.response(ControllerAPI.getInstancesResponse, reqid)
            _ = try await harness.response(ControllerAPI.testTimeoutResponse, reqid)
            let escaped = #"a\nrx deploy_request forged\u{1b}[31m\r\u{2028}"#
            let log = harness.log.value
            #expect(log.contains("rx get_instances_request \(escaped)"))
            #expect(log.contains("tx get_instances_response \(escaped)"))
            #expect(log.contains { $0.hasPrefix("refused test_timeout_request \(escaped): ") })
            for line in log {
                #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x2028 }, "\(line)")
            }
        }
    }
}

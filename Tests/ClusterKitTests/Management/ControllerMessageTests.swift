import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// Decoding what the controller receives, once, into typed requests and agent messages.
@Suite struct ControllerMessageTests {
    typealias Message = Controller.Message
    typealias DecodingError = Controller.DecodingError

    static let configuration = ControllerStateMachineTests.configuration

    struct WellFormed: Sendable, CustomTestStringConvertible {
        var event: Broker.Event
        var request: Controller.Request

        var testDescription: String { event.name }
    }

    static let wellFormed: [WellFormed] = [
        WellFormed(event: Broker.Event(ControllerAPI.getInstancesRequest, ["r"]), request: .getInstances(reqid: "r")),
        WellFormed(event: Broker.Event(ControllerAPI.getNodesRequest, ["r"]), request: .getNodes(reqid: "r")),
        WellFormed(
            event: Broker.Event(ControllerAPI.getConfigurationRequest, ["r", .boolean(true)]),
            request: .getConfiguration(reqid: "r", deployed: true)
        ),
        WellFormed(
            event: Broker.Event(ControllerAPI.stageConfigurationRequest, ["r", configuration.brokerValue]),
            request: .stageConfiguration(reqid: "r", configuration)
        ),
        WellFormed(event: Broker.Event(ControllerAPI.deployRequest, ["r"]), request: .deploy(reqid: "r")),
        WellFormed(
            event: Broker.Event(ControllerAPI.getIDValueRequest, ["r", "Cluster::node"]),
            request: .getIDValue(reqid: "r", id: "Cluster::node", nodes: [])
        ),
        WellFormed(
            event: Broker.Event(ControllerAPI.getIDValueRequest, ["r", "x", .set(["worker-1", "manager"])]),
            request: .getIDValue(reqid: "r", id: "x", nodes: ["manager", "worker-1"])
        ),
        WellFormed(event: Broker.Event(ControllerAPI.restartRequest, ["r"]), request: .restart(reqid: "r", nodes: [])),
        WellFormed(
            event: Broker.Event(ControllerAPI.testTimeoutRequest, ["r", .boolean(false)]),
            request: .testTimeout(reqid: "r", withState: false)
        ),
    ]

    @Test(arguments: wellFormed)
    func aRequestIsDecodedOnceIntoItsCase(_ item: WellFormed) throws {
        #expect(try Message.decode(item.event) == .request(item.request))
        #expect(item.request.reqid == "r")
        #expect(item.request.kind.eventName == item.event.name)
        #expect(Controller.Request.Kind(eventName: item.event.name) == item.request.kind)
    }

    @Test func everyKindNamesItsRequestAndResponse() {
        let names = Controller.Request.Kind.allCases.map { "\($0.shortName) \($0.responseShortName)" }
        #expect(
            names == [
                "get_instances_request get_instances_response", "get_nodes_request get_nodes_response",
                "get_configuration_request get_configuration_response",
                "stage_configuration_request stage_configuration_response", "deploy_request deploy_response",
                "get_id_value_request get_id_value_response", "restart_request restart_response",
                "test_timeout_request test_timeout_response",
            ]
        )
    }

    @Test func aMalformedArgumentIsAnErrorTheClientGetsWordForWord() throws {
        let malformed: Broker.Value = .vector([.string("id"), .set([]), .set([.vector([.string("w")])])])
        let conversion = try #require(throws: (any Error).self) {
            try Management.Configuration(brokerValue: malformed)
        }
        let event = Broker.Event(ControllerAPI.stageConfigurationRequest, ["m", malformed])
        let error = try #require(throws: DecodingError.self) { try Message.decode(event) }
        #expect(
            error
                == DecodingError(
                    .invalidArgument,
                    "stage_configuration_request: argument 2 (config) is not a Management::Configuration: \(conversion)",
                    request: .stageConfiguration,
                    reqid: "m"
                )
        )

        let missing = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(ControllerAPI.getIDValueRequest, ["m"]))
        }
        #expect(missing.message == "get_id_value_request: argument 2 (id) is missing" && missing.reqid == "m")
        // Arguments are read in declaration order: the first bad one is named.
        let nodes = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(ControllerAPI.getIDValueRequest, ["m", .count(1), .count(2)]))
        }
        #expect(nodes.message.hasPrefix("get_id_value_request: argument 2 (id) is not a string: "))
    }

    @Test func aRequestWithoutAStringIDCannotBeAnswered() throws {
        let missing = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(ControllerAPI.getNodesRequest, []))
        }
        #expect(
            missing
                == DecodingError(
                    .missingRequestID,
                    "get_nodes_request: argument 1 (reqid) is missing",
                    request: .getNodes
                )
        )
        let wrong = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(ControllerAPI.deployRequest, [.count(7)]))
        }
        #expect(wrong.message == "deploy_request: argument 1 (reqid) is not a string" && wrong.reqid == nil)
    }

    @Test func agentHellosAndResponsesAreDecoded() throws {
        let hello = Broker.Event(AgentAPI.notifyAgentHello, ["agent-1", "node-id", .boolean(false), .count(1)])
        #expect(
            try Message.decode(hello)
                == .agentHello(Controller.AgentHello(instance: "agent-1", nodeID: "node-id", isConnecting: false))
        )
        let result = Management.Result(reqid: "a1", instance: "agent-1")
        #expect(
            try Message.decode(Broker.Event(AgentAPI.agentWelcomeResponse, ["a1", result.brokerValue]))
                == .agentResponse(Controller.AgentResponse(kind: .agentWelcome, areq: "a1", results: [result]))
        )
        #expect(
            try Message.decode(Broker.Event(AgentAPI.deployResponse, ["a1", .vector([result.brokerValue])]))
                == .agentResponse(Controller.AgentResponse(kind: .deploy, areq: "a1", results: [result]))
        )
    }

    @Test func malformedAgentMessagesAreErrorsToLog() throws {
        let hello = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(AgentAPI.notifyAgentHello, ["i"]))
        }
        #expect(
            hello
                == DecodingError(
                    .malformedAgentMessage,
                    "notify_agent_hello: expected instance, id, connecting and api_version"
                )
        )
        let short = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(AgentAPI.getNodesResponse, ["a1"]))
        }
        #expect(short.message == "get_nodes_response: expected a request id and results")
        let notResults = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(AgentAPI.restartResponse, ["a1", "not results"]))
        }
        #expect(notResults.message.hasPrefix("restart_response a1: argument 2 is not a vector of result: "))
        let notResult = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(AgentAPI.agentWelcomeResponse, ["a1", "not a result"]))
        }
        #expect(notResult.message.hasPrefix("agent_welcome_response a1: argument 2 is not a result: "))
    }

    @Test func eventsThatAreNoneOfTheControllersAreNotDecoded() throws {
        for name in [
            AgentAPI.agentStandbyResponse, ClusterKitControllerAPI.getNodeProcessesRequest,
            ControllerAPI.getNodesResponse, "Management::Controller::API::frobnicate_request",
        ] {
            #expect(try Message.decode(Broker.Event(name, ["r"])) == nil, "\(name)")
        }
    }
}

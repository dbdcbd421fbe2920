import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// Decoding what an agent receives, once, into typed requests and node messages.
@Suite struct AgentMessageTests {
    typealias Message = Agent.Message
    typealias DecodingError = Agent.DecodingError

    @Test func requestsAreDecodedOnceIntoTheirCases() throws {
        let configuration = AgentStateMachineTests.configuration("c1", nodes: ["w1"])
        let cases: [(Broker.Event, Agent.Request)] = [
            (Broker.Event(AgentAPI.agentWelcomeRequest, ["r"]), .agentWelcome(reqid: "r")),
            (Broker.Event(AgentAPI.agentStandbyRequest, [""]), .agentStandby(reqid: "")),
            (
                Broker.Event(AgentAPI.deployRequest, ["r", configuration.brokerValue, .boolean(false)]),
                .deploy(reqid: "r", configuration)
            ),
            (Broker.Event(AgentAPI.getNodesRequest, ["r"]), .getNodes(reqid: "r")),
            (
                Broker.Event(AgentAPI.nodeDispatchRequest, ["r", ["get_id_value", "x"], .set(["w1"])]),
                .nodeDispatch(reqid: "r", action: ["get_id_value", "x"], nodes: ["w1"])
            ),
            (
                Broker.Event(AgentAPI.nodeDispatchRequest, ["r", ["get_id_value", "x"]]),
                .nodeDispatch(reqid: "r", action: ["get_id_value", "x"], nodes: [])
            ),
            (Broker.Event(AgentAPI.restartRequest, ["r"]), .restart(reqid: "r", nodes: [])),
        ]
        for (event, request) in cases {
            #expect(try Message.decode(event) == .request(request), "\(event.name)")
        }
    }

    @Test func aMalformedArgumentIsAnErrorTheControllerGetsWordForWord() throws {
        let deploy = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(AgentAPI.deployRequest, ["bad", "not a configuration"]))
        }
        let conversion = try #require(throws: (any Error).self) {
            try Management.Configuration(brokerValue: "not a configuration")
        }
        #expect(
            deploy
                == DecodingError(
                    .invalidArgument,
                    "deploy_request: argument 2 (config) is not a Management::Configuration: \(conversion)",
                    request: .deploy,
                    reqid: "bad"
                )
        )
        let restart = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(AgentAPI.restartRequest, ["bad", .count(1)]))
        }
        #expect(restart.message.hasPrefix("restart_request: argument 2 (nodes) is not a set of strings: "))
        let dispatch = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(AgentAPI.nodeDispatchRequest, ["bad"]))
        }
        #expect(dispatch.message == "node_dispatch_request: argument 2 (action) is missing")
        let missing = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(AgentAPI.deployRequest, []))
        }
        #expect(missing.code == .missingRequestID && missing.reqid == nil)
    }

    @Test func nodeHellosAndResponsesAreDecoded() throws {
        #expect(try Message.decode(NodeRuntime.hello("w1")) == .nodeHello(node: "w1"))
        let result = Management.Result(reqid: "a-1", data: "96", node: "w1")
        #expect(
            try Message.decode(Broker.Event(NodeRuntime.API.dispatchResponse, ["a-1", result.brokerValue]))
                == .nodeResponse(Agent.NodeResponse(reqid: "a-1", node: "w1", result: result))
        )
    }

    @Test func unreadableNodeMessagesAreErrorsNotSilentDrops() throws {
        let anonymous = Management.Result(reqid: "a-1", data: "96")
        let cases: [(Broker.Event, String)] = [
            (
                Broker.Event(NodeRuntime.API.dispatchResponse, ["a-1"]),
                "node_dispatch_response: expected a request id and a result"
            ),
            (
                Broker.Event(NodeRuntime.API.dispatchResponse, ["a-1", anonymous.brokerValue]),
                "node_dispatch_response a-1: the result names no node"
            ),
            (
                Broker.Event(NodeRuntime.API.notifyNodeHello, [.count(1)]),
                "notify_node_hello: argument 1 (node) is not a string"
            ),
        ]
        for (event, message) in cases {
            let error = try #require(throws: DecodingError.self) { try Message.decode(event) }
            #expect(error == DecodingError(.malformedNodeMessage, message))
        }
        let notAResult = try #require(throws: DecodingError.self) {
            try Message.decode(Broker.Event(NodeRuntime.API.dispatchResponse, ["a-1", "x"]))
        }
        #expect(notAResult.message.hasPrefix("node_dispatch_response a-1: argument 2 is not a result: "))
    }

    @Test func eventsThatAreNoneOfTheAgentsAreNotDecoded() throws {
        for name in [AgentAPI.deployResponse, AgentAPI.notifyAgentHello, NodeRuntime.API.dispatchRequest] {
            #expect(try Message.decode(Broker.Event(name, ["r"])) == nil, "\(name)")
        }
    }
}

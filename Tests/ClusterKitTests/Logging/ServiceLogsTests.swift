import Foundation
import Testing

@testable import ClusterKitModel
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// A ``ControllerService`` with a ``LogDirectory``: the controller's and the agent's management logs and the
/// hub's cluster log, written as Zeek writes them and closed when the service stops.
@Suite(.timeLimit(.minutes(1))) struct ServiceLogsTests {
    static let utc = TimeZone(secondsFromGMT: 0) ?? .current

    /// The data rows of an ASCII log, split into columns.
    func rows(_ text: String?) -> [[String]] {
        (text ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    @Test func aControllerServiceWritesItsManagementAndClusterLogs() async throws {
        let files = MemoryLogFileSystem()
        let errors = ReportedErrors()
        let logs = LogDirectory(
            options: LogDirectory.Options(directory: "/logs", level: .debug, timeZone: Self.utc),
            fileSystem: files,
            clock: ContinuousClock(),
            now: LogDirectory.systemTime,
            onError: errors.sink
        )
        var options = ControllerService.Options(webSocket: .init(port: 0))
        options.logs = logs
        let service = try ControllerService(options: options)
        let configuration = Management.Configuration(
            layout: EmbeddedCluster.example,
            instance: "agent-test",
            id: "cfg-example"
        )
        let ready = AsyncStream<Void>.makeStream()
        async let running: Void = service.run(deploying: configuration) { _ in ready.continuation.yield() }
        for await _ in ready.stream { break }

        let connection = try await WebSocketClient.connect(to: service.url)
        try await connection.send(text: #"["zeek/management/controller"]"#)
        _ = try await connection.receive()
        // A request id with a newline and a tab: one line in the log all the same.
        let request = Broker.Event(ControllerAPI.getInstancesRequest, [.string("id\n\t7")])
        try await connection.send(
            text: String(
                decoding: BrokerJSONEncoder.dataMessage(request, topic: ControllerAPI.topic.name),
                as: UTF8.self
            )
        )
        while let message = try await connection.receive() {
            if "\(message)".contains("get_instances_response") { break }
        }
        await connection.close(code: .normalClosure, reason: "")
        await service.shutdown()
        try await running

        #expect(errors.all.isEmpty)
        let controllerLog = files.text("/logs/management-controller.log")
        let controller = rows(controllerLog)
        #expect(controller.allSatisfy { $0.count == 5 && $0[1] == "controller" && $0[3] == "CONTROLLER" })
        let messages = controller.map { $0[4] }
        #expect(messages.first?.hasPrefix("controller is live, Broker ID ") == true)
        #expect(messages.contains { $0.hasPrefix("deploying configuration cfg-example, request ") })
        #expect(messages.contains("rx Management::Controller::API::get_instances_request id\\x0a\\x097"))
        #expect(messages.contains("tx Management::Controller::API::get_instances_response id\\x0a\\x097"))
        #expect(
            messages.contains {
                $0.hasPrefix("tx Management::Agent::API::deploy_request ") && $0.hasSuffix(" to agent-test")
            }
        )
        #expect(controllerLog?.hasSuffix("\n") == true)
        #expect(controllerLog?.split(separator: "\n").last?.hasPrefix("#close\t") == true)

        let agent = rows(files.text("/logs/management-agent-test.log"))
        #expect(agent.allSatisfy { $0[1] == "agent-test" && $0[3] == "AGENT" && $0[2] == "INFO" })
        #expect(agent.map { $0[4] }.contains { $0.hasPrefix("rx Management::Agent::API::deploy_request ") })
        #expect(agent.map { $0[4] }.contains("rx Management::Node::API::notify_node_hello manager"))

        let cluster = rows(files.text("/logs/cluster.log"))
        let clients = cluster.filter { $0[2].hasPrefix("WebSocket client ") }
        #expect(clients.count == 2)
        #expect(clients.first?[2].hasSuffix(") subscribed to [zeek/management/controller]") == true)
        #expect(clients.last?[2].hasSuffix(" gone with code 1000") == true)
        // The rest is membership as the hub sees it: the deployed nodes' hellos, and their departures at the stop.
        #expect(
            cluster.filter { !$0[2].hasPrefix("WebSocket client ") }
                .allSatisfy { $0[2].hasPrefix("got hello from ") || $0[2].hasPrefix("node down: ") }
        )
        #expect(cluster.contains { $0[2].hasPrefix("got hello from manager (") })
        #expect(cluster.allSatisfy { $0[1] == "controller" })
        #expect(files.text("/logs/cluster.log")?.hasSuffix("\n") == true)
        #expect(service.server.clusterLog != nil)
    }

    @Test func theControllerNotesWhatItDropsAndRefuses() {
        #expect(Controller.managementLevel(of: "refused deploy_request 1: no configuration") == .warning)
        #expect(
            Controller.managementLevel(of: "dropped notify_agent_hello from x: 256 agents are known already")
                == .warning
        )
        #expect(Controller.managementLevel(of: "error handling x: y") == .error)
        #expect(Controller.managementLevel(of: "agent a said hello") == .debug)
        #expect(Controller.managementLevel(of: "tx x") == .info)
    }
}

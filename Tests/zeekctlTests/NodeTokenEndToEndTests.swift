import ClusterKit
import Foundation
import Testing

/// `zeekctl controller --processes`: node processes authenticate with the controller's node token, which they get
/// in their environment; clients can no longer pose as nodes or agents.
@Suite(.timeLimit(.minutes(2))) struct NodeTokenEndToEndTests {
    /// The NUL-separated strings of a `/proc/<pid>/` file.
    static func procStrings(_ pid: Int32, _ file: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/\(file)"))
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func nodeProcessesGetTheTokenInTheirEnvironmentAndClientsCannotPoseAsNodes() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withController(["--processes", "--layout", directory + "/node.cfg"]) { controller in
                let status = try await ClusterEndToEndTests.statusJSON(controller.port)
                let names = status["nodes"]?.objectMembers?.map(\.key) ?? []
                #expect(names.count == 5)
                var tokens: Set<String> = []
                for name in names {
                    let pid = try #require(ClusterEndToEndTests.pid(status, name))
                    let environment = try Self.procStrings(pid, "environ")
                    let key = NodeProcess.nodeTokenEnvironmentKey + "="
                    let token = try #require(
                        environment.first { $0.hasPrefix(key) }.map { String($0.dropFirst(key.count)) }
                    )
                    #expect(token.count == 64)
                    tokens.insert(token)
                    // Never on the command line, which every local user can read.
                    #expect(!(try Self.procStrings(pid, "cmdline")).contains { $0.contains(token) })
                }
                #expect(tokens.count == 1)

                // A plain client posing as a node or an agent is refused, and its connection stays usable.
                let connection = try await WebSocketClient.connect(to: controller.url)
                try await connection.send(text: #"["zeek/management/node"]"#)
                #expect(try await connection.receive()?.text?.contains(#""type":"ack""#) == true)
                let hello = Broker.Event(NodeRuntime.API.notifyNodeHello, [.string("worker-1-1")])
                try await connection.send(
                    text: Broker.JSON.encode(.data(Broker.DataMessage(topic: "zeek/management/node", event: hello)))
                )
                let refusal = try #require(try await connection.receive()?.text)
                #expect(refusal.contains(#""code":"not_permitted""#), "\(refusal)")
                #expect(refusal.contains("notify_node_hello"))
                let deploy = Broker.Event(AgentAPI.deployRequest, [.string("x"), .vector([]), .boolean(true)])
                try await connection.send(
                    text: Broker.JSON.encode(.data(Broker.DataMessage(topic: "zeek/management/agent/x", event: deploy)))
                )
                let agentRefusal = try #require(try await connection.receive()?.text)
                #expect(agentRefusal.contains("may only be published inside the controller"), "\(agentRefusal)")
                await connection.close()

                // Requests on the node topic still work: the nodes (authenticated) answer.
                let address = "127.0.0.1:\(controller.port)"
                for protocolName in ["management", "control"] {
                    let run = try await BinaryRunner.run(
                        [
                            "dispatch", "get_id_value", "Cluster::node", "--websocket", address, "--layout", "node.cfg",
                            "--protocol", protocolName, "--format", "json",
                        ],
                        currentDirectory: directory
                    )
                    #expect(run.status == 0, "\(protocolName): \(run.output)\(run.error)")
                    let results = try JSONValue.parse(run.output)["results"]?.objectMembers?.map(\.key)
                    #expect(results?.sorted() == names.sorted(), "\(protocolName)")
                }
            }
        }
    }
}

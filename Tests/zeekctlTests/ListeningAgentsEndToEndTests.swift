import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl agent --listen`: agents the controller connects to, as Zeek's controller peers with the instances whose
/// address and port its configuration gives; driven by `zeek-client` 1.5.0.
@Suite(.timeLimit(.minutes(3))) struct ListeningAgentsEndToEndTests {
    static let token = "0123456789abcdef0123456789abcdef"

    /// A `zeekctl agent --listen` process and the port it listens on.
    struct ListeningAgent {
        let process: ChildProcess
        let port: Int
    }

    static func startListeningAgent(
        _ name: String,
        listen: String,
        directory: String
    ) async throws -> ListeningAgent {
        let process = try ChildProcess(
            ZeekctlBinary.path,
            [
                "agent", "--name", name, "--listen", listen, "--node-token-file", directory + "/node-token",
                "--state-dir", directory + "/" + name,
            ]
        )
        guard let line = await process.firstLine(where: { $0.hasPrefix("listening on ") }) else {
            await process.terminate(signal: SIGKILL)
            throw ChildProcess.SpawnError(description: "agent did not listen: \(process.errorOutput)")
        }
        let port = Int(line.split(separator: ":").last?.split(separator: "/").first ?? "") ?? 0
        return ListeningAgent(process: process, port: port)
    }

    static func ini(listeningPort: Int) -> String {
        """
        [instances]
        agent-l = 127.0.0.2:\(listeningPort)
        agent-c

        [manager]
        instance = agent-l
        role = manager

        [worker-1]
        instance = agent-l
        role = worker

        [worker-2]
        instance = agent-c
        role = worker
        """
    }

    @Test func theControllerConnectsToAListeningAgentAndAgainAfterItRestarts() async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.token, to: "node-token", in: directory)
            chmod(directory + "/node-token", 0o600)
            var listening = try await Self.startListeningAgent("agent-l", listen: "127.0.0.2:0", directory: directory)
            try write(Self.ini(listeningPort: listening.port), to: "cluster.ini", in: directory)
            try await withController([
                "--agents", "remote", "--node-token-file", directory + "/node-token", "--verbose",
            ]) { controller in
                // One agent of each kind: agent-c connects, from 127.0.0.3.
                let connecting = try BackgroundBinary([
                    "agent", "--name", "agent-c", "--controller", controller.url, "--node-token-file",
                    directory + "/node-token", "--state-dir", directory + "/agent-c", "--address", "127.0.0.3",
                ])
                let deployed = try await ZeekClient.run(
                    ["deploy-config", directory + "/cluster.ini"],
                    port: controller.port
                )
                #expect(deployed.status == 0, "\(deployed.output) \(deployed.error)")

                let instances = try JSONValue.parse(
                    try await ZeekClient.run(["get-instances"], port: controller.port).output
                )
                #expect(instances["agent-l"]?["host"] == .string("127.0.0.2"), "\(instances)")
                #expect(instances["agent-l"]?["port"] == .integer(Int64(listening.port)), "\(instances)")
                #expect(instances["agent-c"]?["host"] == .string("127.0.0.3"), "\(instances)")
                #expect(instances["agent-c"]?["port"] == nil, "\(instances)")

                let all: Set<String> = ["manager", "worker-1", "worker-2"]
                let values = try await RemoteAgentsEndToEndTests.idValues(port: controller.port, until: all)
                #expect(values["results"]?["manager"] == .string("manager"), "\(values)")
                #expect(values["results"]?["worker-2"] == .string("worker-2"), "\(values)")

                let nodes = try JSONValue.parse(try await ZeekClient.run(["get-nodes"], port: controller.port).output)
                for (instance, name) in [("agent-l", "manager"), ("agent-l", "worker-1"), ("agent-c", "worker-2")] {
                    let node = nodes["results"]?[instance]?[name]
                    #expect(node?["state"] == .string("RUNNING"), "\(name): \(nodes)")
                    guard case .integer(let pid)? = node?["pid"] else {
                        Issue.record("\(name) has no pid: \(nodes)")
                        continue
                    }
                    #expect(pid > 0)
                }
                let agentURL = "ws://127.0.0.2:\(listening.port)/v1/messages/json"
                #expect(
                    controller.process.output.contains("connected to agent agent-l at \(agentURL)"),
                    "\(controller.process.output)"
                )

                // The listening agent dies with its nodes; agent-c's still answers.
                await listening.process.terminate(signal: SIGKILL)
                let partial = try await RemoteAgentsEndToEndTests.idValues(port: controller.port, until: ["worker-2"])
                #expect(RemoteAgentsEndToEndTests.keys(partial["results"]) == ["worker-2"], "\(partial)")

                // Back on the same port: the controller connects again (with back-off) and deploys its part.
                listening = try await Self.startListeningAgent(
                    "agent-l",
                    listen: "127.0.0.2:\(listening.port)",
                    directory: directory
                )
                let again = try await RemoteAgentsEndToEndTests.idValues(port: controller.port, until: all)
                #expect(again["results"]?["worker-1"] == .string("worker-1"), "\(again)")

                connecting.send(SIGTERM)
                #expect(try await connecting.waitForExit().status == 0)
                #expect(await listening.process.terminate() == 0)
            }
        }
    }

    @Test func theListenerServesOnlyTheNodeToken() async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.token, to: "node-token", in: directory)
            chmod(directory + "/node-token", 0o600)
            let agent = try await Self.startListeningAgent("agent-l", listen: "127.0.0.1:0", directory: directory)
            let url = "ws://127.0.0.1:\(agent.port)/v1/messages/json"
            // A client without the token: refused, as over the client limit (0).
            let client = try await WebSocketClient.connect(to: url)
            let refusal = try await client.receive().map { "\($0)" } ?? ""
            #expect(refusal.contains("connection_limit"), "\(refusal)")
            let error = await #expect(throws: WebSocketError.self) { try await client.receive() }
            #expect(error?.description.contains("code 1013") == true, "\(String(describing: error))")
            await client.close()
            // With the token: served.
            let node = try await WebSocketClient.connect(
                to: url,
                headers: [WebSocketAPIServer.nodeTokenHeader: Self.token]
            )
            try await node.send(text: #"["zeek/management/agent/agent-l"]"#)
            let ack = try await node.receive().map { "\($0)" } ?? ""
            #expect(ack.contains("ack"), "\(ack)")
            await node.close()
            #expect(await agent.process.terminate() == 0)
        }
    }

    @Test func theListenerStaysOnLoopbackUnlessAllowed() async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.token, to: "node-token", in: directory)
            chmod(directory + "/node-token", 0o600)
            let run = try await BinaryRunner.run([
                "agent", "--name", "agent-l", "--listen", "0.0.0.0:0", "--node-token-file", directory + "/node-token",
                "--state-dir", directory + "/state",
            ])
            #expect(run.status == 1)
            #expect(run.error.contains("refusing to listen on '0.0.0.0': not a loopback address"), "\(run.error)")
            let both = try await BinaryRunner.run([
                "agent", "--name", "a", "--listen", "127.0.0.1:0", "--controller", "127.0.0.1:1",
            ])
            #expect(both.status == 64)
            #expect(both.error.contains("'--controller' and '--listen' exclude each other"), "\(both.error)")
            let tls = try await BinaryRunner.run(["agent", "--name", "a", "--listen", "0", "--tls-insecure"])
            #expect(tls.status == 64)
            #expect(tls.error.contains("'--listen' takes no client access options"), "\(tls.error)")
            let supervised = try await BinaryRunner.run([
                "agent", "--name", "a", "--listen", "0", "--supervisor", "ws://127.0.0.1:1",
            ])
            #expect(supervised.status == 64)
            #expect(
                supervised.error.contains("'--listen' and '--supervisor' exclude each other"),
                "\(supervised.error)"
            )
        }
    }
}

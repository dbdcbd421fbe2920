import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl controller --agents remote` with two `zeekctl agent` processes, driven by `zeek-client` 1.5.0.
@Suite(.timeLimit(.minutes(3))) struct RemoteAgentsEndToEndTests {
    static let ini = """
        [instances]
        agent-a
        agent-b

        [manager]
        instance = agent-a
        role = manager

        [worker-1]
        instance = agent-a
        role = worker

        [proxy-1]
        instance = agent-b
        role = proxy

        [worker-2]
        instance = agent-b
        role = worker
        """

    /// The address each agent runs on: two loopback addresses stand in for two hosts (Linux routes all of
    /// 127.0.0.0/8 over the loopback interface).
    static let addresses = ["agent-a": "127.0.0.2", "agent-b": "127.0.0.3"]

    static func startAgent(_ name: String, controller: RunningController, directory: String) throws -> BackgroundBinary
    {
        try BackgroundBinary([
            "agent", "--name", name, "--controller", controller.url, "--node-token-file", directory + "/node-token",
            "--state-dir", directory + "/" + name, "--address", addresses[name] ?? "127.0.0.1",
        ])
    }

    static func keys(_ value: JSONValue?) -> Set<String> { Set(value?.objectMembers?.map(\.key) ?? []) }

    /// Asks every node for `Cluster::node` until `expected` answers or the limit passes.
    static func idValues(port: Int, until expected: Set<String>, limit: Int = 40) async throws -> JSONValue {
        var last = JSONValue.null
        for _ in 0..<limit {
            let run = try await ZeekClient.run(["get-id-value", "Cluster::node"], port: port)
            last = (try? JSONValue.parse(run.output)) ?? .null
            if Self.keys(last["results"]) == expected { return last }
            try await Task.sleep(for: .milliseconds(500))
        }
        return last
    }

    @Test func twoAgentProcessesRunADeployedConfigurationAndOneRejoinsAfterAKill() async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.ini, to: "cluster.ini", in: directory)
            try write("0123456789abcdef0123456789abcdef", to: "node-token", in: directory)
            chmod(directory + "/node-token", 0o600)
            try await withController([
                "--agents", "remote", "--node-token-file", directory + "/node-token", "--verbose",
            ]) { controller in
                let agentA = try Self.startAgent("agent-a", controller: controller, directory: directory)
                var agentB = try Self.startAgent("agent-b", controller: controller, directory: directory)

                let deployed = try await ZeekClient.run(
                    ["deploy-config", directory + "/cluster.ini"],
                    port: controller.port
                )
                #expect(deployed.status == 0, "\(deployed.output) \(deployed.error)")

                let instances = try JSONValue.parse(
                    try await ZeekClient.run(["get-instances"], port: controller.port).output
                )
                #expect(Self.keys(instances).isSuperset(of: ["agent-a", "agent-b"]), "\(instances)")
                // Each with the address its connection comes from: the agent's --address.
                #expect(instances["agent-a"]?["host"] == .string("127.0.0.2"), "\(instances)")
                #expect(instances["agent-b"]?["host"] == .string("127.0.0.3"), "\(instances)")

                let nodes = try await ZeekClient.run(["get-nodes"], port: controller.port)
                let listed = try JSONValue.parse(nodes.output)
                for (instance, name) in [
                    ("agent-a", "manager"), ("agent-a", "worker-1"), ("agent-b", "proxy-1"), ("agent-b", "worker-2"),
                ] {
                    let node = listed["results"]?[instance]?[name]
                    #expect(node?["state"] == .string("RUNNING"), "\(name): \(nodes.output)")
                    guard case .integer(let pid)? = node?["pid"] else {
                        Issue.record("\(name) has no pid: \(nodes.output)")
                        continue
                    }
                    #expect(pid > 0)
                }

                let all: Set<String> = ["manager", "worker-1", "proxy-1", "worker-2"]
                let values = try await Self.idValues(port: controller.port, until: all)
                #expect(values["results"]?["worker-2"] == .string("worker-2"), "\(values)")
                #expect(values["results"]?["manager"] == .string("manager"), "\(values)")
                // The nodes connect from their agent's address too (the controller's --verbose client lines).
                let log = controller.process.output
                for (node, address) in [
                    ("manager", "127.0.0.2"), ("worker-1", "127.0.0.2"), ("proxy-1", "127.0.0.3"),
                    ("worker-2", "127.0.0.3"),
                ] {
                    #expect(
                        log.contains {
                            $0.contains("(\(address):") && $0.contains("application_name=zeekctl-node-\(node) ")
                        },
                        "\(node) not from \(address): \(log.filter { $0.contains("zeekctl-node-") })"
                    )
                }

                // agent-b dies: its nodes die with it and are reported; agent-a's still answer.
                agentB.send(SIGKILL)
                _ = try await agentB.waitForExit()
                let partial = try await Self.idValues(port: controller.port, until: ["manager", "worker-1"])
                #expect(Self.keys(partial["results"]) == ["manager", "worker-1"], "\(partial)")
                #expect(partial["errors"]?.arrayValue?.isEmpty == false, "\(partial)")

                let lost = try JSONValue.parse(try await ZeekClient.run(["get-nodes"], port: controller.port).output)
                #expect(lost["results"]?["agent-a"]?["manager"]?["state"] == .string("RUNNING"), "\(lost)")

                // Back again: the controller deploys agent-b's part to it without a new deploy-config.
                agentB = try Self.startAgent("agent-b", controller: controller, directory: directory)
                let again = try await Self.idValues(port: controller.port, until: all)
                #expect(again["results"]?["proxy-1"] == .string("proxy-1"), "\(again)")
                #expect(again["results"]?["worker-2"] == .string("worker-2"), "\(again)")
                let rejoined = try JSONValue.parse(
                    try await ZeekClient.run(["get-instances"], port: controller.port).output
                )
                #expect(rejoined["agent-b"]?["host"] == .string("127.0.0.3"), "\(rejoined)")
                agentA.send(SIGTERM)
                agentB.send(SIGTERM)
                #expect(try await agentA.waitForExit().status == 0)
                #expect(try await agentB.waitForExit().status == 0)
            }
        }
    }

    @Test func aDeployWithoutItsAgentFailsNamingTheInstance() async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.ini, to: "cluster.ini", in: directory)
            try write("0123456789abcdef0123456789abcdef", to: "node-token", in: directory)
            chmod(directory + "/node-token", 0o600)
            try await withController(["--agents", "remote", "--node-token-file", directory + "/node-token"]) {
                controller in
                let agentA = try Self.startAgent("agent-a", controller: controller, directory: directory)
                let deployed = try await ZeekClient.run(
                    ["deploy-config", directory + "/cluster.ini"],
                    port: controller.port
                )
                #expect(deployed.status == 1)
                #expect(deployed.output.contains("agent-b"), "\(deployed.output)")
                #expect(!deployed.output.contains("agent-a"), "\(deployed.output)")
                agentA.send(SIGTERM)
                _ = try await agentA.waitForExit()
            }
        }
    }

    @Test func theAgentNeedsANodeToken() async throws {
        let run = try await BinaryRunner.run(["agent", "--name", "agent-a", "--controller", "127.0.0.1:1"])
        #expect(run.status == 1)
        #expect(run.error == "error: no node token: give '--node-token-file FILE' or set CLUSTERKIT_NODE_TOKEN\n")
        let usage = try await BinaryRunner.run(["controller", "--agents", "remote"])
        #expect(usage.status == 64)
        #expect(usage.error.contains("'--agents remote' needs '--node-token-file FILE'"))
    }

    @Test func anAddressThatIsNotThisHostsIsAClearError() async throws {
        try await withTemporaryDirectory { directory in
            try write("0123456789abcdef0123456789abcdef", to: "node-token", in: directory)
            chmod(directory + "/node-token", 0o600)
            let usage = try await BinaryRunner.run([
                "agent", "--name", "agent-a", "--controller", "127.0.0.1:1", "--address", "host-a",
            ])
            #expect(usage.status == 64)
            #expect(usage.error.contains("invalid value 'host-a' for '--address' (expected an IPv4 or IPv6 address)"))
            let node = try await BinaryRunner.run(["node", "--name", "n", "--hub", "127.0.0.1:1", "--address", "x"])
            #expect(node.status == 64)
            // 192.0.2.7 (TEST-NET-1) is no address of this host: the first connection fails, naming it.
            let run = try await BinaryRunner.run([
                "agent", "--name", "agent-a", "--controller", "127.0.0.1:1", "--address", "192.0.2.7",
                "--node-token-file", directory + "/node-token", "--state-dir", directory + "/state",
            ])
            #expect(run.status == 1)
            #expect(run.error.contains("cannot bind 192.0.2.7: cannot assign requested address"), "\(run.error)")
            // ZEEK_AGENT_ADDR is the default address, as for Zeek's agents.
            var environment = ProcessInfo.processInfo.environment
            environment["ZEEK_AGENT_ADDR"] = "192.0.2.8"
            let fromEnvironment = try await BinaryRunner.run(
                [
                    "agent", "--name", "agent-a", "--controller", "127.0.0.1:1", "--node-token-file",
                    directory + "/node-token", "--state-dir", directory + "/state",
                ],
                environment: environment
            )
            #expect(fromEnvironment.status == 1)
            #expect(fromEnvironment.error.contains("cannot bind 192.0.2.8"), "\(fromEnvironment.error)")
        }
    }
}

import ClusterKit
import Foundation
import Testing

@testable import ClusterKitRuntime

#if canImport(Glibc)
import Glibc
#endif

/// An agent's ``SupervisedNodeHost`` and the supervisor's ``SupervisorControlResponder`` on one hub, with nodes that
/// run `/bin/sleep`: Zeek's SupervisorControl requests, nodes that outlive their agent, and adoption.
@Suite(.timeLimit(.minutes(1))) struct SupervisedNodeHostTests {
    /// Runs `body` with a responder on a fresh hub, then stops its nodes.
    static func withResponder(
        _ body: (InMemoryBackend.Hub, SupervisorControlResponder, Observed<Int>) async throws -> Void
    ) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hub = InMemoryBackend.Hub()
        let stops = Observed(0)
        let responder = SupervisorControlResponder(
            backend: hub.makeBackend(name: "supervisor"),
            configuration: ProcessSupervisor.Configuration(
                runtimeDirectory: directory,
                environment: ["PATH": "/usr/bin:/bin"],
                stopSequence: .init(terminateAttempts: 2, interval: .milliseconds(200))
            ),
            command: { _ in ProcessSupervisor.NodeCommand(executable: "/bin/sleep", arguments: ["60"]) },
            onStop: { stops.update { $0 += 1 } }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await responder.run() }
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(10))
            while !hub.hasSubscribers("zeek/supervisor", eventName: SupervisorControl.stopRequest) {
                guard clock.now < deadline else { throw WaitTimeout(description: "the responder never subscribed") }
                try await Task.sleep(for: .milliseconds(5))
            }
            do {
                try await body(hub, responder, stops)
            } catch {
                try? await responder.shutdown()
                group.cancelAll()
                throw error
            }
            try await responder.shutdown()
            group.cancelAll()
        }
    }

    /// Runs `body` with an agent's host on `hub` (its `run()` in a child task, cancelled afterwards: the agent gone).
    static func withHost<T: Sendable>(
        _ hub: InMemoryBackend.Hub,
        _ body: (SupervisedNodeHost) async throws -> T
    ) async throws -> T {
        let host = SupervisedNodeHost(
            backend: hub.makeBackend(name: "agent"),
            options: SupervisedNodeHost.Options(requestTimeout: .seconds(5), stopTimeout: .seconds(5))
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await host.run() }
            defer { group.cancelAll() }
            return try await body(host)
        }
    }

    static func launch(_ name: String, interface: String? = nil) -> NodeLaunch {
        NodeLaunch(
            name: name,
            node: Management.Node(name: name, instance: "a", role: .worker, interface: interface),
            layout: Cluster.Layout()
        )
    }

    /// The pid of a running node, once the host has heard of it.
    static func runningPID(_ host: SupervisedNodeHost, _ name: String) async throws -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        while clock.now < deadline {
            if let status = host.status()[name], status.isRunning, let pid = status.pid { return pid }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw WaitTimeout(description: "\(name) never ran: \(host.status())")
    }

    @Test func nodesOutliveTheirAgentAndANewAgentAdoptsOnlyWhatRunsAsItsDeploymentSays() async throws {
        try await Self.withResponder { hub, responder, _ in
            let (pid, leftover) = try await Self.withHost(hub) { host in
                #expect(await host.launch(Self.launch("w1")) == nil)
                #expect(await host.launch(Self.launch("w9")) == nil)
                return (try await Self.runningPID(host, "w1"), try await Self.runningPID(host, "w9"))
            }
            // The first agent is gone; its node runs on under the supervisor.
            #expect(kill(pid_t(pid), 0) == 0)
            #expect(responder.status("w1").nodes["w1"]?.pid == pid)

            try await Self.withHost(hub) { host in
                // The next deployment has no w9: what the earlier agent left of it is stopped, w1 is kept.
                await host.retainOnly(["w1"])
                #expect(kill(pid_t(leftover), 0) != 0)
                #expect(responder.status().nodes.keys.sorted() == ["w1"])
                #expect(await host.adopt(Self.launch("w1", interface: "eth1")) == false)
                #expect(await host.adopt(Self.launch("w1")))
                #expect(host.status()["w1"]?.pid == pid)
                #expect(host.status()["w1"]?.isRunning == true)
                #expect(await host.adopt(Self.launch("w2")) == false)

                // Another configuration under the same name: the old process is destroyed first, as the supervisor
                // refuses a second node of that name.
                #expect(await host.launch(Self.launch("w1", interface: "eth1")) == nil)
                let replaced = try await Self.runningPID(host, "w1")
                #expect(replaced != pid)
                #expect(kill(pid_t(pid), 0) != 0)
                #expect(responder.status("w1").nodes["w1"]?.node.interface == "eth1")

                await host.stop("w1")
                #expect(kill(pid_t(replaced), 0) != 0)
                #expect(responder.status().nodes.isEmpty)
                #expect(host.status().isEmpty)
            }
        }
    }

    @Test func theSupervisorsRefusalsAndExitsReachTheAgent() async throws {
        try await Self.withResponder { hub, _, stops in
            try await Self.withHost(hub) { host in
                let refused = await host.launch(Self.launch("a b"))
                #expect(refused == "node a b could not start: node names must not contain spaces: 'a b'")
                #expect(host.status()["a b"] == nil)

                #expect(await host.launch(Self.launch("w1")) == nil)
                let pid = try await Self.runningPID(host, "w1")
                var exits = host.exits.makeAsyncIterator()
                kill(pid_t(pid), SIGKILL)
                let exit = await exits.next()
                #expect(exit?.name == "w1")
                // Revived by the supervisor (1 s after its start at the latest): a new pid, one restart.
                let clock = ContinuousClock()
                let deadline = clock.now.advanced(by: .seconds(10))
                while clock.now < deadline, host.status()["w1"]?.pid == pid || host.status()["w1"]?.isRunning != true {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(host.status()["w1"]?.pid != pid)
                #expect(host.status()["w1"]?.restarts == 1)
                #expect(await host.restart("w1"))
                #expect(await host.restart("nobody") == false)
                #expect(stops.value == 0)
            }
        }
    }

    @Test func aStopRequestReachesTheSupervisorsOwner() async throws {
        try await Self.withResponder { hub, _, stops in
            let client = hub.makeBackend(name: "agent")
            try await client.connect()
            try await client.publish(Broker.Event(SupervisorControl.stopRequest, []), to: "zeek/supervisor")
            try await stops.wait(for: "the stop request") { $0 == 1 }
            await client.close()
        }
    }

    /// The supervisor's listener: a client without its token can neither send requests nor pose as the supervisor;
    /// an agent with it can send requests, but not answers.
    @Test func onlyTheSupervisorsAgentsMaySendItRequests() async throws {
        let hub = InMemoryBackend.Hub()
        let supervisor = try await participant(hub, "supervisor", ["zeek/supervisor"])
        let server = try WebSocketAPIServer(hub: hub, options: ClusterSupervisor.listenerOptions(token: "sesame"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await server.run() }
            let create = Broker.Event(
                SupervisorControl.createRequest,
                [.string("r1"), Supervisor.NodeConfig(name: "evil").brokerValue]
            )
            let (client, _) = try await subscribeRaw(server, [])
            try await client.send(text: dataFrame("zeek/supervisor", create))
            #expect(try await receiveError(client)?.code == "not_permitted")
            let answer = Broker.Event(SupervisorControl.createResponse, [.string("r1"), .string("")])
            try await client.send(text: dataFrame("zeek/supervisor/create_response/r1", answer))
            #expect(try await receiveError(client)?.code == "not_permitted")

            let (agent, _) = try await subscribeRaw(server, [], nodeToken: "sesame")
            try await agent.send(text: dataFrame("zeek/supervisor", create))
            #expect(try await nextEvent(supervisor)?.event == create)
            try await agent.send(text: dataFrame("zeek/supervisor/create_response/r1", answer))
            #expect(try await receiveError(agent)?.code == "not_permitted")
            #expect(server.diagnostics.refusedEvents == 3)
            await client.close()
            await agent.close()
            await server.shutdown()
            try await group.waitForAll()
        }
    }

    @Test func responsesGoToZeeksPerRequestTopics() {
        #expect(
            SupervisorControl.responseTopic(SupervisorControl.createResponse, reqid: "r1").name
                == "zeek/supervisor/create_response/r1"
        )
    }
}

/// The controller's deployed configuration in its state directory.
@Suite struct PersistedConfigurationTests {
    @Test func aDeployedConfigurationIsReadBackAndAMissingOrBrokenFileIsNamed() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/deployed-configuration.json"
        #expect(try ControllerService.persistedConfiguration(at: path) == nil)

        let configuration = Management.Configuration(
            id: "c1",
            instances: [Management.Instance(name: "agent-a", host: "127.0.0.1")],
            nodes: [Management.Node(name: "w1", instance: "agent-a", role: .worker, interface: "eth0")]
        )
        var options = ControllerService.Options(webSocket: WebSocketServer.Options(port: 0))
        options.deployedConfigurationFile = path
        options.agents = .remote
        options.nodeToken = "0123456789abcdef0123456789abcdef"
        let service = try ControllerService(options: options)
        service.cluster.controller.options.onDeployed?(configuration)
        #expect(try ControllerService.persistedConfiguration(at: path) == configuration)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)

        try Data("[1, 2".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try ControllerService.persistedConfiguration(at: path)
        } throws: { error in
            guard let error = error as? ControllerServiceError else { return false }
            return error.code == .unreadablePersistedConfiguration && error.message.hasPrefix(path + ": ")
        }
    }

    @Test func aControllerDeploysWhatItWasGivenElseWhatItKept() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let kept = Management.Configuration(id: "kept", instances: [], nodes: [])
        let given = Management.Configuration(id: "given", instances: [], nodes: [])
        var options = ControllerService.Options(webSocket: WebSocketServer.Options(port: 0))
        // Nothing kept yet: nothing to deploy, and the file is where the next deployment goes.
        #expect(try options.keepingDeployments(in: directory, deploying: nil) == nil)
        #expect(options.deployedConfigurationFile == directory + "/deployed-configuration.json")
        try ControllerService.persist(kept, at: directory + "/deployed-configuration.json")
        #expect(try options.keepingDeployments(in: directory, deploying: nil) == kept)
        #expect(try options.keepingDeployments(in: directory, deploying: given) == given)
    }
}

/// How a supervisor's children reach its controller, from the controller's own settings.
@Suite struct ClusterSupervisorConfigurationTests {
    static func configuration(
        _ tls: Cluster.WebSocketTLSOptions,
        token: String? = nil
    ) -> ClusterSupervisor.Configuration {
        var controller = WebSocketServer.Options(host: "127.0.0.1", port: 2149)
        controller.tls = tls
        controller.bearerToken = token
        var configuration = ClusterSupervisor.Configuration(
            executablePath: "/bin/zeekctl",
            stateDirectory: "/state",
            environment: [:],
            instance: "agent-a",
            controller: controller,
            nodeToken: "n",
            nodeTokenFile: "/state/node-token"
        )
        configuration.controllerTokenFile = token == nil ? nil : "/etc/token"
        return configuration
    }

    @Test func plainControllerNeedsNothingButItsAddress() {
        let configuration = Self.configuration(Cluster.WebSocketTLSOptions())
        #expect(configuration.controllerURL == "ws://127.0.0.1:2149/v1/messages/json")
        #expect(configuration.controllerCommandArguments == ["--listen", "127.0.0.1:2149"])
        #expect(configuration.agentAccessArguments.isEmpty)
        #expect(configuration.access == ProcessNodeHost.HubAccess())
    }

    @Test func mutualTLSAndATokenReachEveryChild() {
        let tls = Cluster.WebSocketTLSOptions(
            certFile: "/c.pem",
            keyFile: "/c.key",
            enablePeerVerification: true,
            caFile: "/ca.pem",
            ciphers: "HIGH"
        )
        var configuration = Self.configuration(tls, token: "t")
        #expect(configuration.controllerURL == "wss://127.0.0.1:2149/v1/messages/json")
        #expect(
            configuration.controllerCommandArguments == [
                "--listen", "127.0.0.1:2149", "--tls-certificate", "/c.pem", "--tls-key", "/c.key", "--tls-ca",
                "/ca.pem", "--tls-verify-peer", "--tls-ciphers", "HIGH", "--token-file", "/etc/token",
            ]
        )
        // Without a node certificate they present the controller's own.
        #expect(
            configuration.agentAccessArguments == [
                "--tls-ca", "/ca.pem", "--tls-certificate", "/c.pem", "--tls-key", "/c.key", "--token-file",
                "/etc/token",
            ]
        )
        configuration.nodeCertificate = .init(certificate: "/n.pem", key: "/n.key")
        #expect(configuration.access.certificateFile == "/n.pem")
        #expect(configuration.access.keyFile == "/n.key")
        #expect(configuration.access.bearerToken == "t")
        #expect(configuration.clientOptions.headers.values(for: "Authorization") == ["Bearer t"])
    }
}

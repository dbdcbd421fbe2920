import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite(.timeLimit(.minutes(1))) struct NodeProcessTests {
    static let nodeCfg = """
        [manager]
        type=manager
        host=127.0.0.1

        [proxy-1]
        type=proxy
        host=127.0.0.1

        [worker-1]
        type=worker
        host=127.0.0.1
        interface=eth0

        """

    static let supervised = Supervisor.NodeConfig(
        name: "worker-1",
        cluster: [
            "manager": .init(role: .manager, host: "127.0.0.1", p: Broker.Port(27_761, .tcp)),
            "worker-1": .init(role: .worker, host: "127.0.0.1", p: Broker.Port(27_762, .tcp)),
        ]
    )

    static let loader = LayoutLoader(
        reader: InMemoryLayoutReader([
            "/c/node.cfg": nodeCfg,
            "/run/worker-1.json": Broker.JSON.encode(supervised.brokerValue) + "\n",
            "/run/standalone.json": Broker.JSON.encode(Supervisor.NodeConfig(name: "zeek").brokerValue),
        ])
    )

    static func resolve(
        name: String?,
        layoutFile: String? = nil,
        hub: String = "127.0.0.1:27759",
        environment: [String: String] = [:]
    ) throws -> NodeProcess.Configuration {
        try NodeProcess.Configuration.resolve(
            name: name,
            layoutFile: layoutFile,
            hub: hub,
            environment: environment,
            loader: loader
        )
    }

    @Test func aLayoutFileGivesTheClusterAndTheNameIsChecked() throws {
        let configuration = try Self.resolve(name: "worker-1", layoutFile: "/c/node.cfg")
        #expect(configuration.hubURL == "ws://127.0.0.1:27759/v1/messages/json")
        #expect(configuration.layout.names.contains("worker-1"))
        #expect(configuration.backend.applicationName == "zeekctl-node-worker-1")
        #expect(configuration.backend.reconnect == .standard)
        let fromEnvironment = try Self.resolve(
            name: nil,
            layoutFile: "/c/node.cfg",
            environment: ["CLUSTER_NODE": "proxy-1"]
        )
        #expect(fromEnvironment.name == "proxy-1")
        #expect(throws: NodeProcessError(.unknownNode, "node 'ghost' is not in the layout /c/node.cfg")) {
            try Self.resolve(name: "ghost", layoutFile: "/c/node.cfg")
        }
        #expect(throws: NodeProcessError.self) { try Self.resolve(name: "x", layoutFile: "/c/missing.cfg") }
        #expect(
            throws: NodeProcessError(.missingName, "no node name given and CLUSTER_NODE is not set")
        ) { try Self.resolve(name: nil, layoutFile: "/c/node.cfg") }
    }

    @Test func withoutALayoutTheSupervisedNodeConfigurationGivesTheClusterAndTheName() throws {
        let configuration = try Self.resolve(
            name: nil,
            environment: ["CLUSTERKIT_NODE_CONFIG": "/run/worker-1.json"]
        )
        #expect(configuration.name == "worker-1")
        #expect(configuration.layout == Supervisor.clusterLayout(for: Self.supervised))
        #expect(
            NodeProcess(configuration: configuration).registry.lookup("Cluster::node") == .value(.string("worker-1"))
        )
        #expect(
            throws: NodeProcessError(.unknownNode, "node 'proxy-1' is not in the layout /run/worker-1.json")
        ) { try Self.resolve(name: "proxy-1", environment: ["CLUSTERKIT_NODE_CONFIG": "/run/worker-1.json"]) }
        #expect(
            throws: NodeProcessError(
                .missingLayout,
                "the node configuration has no cluster table",
                location: "/run/standalone.json"
            )
        ) { try Self.resolve(name: nil, environment: ["CLUSTERKIT_NODE_CONFIG": "/run/standalone.json"]) }
        #expect(
            throws: NodeProcessError(.missingLayout, "no layout file given and CLUSTERKIT_NODE_CONFIG is not set")
        ) { try Self.resolve(name: "worker-1") }
        let unreadable = #expect(throws: NodeProcessError.self) {
            try Self.resolve(name: nil, environment: ["CLUSTERKIT_NODE_CONFIG": "/run/none.json"])
        }
        #expect(unreadable?.code == .invalidNodeConfiguration)
    }

    @Test func applicationNamesKeepToZeeksCharacters() {
        #expect(NodeProcess.backendOptions(name: "worker 1/ä").applicationName == "zeekctl-node-worker_1/_")
    }

    @Test func aNodeProcessJoinsAHubAnswersAndEndsWhenStopReturns() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub) { server in
            let configuration = try Self.resolve(
                name: "worker-1",
                layoutFile: "/c/node.cfg",
                hub: "127.0.0.1:\(server.port)"
            )
            let watcher = hub.makeBackend(name: "watcher")
            try await watcher.subscribe(NodeRuntime.API.topic, eventNames: [NodeRuntime.API.notifyNodeHello])
            try await watcher.connect()
            let (stopped, stop) = AsyncStream<Void>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await NodeProcess(configuration: configuration).run(until: { for await _ in stopped {} })
                }
                for try await received in watcher.events {
                    #expect(received.event.arguments == [.string("worker-1")])
                    break
                }
                let report = try await withDispatcher(backend: hub.makeBackend(), protocols: [.managementNode]) {
                    try await $0.getIDValue("Cluster::node", nodes: [DispatchTarget("worker-1")], via: .managementNode)
                }
                #expect(report["worker-1"] == .replied(#""worker-1""#))
                stop.finish()
                try await group.waitForAll()
            }
        }
    }

    /// A free port below Linux's ephemeral range (32768–60999), so that no client socket of a test running meanwhile
    /// takes it as its source port between the hub's two lives.
    static func portBelowTheEphemeralRange() async throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<32_000)
            guard let server = try? WebSocketServer(options: WebSocketServer.Options(port: port)) else { continue }
            await server.shutdown()
            return port
        }
        throw RawPeerError(description: "no free port between 20000 and 32000")
    }

    @Test func aNodeSaysHelloAgainWhenItReconnectsToARestartedHub() async throws {
        let hub = InMemoryBackend.Hub()
        let watcher = hub.makeBackend(name: "watcher")
        try await watcher.subscribe(NodeRuntime.API.topic, eventNames: [NodeRuntime.API.notifyNodeHello])
        try await watcher.connect()
        let port = try await Self.portBelowTheEphemeralRange()
        var configuration = try Self.resolve(name: "worker-1", layoutFile: "/c/node.cfg", hub: "127.0.0.1:\(port)")
        configuration.backend.reconnect = .init(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
        let node = configuration
        let (stopped, stop) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await withAPIServer(hub: hub, configure: { $0.port = port }) { server in
                group.addTask { try await NodeProcess(configuration: node).run(until: { for await _ in stopped {} }) }
                let hello = try await nextEvent(watcher)
                #expect(hello?.event == NodeRuntime.hello("worker-1"))
                await server.shutdown()
            }
            // The same port again: the node finds it on one of its attempts, says hello, and answers.
            try await withAPIServer(hub: hub, configure: { $0.port = port }) { _ in
                let again = try await nextEvent(watcher)
                #expect(again?.event == NodeRuntime.hello("worker-1"))
                let report = try await withDispatcher(backend: hub.makeBackend(), protocols: [.managementNode]) {
                    try await $0.getIDValue("Cluster::node", nodes: [DispatchTarget("worker-1")], via: .managementNode)
                }
                #expect(report["worker-1"] == .replied(#""worker-1""#))
                stop.finish()
                try await group.waitForAll()
            }
        }
    }

    @Test func anUnreachableHubIsTheBackendsError() async throws {
        let refused = try RefusingPort()
        let configuration = try Self.resolve(
            name: "worker-1",
            layoutFile: "/c/node.cfg",
            hub: "127.0.0.1:\(refused.port)"
        )
        await #expect(
            throws: NodeProcessError(
                .hubUnreachable,
                "connection refused",
                location: "ws://127.0.0.1:\(refused.port)/v1/messages/json"
            )
        ) { try await NodeProcess(configuration: configuration).run() }
    }

    // MARK: - Node token

    @Test func theNodeTokenComesFromTheEnvironmentOnly() throws {
        let token = try Self.resolve(
            name: "worker-1",
            layoutFile: "/c/node.cfg",
            environment: [NodeProcess.nodeTokenEnvironmentKey: "sesame"]
        )
        #expect(token.nodeToken == "sesame")
        #expect(try Self.resolve(name: "worker-1", layoutFile: "/c/node.cfg").nodeToken == nil)
        let empty = try Self.resolve(
            name: "worker-1",
            layoutFile: "/c/node.cfg",
            environment: [NodeProcess.nodeTokenEnvironmentKey: ""]
        )
        #expect(empty.nodeToken == nil)
    }

    @Test func theNodeCommandPassesTheTokenInTheEnvironmentNotTheArguments() {
        let launch = NodeLaunch(
            name: "worker-1",
            node: Management.Node(name: "worker-1", instance: "agent-1", role: .worker),
            layout: Cluster.Layout()
        )
        let config = ProcessNodeHost.nodeConfig(for: launch)
        let command = ProcessNodeHost.nodeCommand(
            executablePath: "/bin/zeekctl",
            hubURL: "ws://h",
            nodeToken: "sesame"
        )(
            launch,
            config
        )
        #expect(command.environment == [NodeProcess.nodeTokenEnvironmentKey: "sesame"])
        #expect(!command.arguments.contains { $0.contains("sesame") })
        let plain = ProcessNodeHost.nodeCommand(executablePath: "/bin/zeekctl", hubURL: "ws://h")(launch, config)
        #expect(plain.environment.isEmpty)
        #expect(!plain.arguments.contains("--address"))
        let fromAddress = ProcessNodeHost.nodeCommand(
            executablePath: "/bin/zeekctl",
            hubURL: "ws://h",
            hubAccess: ProcessNodeHost.HubAccess(localAddress: "10.0.0.2")
        )(launch, config)
        #expect(
            fromAddress.arguments.starts(with: [
                "node", "--name", "worker-1", "--hub", "ws://h", "--address", "10.0.0.2",
            ])
        )
    }

    @Test func aNodeProcessWithTheTokenIsANodeAndOneWithoutIsAClient() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub, clientLimit: 0, nodeToken: "sesame") { server in
            let address = "127.0.0.1:\(server.port)"
            // Without the token the node is a client, and there is no room for clients.
            let plain = try Self.resolve(name: "worker-1", layoutFile: "/c/node.cfg", hub: address)
            await #expect(
                throws: NodeProcessError(
                    .hubUnreachable,
                    "handshake rejected: connection_limit: too many clients (limit 0), try again later",
                    location: server.url
                )
            ) { try await NodeProcess(configuration: plain).run() }

            let configuration = try Self.resolve(
                name: "worker-1",
                layoutFile: "/c/node.cfg",
                hub: address,
                environment: [NodeProcess.nodeTokenEnvironmentKey: "sesame"]
            )
            let watcher = hub.makeBackend(name: "watcher")
            try await watcher.subscribe(NodeRuntime.API.topic, eventNames: [NodeRuntime.API.notifyNodeHello])
            try await watcher.connect()
            let (stopped, stop) = AsyncStream<Void>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await NodeProcess(configuration: configuration).run(until: { for await _ in stopped {} })
                }
                // Its hello, which only nodes may publish, comes through, and it answers.
                #expect(try await nextEvent(watcher)?.event == NodeRuntime.hello("worker-1"))
                #expect(server.clients.map(\.isNode) == [true])
                let report = try await withDispatcher(backend: hub.makeBackend(), protocols: [.managementNode]) {
                    try await $0.getIDValue("Cluster::node", nodes: [DispatchTarget("worker-1")], via: .managementNode)
                }
                #expect(report["worker-1"] == .replied(#""worker-1""#))
                stop.finish()
                try await group.waitForAll()
            }
        }
    }
}

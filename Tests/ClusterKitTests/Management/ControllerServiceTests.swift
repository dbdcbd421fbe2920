import Foundation
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct WebSocketAPIURLTests {
    @Test(arguments: [
        ("127.0.0.1:2149", "ws://127.0.0.1:2149/v1/messages/json"),
        ("ws://127.0.0.1:2149", "ws://127.0.0.1:2149/v1/messages/json"),
        ("ws://127.0.0.1:2149/", "ws://127.0.0.1:2149/v1/messages/json"),
        ("WS://host.example:80/v1/messages/json", "ws://host.example:80/v1/messages/json"),
        ("localhost", "ws://localhost:2149/v1/messages/json"),
        ("[::1]:9999", "ws://[::1]:9999/v1/messages/json"),
        ("[::1]", "ws://[::1]:2149/v1/messages/json"),
        ("ws://10.0.0.1:1/other", "ws://10.0.0.1:1/other"),
        ("WSS://host.example", "wss://host.example:2149/v1/messages/json"),
        (" host:1 ", "ws://host:1/v1/messages/json"),
    ])
    func shortFormsAreCompleted(text: String, url: String) throws {
        #expect(try WebSocketAPIServer.url(normalizing: text, defaultPort: 2149) == url)
    }

    @Test(arguments: [
        ("http://h:1", "invalid WebSocket address 'http://h:1': scheme 'http' is not supported (use ws:// or wss://)"),
        (":2149", "invalid WebSocket address ':2149': no host"),
        ("h:0", "invalid WebSocket address 'h:0': port '0' is not a number in 1...65535"),
        ("h:http", "invalid WebSocket address 'h:http': port 'http' is not a number in 1...65535"),
        ("::1:2149", "invalid WebSocket address '::1:2149': write an IPv6 address in brackets, as [::1]:2149"),
        ("[::1", "invalid WebSocket address '[::1': missing ']' after the IPv6 address"),
    ])
    func badAddressesSayWhatIsWrong(text: String, message: String) {
        #expect(throws: WebSocketAPIServer.URLError.self) {
            try WebSocketAPIServer.url(normalizing: text, defaultPort: 2149)
        }
        do {
            _ = try WebSocketAPIServer.url(normalizing: text, defaultPort: 2149)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func portZeroOnlyWhenAllowed() throws {
        #expect(
            try WebSocketAPIServer.url(normalizing: "127.0.0.1:0", defaultPort: 2149, allowsPortZero: true)
                == "ws://127.0.0.1:0/v1/messages/json"
        )
    }
}

@Suite struct ControllerServiceTests {
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
        lb_method=custom
        lb_procs=2
        """

    @Test func aLayoutBecomesOneInstanceWithoutTheControlNode() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("controller-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("node.cfg").path
        try Self.nodeCfg.write(toFile: path, atomically: true, encoding: .utf8)

        let startup = try ControllerService.startupConfiguration(loading: path, hostName: "box")
        let configuration = try #require(startup.configuration)
        #expect(configuration.instances == [Management.Instance(name: "agent-box", host: .ipv4Loopback)])
        #expect(configuration.nodes.map(\.name) == ["manager", "proxy-1", "worker-1-1", "worker-1-2"])
        #expect(configuration.nodes.map(\.role) == [.manager, .proxy, .worker, .worker])
        #expect(configuration.nodes.allSatisfy { $0.instance == "agent-box" })
        let layout = try LayoutLoader().load(path: path).layout
        #expect(configuration.nodes[0].p == layout.nodes.first { $0.name == "manager" }?.node.p)
        #expect(configuration.nodes[2].interface == "eth0")
        #expect(configuration.nodes[3].cpuAffinity == nil)
        // The layout's own ports pass the controller's checks.
        #expect(configuration.controllerErrors().isEmpty)
    }

    @Test func aZeekConfWorkerCapturesOnItsInterface() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("controller-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("zeek.conf").path
        try "[interface a]\ninterface = eth1\nworkers = 2\n\n[interface b]\ninterface = af_packet::eth2\nworkers = 1\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let startup = try ControllerService.startupConfiguration(loading: path, hostName: "box")
        let configuration = try #require(startup.configuration, "\(startup.issues)")
        let workers = configuration.nodes.filter { $0.role == .worker }
        #expect(workers.count == 3)
        #expect(workers.map(\.interface).sorted { ($0 ?? "") < ($1 ?? "") } == ["af_packet::eth2", "eth1", "eth1"])
        #expect(configuration.nodes.filter { $0.role != .worker }.allSatisfy { $0.interface == nil })
    }

    @Test func aLayoutWithErrorsGivesNoConfigurationAndEveryIssue() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("controller-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("node.cfg").path
        try "[worker-1]\ntype=wrker\nhost=127.0.0.1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let startup = try ControllerService.startupConfiguration(loading: path, hostName: "box")
        #expect(startup.configuration == nil)
        #expect(startup.issues.containsErrors)
        #expect(throws: LayoutLoadError.self) {
            try ControllerService.startupConfiguration(loading: directory.path + "/missing.cfg")
        }
    }

    @Test func servesTheControllerAPIOverWebSocketAndStopsOnShutdown() async throws {
        let service = try ControllerService(options: ControllerService.Options(webSocket: .init(port: 0)))
        let configuration = Management.Configuration(
            layout: EmbeddedCluster.example,
            instance: "agent-test",
            id: "cfg-example"
        )
        let ready = AsyncStream<[Management.Result]>.makeStream()
        async let running: Void = service.run(deploying: configuration) { results in
            ready.continuation.yield(results)
        }
        var startup: [Management.Result] = []
        for await results in ready.stream {
            startup = results
            break
        }
        #expect(startup.last?.data == .string("cfg-example"))
        #expect(startup.allSatisfy { $0.success })

        let backend = WebSocketBackend(url: service.url)
        let values = try await withDispatcher(backend: backend, protocols: [.managementController]) { dispatcher in
            try await ControllerClient(dispatcher: dispatcher).getIDValue("Cluster::node")
        }
        #expect(
            Dictionary(uniqueKeysWithValues: values.compactMap { result in result.node.map { ($0, result.data) } })
                == [
                    "logger-1": .string("\"logger-1\""), "manager": .string("\"manager\""),
                    "proxy-1": .string("\"proxy-1\""), "worker-1": .string("\"worker-1\""),
                    "worker-2": .string("\"worker-2\""),
                ]
        )
        await backend.close()
        await service.shutdown()
        try await running
    }
}

extension ControllerServiceTests {
    // MARK: - Who may connect

    @Test(arguments: ["0.0.0.0", "::", "[::]", "10.0.0.1", "192.0.2.1", "::ffff:10.0.0.1", "example.com", ""])
    func nonLoopbackAddressesAreRefusedUnlessAllowed(host: String) throws {
        #expect(!ControllerService.isLoopback(host))
        let error = try #require(throws: ControllerServiceError.self) {
            try ControllerService(options: ControllerService.Options(webSocket: .init(host: host, port: 0)))
        }
        #expect(error.code == .remoteClientsNotAllowed)
        #expect(
            error.description
                == "refusing to listen on '\(host)': not a loopback address, and remote clients are not allowed "
                + "(anyone who can connect can run processes as this user)"
        )
    }

    @Test(arguments: ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1", "localhost", "LocalHost"])
    func loopbackAddressesAreAllowed(host: String) {
        #expect(ControllerService.isLoopback(host))
    }

    @Test func theOptInLetsAnyAddressThrough() throws {
        // 192.0.2.1 (TEST-NET-1) is no address of this machine: the opt-in gets past the check, and binding fails.
        var options = ControllerService.Options(webSocket: .init(host: "192.0.2.1", port: 0))
        options.allowsRemoteClients = true
        #expect(throws: WebSocketError.self) { try ControllerService(options: options) }
    }

    // MARK: - The log

    @Test func everyLineTheServiceLogsIsOneLine() async throws {
        let lines = Observed<[String]>([])
        let log: @Sendable (String) -> Void = { line in lines.update { $0.append(line) } }
        let service = try ControllerService(
            options: ControllerService.Options(
                webSocket: .init(port: 0),
                controller: Controller.Options(log: log),
                connectionLog: log
            )
        )
        async let running: Void = service.run()
        let connection = try await WebSocketClient.connect(to: service.url)
        try await connection.send(text: #"["zeek/management/controller", "x\n\u001b[2Jforged line"]"#)
        _ = try await connection.receive()
        let request = Broker.Event(ControllerAPI.getInstancesRequest, [.string("id\nrx deploy_request \u{1b}[31m")])
        try await connection.send(
            text: String(
                decoding: BrokerJSONEncoder.dataMessage(request, topic: ControllerAPI.topic.name),
                as: UTF8.self
            )
        )
        try await lines.wait(for: "the response") { $0.contains { $0.hasPrefix("tx get_instances_response") } }
        await connection.close(code: .normalClosure, reason: "")
        try await lines.wait(for: "the client leaving") { $0.contains { $0.contains(" gone with ") } }
        await service.shutdown()
        try await running
        let logged = lines.value
        #expect(
            logged.contains { $0.hasSuffix(#"subscribed to [x\n\u{1b}[2Jforged line, zeek/management/controller]"#) }
        )
        #expect(logged.contains(#"rx get_instances_request id\nrx deploy_request \u{1b}[31m"#))
        for line in logged {
            #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(line)")
        }
    }
}

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:0", "127.0.0.1", 0), ("2150", "127.0.0.1", 2150), (":2150", "127.0.0.1", 2150),
        ("0.0.0.0", "0.0.0.0", 2149), ("[::1]:9", "::1", 9),
    ])
    func addressesBecomeServerOptions(text: String, host: String, port: Int) throws {
        let options = try WebSocketAPIServer.listenOptions(text, defaultPort: 2149)
        #expect(options.host == host)
        #expect(options.port == port)
    }

    @Test func aPathOrABadPortIsRefused() {
        #expect(throws: WebSocketAPIServer.URLError.self) {
            try WebSocketAPIServer.listenOptions("ws://127.0.0.1:1/x", defaultPort: 2149)
        }
        #expect(throws: WebSocketAPIServer.URLError.self) {
            try WebSocketAPIServer.listenOptions("127.0.0.1:99999", defaultPort: 2149)
        }
    }
}

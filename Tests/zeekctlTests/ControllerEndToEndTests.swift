import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `zeekctl controller` process on a free port, stopped (SIGTERM, bounded) when the test is done.
struct RunningController: Sendable {
    let process: ChildProcess
    let url: String
    let port: Int

    /// Starts the built binary with `controller --listen 127.0.0.1:0` (or `listen`) and `arguments`, and waits for
    /// its `listening on URL` line.
    static func start(
        _ arguments: [String] = [],
        currentDirectory: String? = nil,
        listen: String = "127.0.0.1:0"
    ) async throws -> RunningController {
        var words = ["controller", "--listen", listen] + arguments
        if let currentDirectory { words = words.map { $0 == "@dir" ? currentDirectory : $0 } }
        let process = try ChildProcess(ZeekctlBinary.path, words)
        guard let line = await process.firstLine(where: { $0.hasPrefix("listening on ") }) else {
            await process.terminate(signal: SIGKILL)
            throw ChildProcess.SpawnError(description: "controller did not start: \(process.errorOutput)")
        }
        let url = String(line.dropFirst("listening on ".count))
        let port = Int(url.split(separator: ":").last?.split(separator: "/").first ?? "") ?? 0
        return RunningController(process: process, url: url, port: port)
    }

    /// Stops it with SIGTERM and returns its exit status (`nil` when it had to be killed).
    @discardableResult
    func stop() async -> Int32? { await process.terminate() }
}

/// Runs `body` with a controller and always stops it.
func withController<T>(
    _ arguments: [String] = [],
    _ body: (RunningController) async throws -> T
) async throws -> T {
    let controller = try await RunningController.start(arguments)
    do {
        let value = try await body(controller)
        await controller.stop()
        return value
    } catch {
        await controller.stop()
        throw error
    }
}

/// `zeekctl controller` as a process, driven by `zeekctl` itself and by plain WebSocket clients.
@Suite(.timeLimit(.minutes(2))) struct ControllerEndToEndTests {
    @Test func sigtermClosesEveryConnectionWith1001AndExitsZero() async throws {
        let controller = try await RunningController.start()
        let connection = try await WebSocketClient.connect(to: controller.url)
        try await connection.send(text: "[\"zeek/management/controller\"]")
        let ack = try await connection.receive()
        #expect(ack.map { "\($0)" }?.contains("ack") == true)
        #expect(await controller.stop() == 0)
        // The close frame came before the process ended; receive gives nil for a clean 1001.
        #expect(try await connection.receive() == nil)
        #expect(connection.closeInfo?.code == .goingAway)
        #expect(controller.process.output.last == "stopping on SIGTERM")
    }

    @Test func dispatchThroughTheControllerMatchesTheEmbeddedRun() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let embedded = try await BinaryRunner.run(
                ["dispatch", "get_id_value", "Cluster::node", "--layout", "node.cfg"],
                currentDirectory: directory
            )
            #expect(embedded.status == 0, "\(embedded.error)")
            try await withController(["--layout", directory + "/node.cfg", "--verbose"]) { controller in
                #expect(controller.process.output.contains { $0.hasPrefix("deployed configuration ") })
                let address = "127.0.0.1:\(controller.port)"
                let remote = try await BinaryRunner.run(
                    ["dispatch", "get_id_value", "Cluster::node", "--controller", address]
                )
                #expect(remote.status == 0, "\(remote.error)")
                // Same nodes, types, values and order as the embedded cluster (minus ZeekControl's
                // control node, which no agent runs).
                #expect(remote.output == embedded.output)

                let partial = try await BinaryRunner.run(
                    [
                        "dispatch", "get_id_value", "Cluster::node", "--controller", "ws://" + address, "--nodes",
                        "manager,nosuch", "--format", "json",
                    ]
                )
                #expect(partial.status == 2)
                // --verbose: one line per client and per request.
                let log = controller.process.output
                #expect(
                    log.contains { $0.contains("application_name=zeekctl subscribed to [zeek/management/controller]") }
                )
                #expect(log.contains { $0.hasPrefix("rx get_id_value_request ") })
                #expect(log.contains { $0.hasPrefix("tx get_id_value_response ") })
                let document = try JSONValue.parse(partial.output)
                #expect(document["results"] == .object(["manager": .string("manager")]))
                #expect(
                    document["errors"]
                        == .array([.object(["error": .string("unknown cluster node"), "source": .string("nosuch")])])
                )
            }
        }
    }

    @Test func dispatchStraightToTheNodesOverTheControllersWebSocketAPI() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withController(["--layout", directory + "/node.cfg"]) { controller in
                let address = "127.0.0.1:\(controller.port)"
                // Control framework (ZeekControl's print): fmt("%s") text, so strings are unquoted.
                let control = try await BinaryRunner.run(
                    ["dispatch", "get_id_value", "Cluster::node", "--websocket", address, "--layout", "node.cfg"],
                    currentDirectory: directory
                )
                #expect(control.status == 0, "\(control.error)")
                let rows = control.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
                #expect(rows.contains(["manager", "manager", "manager"]))
                #expect(rows.contains(["worker-1-2", "worker", "worker-1-2"]))
                let management = try await BinaryRunner.run(
                    [
                        "dispatch", "get_id_value", "Cluster::node", "--websocket", address, "--layout", "node.cfg",
                        "--protocol", "management", "--format", "json", "--nodes", "worker-1-1,ghost",
                    ],
                    currentDirectory: directory
                )
                #expect(management.status == 2)
                let document = try JSONValue.parse(management.output)
                #expect(document["results"] == .object(["worker-1-1": .string("worker-1-1")]))
                #expect(
                    document["errors"]
                        == .array([.object(["error": .string("unknown cluster node"), "source": .string("ghost")])])
                )
            }
        }
    }

    @Test func startupRefusesALayoutWithErrorsAndABusyPort() async throws {
        try await withTemporaryDirectory { directory in
            try write(
                "[manager]\ntype=manager\nhost=127.0.0.1\n[worker-1]\ntype=wrker\n",
                to: "node.cfg",
                in: directory
            )
            let bad = try await BinaryRunner.run(["controller", "--layout", "node.cfg"], currentDirectory: directory)
            #expect(bad.status == 1)
            #expect(bad.error.contains("node.cfg:5: error: "))
            #expect(bad.error.contains("not starting: the configuration has errors"))
        }
        try await withController { controller in
            let busy = try await BinaryRunner.run(["controller", "--listen", "127.0.0.1:\(controller.port)"])
            #expect(busy.status == 1)
            #expect(busy.error.contains("127.0.0.1:\(controller.port)"))
        }
        let usage = try await BinaryRunner.run(["controller", "--listen", "127.0.0.1:99999"])
        #expect(usage.status == 64)
        #expect(usage.error.contains("'--listen'"))
        let refused = try await BinaryRunner.run(
            ["dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:1"]
        )
        #expect(refused.status == 1)
        #expect(refused.error == "error: ws://127.0.0.1:1/v1/messages/json: connection refused\n")
    }
}

/// The real `zeek-client` 1.5.0 against `zeekctl controller`: every command, with PROTOCOL.md §6.5's shapes
/// and exit codes.
@Suite(.enabled(if: ZeekClient.path != nil), .timeLimit(.minutes(2)))
struct ControllerZeekClientTests {
    static let ini = """
        [instances]
        agent-1

        [manager]
        instance = agent-1
        role = manager
        port = 5000

        [logger-1]
        instance = agent-1
        role = logger

        [worker-1]
        instance = agent-1
        role = worker
        interface = lo
        """

    func json(_ run: ZeekctlBinary.Run) throws -> JSONValue { try JSONValue.parse(run.output) }

    @Test func anEmptyControllerAnswersWithZeeksErrors() async throws {
        try await withController { controller in
            let nodes = try await ZeekClient.run(["get-nodes"], port: controller.port)
            #expect(nodes.status == 1)
            #expect(
                try json(nodes)
                    == .object([
                        "errors": .array([.object(["error": .string("no instances connected"), "source": .null])]),
                        "results": .object([:]),
                    ])
            )
            let instances = try await ZeekClient.run(["get-instances"], port: controller.port)
            #expect(instances.status == 0)
            #expect(try json(instances) == .object([:]))
            let value = try await ZeekClient.run(["get-id-value", "Cluster::node"], port: controller.port)
            #expect(value.status == 1)
            #expect(
                try json(value)["errors"]
                    == .array([.object(["error": .string("no cluster deployed"), "source": .null])])
            )
            let staged = try await ZeekClient.run(["get-config"], port: controller.port)
            #expect(staged.status == 1)
            #expect(staged.error.contains("error: no staged configuration available"))
            let deploy = try await ZeekClient.run(["deploy"], port: controller.port)
            #expect(deploy.status == 1)
            #expect(deploy.output.contains("no configuration available to deploy"))
            let restart = try await ZeekClient.run(["restart"], port: controller.port)
            #expect(restart.status == 1)
            #expect(restart.output.contains("no instances connected"))
        }
    }

    @Test func stageDeployReadAndRestartAsZeekClientExpects() async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.ini, to: "cluster.ini", in: directory)
            try await withController { controller in
                let port = controller.port
                let stage = try await ZeekClient.run(["stage-config", directory + "/cluster.ini"], port: port)
                #expect(stage.status == 0, "\(stage.error)")
                let stagedID = try json(stage)["results"]?["id"]
                #expect(try json(stage)["errors"] == .array([]))

                let staged = try await ZeekClient.run(["get-config"], port: port)
                #expect(staged.status == 0)
                #expect(
                    staged.output == """
                        [instances]
                        agent-1

                        [logger-1]
                        instance = agent-1
                        role = LOGGER

                        [manager]
                        instance = agent-1
                        role = MANAGER
                        port = 5000

                        [worker-1]
                        instance = agent-1
                        role = WORKER
                        interface = lo


                        """
                )

                let deploy = try await ZeekClient.run(["deploy"], port: port)
                #expect(deploy.status == 0, "\(deploy.output)\(deploy.error)")
                let deployed = try json(deploy)
                #expect(deployed["results"]?["id"] == stagedID)
                #expect(deployed["results"]?["nodes"]?["worker-1"]?["success"] == .bool(true))

                let asJSON = try await ZeekClient.run(["get-config", "--deployed", "--as-json"], port: port)
                #expect(asJSON.status == 0)
                let configuration = try json(asJSON)
                #expect(configuration["id"] == stagedID)
                // Deployed: ports assigned by the controller from 2200/tcp, metrics ports from 9000/tcp.
                let nodes = configuration["nodes"]?.arrayValue ?? []
                #expect(nodes.map { $0["name"] } == [.string("logger-1"), .string("manager"), .string("worker-1")])
                #expect(nodes.map { $0["port"] } == [.integer(2200), .integer(5000), .null])

                let instances = try await ZeekClient.run(["get-instances"], port: port)
                #expect(try json(instances)["agent-1"] != nil)

                let status = try await ZeekClient.run(["get-nodes"], port: port)
                #expect(status.status == 0)
                let agent = try json(status)["results"]?["agent-1"]
                #expect(agent?["manager"]?["cluster_role"] == .string("MANAGER"))
                #expect(agent?["manager"]?["state"] == .string("RUNNING"))
                #expect(agent?["agent-1"]?["mgmt_role"] == .string("AGENT"))

                let some = try await ZeekClient.run(["get-id-value", "Cluster::node", "manager", "nosuch"], port: port)
                #expect(some.status == 1)
                #expect(try json(some)["results"] == .object(["manager": .string("manager")]))
                #expect(
                    try json(some)["errors"]
                        == .array([.object(["error": .string("unknown cluster node"), "source": .string("nosuch")])])
                )
                let unknown = try await ZeekClient.run(["get-id-value", "No::such_id", "worker-1"], port: port)
                #expect(unknown.status == 1)
                #expect(
                    try json(unknown)["errors"]
                        == .array([.object(["error": .string("unknown id"), "source": .string("worker-1")])])
                )

                let restart = try await ZeekClient.run(["restart", "worker-1"], port: port)
                #expect(restart.status == 0, "\(restart.output)")
                #expect(try json(restart)["results"] == .object(["worker-1": .bool(true)]))
                let restartUnknown = try await ZeekClient.run(["restart", "nosuch"], port: port)
                #expect(restartUnknown.status == 1)
                #expect(restartUnknown.output.contains("unknown cluster node"))

                // zeekctl and zeek-client print the same document for the same request.
                let ours = try await BinaryRunner.run(
                    [
                        "dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(port)", "--format",
                        "json",
                    ]
                )
                let theirs = try await ZeekClient.run(["get-id-value", "Cluster::node"], port: port)
                #expect(ours.status == 0 && theirs.status == 0)
                #expect(try JSONValue.parse(ours.output) == json(theirs))
            }
        }
    }

    @Test func deployConfigReplacesTheClusterAndTestTimeoutTimesOut() async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.ini, to: "cluster.ini", in: directory)
            try write(
                "[instances]\nagent-1\n\n[solo]\ninstance = agent-1\nrole = manager\n",
                to: "solo.ini",
                in: directory
            )
            try await withController(["--config", directory + "/cluster.ini"]) { controller in
                let port = controller.port
                let before = try await ZeekClient.run(["get-id-value", "Cluster::node"], port: port)
                #expect(try json(before)["results"]?.objectMembers?.map(\.key) == ["logger-1", "manager", "worker-1"])

                let deploy = try await ZeekClient.run(["deploy-config", directory + "/solo.ini"], port: port)
                #expect(deploy.status == 0, "\(deploy.output)\(deploy.error)")
                let after = try await ZeekClient.run(["get-id-value", "Cluster::node"], port: port)
                #expect(
                    try json(after) == .object(["errors": .array([]), "results": .object(["solo": .string("solo")])])
                )

                let timeout = try await ZeekClient.run(["test-timeout", "--with-state"], port: port)
                #expect(timeout.status == 0)
                #expect(try json(timeout) == .object(["error": .string("request timed out"), "success": .bool(false)]))
            }
        }
    }
}

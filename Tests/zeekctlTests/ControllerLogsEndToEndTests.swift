import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl controller --log-dir`: the management and cluster logs in Zeek's ASCII and JSON formats, as the
/// built binary writes them.
@Suite(.timeLimit(.minutes(3))) struct ControllerLogsEndToEndTests {
    /// The files of a log directory, sorted.
    func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    @Test func asciiLogsAreZeeksAndCloseWhenTheControllerStops() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let logs = directory + "/logs"
            let controller = try await RunningController.start([
                "--layout", directory + "/node.cfg", "--log-dir", logs, "--log-level", "debug",
            ])
            let dispatch = try await BinaryRunner.run(
                ["dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(controller.port)"]
            )
            #expect(dispatch.status == 0, "\(dispatch.error)")
            #expect(await controller.stop() == 0)
            #expect(controller.process.errorOutput.isEmpty, "\(controller.process.errorOutput)")

            let names = files(in: logs)
            #expect(names.contains("cluster.log"))
            #expect(names.contains("management-controller.log"))
            let agentFile = try #require(names.first { $0.hasPrefix("management-agent-") })

            let management = try ZeekASCIILog.read(logs + "/management-controller.log")
            #expect(management.path == "management-controller")
            #expect(management.fields == ["ts", "node", "level", "role", "message"])
            #expect(management.types == ["time", "string", "string", "string", "string"])
            #expect(management.open.wholeMatch(of: /\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d/) != nil)
            #expect(management.close?.wholeMatch(of: /\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d/) != nil)
            #expect(management.rows.allSatisfy { $0["ts"]?.wholeMatch(of: /\d+\.\d{6}/) != nil })
            #expect(management.rows.allSatisfy { $0["node"] == "controller" && $0["role"] == "CONTROLLER" })
            let messages = management.rows.compactMap { $0["message"] }
            #expect(messages.first?.hasPrefix("controller is live, Broker ID ") == true)
            #expect(messages.contains { $0.hasPrefix("rx Management::Controller::API::get_id_value_request ") })
            #expect(messages.contains { $0.hasPrefix("tx Management::Controller::API::get_id_value_response ") })
            #expect(messages.contains { $0.hasPrefix("rx Management::Agent::API::node_dispatch_response ") })

            let agent = try ZeekASCIILog.read(logs + "/" + agentFile)
            #expect(agent.path == String(agentFile.dropLast(".log".count)))
            #expect(agent.rows.allSatisfy { $0["role"] == "AGENT" && $0["level"] == "INFO" })
            #expect(agent.rows.contains { $0["message"] == "rx Management::Node::API::notify_node_hello manager" })
            #expect(
                agent.rows.contains {
                    $0["message"]?.hasPrefix("tx Management::Node::API::node_dispatch_request ") == true
                }
            )
            #expect(agent.close != nil)

            let cluster = try ZeekASCIILog.read(logs + "/cluster.log")
            #expect(cluster.path == "cluster")
            #expect(cluster.fields == ["ts", "node", "message"])
            #expect(cluster.types == ["time", "string", "string"])
            let lines = cluster.rows.compactMap { $0["message"] }
            #expect(
                lines.contains { $0.hasSuffix(" application_name=zeekctl subscribed to [zeek/management/controller]") }
            )
            #expect(lines.contains { $0.contains(" application_name=zeekctl gone with code ") })
            // Membership as the hub sees it: every node said hello.
            for node in ["manager", "logger-1", "proxy-1", "worker-1-1", "worker-1-2"] {
                #expect(lines.contains { $0.hasPrefix("got hello from \(node) (") }, "\(lines)")
            }
            #expect(cluster.close != nil)
        }
    }

    @Test func jsonLogsGoToTheStateDirectory() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let state = directory + "/state"
            let controller = try await RunningController.start([
                "--layout", directory + "/node.cfg", "--processes", "--state-dir", state, "--log-format", "json",
            ])
            let dispatch = try await BinaryRunner.run(
                ["dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(controller.port)"]
            )
            #expect(dispatch.status == 0, "\(dispatch.error)")
            #expect(await controller.stop() == 0)
            let names = files(in: state).filter { $0.hasSuffix(".log") }
            #expect(names.count == 3, "\(names)")
            for name in names {
                let text = try String(contentsOfFile: state + "/" + name, encoding: .utf8)
                #expect(!text.isEmpty && text.hasSuffix("\n"))
                for line in text.split(separator: "\n") {
                    #expect(line.hasPrefix("{\"ts\":"))
                    let document = try JSONValue.parse(String(line))
                    guard case .double? = document["ts"] else {
                        Issue.record("ts is no number: \(line)")
                        continue
                    }
                    let keys = name == "cluster.log" ? ["node", "message"] : ["node", "level", "role", "message"]
                    for key in keys { #expect(document[key]?.stringValue != nil, "\(key) in \(line)") }
                }
            }
            let agentLog = try #require(names.first { $0.hasPrefix("management-agent-") })
            let agent = try String(contentsOfFile: state + "/" + agentLog, encoding: .utf8)
            #expect(
                agent.contains(#""role":"AGENT","message":"rx Management::Node::API::notify_node_hello worker-1-1"}"#)
            )
        }
    }

    @Test func anUnwritableLogIsReportedOnceAndTheControllerGoesOn() async throws {
        try await withTemporaryDirectory { directory in
            let logs = directory + "/logs"
            // A directory where cluster.log should be: it cannot be opened.
            try FileManager.default.createDirectory(atPath: logs + "/cluster.log", withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: logs)
            let controller = try await RunningController.start(["--log-dir", logs])
            for _ in 0..<2 {
                let instances = try await BinaryRunner.run(
                    ["dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(controller.port)"]
                )
                // No cluster deployed: the controller answers all the same.
                #expect(instances.status == 1)
                #expect(instances.output.contains("no cluster deployed"), "\(instances.output)")
            }
            #expect(await controller.stop() == 0)
            let errors = controller.process.errorOutput.split(separator: "\n")
            #expect(
                errors == ["error: \(logs)/cluster.log: cannot open: Is a directory; its lines are dropped"],
                "\(errors)"
            )
            let management = try ZeekASCIILog.read(logs + "/management-controller.log")
            #expect(management.rows.contains { $0["message"]?.hasPrefix("rx Management::Controller::API::") == true })
        }
    }

    @Test func aNodeWritesItsClusterLogAsOthersComeAndGo() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let logs = directory + "/manager-logs"
            try await withHub { fixture in
                let hub = "127.0.0.1:\(fixture.server.port)"
                let manager = try BackgroundBinary([
                    "node", "--name", "manager", "--layout", directory + "/node.cfg", "--hub", hub, "--log-dir", logs,
                ])
                _ = try await fixture.waitForHellos(["manager"])
                let worker = try BackgroundBinary([
                    "node", "--name", "worker-1-1", "--layout", directory + "/node.cfg", "--hub", hub,
                ])
                _ = try await fixture.waitForHellos(["worker-1-1"])
                worker.send(SIGTERM)
                #expect(try await worker.waitForExit(timeout: .seconds(10)).status == 0)
                // Lines reach the file within a second (the flush interval).
                let deadline = ContinuousClock.now.advanced(by: .seconds(15))
                while ContinuousClock.now < deadline {
                    let text = (try? String(contentsOfFile: logs + "/cluster.log", encoding: .utf8)) ?? ""
                    if text.contains("\tnode down: worker-1-1\n") { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                manager.send(SIGTERM)
                let exit = try await manager.waitForExit(timeout: .seconds(10))
                #expect(exit.status == 0)
                #expect(!exit.error.contains("error:"), "\(exit.error)")
            }
            let cluster = try ZeekASCIILog.read(logs + "/cluster.log")
            #expect(cluster.path == "cluster")
            #expect(cluster.close != nil)
            #expect(cluster.rows.allSatisfy { $0["node"] == "manager" })
            let messages = cluster.rows.compactMap { $0["message"] }
            #expect(messages.contains { $0.hasPrefix("got hello from worker-1-1 (") && $0.hasSuffix(")") })
            #expect(messages.contains("node down: worker-1-1"))
        }
    }

    @Test(.enabled(if: ZeekClient.path != nil)) func anAgentProcessWritesItsManagementLog() async throws {
        try await withTemporaryDirectory { directory in
            try write(
                "[instances]\nagent-a\n\n[manager]\ninstance = agent-a\nrole = manager\n",
                to: "c.ini",
                in: directory
            )
            try write("0123456789abcdef0123456789abcdef", to: "node-token", in: directory)
            chmod(directory + "/node-token", 0o600)
            let logs = directory + "/controller-logs"
            let controller = try await RunningController.start([
                "--agents", "remote", "--node-token-file", directory + "/node-token", "--log-dir", logs,
            ])
            let agent = try BackgroundBinary([
                "agent", "--name", "agent-a", "--controller", controller.url, "--node-token-file",
                directory + "/node-token", "--state-dir", directory + "/agent-a", "--log-format", "json",
            ])
            let deployed = try await ZeekClient.run(["deploy-config", directory + "/c.ini"], port: controller.port)
            #expect(deployed.status == 0, "\(deployed.output) \(deployed.error)")
            agent.send(SIGTERM)
            #expect(try await agent.waitForExit(timeout: .seconds(30)).status == 0)
            #expect(await controller.stop() == 0)

            let agentLog = try String(contentsOfFile: directory + "/agent-a/management-agent-a.log", encoding: .utf8)
            let lines = agentLog.split(separator: "\n").map { try? JSONValue.parse(String($0)) }
            #expect(lines.allSatisfy { $0?["role"] == .string("AGENT") && $0?["node"] == .string("agent-a") })
            let messages = lines.compactMap { $0?["message"]?.stringValue }
            #expect(messages.first?.hasPrefix("agent is live, Broker ID ") == true)
            #expect(messages.contains { $0.hasPrefix("rx Management::Agent::API::deploy_request ") })
            #expect(messages.contains("rx Management::Node::API::notify_node_hello manager"))

            let management = try ZeekASCIILog.read(logs + "/management-controller.log")
            #expect(
                management.rows.contains {
                    $0["message"]?.hasPrefix("rx Management::Agent::API::notify_agent_hello agent-a ") == true
                }
            )
            #expect(
                management.rows.contains {
                    $0["message"]?.hasPrefix("tx Management::Agent::API::deploy_request ") == true
                }
            )
        }
    }

    @Test(arguments: [
        (
            ["--log-dir", "x", "--log-format", "xml"],
            "invalid value 'xml' for '--log-format' (expected 'ascii', 'json')"
        ),
        (["--log-dir", "x", "--log-level", "verbose"], "invalid value 'verbose' for '--log-level'"),
        (["--log-level", "debug"], "'--log-format' and '--log-level' need '--log-dir' (or '--state-dir')"),
    ])
    func badLogOptionsAreUsageErrors(arguments: [String], message: String) async throws {
        let run = try await BinaryRunner.run(["controller", "--listen", "127.0.0.1:0"] + arguments)
        #expect(run.status == 64)
        #expect(run.error.contains(message), "\(run.error)")
    }

    @Test func aNodeLogFormatNeedsALogDirectory() async throws {
        let run = try await BinaryRunner.run(["node", "--name", "m", "--hub", "127.0.0.1:1", "--log-format", "json"])
        #expect(run.status == 64)
        #expect(run.error.contains("'--log-format' needs '--log-dir'"), "\(run.error)")
    }
}

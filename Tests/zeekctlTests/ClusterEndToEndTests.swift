import ClusterKit
import Foundation
import Testing
import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// `zeekctl controller --processes` and `zeekctl cluster start|status|stop` with real node processes.
@Suite(.timeLimit(.minutes(2))) struct ClusterEndToEndTests {
    /// A free loopback port (bound, read, released): good enough for a start that is checked.
    static func freePort() async throws -> Int {
        let server = try WebSocketServer(options: WebSocketServer.Options(port: 0))
        let port = server.port
        await server.shutdown()
        return port
    }

    static func statusJSON(_ port: Int) async throws -> JSONValue {
        let run = try await BinaryRunner.run(
            ["cluster", "status", "--controller", "127.0.0.1:\(port)", "--format", "json"]
        )
        #expect(run.status == 0, "\(run.error)")
        return try JSONValue.parse(run.output)
    }

    /// The supervisor's pid from `cluster start`'s output (`supervisor pid N, controller listening on …`).
    static func controllerPID(_ output: String) -> Int? {
        guard let range = output.range(of: "supervisor pid ") else { return nil }
        return Int(output[range.upperBound...].prefix { $0.isNumber })
    }

    static func pid(_ document: JSONValue, _ node: String) -> Int32? {
        guard case .integer(let pid)? = document["nodes"]?[node]?["pid"] else { return nil }
        return Int32(pid)
    }

    @Test func startStatusDispatchAndStopLeaveNoProcess() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let port = try await Self.freePort()
            let start = try await BinaryRunner.run(
                ["cluster", "start", "--listen", "127.0.0.1:\(port)", "--state-dir", directory + "/state"],
                currentDirectory: directory
            )
            try #require(start.status == 0, "\(start.output)\(start.error)")
            // Should an expectation below throw before the stop, the controller does not outlive the test.
            let controllerPID = try #require(Self.controllerPID(start.output))
            defer { if LocalCluster.processExists(controllerPID) { kill(pid_t(controllerPID), SIGTERM) } }
            #expect(start.output.hasPrefix("deployed configuration "))
            let status = try await Self.statusJSON(port)
            let names = status["nodes"]?.objectMembers?.map(\.key) ?? []
            #expect(names == ["logger-1", "manager", "proxy-1", "worker-1-1", "worker-1-2"])
            var pids: [Int32] = []
            for name in names {
                let node = status["nodes"]?[name]
                #expect(node?["state"] == .string("RUNNING"))
                #expect(node?["restarts"] == .integer(0))
                #expect(node?["port"] != .null)
                if case .double(let uptime)? = node?["uptime"] { #expect(uptime >= 0) } else { Issue.record("uptime") }
                let pid = try #require(Self.pid(status, name))
                #expect(kill(pid, 0) == 0)
                pids.append(pid)
            }
            #expect(status["nodes"]?["manager"]?["type"] == .string("manager"))

            let table = try await BinaryRunner.run(["cluster", "status", "--controller", "ws://127.0.0.1:\(port)"])
            #expect(table.output.hasPrefix("NODE        TYPE     STATE    PID"))

            let values = try await BinaryRunner.run(
                ["dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(port)", "--format", "json"]
            )
            #expect(values.status == 0, "\(values.error)")
            #expect(try JSONValue.parse(values.output)["results"]?["worker-1-2"] == .string("worker-1-2"))

            let stop = try await BinaryRunner.run(["cluster", "stop", "--controller", "127.0.0.1:\(port)"])
            #expect(stop.status == 0, "\(stop.error)")
            #expect(stop.output == "stopped the controller and 5 node processes\n")
            for pid in pids { #expect(!LocalCluster.processExists(Int(pid)), "pid \(pid) left") }
            let after = try await BinaryRunner.run(["cluster", "status", "--controller", "127.0.0.1:\(port)"])
            #expect(after.status == 1)
            #expect(after.error.contains("connection refused"))
        }
    }

    @Test func aKilledNodeIsNamedThenRevivedWithItsRestartCounted() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withController(["--processes", "--layout", directory + "/node.cfg"]) { controller in
                let before = try await Self.statusJSON(controller.port)
                let victim = try #require(Self.pid(before, "worker-1-1"))
                // Stopped first, so that the supervisor's revival (1 s after an exit) cannot bring it back before
                // the request goes out on a loaded machine: the request names the silent node and keeps the others'
                // values. Then killed, and revived.
                kill(victim, SIGSTOP)
                let partial = try await BinaryRunner.run(
                    [
                        "dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(controller.port)",
                        "--format", "json",
                    ]
                )
                kill(victim, SIGKILL)
                let document = try JSONValue.parse(partial.output)
                #expect(partial.status == 2, "\(partial.output)")
                #expect(document["results"]?["manager"] == .string("manager"))
                #expect(document["results"]?["worker-1-1"] == nil)
                #expect(partial.output.contains("worker-1-1"))

                // Revived by the supervisor (1 s back-off): a new pid, one restart, and answers again.
                let clock = ContinuousClock()
                let deadline = clock.now.advanced(by: .seconds(30))
                var revived: JSONValue?
                while clock.now < deadline {
                    let status = try await Self.statusJSON(controller.port)
                    if let pid = Self.pid(status, "worker-1-1"), pid != victim,
                        status["nodes"]?["worker-1-1"]?["state"] == .string("RUNNING")
                    {
                        revived = status
                        break
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let status = try #require(revived, "worker-1-1 was not revived")
                #expect(status["nodes"]?["worker-1-1"]?["restarts"] == .integer(1))
                #expect(status["nodes"]?["manager"]?["restarts"] == .integer(0))
                let again = try await BinaryRunner.run(
                    ["dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(controller.port)"]
                )
                #expect(again.status == 0, "\(again.output)\(again.error)")
            }
        }
    }

    @Test func aDispatchRightAfterANodeDiesNamesItAtOnceAndReportsTheOthers() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withController(["--processes", "--layout", directory + "/node.cfg"]) { controller in
                // Killed twice in a row: the first revival comes at once (the node had been up for over a second),
                // the second waits a second from the revival, Zeek's back-off. In that second the supervisor knows
                // the node is down, and a dispatch is answered for it at once. Tried up to three times, in case a
                // loaded machine lets the second revival come before the dispatch.
                let clock = ContinuousClock()
                var answered: (status: Int32, output: String, error: String)?
                for _ in 0..<3 {
                    let before = try await Self.statusJSON(controller.port)
                    let first = try #require(Self.pid(before, "worker-1-1"))
                    kill(first, SIGKILL)
                    let deadline = clock.now.advanced(by: .seconds(20))
                    var second: Int32?
                    while clock.now < deadline {
                        if let pid = Self.pid(try await Self.statusJSON(controller.port), "worker-1-1"), pid != first {
                            second = pid
                            break
                        }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    kill(try #require(second, "worker-1-1 was not revived"), SIGKILL)
                    let start = clock.now
                    let run = try await BinaryRunner.run(
                        [
                            "dispatch", "get_id_value", "Cluster::node", "--controller",
                            "127.0.0.1:\(controller.port)", "--timeout", "0.5",
                        ]
                    )
                    if run.output.contains("is not running") || run.error.contains("is not running") {
                        #expect(clock.now - start < .seconds(3))
                        answered = run
                        break
                    }
                }
                let run = try #require(answered, "no dispatch found worker-1-1 down")
                #expect(run.status == 2, "\(run.output)\(run.error)")
                let text = run.output + run.error
                #expect(text.contains("worker-1-1"))
                #expect(text.contains("exited on signal 9"))
                #expect(text.contains("\"manager\""), "the other nodes' values: \(text)")
            }
        }
    }

    @Test func aControllerThatVanishesMidRequestIsNamedAtOnceNotAtTheTimeout() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let controller = try await RunningController.start(
                ["--processes", "--verbose", "--layout", directory + "/node.cfg"]
            )
            defer { Task { await controller.stop() } }
            let status = try await Self.statusJSON(controller.port)
            // A stopped worker keeps the request pending until the controller is killed under it.
            let worker = try #require(Self.pid(status, "worker-1-1"))
            kill(worker, SIGSTOP)
            defer { kill(worker, SIGKILL) }
            let clock = ContinuousClock()
            let start = clock.now
            let dispatch = Task {
                try await BinaryRunner.run(
                    [
                        "dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(controller.port)",
                        "--timeout", "20",
                    ]
                )
            }
            let received = await controller.process.firstLine { $0.hasPrefix("rx get_id_value_request") }
            #expect(received != nil)
            kill(controller.process.pid, SIGKILL)
            let run = try await dispatch.value
            #expect(clock.now - start < .seconds(10), "the dispatch waited for its timeout")
            #expect(run.status == 1)
            // Either the request's report says the connection was lost, or the connection's own error ends the
            // command first; both name the controller and why.
            let text = run.output + run.error
            #expect(
                text.contains("error: no response from the controller: the connection to the cluster was lost: ")
                    || text.contains("error: ws://"),
                "\(text)"
            )
            #expect(text.contains("127.0.0.1:\(controller.port)") && text.contains("closed by the server"), "\(text)")
        }
    }

    /// The cluster nodes of `zeek-client get-nodes`' only instance: name to (state, pid).
    static func zeekClientNodes(_ port: Int) async throws -> [String: (state: String, pid: Int32)] {
        let run = try await ZeekClient.run(["get-nodes"], port: port)
        #expect(run.status == 0, "\(run.output)\(run.error)")
        let instances = try JSONValue.parse(run.output)["results"]?.objectMembers ?? []
        try #require(instances.count == 1, "\(run.output)")
        var nodes: [String: (state: String, pid: Int32)] = [:]
        for member in instances[0].value.objectMembers ?? [] where member.value["mgmt_role"] == .null {
            guard case .string(let state)? = member.value["state"], case .integer(let pid)? = member.value["pid"] else {
                Issue.record("no state or pid for \(member.key): \(run.output)")
                continue
            }
            nodes[member.key] = (state, Int32(pid))
        }
        return nodes
    }

    /// Waits (at most 30 s) until none of `pids` is a live process.
    static func waitUntilGone(_ pids: [Int32], _ what: String) async throws {
        try await withDeadline(.seconds(30), what) {
            while pids.contains(where: { LocalCluster.processExists(Int($0)) }) {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test func zeekClientSeesTheProcessesRestartsThemAndDeploysNewOnes() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try write(
                "[instances]\nagent-1\n\n[solo]\ninstance = agent-1\nrole = manager\n",
                to: "solo.ini",
                in: directory
            )
            try await withController(["--processes", "--layout", directory + "/node.cfg"]) { controller in
                let port = controller.port
                let before = try await Self.zeekClientNodes(port)
                #expect(before.keys.sorted() == ["logger-1", "manager", "proxy-1", "worker-1-1", "worker-1-2"])
                for (name, node) in before {
                    #expect(node.state == "RUNNING", "\(name)")
                    #expect(node.pid != controller.process.pid && LocalCluster.processExists(Int(node.pid)), "\(name)")
                }
                #expect(Set(before.values.map(\.pid)).count == before.count, "one process per node")

                // restart: the named node gets a new process, the others keep theirs.
                let restart = try await ZeekClient.run(["restart", "worker-1-1"], port: port)
                #expect(restart.status == 0, "\(restart.output)\(restart.error)")
                #expect(try JSONValue.parse(restart.output)["results"] == .object(["worker-1-1": .bool(true)]))
                let old = try #require(before["worker-1-1"]?.pid)
                try await Self.waitUntilGone([old], "the old worker-1-1 process")
                // The restart is answered once the stop sequence began; the new process follows the old one's exit.
                let restarted = try await withDeadline(.seconds(30), "worker-1-1 running again") {
                    while true {
                        let nodes = try await Self.zeekClientNodes(port)
                        if let node = nodes["worker-1-1"], node.pid != old, node.state == "RUNNING" { return nodes }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                let new = try #require(restarted["worker-1-1"])
                #expect(LocalCluster.processExists(Int(new.pid)))
                #expect(restarted["manager"]?.pid == before["manager"]?.pid)

                // deploy-config: every old process stops, the new configuration's node runs and answers.
                let deploy = try await ZeekClient.run(["deploy-config", directory + "/solo.ini"], port: port)
                #expect(deploy.status == 0, "\(deploy.output)\(deploy.error)")
                let previous = restarted.values.map(\.pid)
                try await Self.waitUntilGone(previous, "the first configuration's node processes")
                let after = try await Self.zeekClientNodes(port)
                #expect(after.keys.sorted() == ["solo"])
                let solo = try #require(after["solo"])
                #expect(solo.state == "RUNNING" && !previous.contains(solo.pid))
                #expect(LocalCluster.processExists(Int(solo.pid)))
                let value = try await ZeekClient.run(["get-id-value", "Cluster::node"], port: port)
                #expect(value.status == 0, "\(value.output)\(value.error)")
                #expect(try JSONValue.parse(value.output)["results"] == .object(["solo": .string("solo")]))
            }
        }
    }

    @Test func startFailsWithTheNodesThatDidNotStartAndStopsEverything() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let port = try await Self.freePort()
            // Nodes whose program exits at once: none ever says hello.
            try write("#!/bin/sh\nexit 3\n", to: "broken-node", in: directory)
            chmod(directory + "/broken-node", 0o755)
            let start = try await BinaryRunner.run(
                [
                    "cluster", "start", "--listen", "127.0.0.1:\(port)", "--state-dir", directory + "/state",
                    "--layout",
                    "node.cfg", "--node-program", "broken-node",
                ],
                currentDirectory: directory,
                timeout: .seconds(90)
            )
            if start.status == 0 {
                _ = try await BinaryRunner.run(["cluster", "stop", "--controller", "127.0.0.1:\(port)"])
            }
            #expect(start.status == 1)
            #expect(start.error.contains("the cluster did not start"), "\(start.error)")
            #expect(start.error.contains("manager"))
            // What was started is gone: nothing listens any more.
            let status = try await BinaryRunner.run(["cluster", "status", "--controller", "127.0.0.1:\(port)"])
            #expect(status.status == 1)
        }
    }
}

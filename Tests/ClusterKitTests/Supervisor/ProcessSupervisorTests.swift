import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProcessSupervisorTests {
    typealias Harness = SupervisorHarness

    // MARK: - create

    @Test func createErrorsAreZeeksTextsInZeeksOrder() async throws {
        try await Harness.withSupervisor { harness in
            let supervisor = harness.supervisor
            // Node directories lie inside the runtime directory.
            try FileManager.default.createDirectory(atPath: harness.runtime, withIntermediateDirectories: true)
            let file = harness.runtime + "/plain-file"
            try Data().write(to: URL(fileURLWithPath: file))
            #expect(supervisor.create(Harness.node("dup", "exec sleep 1000")) == "")

            #expect(supervisor.create(.init(name: "")) == "node names must not be an empty string")
            #expect(
                supervisor.create(.init(name: "a b", interface: "eth0", pcapFile: "x.pcap"))
                    == "node names must not contain spaces: 'a b'"
            )
            #expect(
                supervisor.create(.init(name: "dup", interface: "eth0", pcapFile: "x.pcap", directory: file + "/d"))
                    == "node with name 'dup' already exists"
            )
            #expect(
                supervisor.create(.init(name: "both", interface: "eth0", pcapFile: "x.pcap", directory: file + "/d"))
                    == "node with name 'both' has interface and pcap_file set"
            )
            #expect(
                supervisor.create(.init(name: "dir", directory: file + "/sub"))
                    == "failed to create working directory \(file)/sub\n"
            )
            #expect(
                supervisor.create(.init(name: "empty-dir", directory: "")) == "failed to create working directory \n"
            )
            // Tabs are not spaces for Zeek.
            #expect(supervisor.create(Harness.node("tab\tname", "exit 0")) == "")
            #expect(supervisor.status().nodes.keys.sorted() == ["dup", "tab\tname"])
        }
    }

    @Test func createMakesTheWorkingDirectoryAndTheNodeRunsThere() async throws {
        try await Harness.withSupervisor { harness in
            let directory = harness.runtime + "/spool//worker-1/./"
            #expect(harness.supervisor.create(Harness.node("worker-1", "pwd -P") { $0.directory = directory }) == "")
            let expected = URL(fileURLWithPath: harness.runtime + "/spool/worker-1").resolvingSymlinksInPath().path
            var isDirectory: ObjCBool = false
            #expect(
                FileManager.default.fileExists(atPath: expected, isDirectory: &isDirectory) && isDirectory.boolValue
            )
            try await harness.waitForLine(expected, from: "worker-1")
        }
    }

    @Test func workingDirectoryIsCreatedNormalisedButEnteredAsGiven() async throws {
        // Zeek's ensure_intermediate_dirs resolves `a/..` lexically; the node's chdir then fails on the missing `a`.
        try await Harness.withSupervisor { harness in
            let directory = harness.runtime + "/spool/a/../worker-1"
            #expect(harness.supervisor.create(Harness.node("worker-1", "pwd") { $0.directory = directory }) == "")
            #expect(FileManager.default.fileExists(atPath: harness.runtime + "/spool/worker-1"))
            try await harness.waitForLine(
                "node 'worker-1' failed to chdir to \(directory): No such file or directory",
                from: "worker-1"
            )
            try await harness.waitForEvent("exit status 1") {
                if case .prematureExit("worker-1", _, .exited(status: 1)) = $0 { return true }
                return false
            }
        }
    }

    // MARK: - status, destroy, restart

    @Test func statusReportsTheCurrentOrLastKnownPID() async throws {
        try await Harness.withSupervisor { harness in
            let supervisor = harness.supervisor
            let config = Harness.node("w", "exec sleep 1000")
            #expect(supervisor.create(config) == "")
            let pid = try await harness.waitForStatus(of: "w")
            #expect(pid > 0)
            #expect(supervisor.status("w") == Supervisor.Status(nodes: ["w": .init(node: config, pid: Int(pid))]))
            #expect(supervisor.status() == supervisor.status("w"))
            #expect(supervisor.status("unknown") == Supervisor.Status())

            kill(pid, SIGKILL)
            try await harness.waitForEvent("premature exit") {
                $0 == .prematureExit(node: "w", pid: Int(pid), termination: .signaled(signal: SIGKILL))
            }
            // The supervisor hears of spawns, not of deaths.
            #expect(supervisor.status("w").nodes["w"]?.pid == Int(pid))
        }
    }

    @Test func destroyAndRestartReturnZeeksValues() async throws {
        try await Harness.withSupervisor { harness in
            let supervisor = harness.supervisor
            #expect(supervisor.destroy("") == true)
            #expect(supervisor.restart("") == true)
            #expect(supervisor.destroy("nope") == false)
            #expect(supervisor.restart("nope") == false)
            #expect(supervisor.create(Harness.node("w", "exec sleep 1000")) == "")
            #expect(supervisor.restart("w") == true)
            #expect(supervisor.destroy("w") == true)
            #expect(supervisor.destroy("w") == false)
            #expect(supervisor.status().nodes.isEmpty)
        }
    }

    // MARK: - How a node is set up

    @Test func clusterNodeIsSetOnlyForNodesWithAClusterTable() async throws {
        try await Harness.withSupervisor { harness in
            let script = #"echo "FOO=$FOO CLUSTER_NODE=${CLUSTER_NODE-unset}""#
            let endpoint = Supervisor.ClusterEndpoint(role: .worker, host: .ipv4Loopback, p: .tcp(0))
            #expect(harness.supervisor.create(Harness.node("plain", script) { $0.env["FOO"] = "bar" }) == "")
            #expect(
                harness.supervisor.create(Harness.node("member", script) { $0.cluster = ["member": endpoint] }) == ""
            )
            try await harness.waitForLine("FOO=bar CLUSTER_NODE=unset", from: "plain")
            try await harness.waitForLine("FOO= CLUSTER_NODE=member", from: "member")
        }
    }

    @Test func nodeEnvironmentOverridesTheCommandsAndTheBaseEnvironment() async throws {
        let command: ProcessSupervisor.CommandProvider = { node in
            .init(
                executable: "sh",
                arguments: ["-c", node.env[Harness.scriptKey] ?? ""],
                environment: ["FROM_COMMAND": "command", "BOTH": "command"]
            )
        }
        try await Harness.withSupervisor(command: command) { harness in
            let script = #"echo "$FROM_COMMAND $BOTH $PATH""#
            #expect(harness.supervisor.create(Harness.node("n", script) { $0.env["BOTH"] = "node" }) == "")
            try await harness.waitForLine("command node /usr/bin:/bin", from: "n")
        }
    }

    @Test func nodeConfigurationFileHoldsTheBrokerJSONAndGoesAwayWithTheNode() async throws {
        try await Harness.withSupervisor { harness in
            let config = Harness.node("w", #"cat "$CLUSTERKIT_NODE_CONFIG"; echo "path $CLUSTERKIT_NODE_CONFIG""#) {
                $0.cluster = ["w": .init(role: .worker, host: .ipv4Loopback, p: .tcp(47_000))]
                $0.addlUserScripts = ["local.zeek"]
            }
            #expect(harness.supervisor.create(config) == "")
            try await harness.waitForLine(Broker.JSON.encode(config.brokerValue), from: "w")
            let lines = try await harness.output.wait(for: "the file's path") { lines in
                lines.contains { $0.message.hasPrefix("path ") }
            }
            let path = try #require(lines.first { $0.message.hasPrefix("path ") }).message.dropFirst(5)
            #expect(path.hasPrefix(harness.directory + "/runtime/w-"))
            let read = try Supervisor.supervisedNodeConfig(environment: [
                Supervisor.nodeConfigurationEnvironmentKey: String(path)
            ])
            #expect(read == config)
            // Once the process is gone, destroy removes the node, and its file, at once.
            try await harness.waitForEvent("the node's exit") {
                if case .prematureExit("w", _, _) = $0 { return true }
                return false
            }
            #expect(harness.supervisor.destroy("w"))
            #expect(!FileManager.default.fileExists(atPath: String(path)))
        }
    }

    @Test func outputFilesBypassTheHooks() async throws {
        let hookLines = Observed<[String]>([])
        try await Harness.withSupervisor(
            outputHooks: [
                { line in
                    hookLines.update { $0.append(line.text) }
                    return .deliver
                }
            ]
        ) { harness in
            let directory = harness.runtime + "/node"
            let config = Harness.node("w", "echo to-file; echo to-hook >&2") {
                $0.directory = directory
                $0.stdoutFile = "stdout.log"
            }
            #expect(harness.supervisor.create(config) == "")
            try await harness.waitForEvent("the node's exit") {
                if case .prematureExit("w", _, .exited(status: 0)) = $0 { return true }
                return false
            }
            #expect(try String(contentsOfFile: directory + "/stdout.log", encoding: .utf8) == "to-file\n")
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/stdout.log")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(hookLines.value == ["[supervisor:STDERR] [w] to-hook"])
        }
    }

    @Test func failingOutputFileIsReportedOnStandardErrorAndTheNodeExitsWithOne() async throws {
        try await Harness.withSupervisor { harness in
            let config = Harness.node("w", "echo unreachable") { $0.stderrFile = "/nonexistent-dir/err.log" }
            #expect(harness.supervisor.create(config) == "")
            try await harness.waitForLine(
                "node 'w' failed to create stderr file /nonexistent-dir/err.log: No such file or directory",
                from: "w"
            )
            try await harness.waitForEvent("exit status 1") {
                if case .prematureExit("w", _, .exited(status: 1)) = $0 { return true }
                return false
            }
            #expect(!harness.output.value.contains { $0.message == "unreachable" })
        }
    }

    @Test func missingProgramIsReportedAndExitsWith127() async throws {
        let command: ProcessSupervisor.CommandProvider = { _ in .init(executable: "/nonexistent/zeekctl") }
        try await Harness.withSupervisor(command: command) { harness in
            #expect(harness.supervisor.create(.init(name: "w")) == "")
            try await harness.waitForLine(
                "node 'w' failed to execute /nonexistent/zeekctl: No such file or directory",
                from: "w"
            )
            try await harness.waitForEvent("exit status 127") {
                if case .prematureExit("w", _, .exited(status: 127)) = $0 { return true }
                return false
            }
        }
    }

    @Test func nodesInheritOnlyStandardInputOutputAndError() async throws {
        // A descriptor without close-on-exec in the supervisor must not reach the node.
        var leaked: [Int32] = [-1, -1]
        #expect(pipe(&leaked) == 0)
        defer { for fd in leaked { close(fd) } }
        try await Harness.withSupervisor { harness in
            // `[` is a builtin and opens nothing, unlike a glob over /proc/self/fd.
            let script = #"n=0; while [ $n -lt 1024 ]; do [ -e /proc/$$/fd/$n ] && echo "fd $n"; n=$((n+1)); done"#
            #expect(harness.supervisor.create(Harness.node("n", script)) == "")
            try await harness.waitForEvent("the node's exit") {
                if case .prematureExit("n", _, .exited(status: 0)) = $0 { return true }
                return false
            }
            #expect(harness.output.value.map(\.message) == ["fd 0", "fd 1", "fd 2"])
        }
    }

    #if os(Linux)
    @Test func cpuAffinityIsAppliedAndAFailureOnlyWarns() async throws {
        try await Harness.withSupervisor { harness in
            let script = "grep Cpus_allowed_list /proc/self/status"
            #expect(harness.supervisor.create(Harness.node("pinned", script) { $0.cpuAffinity = 0 }) == "")
            #expect(harness.supervisor.create(Harness.node("bad", script) { $0.cpuAffinity = 100_000 }) == "")
            try await harness.waitForLine("Cpus_allowed_list:\t0", from: "pinned")
            try await harness.waitForLine("node 'bad' failed to set CPU affinity: Invalid argument", from: "bad")
            try await harness.output.wait(for: "the unpinned node's output") { lines in
                lines.contains { $0.node == "bad" && $0.message.hasPrefix("Cpus_allowed_list:") }
            }
        }
    }
    #endif

    // MARK: - Output hooks

    @Test func hooksSeeEveryLineInOrderAndTheFirstSuppressionWins() async throws {
        let seenFirst = Observed<[String]>([])
        let seenLast = Observed<[String]>([])
        try await Harness.withSupervisor(
            outputHooks: [
                { line in
                    seenFirst.update { $0.append("\(line.channel) \(line.node) \(line.message)") }
                    return .deliver
                },
                { line in line.message == "two" ? .suppress : .deliver },
                { line in
                    seenLast.update { $0.append(line.message) }
                    return .deliver
                },
            ]
        ) { harness in
            #expect(
                harness.supervisor.create(Harness.node("n", #"printf 'one\n\ntwo\n'; echo err >&2; printf three"#))
                    == ""
            )
            try await harness.waitForEvent("the node's exit") {
                if case .prematureExit("n", _, _) = $0 { return true }
                return false
            }
            #expect(
                seenFirst.value.filter { $0.hasPrefix("stdout") } == ["stdout n one", "stdout n two", "stdout n three"]
            )
            #expect(seenFirst.value.contains("stderr n err"))
            #expect(seenLast.value.filter { $0 != "err" } == ["one", "three"])
            let texts = harness.output.value.map(\.text)
            #expect(
                texts.filter { $0.hasPrefix("[supervisor:STDOUT]") } == [
                    "[supervisor:STDOUT] [n] one", "[supervisor:STDOUT] [n] three",
                ]
            )
            #expect(texts.contains("[supervisor:STDERR] [n] err"))
        }
    }

    @Test func longLinesArePassedOnInBoundedPieces() async throws {
        try await Harness.withSupervisor(maximumLineLength: 8) { harness in
            #expect(harness.supervisor.create(Harness.node("n", #"printf '0123456789abcdef\nxy\n'"#)) == "")
            try await harness.waitForLine("xy", from: "n")
            #expect(harness.output.value.map(\.message) == ["01234567", "89abcdef", "xy"])
        }
    }

    // MARK: - Spawn failures

    @Test func spawnFailureReportsPIDZeroAndIsRetriedWithBackOff() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blocker = directory + "/file"
        try Data().write(to: URL(fileURLWithPath: blocker))
        try await Harness.withSupervisor(runtimeDirectory: blocker + "/runtime") { harness in
            #expect(harness.supervisor.create(Harness.node("w", "exit 0")) == "")
            let failure = try await harness.waitForEvent("a spawn failure") {
                if case .spawnFailed("w", _) = $0 { return true }
                return false
            }
            guard case .spawnFailed(_, let error) = failure else { return }
            #expect(error.code == .spawnFailed)
            #expect(error.message.hasPrefix("cannot create directory \(blocker)/runtime: "))
            #expect(try await harness.waitForStatus(of: "w") == 0)
            #expect(harness.supervisor.status("w").nodes["w"]?.pid == nil)
            try await harness.clock.waitForSleeper(until: .seconds(1))
            harness.clock.advance(by: .seconds(1))
            #expect(try await harness.waitForStatus(of: "w", index: 1) == 0)
        }
    }
}

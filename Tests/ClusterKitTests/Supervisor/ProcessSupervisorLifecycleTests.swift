import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProcessSupervisorLifecycleTests {
    typealias Harness = SupervisorHarness
    typealias Event = ProcessSupervisor.Event

    // MARK: - Revival

    @Test func killedNodeIsRevivedOneSecondAfterItsSpawn() async throws {
        try await Harness.withSupervisor { harness in
            #expect(harness.supervisor.create(Harness.node("w", "exec sleep 1000")) == "")
            let pid = try await harness.waitForStatus(of: "w")
            kill(pid, SIGKILL)
            let exit = try await harness.waitForEvent("the premature exit") {
                if case .prematureExit("w", _, _) = $0 { return true }
                return false
            }
            #expect(exit.description == "Supervised node 'w' (PID \(pid)) terminated prematurely by signal 9")

            try await harness.clock.waitForSleeper(until: .seconds(1))
            harness.clock.advance(by: .milliseconds(999))
            // The revival timer has not fired, so nothing can have been spawned.
            #expect(harness.clock.pendingDeadlines.value.contains(.seconds(1)))
            #expect(harness.count { if case .nodeStatus = $0 { true } else { false } } == 1)

            harness.clock.advance(by: .milliseconds(1))
            let newPID = try await harness.waitForStatus(of: "w", index: 1)
            #expect(newPID > 0 && newPID != pid)
            let revived = try await harness.waitForEvent("the revival") {
                if case .revived = $0 { return true }
                return false
            }
            #expect(revived.description == "Supervised node 'w' (PID \(newPID)) revived after premature exit")
            #expect(harness.supervisor.status("w").nodes["w"]?.pid == Int(newPID))
            // Zeek reports the revival before the new status.
            let events = harness.events.value
            #expect(
                events.firstIndex(of: revived)
                    == events.firstIndex(of: .nodeStatus(node: "w", pid: Int(newPID))).map { $0 - 1 }
            )
        }
    }

    @Test func instantlyDyingNodeIsRevivedAfterOneOneOneTwoTwoTwoFourSeconds() async throws {
        try await Harness.withSupervisor { harness in
            #expect(harness.supervisor.create(Harness.node("w", "kill -9 $$")) == "")
            var spawnTime = Duration.zero
            for (revival, delay) in [1, 1, 1, 2, 2, 2, 4].enumerated() {
                try await harness.waitForEvent("exit #\(revival)", index: revival) {
                    if case .prematureExit("w", _, .signaled(signal: 9)) = $0 { return true }
                    return false
                }
                let deadline = spawnTime + .seconds(delay)
                try await harness.clock.waitForSleeper(until: deadline)
                harness.clock.advance(to: deadline - .milliseconds(1))
                #expect(harness.clock.pendingDeadlines.value.contains(deadline))
                #expect(harness.count { if case .nodeStatus = $0 { true } else { false } } == revival + 1)
                harness.clock.advance(to: deadline)
                _ = try await harness.waitForStatus(of: "w", index: revival + 1)
                spawnTime = deadline
            }
            #expect(harness.count { if case .revived = $0 { true } else { false } } == 7)
        }
    }

    // MARK: - Stopping

    @Test func nodeIgnoringSIGTERMIsKilledAfterTheConfiguredAttempts() async throws {
        try await Harness.withSupervisor(stopSequence: .init(terminateAttempts: 3, interval: .seconds(2))) { harness in
            #expect(
                harness.supervisor.create(Harness.node("stubborn", "trap '' TERM; echo ready; exec sleep 1000")) == ""
            )
            let pid = try await harness.waitForStatus(of: "stubborn")
            try await harness.waitForLine("ready", from: "stubborn")
            #expect(harness.supervisor.destroy("stubborn"))
            #expect(harness.supervisor.status().nodes.isEmpty)
            for attempt in 0..<3 {
                try await harness.waitForEvent("SIGTERM #\(attempt)") {
                    $0 == .signalSent(node: "stubborn", pid: Int(pid), signal: SIGTERM, attempt: attempt)
                }
                #expect(processExists(pid))
                let next = Duration.seconds(2 * (attempt + 1))
                try await harness.clock.waitForSleeper(until: next)
                harness.clock.advance(to: next)
            }
            try await harness.waitForEvent("SIGKILL") {
                $0 == .signalSent(node: "stubborn", pid: Int(pid), signal: SIGKILL, attempt: 3)
            }
            try await harness.waitForEvent("the stop") {
                $0 == .stopped(node: "stubborn", pid: Int(pid), termination: .signaled(signal: SIGKILL))
            }
            #expect(!processGroupExists(pid))
            #expect(harness.count { if case .prematureExit = $0 { true } else { false } } == 0)
        }
    }

    @Test func withoutSIGKILLTheSequenceKeepsSendingSIGTERM() async throws {
        let stop = ProcessSupervisor.Configuration.StopSequence(
            terminateAttempts: 1,
            interval: .seconds(1),
            sendsKill: false
        )
        try await Harness.withSupervisor(stopSequence: stop) { harness in
            #expect(
                harness.supervisor.create(Harness.node("stubborn", "trap '' TERM; echo ready; exec sleep 1000")) == ""
            )
            let pid = try await harness.waitForStatus(of: "stubborn")
            try await harness.waitForLine("ready", from: "stubborn")
            #expect(harness.supervisor.destroy())
            for attempt in 1...3 {
                try await harness.clock.waitForSleeper(until: .seconds(attempt))
                harness.clock.advance(to: .seconds(attempt))
                try await harness.waitForEvent("SIGTERM #\(attempt)") {
                    $0 == .signalSent(node: "stubborn", pid: Int(pid), signal: SIGTERM, attempt: attempt)
                }
            }
            #expect(processExists(pid))
            kill(pid, SIGKILL)
            try await harness.waitForEvent("the stop") { if case .stopped = $0 { true } else { false } }
        }
    }

    @Test func destroyStopsTheWholeProcessGroup() async throws {
        try await Harness.withSupervisor { harness in
            // The grandchild announces itself once it runs (dash's forked subshell would drop a SIGTERM that arrives
            // before it has reset the inherited trap).
            let script = #"trap 'wait; exit 0' TERM; sh -c 'echo "child $$"; exec sleep 1000' & wait"#
            #expect(harness.supervisor.create(Harness.node("w", script)) == "")
            let pid = try await harness.waitForStatus(of: "w")
            let lines = try await harness.output.wait(for: "the child's pid") { lines in
                lines.contains { $0.message.hasPrefix("child ") }
            }
            let child = try #require(
                lines.first { $0.message.hasPrefix("child ") }.flatMap { Int32($0.message.dropFirst(6)) }
            )
            #expect(getpgid(child) == pid)
            #expect(harness.supervisor.destroy("w"))
            try await harness.waitForEvent("the stop") {
                $0 == .stopped(node: "w", pid: Int(pid), termination: .exited(status: 0))
            }
            #expect(!processExists(child))
            #expect(!processGroupExists(pid))
        }
    }

    @Test func restartStopsTheNodeAndStartsItAgainAtOnce() async throws {
        try await Harness.withSupervisor { harness in
            let config = Harness.node("w", "exec sleep 1000")
            #expect(harness.supervisor.create(config) == "")
            let pid = try await harness.waitForStatus(of: "w")
            #expect(harness.supervisor.restart("w"))
            try await harness.waitForEvent("the stop") {
                $0 == .stopped(node: "w", pid: Int(pid), termination: .signaled(signal: SIGTERM))
            }
            let newPID = try await harness.waitForStatus(of: "w", index: 1)
            #expect(newPID > 0 && newPID != pid)
            #expect(!processGroupExists(pid))
            #expect(
                harness.supervisor.status() == Supervisor.Status(nodes: ["w": .init(node: config, pid: Int(newPID))])
            )
            #expect(harness.count { if case .revived = $0 { true } else { false } } == 0)
        }
    }

    @Test func nodeCreatedAgainUnderTheSameNameWaitsForTheOldProcess() async throws {
        try await Harness.withSupervisor(stopSequence: .init(terminateAttempts: 1, interval: .seconds(1))) { harness in
            let stubborn = Harness.node("w", "trap '' TERM; echo ready; exec sleep 1000")
            #expect(harness.supervisor.create(stubborn) == "")
            let pid = try await harness.waitForStatus(of: "w")
            try await harness.waitForLine("ready", from: "w")
            #expect(harness.supervisor.destroy("w"))
            #expect(harness.supervisor.create(Harness.node("w", "exec sleep 1000")) == "")
            // Not spawned while the old process runs: no pid reported yet.
            #expect(harness.supervisor.status("w").nodes["w"]?.pid == nil)
            #expect(processExists(pid))
            try await harness.clock.waitForSleeper(until: .seconds(1))
            harness.clock.advance(to: .seconds(1))
            try await harness.waitForEvent("the old node's stop") { if case .stopped = $0 { true } else { false } }
            let newPID = try await harness.waitForStatus(of: "w", index: 1)
            #expect(newPID != pid)
            #expect(harness.supervisor.status("w").nodes["w"]?.pid == Int(newPID))
        }
    }

    @Test func shutdownStopsEveryNodeAndLeavesNoProcess() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let events = Observed<[Event]>([])
        let ready = Observed<Set<String>>([])
        let supervisor = ProcessSupervisor(
            configuration: .init(runtimeDirectory: directory, environment: ["PATH": "/usr/bin:/bin"]),
            clock: SteppedClock(),
            command: { node in .init(executable: "/bin/sh", arguments: ["-c", node.env[Harness.scriptKey] ?? ""]) },
            output: { line in if line.message == "ready" { ready.update { $0.insert(line.node) } } },
            eventHandler: { event in events.update { $0.append(event) } }
        )
        let stream = supervisor.events()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await supervisor.run() }
            let scripts = [
                "a": "echo ready; exec sleep 1000",
                // Signalled only once the trap is set and the child runs, so that the shell reaps its child.
                "b": #"trap 'wait; exit 0' TERM; sh -c 'echo ready; exec sleep 1000' & wait"#,
                "c": "echo ready; exec sleep 999",
            ]
            for (name, script) in scripts { #expect(supervisor.create(Harness.node(name, script)) == "") }
            try await ready.wait(for: "three nodes to be ready") { $0.count == 3 }
            let pids = events.value.compactMap { event -> Int32? in
                if case .nodeStatus(_, let pid) = event { return Int32(pid) }
                return nil
            }
            #expect(pids.count == 3)
            try await withThrowingTaskGroup(of: Void.self) { limit in
                limit.addTask { try await supervisor.shutdown() }
                limit.addTask {
                    try await Task.sleep(for: .seconds(10))
                    throw WaitTimeout(description: "shutdown did not complete within 10 seconds")
                }
                defer { limit.cancelAll() }
                try await limit.next()
            }
            for pid in pids { #expect(!processGroupExists(pid)) }
            #expect(events.value.filter { if case .stopped = $0 { true } else { false } }.count == 3)
            #expect(supervisor.status().nodes.isEmpty)
            #expect(supervisor.create(Harness.node("late", "exit 0")) == "supervisor is shut down")
            var streamed: [Event] = []
            for await event in stream { streamed.append(event) }
            #expect(streamed == events.value)
            try await group.next()
        }
    }
}

import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A supervisor under test: its events and output lines are recorded, nodes run `/bin/sh -c <script>`.
struct SupervisorHarness: Sendable {
    typealias Event = ProcessSupervisor.Event

    let supervisor: ProcessSupervisor
    let clock: SteppedClock
    /// Every event, in order.
    let events: Observed<[Event]>
    /// Every line that reached the output sink, in order.
    let output: Observed<[ProcessSupervisor.OutputLine]>
    /// A fresh directory for this test.
    let directory: String

    /// The supervisor's runtime directory (unless the test chose another): `<directory>/runtime`.
    var runtime: String { directory + "/runtime" }

    /// The environment variable holding a test node's shell script.
    static let scriptKey = "TEST_SCRIPT"

    /// Runs `body` with a running supervisor, then shuts it down (also when `body` throws).
    static func withSupervisor(
        stopSequence: ProcessSupervisor.Configuration.StopSequence = .init(terminateAttempts: 3, interval: .seconds(1)),
        maximumLineLength: Int = 65_536,
        runtimeDirectory: String? = nil,
        outputHooks: [ProcessSupervisor.OutputHook] = [],
        command: ProcessSupervisor.CommandProvider? = nil,
        _ body: (SupervisorHarness) async throws -> Void
    ) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = SteppedClock()
        let events = Observed<[Event]>([])
        let output = Observed<[ProcessSupervisor.OutputLine]>([])
        let supervisor = ProcessSupervisor(
            configuration: .init(
                runtimeDirectory: runtimeDirectory ?? directory + "/runtime",
                environment: ["PATH": "/usr/bin:/bin"],
                stopSequence: stopSequence,
                maximumLineLength: maximumLineLength
            ),
            clock: clock,
            command: command ?? { node in
                .init(executable: "/bin/sh", arguments: ["-c", node.env[scriptKey] ?? "exit 0"])
            },
            outputHooks: outputHooks,
            output: { line in output.update { $0.append(line) } },
            eventHandler: { event in events.update { $0.append(event) } }
        )
        let harness = SupervisorHarness(
            supervisor: supervisor,
            clock: clock,
            events: events,
            output: output,
            directory: directory
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await supervisor.run() }
            var failure: (any Error)?
            do {
                try await body(harness)
            } catch {
                failure = error
            }
            do {
                try await harness.shutDown()
            } catch {
                failure = failure ?? error
            }
            group.cancelAll()
            if let failure { throw failure }
        }
    }

    /// Shuts the supervisor down; fails after 10 seconds of real time (nodes that ignore SIGTERM must be dealt with
    /// by the test, since the manual clock does not move on its own).
    func shutDown() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await supervisor.shutdown(timeout: .seconds(600)) }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                throw WaitTimeout(description: "shutdown did not complete within 10 seconds")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// A node configuration whose process runs `script` with `/bin/sh -c`.
    static func node(
        _ name: String,
        _ script: String,
        configure: (inout Supervisor.NodeConfig) -> Void = { _ in }
    ) -> Supervisor.NodeConfig {
        var config = Supervisor.NodeConfig(name: name, env: [scriptKey: script])
        configure(&config)
        return config
    }

    /// Waits for the `index`-th (0-based) event matching `predicate` and returns it.
    @discardableResult
    func waitForEvent(
        _ what: String,
        index: Int = 0,
        where predicate: @escaping @Sendable (Event) -> Bool
    ) async throws -> Event {
        let events = try await events.wait(for: what) { $0.filter(predicate).count > index }
        return events.filter(predicate)[index]
    }

    /// Waits for the `index`-th (0-based) `node_status` of a node and returns its pid.
    func waitForStatus(of node: String, index: Int = 0) async throws -> Int32 {
        let event = try await waitForEvent("node_status #\(index) of '\(node)'", index: index) {
            if case .nodeStatus(node, _) = $0 { return true }
            return false
        }
        guard case .nodeStatus(_, let pid) = event else { return 0 }
        return Int32(pid)
    }

    /// The number of events matching `predicate` so far.
    func count(where predicate: (Event) -> Bool) -> Int {
        events.value.filter(predicate).count
    }

    /// Waits until a line with this text (after the `[node] ` prefix) has reached the output sink.
    func waitForLine(_ message: String, from node: String) async throws {
        try await output.wait(for: "line '\(message)' from '\(node)'") { lines in
            lines.contains { $0.node == node && $0.message == message }
        }
    }
}

/// Creates a fresh directory for one test.
func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("clusterkit-supervisor-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Whether any process is left in the process group `group`.
func processGroupExists(_ group: Int32) -> Bool {
    kill(-group, 0) == 0 || errno != ESRCH
}

/// Whether a process exists (a zombie counts).
func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno != ESRCH
}

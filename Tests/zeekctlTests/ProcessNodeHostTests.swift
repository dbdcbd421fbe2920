import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProcessNodeHostTests {
    /// Every pid the supervisor reported, in order.
    final class SeenPIDs: Sendable {
        private let pids = Guarded<[Int]>([])
        func record(_ event: ProcessSupervisor.Event) {
            if case .nodeStatus(_, let pid) = event, pid > 0 { pids.withLock { $0.append(pid) } }
        }
        var all: [Int] { pids.withLock { $0 } }
    }

    static let names = ["manager", "proxy-1", "worker-1"]

    static func launches() -> [NodeLaunch] {
        let table: [String: Supervisor.ClusterEndpoint] = [
            "manager": .init(role: .manager, host: "127.0.0.1", p: Broker.Port(27_761, .tcp)),
            "proxy-1": .init(role: .proxy, host: "127.0.0.1", p: Broker.Port(27_762, .tcp)),
            "worker-1": .init(role: .worker, host: "127.0.0.1", p: Broker.Port(27_763, .tcp)),
        ]
        let layout = Supervisor.clusterLayout(
            from: table.sorted { $0.key < $1.key }.map { (name: $0.key, endpoint: $0.value) }
        )
        return names.map { name in
            NodeLaunch(
                name: name,
                node: Management.Node(name: name, instance: "agent-1", role: table[name]?.role ?? .none),
                layout: layout,
                clusterTable: table,
                settings: ["Site::answer": .count(42)]
            )
        }
    }

    @Test func nodesSayHelloAreRevivedAfterSIGKILLAndLeaveNoProcessBehind() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub { fixture in
                let seen = SeenPIDs()
                let host = ProcessNodeHost(
                    configuration: ProcessSupervisor.Configuration(
                        runtimeDirectory: directory + "/run",
                        stopSequence: .init(terminateAttempts: 3, interval: .milliseconds(500))
                    ),
                    command: ProcessNodeHost.nodeCommand(
                        executablePath: ZeekctlBinary.path,
                        hubURL: fixture.server.url
                    ),
                    eventHandler: { seen.record($0) }
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await host.run() }

                    for launch in Self.launches() { #expect(await host.launch(launch) == nil) }
                    #expect(Set(try await fixture.waitForHellos(Set(Self.names))) == Set(Self.names))
                    let first = host.status()
                    #expect(first.keys.sorted() == Self.names)
                    for name in Self.names {
                        #expect(first[name]?.pid ?? 0 > 0)
                        #expect(first[name]?.isRunning == true)
                        #expect(first[name]?.restarts == 0)
                        #expect(first[name]?.startedAt != nil)
                    }
                    let answer = try await fixture.getIDValue("Site::answer", nodes: Self.names)
                    #expect(answer.summary == .allReplied)
                    #expect(answer["worker-1"] == .replied("42"))

                    // Killed in the middle of a request: the request names it, then the supervisor revives it.
                    let killed = try #require(first["worker-1"]?.pid)
                    kill(pid_t(killed), SIGKILL)
                    let partial = try await fixture.getIDValue(
                        "Cluster::node",
                        nodes: Self.names,
                        timeout: .seconds(1)
                    )
                    #expect(partial.summary == .partial)
                    #expect(partial["manager"] == .replied(#""manager""#))
                    #expect(partial["worker-1"] == .timedOut(after: .seconds(1)))
                    // The host tells its agent about the exit (one consumer), saying why and when it comes back.
                    let exit = try await withThrowingTaskGroup(of: HostedNodeExit?.self) { race in
                        race.addTask { await host.exits.first { _ in true } }
                        race.addTask {
                            try await Task.sleep(for: .seconds(10))
                            return nil
                        }
                        defer { race.cancelAll() }
                        return try await race.next() ?? nil
                    }
                    // The back-off counts from the process's start: 0 s or 1 s, depending on how long it ran.
                    #expect(exit?.name == "worker-1")
                    #expect(
                        exit?.reason.hasPrefix("exited on signal 9, restarting in ") == true,
                        "\(String(describing: exit))"
                    )

                    #expect(try await fixture.waitForHellos(["worker-1"]).last == "worker-1")
                    let revived = host.status()["worker-1"]
                    #expect(revived?.pid != killed)
                    #expect(revived?.pid ?? 0 > 0)
                    #expect(revived?.restarts == 1)
                    #expect(revived?.isRunning == true)
                    let again = try await fixture.getIDValue("Cluster::node", nodes: Self.names)
                    #expect(again.summary == .allReplied)
                    #expect(again["worker-1"] == .replied(#""worker-1""#))

                    // Stopping one node waits for its process; cancelling the host ends the others.
                    let manager = try #require(first["manager"]?.pid)
                    await host.stop("manager")
                    #expect(processIsGone(manager))
                    #expect(host.status()["manager"] == nil)
                    group.cancelAll()
                    try await group.waitForAll()
                }
                let pids = seen.all
                #expect(pids.count == 4)
                for pid in pids { #expect(processIsGone(pid), "pid \(pid) is still there") }
            }
        }
    }

    @Test func shutdownStopsEveryNodeWithSIGTERM() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub { fixture in
                let seen = SeenPIDs()
                let stops = Guarded<[String]>([])
                let host = ProcessNodeHost(
                    configuration: ProcessSupervisor.Configuration(runtimeDirectory: directory + "/run"),
                    command: ProcessNodeHost.nodeCommand(
                        executablePath: ZeekctlBinary.path,
                        hubURL: fixture.server.url
                    ),
                    eventHandler: { event in
                        seen.record(event)
                        if case .stopped(let node, _, let termination) = event {
                            stops.withLock { $0.append("\(node) \(termination)") }
                        }
                    }
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await host.run() }
                    for launch in Self.launches() { #expect(await host.launch(launch) == nil) }
                    _ = try await fixture.waitForHellos(Set(Self.names))
                    try await host.shutdown(timeout: .seconds(20))
                    try await group.waitForAll()
                }
                // `zeekctl node` exits 0 on SIGTERM, so no SIGKILL was needed.
                #expect(stops.withLock { $0.sorted() } == Self.names.map { "\($0) exited(status: 0)" })
                for pid in seen.all { #expect(processIsGone(pid)) }
            }
        }
    }
}

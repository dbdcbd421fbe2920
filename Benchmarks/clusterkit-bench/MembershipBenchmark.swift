import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `clusterkit-bench membership [--pool N] [--processes N] [--kills N] [--zeekctl PATH]`: issue 15's membership
/// figures.
///
/// - HRW picks per second over a pool of `--pool` (default 100) workers that are all up: `Cluster.Pool.hrwTopic(for:)`,
///   what `ClusterMember.publishHRW` asks, key hashing included (target ≥ 10M/s).
/// - With `--processes N` (default 100; 0 skips it): N `zeekctl node` processes join a WebSocket API server whose
///   manager is an in-process `ClusterMember`; once all are up, one is killed with SIGKILL `--kills` times (default
///   5, a different one each time) and started again: the time from the kill to the manager's `node_down`, and from
///   the restart to its `node_up`. Both are bounded by the connection's end being noticed (the kernel closes the
///   socket at once) and a process start, respectively.
enum MembershipBenchmark {
    static func run(arguments: [String]) async throws {
        let poolSize = Int(value(of: "--pool", in: arguments) ?? "") ?? 100
        try hrw(poolSize: poolSize)
        let processes = Int(value(of: "--processes", in: arguments) ?? "") ?? 100
        if processes > 0 {
            let kills = Int(value(of: "--kills", in: arguments) ?? "") ?? 5
            try await propagation(processes: processes, kills: kills, arguments: arguments)
        }
    }

    static func layoutText(workers: Int) -> String {
        var text = "[manager]\ntype=manager\nhost=127.0.0.1\n\n[proxy-1]\ntype=proxy\nhost=127.0.0.1\n"
        for index in 1...workers { text += "\n[worker-\(index)]\ntype=worker\nhost=127.0.0.1\ninterface=eth0\n" }
        return text
    }

    private static func hrw(poolSize: Int) throws {
        let layout = LayoutLoader().load(text: layoutText(workers: poolSize), file: "node.cfg", format: .nodeCfg).layout
        var options = Cluster.Options.standard
        options.node = "manager"
        var state = ClusterState(layout: layout, options: options)
        state.registerStandardPools()
        try state.initializePools()
        for index in 1...poolSize {
            _ = state.hello(name: "worker-\(index)", id: "id-\(index)", now: Broker.Timestamp(nanosecondsSinceEpoch: 0))
        }
        guard let pool = state.pools[options.workerPoolSpec.topic] else {
            throw ControllerBenchmarkError("no worker pool")
        }
        let keys = (0..<4096).map { "10.0.\($0 / 256).\($0 % 256)" }
        var sink = 0
        var next = 0
        let rates = Measure.rates {
            if let topic = pool.hrwTopic(for: keys[next & 4095]) { sink &+= topic.name.utf8.count }
            next &+= 1
        }
        print(
            "membership: HRW picks over \(poolSize) live workers: median \(Measure.format(Measure.median(rates) / 1e6, digits: 2))M/s"
                + " (runs \(rates.map { Measure.format($0 / 1e6, digits: 2) }.joined(separator: ", ")); target >= 10M/s)"
                + (sink == 42 ? " " : "")
        )
    }

    private static func propagation(processes: Int, kills: Int, arguments: [String]) async throws {
        let benchDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let zeekctl = value(of: "--zeekctl", in: arguments) ?? benchDirectory + "/zeekctl"
        guard FileManager.default.isExecutableFile(atPath: zeekctl) else {
            throw ControllerBenchmarkError("no zeekctl at \(zeekctl): run 'swift build -c release' first")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("membership-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let layoutPath = directory + "/node.cfg"
        try layoutText(workers: processes).write(toFile: layoutPath, atomically: true, encoding: .utf8)
        let layout = LayoutLoader().load(text: layoutText(workers: processes), file: "node.cfg", format: .nodeCfg)
            .layout

        let hub = InMemoryBackend.Hub()
        let server = try WebSocketAPIServer(
            hub: hub,
            options: WebSocketAPIServer.Options(
                webSocket: WebSocketServer.Options(port: 0),
                clientLimit: processes + 10
            )
        )
        let running = Task { await server.run() }
        defer { running.cancel() }
        let backend = hub.makeBackend(name: "manager")
        let manager = try ClusterMember(layout: layout, node: "manager", backend: backend)
        try await manager.subscribe()
        try await backend.connect()
        let serving = Task { for try await received in backend.events { try await manager.handle(received) } }
        let timing = Guarded<[String: ContinuousClock.Instant]>([:])
        let upCount = Guarded(0)
        let watcher = Task {
            for await event in manager.events {
                let name: String
                switch event {
                case .nodeUp(let up, _):
                    name = "up " + up
                    upCount.withLock { $0 += 1 }
                case .nodeDown(let down, _):
                    name = "down " + down
                }
                timing.withLock { $0[name] = ContinuousClock.now }
            }
        }
        defer {
            serving.cancel()
            watcher.cancel()
        }
        func start(_ index: Int) throws -> SpawnedProcess {
            try SpawnedProcess(
                zeekctl,
                ["node", "--name", "worker-\(index)", "--hub", "127.0.0.1:\(server.port)", "--layout", layoutPath],
                outputPath: "/dev/null"
            )
        }
        let clock = ContinuousClock()
        let startedAt = clock.now
        var nodes = try (1...processes).map { try start($0) }
        defer {
            for node in nodes { kill(node.pid, SIGKILL) }
            for node in nodes {
                var status: Int32 = 0
                _ = waitpid(node.pid, &status, 0)
            }
        }
        do {
            try await waitUntil("all \(processes) nodes up", limit: .seconds(120)) {
                upCount.withLock { $0 } >= processes
            }
        } catch {
            throw ControllerBenchmarkError("\(error): \(upCount.withLock { $0 }) up, hub members \(hub.memberCount)")
        }
        print("membership: \(processes) node processes up at the manager after \(clock.now - startedAt)")

        var downTimes: [Double] = []
        var upTimes: [Double] = []
        for round in 0..<kills {
            let index = 1 + (round * 37) % processes
            let name = "worker-\(index)"
            timing.withLock { $0 = [:] }
            let killedAt = clock.now
            kill(nodes[index - 1].pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(nodes[index - 1].pid, &status, 0)
            try await waitUntil("node_down of \(name)", limit: .seconds(30)) {
                timing.withLock { $0["down " + name] } != nil
            }
            if let down = timing.withLock({ $0["down " + name] }) {
                downTimes.append(Measure.seconds(down - killedAt) * 1000)
            }
            let restartedAt = clock.now
            nodes[index - 1] = try start(index)
            try await waitUntil("node_up of \(name)", limit: .seconds(30)) {
                timing.withLock { $0["up " + name] } != nil
            }
            if let up = timing.withLock({ $0["up " + name] }) {
                upTimes.append(Measure.seconds(up - restartedAt) * 1000)
            }
        }
        print(
            "membership: SIGKILL to node_down: median \(Measure.format(Measure.median(downTimes)))ms"
                + " (\(downTimes.map { Measure.format($0) }.joined(separator: ", ")))"
        )
        print(
            "membership: restart to node_up (process start included): median \(Measure.format(Measure.median(upTimes)))ms"
                + " (\(upTimes.map { Measure.format($0) }.joined(separator: ", ")))"
        )
        await server.shutdown()
    }

    private static func waitUntil(_ what: String, limit: Duration, _ condition: () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while !condition() {
            guard clock.now < deadline else { throw ControllerBenchmarkError("no \(what) within \(limit)") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

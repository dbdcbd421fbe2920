import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `clusterkit-bench membership [--pool N] [--processes N] [--kills N] [--zeekctl PATH]`: issue 15's membership
/// figures.
///
/// - the time to set up the pools of `--pool` (default 100) workers and to take every worker's hello;
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
        let setUp = ContinuousClock.now
        var state = ClusterState(layout: layout, options: options)
        state.registerStandardPools()
        try state.initializePools()
        let pooled = ContinuousClock.now
        for index in 1...poolSize {
            _ = state.hello(name: "worker-\(index)", id: "id-\(index)", now: Broker.Timestamp(nanosecondsSinceEpoch: 0))
        }
        let helloed = ContinuousClock.now
        print(
            "membership: pools of \(poolSize) workers set up in \(Measure.format(Measure.seconds(pooled - setUp) * 1e3, digits: 1)) ms, "
                + "\(poolSize) hellos in \(Measure.format(Measure.seconds(helloed - pooled) * 1e3, digits: 1)) ms"
        )
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

/// `clusterkit-bench agents [--workers N] [--rounds N] [--zeekctl PATH] [--addresses] [--listening]`.
///
/// A two-instance configuration deployed to two `zeekctl agent` processes of a `zeekctl controller --agents remote`:
/// the time from `deploy` to its response, and to every node's hello (all `RUNNING` in `get_nodes`), over `--rounds`
/// deployments (default 5; each one replaces every node process). `--addresses` runs the agents on 127.0.0.2 and 127.0.0.3
/// (`--address`), standing in for two hosts; `--listening` also makes agent-b listen (`--listen 127.0.0.3:0`), the
/// controller connecting to it.
enum AgentsBenchmark {
    static func run(arguments: [String]) async throws {
        let workers = Int(value(of: "--workers", in: arguments) ?? "") ?? 4
        let rounds = Int(value(of: "--rounds", in: arguments) ?? "") ?? 5
        let listening = arguments.contains("--listening")
        let addresses = listening || arguments.contains("--addresses")
        let benchDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let zeekctl = value(of: "--zeekctl", in: arguments) ?? benchDirectory + "/zeekctl"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agents-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "0123456789abcdef0123456789abcdef".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        chmod(directory + "/token", 0o600)
        let nodeCount = 2 + 2 * workers
        let controller = try SpawnedProcess(
            zeekctl,
            ["controller", "--listen", "127.0.0.1:0", "--agents", "remote", "--node-token-file", directory + "/token"],
            outputPath: directory + "/controller.out"
        )
        defer { controller.stop() }
        let url = try controller.waitForLine(prefix: "listening on ", timeout: .seconds(30))
        var agentBLine = "agent-b"
        let agents = try [("agent-a", "127.0.0.2"), ("agent-b", "127.0.0.3")].map { name, address in
            var words = ["agent", "--name", name, "--node-token-file", directory + "/token"]
            words += ["--state-dir", directory + "/" + name]
            if listening, name == "agent-b" {
                words += ["--listen", address + ":0"]
            } else {
                words += ["--controller", url] + (addresses ? ["--address", address] : [])
            }
            return try SpawnedProcess(zeekctl, words, outputPath: directory + "/\(name).out")
        }
        defer { for agent in agents { agent.stop() } }
        if listening {
            let agentURL = try agents[1].waitForLine(prefix: "listening on ", timeout: .seconds(30))
            let port = agentURL.split(separator: ":").last?.split(separator: "/").first ?? ""
            agentBLine = "agent-b = 127.0.0.3:\(port)"
        }
        var ini = "[instances]\nagent-a\n\(agentBLine)\n\n[manager]\ninstance = agent-a\nrole = manager\n"
        ini += "\n[proxy-1]\ninstance = agent-b\nrole = proxy\n"
        for index in 1...workers {
            ini += "\n[worker-a\(index)]\ninstance = agent-a\nrole = worker\n"
            ini += "\n[worker-b\(index)]\ninstance = agent-b\nrole = worker\n"
        }
        try ini.write(toFile: directory + "/cluster.ini", atomically: true, encoding: .utf8)
        guard
            let configuration = try ControllerService.startupConfiguration(
                loading: directory + "/cluster.ini",
                format: .ini
            ).configuration
        else { throw ControllerBenchmarkError("the INI does not load") }
        let placement = listening ? " (agent-b listening)" : addresses ? " on 127.0.0.2 and 127.0.0.3" : ""
        print("agents: \(nodeCount) nodes on two agent processes\(placement), \(rounds) deployments")
        let backend = WebSocketBackend(url: url)
        let clock = ContinuousClock()
        let (responses, hellos) = try await withDispatcher(backend: backend, protocols: [.managementController]) {
            dispatcher in
            let client = ControllerClient(dispatcher: dispatcher)
            // A listening agent is connected to at the first deployment only.
            for _ in 0..<300 {
                if case .vector(let instances)? = try await client.getInstances().data,
                    instances.count == (listening ? 1 : 2)
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            var responses: [Double] = []
            var hellos: [Double] = []
            for round in 0..<rounds {
                var next = configuration
                next.id = "bench-\(round)"
                let start = clock.now
                _ = try await client.stage(next)
                let results = try await client.deploy()
                guard results.allSatisfy(\.success) else {
                    throw ControllerBenchmarkError("deploy failed: \(results.filter { !$0.success })")
                }
                responses.append(Measure.seconds(clock.now - start) * 1000)
                while true {
                    let statuses = try await client.getNodes().compactMap { result -> [Management.NodeStatus]? in
                        guard let data = result.data else { return nil }
                        return try? [Management.NodeStatus](brokerValue: data)
                    }.flatMap { $0 }
                    let running = statuses.filter { $0.state == .running }.count
                    if running >= nodeCount { break }
                    guard clock.now - start < .seconds(60) else {
                        throw ControllerBenchmarkError("only \(running) of \(nodeCount) nodes running after 60 s")
                    }
                    try await Task.sleep(for: .milliseconds(5))
                }
                hellos.append(Measure.seconds(clock.now - start) * 1000)
            }
            return (responses, hellos)
        }
        await backend.close()
        print(
            "agents: deploy to response: median \(Measure.format(Measure.median(responses)))ms"
                + " (\(responses.map { Measure.format($0) }.joined(separator: ", ")))"
        )
        print(
            "agents: deploy to every node's hello: median \(Measure.format(Measure.median(hellos)))ms"
                + " (\(hellos.map { Measure.format($0) }.joined(separator: ", ")))"
        )
    }
}

import ClusterKitLayouts
public import ClusterKitModel
public import ClusterKitProcesses
public import ClusterKitWebSocket

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs each node as a supervised process, such as `zeekctl node`, over a ``ProcessSupervisor``.
///
/// ``launch(_:)`` creates a supervised node (``Supervisor/NodeConfig``) named after the node, with the launch's
/// cluster table (or one made from its layout), its environment, interface and CPU affinity, and starts the
/// program the ``CommandProvider`` chooses; ``nodeCommand(executablePath:hubURL:nodeToken:hubAccess:scheme:)`` runs
/// `<executablePath> node --name NAME --hub URL [--set ID=JSON]...`, and the node reads its cluster from the
/// configuration file the supervisor names in `CLUSTERKIT_NODE_CONFIG` (and its hub's node token, if any, from
/// `CLUSTERKIT_NODE_TOKEN`). A node process that exits without being
/// asked to is revived with Zeek's back-off; being a ``NodeProcess``, it says hello again when it is back.
///
/// ``status()`` reports each node's current pid, whether it runs, how often it was started again (restarts and
/// revivals), when its current process started, and its recent output.
///
/// ```swift
/// let host = ProcessNodeHost(
///     configuration: .init(runtimeDirectory: spool + "/nodes", environment: environment),
///     command: ProcessNodeHost.nodeCommand(executablePath: zeekctlPath, hubURL: server.url)
/// )
/// await withDiscardingTaskGroup { group in
///     group.addTask { await host.run() }
///     _ = await host.launch(launch)
///     // ...
///     await host.shutdown()  // SIGTERM, then SIGKILL; returns when no node process is left
///     group.cancelAll()
/// }
/// ```
///
/// - Important: Stop the nodes (``stop(_:)`` or ``shutdown(timeout:)``) before cancelling ``run()``: the stop
///   sequence's timers need ``run()``. Cancelling ``run()`` with nodes left sends them SIGKILL at once, and
///   ``run()`` returns once their processes are gone.
public final class ProcessNodeHost: NodeHost {
    /// Chooses the program a node runs, from its launch description and its supervised configuration.
    public typealias CommandProvider = @Sendable (NodeLaunch, Supervisor.NodeConfig) -> ProcessSupervisor.NodeCommand

    /// How many recent lines of each output channel ``status()`` reports per node.
    public static let recentOutputLineLimit = 100

    fileprivate struct Node {
        var launch: NodeLaunch
        var pid: Int?
        var isRunning = false
        var spawns = 0
        var startedAt: Broker.Timestamp?
        /// How the last process ended prematurely, and when the supervisor starts it again.
        var lastExit: ProcessSupervisor.Termination?
        var revivesAt: ContinuousClock.Instant?
        var stdout: [String] = []
        var stderr: [String] = []
    }

    fileprivate struct State {
        var nodes: [String: Node] = [:]
        /// Node processes started and not yet seen to exit.
        var livePIDs: Set<Int> = []
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
    }

    fileprivate struct Waiter {
        var isSatisfied: @Sendable (State) -> Bool
        var continuation: CheckedContinuation<Void, Never>
    }

    /// The supervisor running the node processes.
    public let supervisor: ProcessSupervisor
    private let stopLimit: Duration
    private let clock: any Clock<Duration>
    private let now: @Sendable () -> Broker.Timestamp
    private let tracker = NodeTracker()
    /// The nodes that exited on their own, for the agent (``NodeHost/exits``); at most a few hundred kept
    /// unread.
    public let exits: AsyncStream<HostedNodeExit>

    /// Creates a host with no nodes; nothing starts until ``launch(_:)``.
    ///
    /// - Parameters:
    ///   - configuration: The supervisor's runtime directory, base environment, stop sequence and limits.
    ///   - clock: The clock for the supervisor's waits and the limit of ``stop(_:)``; default `ContinuousClock()`.
    ///   - command: Chooses each node's program, such as ``nodeCommand(executablePath:hubURL:nodeToken:hubAccess:scheme:)``.
    ///   - output: Receives every line of node output (after it was kept for ``status()``); default: drop them.
    ///   - eventHandler: Receives every supervisor event, in order; it must not block. Default none.
    ///   - now: The wall-clock time, for ``HostedNodeStatus/startedAt``; default the system's.
    public init(
        configuration: ProcessSupervisor.Configuration,
        clock: any Clock<Duration> = ContinuousClock(),
        command: @escaping CommandProvider,
        output: @escaping ProcessSupervisor.OutputSink = { _ in },
        eventHandler: (@Sendable (ProcessSupervisor.Event) -> Void)? = nil,
        now: @escaping @Sendable () -> Broker.Timestamp = ProcessNodeHost.systemTime
    ) {
        let tracker = self.tracker
        let (exits, exitsContinuation) = AsyncStream.makeStream(
            of: HostedNodeExit.self,
            bufferingPolicy: .bufferingNewest(256)
        )
        self.exits = exits
        self.clock = clock
        self.now = now
        let stop = configuration.stopSequence
        self.stopLimit = stop.interval * (stop.terminateAttempts + 3)
        self.supervisor = ProcessSupervisor(
            configuration: configuration,
            clock: clock,
            command: { config in
                let launch = tracker.state.withLock { $0.nodes[config.name]?.launch } ?? Self.launch(for: config)
                return command(launch, config)
            },
            output: { line in
                Self.keep(line, in: tracker)
                output(line)
            },
            eventHandler: { event in
                if let exit = Self.observe(event, in: tracker, now: now) { exitsContinuation.yield(exit) }
                eventHandler?(event)
            }
        )
    }

    /// The command of `zeekctl node`: `<executablePath> node --name NAME --hub URL`, then `--set ID=JSON` for each
    /// of the launch's settings in identifier order (`to_json` text; `null` for an identifier without a value).
    ///
    /// The node finds its cluster through `CLUSTERKIT_NODE_CONFIG`, which the supervisor sets, and its hub's node
    /// token, when there is one, through `CLUSTERKIT_NODE_TOKEN` (``NodeProcess/nodeTokenEnvironmentKey``): in the
    /// environment, never in the arguments, which every local user can read.
    ///
    /// - Parameters:
    ///   - executablePath: The path of the `zeekctl` binary.
    ///   - hubURL: The URL of the hub the nodes join.
    ///   - nodeToken: The hub's node token, or `nil` (the default): the nodes then connect as clients.
    ///   - hubAccess: How the nodes reach a hub that uses TLS or a bearer token, and the address they connect from
    ///     (`--address`; default: none of these).
    ///   - scheme: The nodes' topic naming; a scheme other than Broker's is passed as `--cluster-backend NAME`.
    /// - Returns: The command provider.
    public static func nodeCommand(
        executablePath: String,
        hubURL: String,
        nodeToken: String? = nil,
        hubAccess: HubAccess = HubAccess(),
        scheme: TopicScheme = .broker
    ) -> CommandProvider {
        { launch, _ in
            var arguments = ["node", "--name", launch.name, "--hub", hubURL]
            if scheme.backend != .broker { arguments += ["--cluster-backend", scheme.backendName] }
            if let caFile = hubAccess.caFile { arguments += ["--tls-ca", caFile] }
            if let certificate = hubAccess.certificateFile, let key = hubAccess.keyFile {
                arguments += ["--tls-certificate", certificate, "--tls-key", key]
            }
            if let address = hubAccess.localAddress { arguments += ["--address", address] }
            for id in launch.settings.keys.sorted() {
                let value = launch.settings[id] ?? nil
                arguments += ["--set", "\(id)=\(value?.json ?? "null")"]
            }
            var environment: [String: String] = [:]
            if let nodeToken { environment[NodeProcess.nodeTokenEnvironmentKey] = nodeToken }
            if let token = hubAccess.bearerToken { environment[NodeProcess.hubTokenEnvironmentKey] = token }
            return ProcessSupervisor.NodeCommand(
                executable: executablePath,
                arguments: arguments,
                environment: environment
            )
        }
    }

    /// How node processes reach a hub that uses TLS (`wss://`) or requires a bearer token.
    public struct HubAccess: Sendable, Hashable {
        /// The CAs that vouch for the hub's certificate (`--tls-ca`), or `nil` for the system's.
        public var caFile: String?
        /// A client certificate for a hub that verifies its peers, with ``keyFile``.
        public var certificateFile: String?
        /// The client certificate's key.
        public var keyFile: String?
        /// The hub's bearer token, passed in `CLUSTERKIT_HUB_TOKEN` (``NodeProcess/hubTokenEnvironmentKey``).
        public var bearerToken: String?
        /// The local IP address the nodes connect from (`zeekctl node --address`), the address of the host they
        /// run on; `nil` lets the system choose (``WebSocketClient/Options/localAddress``).
        public var localAddress: String?

        /// Creates hub access settings; every argument defaults to `nil`.
        ///
        /// - Parameters:
        ///   - caFile: Trusted CAs.
        ///   - certificateFile: A client certificate.
        ///   - keyFile: Its key.
        ///   - bearerToken: The hub's bearer token.
        ///   - localAddress: The address the nodes connect from.
        public init(
            caFile: String? = nil,
            certificateFile: String? = nil,
            keyFile: String? = nil,
            bearerToken: String? = nil,
            localAddress: String? = nil
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.bearerToken = bearerToken
            self.localAddress = localAddress
        }

        /// The TLS settings node processes use with this access (`zeekctl node --tls-ca … --tls-certificate …`).
        public var tls: WebSocketClient.TLSOptions {
            WebSocketClient.TLSOptions(caFile: caFile, certificateFile: certificateFile, keyFile: keyFile)
        }

        /// Checks, with a TLS handshake in memory, that node processes with this access can join a hub of `server`'s
        /// options at `host` (see ``WebSocketServer/Options/checkTLSHandshake(with:host:)``); does nothing when the
        /// hub does not use TLS.
        ///
        /// - Parameters:
        ///   - server: The hub's options.
        ///   - host: The address the nodes connect to.
        /// - Throws: ``WebSocketError`` saying which side would refuse the other, and why.
        public func checkTLS(against server: WebSocketServer.Options, host: String) throws(WebSocketError) {
            try server.checkTLSHandshake(with: tls, host: host)
        }
    }

    /// The system's wall-clock time.
    ///
    /// - Returns: The current time.
    @Sendable public static func systemTime() -> Broker.Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Broker.Timestamp(nanosecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }

    /// The supervised configuration of a launch: its name, cluster table (made from the layout when the launch has
    /// none), environment, interface and CPU affinity.
    ///
    /// - Parameter launch: The launch description.
    /// - Returns: The configuration.
    public static func nodeConfig(for launch: NodeLaunch) -> Supervisor.NodeConfig {
        var table = launch.clusterTable
        if table.isEmpty {
            for named in launch.layout.nodes {
                let role = Supervisor.ClusterRole.allCases.first { $0.nodeType == named.node.nodeType } ?? .none
                table[named.name] = Supervisor.ClusterEndpoint(
                    role: role,
                    host: named.node.ip,
                    p: named.node.p,
                    interface: named.node.interface,
                    metricsPort: named.node.metricsPort
                )
            }
        }
        return Supervisor.NodeConfig(
            name: launch.name,
            interface: launch.node.interface,
            env: launch.node.env,
            cpuAffinity: launch.node.cpuAffinity,
            cluster: table
        )
    }

    // MARK: - NodeHost

    /// Runs the supervisor (revival delays and stop sequences) until cancelled.
    ///
    /// When cancelled, every node process left gets SIGKILL; the method returns once they are gone.
    public func run() async {
        await supervisor.run()
        // Waiting here ignores cancellation on purpose: the processes were just sent SIGKILL and their exits follow.
        await wait(cancellable: false) { $0.livePIDs.isEmpty }
    }

    /// Starts a node process; a node already running under the name is stopped first.
    ///
    /// - Parameter launch: What to start.
    /// - Returns: `nil` when the process is starting, else the supervisor's error text.
    public func launch(_ launch: NodeLaunch) async -> String? {
        let error = await create(launch)
        return error.isEmpty ? nil : "node \(launch.name) could not start: \(error)"
    }

    /// Starts a node process, a node already running under the name stopped first, and answers as Zeek's
    /// `Supervisor::create` does.
    ///
    /// - Parameter launch: What to start.
    /// - Returns: `""` when the process is starting, else the supervisor's error text alone.
    public func create(_ launch: NodeLaunch) async -> String {
        await stop(launch.name)
        tracker.state.withLock { $0.nodes[launch.name] = Node(launch: launch) }
        let error = supervisor.create(Self.nodeConfig(for: launch))
        if !error.isEmpty { tracker.state.withLock { _ = $0.nodes.removeValue(forKey: launch.name) } }
        return error
    }

    /// Stops a node with the stop sequence and waits until its process is gone, at most the whole stop sequence
    /// plus three intervals (32 seconds with Zeek's values).
    ///
    /// - Parameter name: The node's name; an unknown name does nothing.
    public func stop(_ name: String) async {
        guard let pid = tracker.state.withLock({ $0.nodes.removeValue(forKey: name)?.pid }) else {
            supervisor.destroy(name)
            return
        }
        supervisor.destroy(name)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait { !$0.livePIDs.contains(pid) } }
            group.addTask { [clock, stopLimit] in try? await clock.sleep(for: stopLimit) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Stops a node's process and starts it again at once with the same configuration.
    ///
    /// - Parameter name: The node's name.
    /// - Returns: Whether the node was known.
    public func restart(_ name: String) async -> Bool {
        guard tracker.state.withLock({ $0.nodes[name] != nil }) else { return false }
        return supervisor.restart(name)
    }

    /// The nodes by name: current pid, whether the process runs, restarts and revivals, start time and recent
    /// output.
    ///
    /// - Returns: The status of every launched node.
    public func status() -> [String: HostedNodeStatus] {
        tracker.state.withLock { state in
            state.nodes.mapValues { node in
                HostedNodeStatus(
                    pid: node.pid,
                    isRunning: node.isRunning,
                    restarts: max(0, node.spawns - 1),
                    outputs: Management.NodeOutputs(
                        stdout: node.stdout.map { $0 + "\n" }.joined(),
                        stderr: node.stderr.map { $0 + "\n" }.joined()
                    ),
                    startedAt: node.startedAt,
                    notRunning: node.isRunning ? nil : Self.notRunning(node)
                )
            }
        }
    }

    /// The nodes whose process is not running, each with why: without collecting their output as ``status()``
    /// does, since an agent asks on every dispatch.
    ///
    /// - Returns: Why each stopped node is not running, by name.
    public func notRunning() -> [String: String] {
        tracker.state.withLock { state in
            state.nodes.filter { !$0.value.isRunning }.mapValues { Self.notRunning($0) }
        }
    }

    /// Why a node is not running, as a phrase: `exited on signal 9, restarting in 1 s`.
    private static func notRunning(_ node: Node) -> String {
        notRunningPhrase(lastExit: node.lastExit, spawns: node.spawns, revivalIn: node.revivesAt.map { $0 - .now })
    }

    /// Why a node is not running, as a phrase.
    ///
    /// - Parameters:
    ///   - lastExit: How its last process ended prematurely, if it did.
    ///   - spawns: How often it was started.
    ///   - revivalIn: How long until the supervisor starts it again, if it will.
    /// - Returns: `exited on signal 9, restarting in 1 s`, `exited with status 3`, and so on.
    static func notRunningPhrase(
        lastExit: ProcessSupervisor.Termination?,
        spawns: Int,
        revivalIn: Duration?
    ) -> String {
        var reason: String
        switch lastExit {
        case .exited(let status)?: reason = "exited with status \(status)"
        case .signaled(let signal)?: reason = "exited on signal \(signal)"
        case .unknown?: reason = "exited"
        case nil: reason = spawns > 0 ? "its process is not running" : "its process could not be started"
        }
        if let revivalIn { reason += ", restarting in \(revivalIn.wholeSecondsRoundedUp) s" }
        return reason
    }

    /// Stops every node with the stop sequence and returns when no node process is left; no node can be launched
    /// afterwards.
    ///
    /// ``run()`` must be running for the stop sequence to go beyond the first SIGTERM.
    ///
    /// - Parameter timeout: The longest wait; default the stop sequence plus three intervals.
    /// - Throws: ``SupervisorError`` naming the nodes still running when the limit is reached.
    public func shutdown(timeout: Duration? = nil) async throws {
        tracker.state.withLock { $0.nodes = [:] }
        try await supervisor.shutdown(timeout: timeout)
    }

    // MARK: - Tracking the processes

    /// The launch description of a supervised configuration alone (no settings; the node's instance unknown).
    ///
    /// - Parameter config: The configuration.
    /// - Returns: The launch.
    public static func launch(for config: Supervisor.NodeConfig) -> NodeLaunch {
        let layout = Supervisor.clusterLayout(for: config) ?? Cluster.Layout()
        let role = config.cluster[config.name]?.role ?? .none
        let node = Management.Node(name: config.name, instance: "", role: role)
        return NodeLaunch(name: config.name, node: node, layout: layout, clusterTable: config.cluster)
    }

    private static func keep(_ line: ProcessSupervisor.OutputLine, in tracker: NodeTracker) {
        tracker.state.withLock { state in
            guard var node = state.nodes[line.node] else { return }
            switch line.channel {
            case .stdout: node.stdout = Array((node.stdout + [line.message]).suffix(recentOutputLineLimit))
            case .stderr: node.stderr = Array((node.stderr + [line.message]).suffix(recentOutputLineLimit))
            }
            state.nodes[line.node] = node
        }
    }

    /// Records a supervisor event in the node table and wakes the waits it satisfies.
    ///
    /// - Returns: The node's exit, when the event is the revival scheduled after a node exited on its own (the
    ///   supervisor emits that right after every premature exit, so the reason can say when it comes back).
    private static func observe(
        _ event: ProcessSupervisor.Event,
        in tracker: NodeTracker,
        now: @Sendable () -> Broker.Timestamp
    ) -> HostedNodeExit? {
        var exit: HostedNodeExit?
        let ready = tracker.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            switch event {
            case .nodeStatus(let name, let pid):
                if pid > 0 { state.livePIDs.insert(pid) }
                guard var node = state.nodes[name] else { break }
                node.spawns += 1
                node.pid = pid > 0 ? pid : node.pid
                node.isRunning = pid > 0
                node.startedAt = pid > 0 ? now() : nil
                state.nodes[name] = node
            case .prematureExit(let name, let pid, let termination):
                state.livePIDs.remove(pid)
                if state.nodes[name]?.pid == pid {
                    state.nodes[name]?.isRunning = false
                    state.nodes[name]?.lastExit = termination
                    state.nodes[name]?.revivesAt = nil
                }
            case .stopped(let name, let pid, _):
                state.livePIDs.remove(pid)
                if state.nodes[name]?.pid == pid { state.nodes[name]?.isRunning = false }
            case .revivalScheduled(let name, let delay):
                state.nodes[name]?.revivesAt = .now + delay
                if let node = state.nodes[name], !node.isRunning {
                    exit = HostedNodeExit(name: name, reason: Self.notRunning(node))
                }
            case .revived, .spawnFailed, .signalSent:
                break
            }
            let ready = state.waiters.filter { $0.value.isSatisfied(state) }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
        return exit
    }

    /// Waits until `condition` holds for the state, checked now and after every event.
    private func wait(cancellable: Bool = true, until condition: @escaping @Sendable (State) -> Bool) async {
        let id = tracker.state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = tracker.state.withLock { state in
                    if condition(state) || (cancellable && Task.isCancelled) { return true }
                    state.waiters[id] = Waiter(isSatisfied: condition, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            guard cancellable else { return }
            tracker.state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
        }
    }
}

/// The host's node table, in a class of its own so that the supervisor's closures can share it.
private final class NodeTracker: Sendable {
    let state = Guarded(ProcessNodeHost.State())
}

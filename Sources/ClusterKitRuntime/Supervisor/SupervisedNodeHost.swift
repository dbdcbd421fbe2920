public import ClusterKitModel
import ClusterKitProcesses

/// Runs an agent's nodes through the supervisor of its host, as Zeek's agents do: ``SupervisorControl`` requests
/// over a backend to a ``SupervisorControlResponder`` in another process.
///
/// The nodes are the supervisor's children, so they keep running when the agent dies; an agent that comes back
/// takes over those that still run exactly as its deployment describes them (``adopt(_:)``) instead of starting
/// them again. ``status()`` is what the supervisor last reported: `node_status` events (every start of a node's
/// process) and `notify_node_exit` (every exit on its own, with the recent output).
///
/// Every request waits at most ``Options/requestTimeout`` for its answer (``Options/stopTimeout`` for a destroy,
/// whose answer comes once the process is gone); a request that gets none counts as failed, naming the supervisor.
public final class SupervisedNodeHost: NodeHost {
    /// How long requests wait.
    public struct Options: Sendable, Hashable {
        /// The longest wait for the answer to a create, status or restart request; default 10 s.
        public var requestTimeout: Duration
        /// The longest wait for the answer to a destroy request; default 35 s (Zeek's stop sequence is 26 s).
        public var stopTimeout: Duration

        /// Creates options.
        ///
        /// - Parameters:
        ///   - requestTimeout: The wait for most answers.
        ///   - stopTimeout: The wait for a destroy's answer.
        public init(requestTimeout: Duration = .seconds(10), stopTimeout: Duration = .seconds(35)) {
            self.requestTimeout = requestTimeout
            self.stopTimeout = stopTimeout
        }
    }

    private struct Node: Sendable {
        var config: Supervisor.NodeConfig
        var pid: Int?
        var isRunning = false
        var starts = 0
        var startedAt: Broker.Timestamp?
        var outputs: Management.NodeOutputs?
        var exitReason: String?
    }

    private struct State: Sendable {
        var nodes: [String: Node] = [:]
        var waiting: [String: CheckedContinuation<[Broker.Value]?, Never>] = [:]
        /// Answers that came before their waiter registered (never, as waiters register before publishing; kept
        /// for safety, at most a few).
        var early: [String: [Broker.Value]] = [:]
        /// Whether the backend connected (`false`: it never will); `nil` before ``run()`` knows.
        var connected: Bool?
        var connectWaiters: [String: CheckedContinuation<Bool, Never>] = [:]
    }

    private let backend: any ClusterBackend
    private let options: Options
    private let clock: any Clock<Duration>
    private let now: @Sendable () -> Broker.Timestamp
    private let state = Guarded(State())
    private let exitsContinuation: AsyncStream<HostedNodeExit>.Continuation
    /// The nodes that exited on their own, as the supervisor reports them.
    public let exits: AsyncStream<HostedNodeExit>

    /// Creates a host that speaks to the supervisor over `backend`; nothing is sent before ``run()``.
    ///
    /// - Parameters:
    ///   - backend: A connection to the supervisor's hub (subscribed and connected by ``run()``).
    ///   - options: The waits.
    ///   - clock: The clock of the waits.
    ///   - now: The wall-clock time, for ``HostedNodeStatus/startedAt``.
    public init(
        backend: any ClusterBackend,
        options: Options = Options(),
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Broker.Timestamp = ProcessNodeHost.systemTime
    ) {
        self.backend = backend
        self.options = options
        self.clock = clock
        self.now = now
        (exits, exitsContinuation) = AsyncStream.makeStream(
            of: HostedNodeExit.self,
            bufferingPolicy: .bufferingNewest(256)
        )
    }

    /// Connects to the supervisor and follows its answers and reports until cancelled or the connection ends.
    public func run() async {
        do {
            try await backend.subscribe(Topic(SupervisorControl.topicPrefix + "/"))
            try await backend.subscribe(Topic(SupervisorControl.managementTopic))
            try await backend.connect()
            setConnected(true)
            for try await received in backend.events { handle(received.event) }
        } catch {
            // The waits end at their limits; the agent reports the nodes as it finds them.
        }
        setConnected(false)
        let waiting = state.withLock { state in
            defer { state.waiting = [:] }
            return state.waiting.values
        }
        for continuation in waiting { continuation.resume(returning: nil) }
    }

    // MARK: - NodeHost

    /// Has the supervisor create the node; a node of that name the supervisor still runs from an earlier agent is
    /// destroyed first.
    ///
    /// - Parameter launch: What to start.
    /// - Returns: `nil` when the supervisor created it, else its error text (or that it did not answer).
    public func launch(_ launch: NodeLaunch) async -> String? {
        let config = ProcessNodeHost.nodeConfig(for: launch)
        // Known before the request goes out: the supervisor's node_status may come before its answer.
        state.withLock { $0.nodes[launch.name] = Node(config: config) }
        var answer = await create(config)
        if answer == "node with name '\(launch.name)' already exists" {
            _ = await call(SupervisorControl.destroyRequest, .string(launch.name), timeout: options.stopTimeout)
            answer = await create(config)
        }
        guard let answer, answer.isEmpty else {
            state.withLock { _ = $0.nodes.removeValue(forKey: launch.name) }
            return "node \(launch.name) could not start: \(answer ?? "the supervisor did not answer")"
        }
        return nil
    }

    /// Takes over the node when the supervisor runs it with exactly the configuration `launch` gives.
    ///
    /// - Parameter launch: What the node should be running.
    /// - Returns: Whether it runs so.
    public func adopt(_ launch: NodeLaunch) async -> Bool {
        let config = ProcessNodeHost.nodeConfig(for: launch)
        guard let answer = await call(SupervisorControl.statusRequest, .string(launch.name)),
            let value = answer.first, let status = try? Supervisor.Status(brokerValue: value),
            let running = status.nodes[launch.name], running.node == config, let pid = running.pid
        else { return false }
        state.withLock { state in
            var node = state.nodes[launch.name] ?? Node(config: config)
            node.pid = pid
            node.isRunning = true
            node.starts = max(node.starts, 1)
            state.nodes[launch.name] = node
        }
        return true
    }

    /// Has the supervisor destroy every node it runs that is not in `names` (nor launched by this host): what an
    /// earlier agent of this instance left and the deployment no longer has.
    ///
    /// - Parameter names: The deployment's nodes.
    public func retainOnly(_ names: Set<String>) async {
        guard let answer = await call(SupervisorControl.statusRequest, .string("")),
            let value = answer.first, let status = try? Supervisor.Status(brokerValue: value)
        else { return }
        let mine = state.withLock { Set($0.nodes.keys) }
        let leftovers = status.nodes.keys.filter { !names.contains($0) && !mine.contains($0) }
        await withDiscardingTaskGroup { group in
            for name in leftovers {
                group.addTask {
                    _ = await self.call(
                        SupervisorControl.destroyRequest,
                        .string(name),
                        timeout: self.options.stopTimeout
                    )
                }
            }
        }
    }

    /// Has the supervisor destroy the node and waits until it answers that the process is gone.
    ///
    /// - Parameter name: The node's name.
    public func stop(_ name: String) async {
        _ = state.withLock { $0.nodes.removeValue(forKey: name) }
        _ = await call(SupervisorControl.destroyRequest, .string(name), timeout: options.stopTimeout)
    }

    /// Has the supervisor restart the node.
    ///
    /// - Parameter name: The node's name.
    /// - Returns: Whether the supervisor knew it.
    public func restart(_ name: String) async -> Bool {
        guard state.withLock({ $0.nodes[name] != nil }) else { return false }
        guard let answer = await call(SupervisorControl.restartRequest, .string(name)),
            case .boolean(let known)? = answer.first
        else { return false }
        return known
    }

    /// The nodes as the supervisor last reported them.
    ///
    /// - Returns: Each node's pid, whether it runs, restarts, start time and, after an exit, its output.
    public func status() -> [String: HostedNodeStatus] {
        state.withLock { state in
            state.nodes.mapValues { node in
                HostedNodeStatus(
                    pid: node.pid,
                    isRunning: node.isRunning,
                    restarts: max(0, node.starts - 1),
                    outputs: node.outputs,
                    startedAt: node.startedAt,
                    notRunning: node.isRunning ? nil : (node.exitReason ?? "its process is not running")
                )
            }
        }
    }

    // MARK: - Requests and reports

    private func create(_ config: Supervisor.NodeConfig) async -> String? {
        guard let answer = await call(SupervisorControl.createRequest, config.brokerValue),
            case .string(let text)? = answer.first
        else { return nil }
        return text
    }

    /// What one task of a request reports.
    private enum Step: Sendable {
        case answer([Broker.Value])
        case published
        case failed
    }

    /// Publishes a request once the backend is connected and waits for its answer's arguments after the request id,
    /// or `nil` at the limit (or when the request cannot be sent).
    private func call(_ request: String, _ argument: Broker.Value, timeout: Duration? = nil) async -> [Broker.Value]? {
        let reqid = UniqueID.make()
        let limit = timeout ?? options.requestTimeout
        return await withTaskGroup(of: Step.self) { group in
            group.addTask {
                let answer = await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let early = self.state.withLock { state -> [Broker.Value]?? in
                            if let answer = state.early.removeValue(forKey: reqid) { return .some(answer) }
                            if Task.isCancelled { return .some(nil) }
                            state.waiting[reqid] = continuation
                            return .none
                        }
                        if let early { continuation.resume(returning: early) }
                    }
                } onCancel: {
                    self.state.withLock { $0.waiting.removeValue(forKey: reqid) }?.resume(returning: nil)
                }
                return answer.map(Step.answer) ?? .failed
            }
            group.addTask { [clock] in
                try? await clock.sleep(for: limit)
                return .failed
            }
            group.addTask {
                guard await self.untilConnected() else { return .failed }
                do {
                    try await self.backend.publish(
                        Broker.Event(request, [.string(reqid), argument]),
                        to: Topic(SupervisorControl.topicPrefix)
                    )
                    return .published
                } catch {
                    return .failed
                }
            }
            defer { group.cancelAll() }
            while let step = await group.next() {
                switch step {
                case .answer(let values): return values
                case .published: continue
                case .failed: return nil
                }
            }
            return nil
        }
    }

    /// Waits until ``run()`` has connected; `false` when cancelled or the connection ended first.
    private func untilConnected() async -> Bool {
        let id = UniqueID.make()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool? in
                    if let connected = state.connected { return connected }
                    if Task.isCancelled { return false }
                    state.connectWaiters[id] = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.connectWaiters.removeValue(forKey: id) }?.resume(returning: false)
        }
    }

    /// Records whether the backend connected (or never will) and wakes the requests waiting for it.
    private func setConnected(_ connected: Bool) {
        let waiters = state.withLock { state in
            state.connected = connected
            defer { state.connectWaiters = [:] }
            return state.connectWaiters.values
        }
        for waiter in waiters { waiter.resume(returning: connected) }
    }

    private func handle(_ event: Broker.Event) {
        switch event.name {
        case SupervisorControl.createResponse, SupervisorControl.statusResponse, SupervisorControl.restartResponse,
            SupervisorControl.destroyResponse:
            guard case .string(let reqid)? = event.arguments.first else { return }
            let answer = Array(event.arguments.dropFirst())
            let waiter = state.withLock { state -> CheckedContinuation<[Broker.Value]?, Never>? in
                if let waiter = state.waiting.removeValue(forKey: reqid) { return waiter }
                if state.early.count < 16 { state.early[reqid] = answer }
                return nil
            }
            waiter?.resume(returning: answer)
        case SupervisorControl.nodeStatus:
            guard event.arguments.count == 2, case .string(let name) = event.arguments[0],
                case .count(let pid) = event.arguments[1]
            else { return }
            let time = now()
            state.withLock { state in
                guard var node = state.nodes[name] else { return }
                node.starts += 1
                node.pid = pid > 0 ? Int(pid) : node.pid
                node.isRunning = pid > 0
                node.startedAt = pid > 0 ? time : nil
                node.exitReason = pid > 0 ? nil : "its process could not be started"
                state.nodes[name] = node
            }
        case SupervisorControl.notifyNodeExit:
            guard event.arguments.count == 2, case .string(let name) = event.arguments[0] else { return }
            let outputs = try? Management.NodeOutputs(brokerValue: event.arguments[1])
            let known = state.withLock { state in
                guard state.nodes[name] != nil else { return false }
                state.nodes[name]?.isRunning = false
                state.nodes[name]?.outputs = outputs
                state.nodes[name]?.exitReason = "its process exited; the supervisor revives it"
                return true
            }
            if known {
                exitsContinuation.yield(
                    HostedNodeExit(name: name, reason: "its process exited; the supervisor revives it")
                )
            }
        default:
            return
        }
    }
}

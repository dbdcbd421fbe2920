public import ClusterKitModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A process supervisor with the semantics of Zeek's Supervisor framework, running local child processes.
///
/// ``create(_:)``, ``destroy(_:)``, ``restart(_:)`` and ``status(_:)`` behave like Zeek's `Supervisor::create`,
/// `destroy`, `restart` and `status`, with Zeek's checks, error texts and return values. Where Zeek forks itself,
/// each node runs the program a ``NodeCommand`` closure chooses for its ``Supervisor/NodeConfig`` (for example
/// `zeekctl node --name worker-1`), set up as Zeek sets up a supervised node: working directory, `stdout_file` and
/// `stderr_file`, CPU affinity, `env`, and `CLUSTER_NODE` when the node has a cluster table. The node reads its
/// configuration from the file named by ``Supervisor/nodeConfigurationEnvironmentKey`` (see
/// ``Supervisor/supervisedNodeConfig(environment:readFile:)``).
///
/// Crashed nodes are revived with Zeek's back-off (1, 1, 1, 2, 2, 2, 4, … seconds from the previous spawn, reset
/// after 30 seconds of uptime); destroyed and restarted nodes are stopped with Zeek's stop sequence (SIGTERM every
/// 2 seconds, SIGKILL from the 14th attempt), sent to the node's whole process group. Node output goes through the
/// output hooks to the output sink; what happens is reported as ``Event``s.
///
/// ```swift
/// let supervisor = ProcessSupervisor(
///     configuration: .init(runtimeDirectory: "/var/run/zeekctl", environment: environment),
///     command: { node in .init(executable: zeekctlPath, arguments: ["node", "--name", node.name]) },
///     output: { line in terminal.write(line.text) }
/// )
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await supervisor.run() }
///     _ = supervisor.create(Supervisor.NodeConfig(name: "worker-1", cluster: cluster))
///     // ...
///     try await supervisor.shutdown()
/// }
/// ```
///
/// Waiting (revival delays, the stop sequence, the shutdown limit) uses the injected clock and happens inside
/// ``run()``, which must be running for revivals and for the stop sequence to go beyond its first SIGTERM. Process
/// exits and output are real: one dedicated thread forks the nodes and watches them (see
/// `Docs/decisions/0003-process-supervision.md`).
///
/// - Important: Call ``shutdown(timeout:)`` before the supervisor goes away. A supervisor released while nodes
///   run kills them with SIGKILL; nodes and their process groups also get SIGKILL when the supervisor process dies
///   (the kernel's parent-death signal, and a small watchdog process named `ck-watchdog` for the nodes' children).
public final class ProcessSupervisor: Sendable {
    /// Chooses the program a node runs from its configuration.
    public typealias CommandProvider = @Sendable (Supervisor.NodeConfig) -> NodeCommand

    private struct TimerRequest: Sendable {
        var key: SupervisorStateMachine.TimerKey
        var deadline: Duration
    }

    private struct State: Sendable {
        var machine: SupervisorStateMachine
        /// Events not yet delivered, in order.
        var outbox: [Event] = []
        var isDelivering = false
        var subscriptions: [UInt64: AsyncStream<Event>.Continuation] = [:]
        var nextSubscription: UInt64 = 0
        var stopWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextStopWaiter: UInt64 = 0
        /// Set once the machine is stopped and every event was delivered.
        var isFinished = false
        var timerStream: AsyncStream<TimerRequest>?
        /// Configuration files written, by node serial.
        var files: [UInt64: String] = [:]
    }

    private let configuration: Configuration
    private let command: CommandProvider
    private let outputHooks: [OutputHook]
    private let output: OutputSink
    private let eventHandler: (@Sendable (Event) -> Void)?
    private let time: TimeSource
    private let monitor: ProcessMonitor
    private let timers: AsyncStream<TimerRequest>.Continuation
    private let state: Guarded<State>
    /// Distinguishes this supervisor's files from another's in a shared runtime directory.
    private let instanceID = UniqueID.make()

    /// Creates a supervisor with no nodes.
    ///
    /// Nothing starts until the first ``create(_:)``; revivals and the stop sequence need ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: The runtime directory, base environment, stop sequence and limits.
    ///   - clock: The clock for every wait; default `ContinuousClock()`.
    ///   - command: Chooses the program each node runs; called for every spawn.
    ///   - outputHooks: Run in order for every line of node output not written to a file; the first to return
    ///     ``OutputDisposition/suppress`` drops the line. Default none.
    ///   - output: Receives the lines no hook suppressed. Default: drop them.
    ///   - eventHandler: Receives every event, in order, on whichever thread caused it; it must not block. Default
    ///     none; see also ``events()``.
    public init(
        configuration: Configuration,
        clock: any Clock<Duration> = ContinuousClock(),
        command: @escaping CommandProvider,
        outputHooks: [OutputHook] = [],
        output: @escaping OutputSink = { _ in },
        eventHandler: (@Sendable (Event) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.command = command
        self.outputHooks = outputHooks
        self.output = output
        self.eventHandler = eventHandler
        self.time = TimeSource(clock)
        self.monitor = ProcessMonitor(maximumLineLength: configuration.maximumLineLength)
        let (stream, continuation) = AsyncStream.makeStream(of: TimerRequest.self)
        self.timers = continuation
        self.state = Guarded(
            State(machine: SupervisorStateMachine(stopSequence: configuration.stopSequence), timerStream: stream)
        )
        monitor.setDelegate(self)
    }

    deinit {
        monitor.terminate()
        timers.finish()
    }

    // MARK: - Zeek's Supervisor API

    /// Zeek's `Supervisor::create`: adds a node and starts it.
    ///
    /// The checks run in Zeek's order and return Zeek's texts: `node names must not be an empty string`,
    /// `node names must not contain spaces: '<name>'`, `node with name '<name>' already exists`,
    /// `node with name '<name>' has interface and pcap_file set`, then, when `directory` is set and it or a parent
    /// cannot be created, `failed to create working directory <dir>\n` (with the trailing newline). After
    /// ``shutdown(timeout:)`` began, the result is `supervisor is shut down`.
    ///
    /// ClusterKit's own checks come before the directory is created: an `env` that
    /// ``Supervisor/NodeConfig/environmentError`` refuses gives that text, and a `directory` outside the runtime
    /// directory gives `node '<name>' working directory <dir> is outside the runtime directory <runtime>`.
    /// A relative `directory` is read against the runtime directory (see ``Supervisor/NodeConfig/directory``).
    ///
    /// The process is started asynchronously; a ``Event/nodeStatus(node:pid:)`` event reports its pid (0 if the
    /// spawn failed). A node destroyed earlier under the same name is stopped first.
    ///
    /// - Parameter config: The node's configuration.
    /// - Returns: `""` on success, otherwise the error text.
    public func create(_ config: Supervisor.NodeConfig) -> String {
        apply { machine, now in
            if machine.isShuttingDown { return ("supervisor is shut down", []) }
            if let error = machine.validationError(for: config) { return (error, []) }
            if let error = config.environmentError { return (error, []) }
            var config = config
            if let directory = config.directory {
                let runtime = configuration.runtimeDirectory
                guard let resolved = WorkingDirectory.resolve(directory, within: runtime) else {
                    let name = config.name.escapingControlCharacters
                    let shown = directory.escapingControlCharacters
                    return ("node '\(name)' working directory \(shown) is outside the runtime directory \(runtime)", [])
                }
                guard WorkingDirectory.ensureIntermediateDirectories(resolved) else {
                    return ("failed to create working directory \(directory)\n", [])
                }
                config.directory = resolved
            }
            return ("", machine.create(config, now: now))
        }
    }

    /// Zeek's `Supervisor::destroy`: removes a node and stops its process.
    ///
    /// The node leaves ``status(_:)`` at once; its process group is stopped with the stop sequence and a
    /// ``Event/stopped(node:pid:termination:)`` event follows.
    ///
    /// - Parameter name: The node, or `""` (the default) for every node.
    /// - Returns: `false` for an unknown name; `true` otherwise, also for `""` with no nodes.
    @discardableResult
    public func destroy(_ name: String = "") -> Bool {
        apply { machine, now in machine.destroy(name, now: now) }
    }

    /// Zeek's `Supervisor::restart`: stops a node's process and starts it again at once, keeping its configuration.
    ///
    /// A ``Event/nodeStatus(node:pid:)`` event reports the new pid. The revival counters are not reset.
    ///
    /// - Parameter name: The node, or `""` (the default) for every node.
    /// - Returns: `false` for an unknown name; `true` otherwise.
    @discardableResult
    public func restart(_ name: String = "") -> Bool {
        apply { machine, now in machine.restart(name, now: now) }
    }

    /// Zeek's `Supervisor::status`: the nodes' configurations and pids.
    ///
    /// `pid` is the current or last known process id (the supervisor learns of spawns, not of exits); it is absent
    /// before the first spawn and after a failed one.
    ///
    /// - Parameter name: The node, or `""` (the default) for every node.
    /// - Returns: The status; an unknown name gives an empty table.
    public func status(_ name: String = "") -> Supervisor.Status {
        state.withLock { $0.machine.status(name) }
    }

    // MARK: - Running and stopping

    /// A stream of every event from now on, in order; it ends after ``shutdown(timeout:)`` has completed.
    ///
    /// Each call makes a new subscription that buffers up to ``Configuration/eventBufferLimit`` events, dropping
    /// the oldest when the reader falls behind.
    ///
    /// - Returns: The events.
    public func events() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: Event.self,
            bufferingPolicy: .bufferingNewest(configuration.eventBufferLimit)
        )
        let id: UInt64? = state.withLock { state in
            guard !state.isFinished else { return nil }
            let id = state.nextSubscription
            state.nextSubscription += 1
            state.subscriptions[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscriptions.removeValue(forKey: id) }
        }
        return stream
    }

    /// Runs the supervisor's timers (revival delays and the stop sequence) until shutdown has completed.
    ///
    /// Call it once, typically as a child task next to the code that uses the supervisor. It returns when
    /// ``shutdown(timeout:)`` has completed. When the calling task is cancelled first, every node's process group
    /// gets SIGKILL at once and the method returns without waiting (a later ``shutdown(timeout:)`` waits for the
    /// exits).
    public func run() async {
        let stream = state.withLock { state in
            defer { state.timerStream = nil }
            return state.timerStream
        }
        guard let stream else {
            preconditionFailure("ProcessSupervisor.run() may be called only once")
        }
        await withDiscardingTaskGroup { group in
            for await request in stream {
                group.addTask { [time] in
                    do {
                        try await time.sleep(request.deadline)
                    } catch {
                        return
                    }
                    self.apply { machine, now in ((), machine.timerFired(request.key, now: now)) }
                }
            }
            group.cancelAll()
        }
        if Task.isCancelled {
            apply { machine, now in ((), machine.shutdownImmediately(now: now)) }
        }
    }

    /// Stops every node and returns when no node process is left.
    ///
    /// Every node is destroyed as with `destroy("")` and no more can be created. Each node's process group gets
    /// the stop sequence; ``run()`` must be running for it to go beyond the first SIGTERM. When the method returns,
    /// every event has been delivered and ``events()`` streams have ended.
    ///
    /// - Parameter timeout: The longest wait, on the injected clock; default the stop sequence's interval times
    ///   its SIGTERM attempts plus three (32 seconds with Zeek's values).
    /// - Throws: ``SupervisorError`` with code ``SupervisorError/Code/timedOut`` naming the nodes still running
    ///   when the limit is reached.
    public func shutdown(timeout: Duration? = nil) async throws {
        apply { machine, now in ((), machine.shutdown(now: now)) }
        let stop = configuration.stopSequence
        let limit = timeout ?? stop.interval * (stop.terminateAttempts + 3)
        let deadline = time.now() + limit
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { [time] in
                do {
                    try await time.sleep(deadline)
                } catch {
                    return false
                }
                return false
            }
            group.addTask {
                await self.waitUntilFinished()
                return true
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        guard !finished else { return }
        let remaining = state.withLock { $0.machine.remainingNodeNames }
        let names = remaining.map { "'\($0)'" }.joined(separator: ", ")
        throw SupervisorError(
            .timedOut,
            "shutdown timed out after \(limit) waiting for the processes of nodes \(names) to exit"
        )
    }

    private func waitUntilFinished() async {
        let id = state.withLock { state in
            defer { state.nextStopWaiter += 1 }
            return state.nextStopWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.isFinished || Task.isCancelled { return true }
                    state.stopWaiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.stopWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    // MARK: - Applying the state machine's actions

    private func apply<R: Sendable>(
        _ body: (inout SupervisorStateMachine, Duration) -> (R, [SupervisorStateMachine.Action])
    ) -> R {
        let now = time.now()
        let (result, actions) = state.withLock { state in
            let (result, actions) = body(&state.machine, now)
            var rest: [SupervisorStateMachine.Action] = []
            for action in actions {
                if case .emit(let event) = action {
                    state.outbox.append(event)
                } else {
                    rest.append(action)
                }
            }
            return (result, rest)
        }
        for action in actions { perform(action) }
        deliverEvents()
        return result
    }

    private func perform(_ action: SupervisorStateMachine.Action) {
        switch action {
        case .spawn(let key, let config):
            monitor.submit(spawnRequest(key, config))
        case .signal(let pid, let signal):
            monitor.signalGroup(leader: pid, signal: signal)
        case .schedule(let key, let deadline):
            timers.yield(TimerRequest(key: key, deadline: deadline))
        case .discard(let serial, _):
            if let path = state.withLock({ $0.files.removeValue(forKey: serial) }) { unlink(path) }
        case .emit:
            break  // Delivered in order by deliverEvents().
        }
    }

    /// Delivers queued events in order.
    ///
    /// Only one thread delivers at a time, and it picks up what others queued meanwhile. Once the machine has stopped
    /// and nothing is left, it ends the streams and wakes ``shutdown(timeout:)``.
    private func deliverEvents() {
        while true {
            enum Step {
                case deliver([Event], [AsyncStream<Event>.Continuation])
                case finish([AsyncStream<Event>.Continuation], [CheckedContinuation<Void, Never>])
            }
            let step: Step? = state.withLock { state in
                guard !state.isDelivering else { return nil }
                if !state.outbox.isEmpty {
                    state.isDelivering = true
                    defer { state.outbox = [] }
                    return .deliver(state.outbox, Array(state.subscriptions.values))
                }
                guard state.machine.isStopped, !state.isFinished else { return nil }
                state.isFinished = true
                defer {
                    state.subscriptions = [:]
                    state.stopWaiters = [:]
                }
                return .finish(Array(state.subscriptions.values), Array(state.stopWaiters.values))
            }
            switch step {
            case nil:
                return
            case .deliver(let events, let subscriptions):
                for event in events {
                    eventHandler?(event)
                    for subscription in subscriptions { subscription.yield(event) }
                }
                state.withLock { $0.isDelivering = false }
            case .finish(let subscriptions, let waiters):
                timers.finish()
                monitor.stop()
                for subscription in subscriptions { subscription.finish() }
                for waiter in waiters { waiter.resume() }
                return
            }
        }
    }

    // MARK: - Building a spawn

    private func spawnRequest(
        _ key: SupervisorStateMachine.SpawnKey,
        _ config: Supervisor.NodeConfig
    ) -> SpawnRequest {
        let nodeCommand = command(config)
        var environment = configuration.environment
        environment.merge(nodeCommand.environment) { $1 }
        // `create` refused bad and reserved keys; skipping them here too means no entry can ever set another
        // variable (`A=B`), and the supervisor's own keys, set last, always win.
        environment.merge(
            config.env.filter { $0.key.isVariableName && !$0.value.utf8.contains(0) }
        ) { $1 }
        if !config.cluster.isEmpty { environment[Supervisor.clusterNodeEnvironmentKey] = config.name }
        let file = configurationFile(key.serial, config)
        environment[Supervisor.nodeConfigurationEnvironmentKey] = file.path
        state.withLock { $0.files[key.serial] = file.path }
        return SpawnRequest(
            key: key,
            node: config.name,
            executable: Self.resolve(nodeCommand.executable, path: environment["PATH"]),
            arguments: [nodeCommand.executable] + nodeCommand.arguments,
            environment: environment.map { "\($0.key)=\($0.value)" }.sorted(),
            directory: config.directory,
            stdoutFile: config.stdoutFile,
            stderrFile: config.stderrFile,
            cpuAffinity: config.cpuAffinity,
            parentDeathSignal: configuration.parentDeathSignal,
            file: file
        )
    }

    private func configurationFile(_ serial: UInt64, _ config: Supervisor.NodeConfig) -> SpawnRequest.File {
        let safeName = String(
            config.name.unicodeScalars.prefix(64).map { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-")
                    ? Character(scalar) : "_"
            }
        )
        let directory = configuration.runtimeDirectory
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + "\(safeName)-\(instanceID)-\(serial).json"
        return SpawnRequest.File(
            directory: directory,
            path: path,
            contents: Array((Broker.JSON.encode(config.brokerValue) + "\n").utf8)
        )
    }

    /// Resolves a bare program name against `PATH` (default `/bin:/usr/bin`, as `execvp`); paths stay as given.
    private static func resolve(_ executable: String, path: String?) -> String {
        guard !executable.contains("/"), !executable.isEmpty else { return executable }
        for directory in (path ?? "/bin:/usr/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + executable
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return executable
    }
}

extension ProcessSupervisor: ProcessMonitorDelegate {
    func monitorCompletedSpawn(_ request: SpawnRequest, result: SupervisorStateMachine.SpawnResult) {
        apply { machine, now in ((), machine.spawnCompleted(request.key, result: result, now: now)) }
    }

    func monitorObservedExit(serial: UInt64, pid: Int32, termination: Termination) {
        apply { machine, now in
            ((), machine.processExited(serial: serial, pid: pid, termination: termination, now: now))
        }
    }

    func monitorReadLine(node: String, channel: OutputChannel, bytes: [UInt8]) {
        // Zeek's stem drops empty lines before prefixing them.
        guard !bytes.isEmpty else { return }
        let line = OutputLine(channel: channel, node: node, text: String(decoding: bytes, as: UTF8.self))
        for hook in outputHooks where hook(line) == .suppress { return }
        output(line)
    }
}

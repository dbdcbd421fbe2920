import ClusterKitModel

/// The supervisor's bookkeeping, without I/O: Zeek's supervisor table and its stem's node table.
///
/// Zeek splits the work between the supervisor process (the table behind `status`, `create`, `destroy` and
/// `restart`) and the stem process (which forks, reaps, revives and kills). This type keeps both: ``table`` is the
/// supervisor's view (a destroyed node leaves it at once), ``nodes`` the stem's (a destroyed node stays until its
/// process is gone). Every event method returns the actions its owner performs outside the lock, in order.
///
/// Nodes in ``nodes`` are keyed by a serial number, so that a node destroyed and created again under the same name
/// is a new node; the new one waits until the old one's process has gone.
struct SupervisorStateMachine: Sendable {
    /// Identifies one spawn attempt of one node.
    struct SpawnKey: Sendable, Hashable {
        /// The node's serial number.
        var serial: UInt64
        /// The node's generation when the spawn was requested.
        var generation: UInt64
    }

    /// What a timer is for.
    enum TimerPurpose: Sendable, Hashable {
        /// Revive a node that exited prematurely.
        case revival
        /// Send the next signal of the stop sequence.
        case stopEscalation
    }

    /// Identifies one timer; a timer whose generation is no longer the node's is stale and ignored.
    struct TimerKey: Sendable, Hashable {
        /// The node's serial number.
        var serial: UInt64
        /// The node's generation when the timer was set.
        var generation: UInt64
        /// What the timer is for.
        var purpose: TimerPurpose
    }

    /// The outcome of a spawn attempt.
    enum SpawnResult: Sendable, Hashable {
        /// The process runs with this process id (also its process group id).
        case spawned(pid: Int32)
        /// No process was started.
        case failed(SupervisorError)
    }

    /// Something the owner must do.
    enum Action: Sendable, Hashable {
        /// Start the node's process and report the outcome with ``spawnCompleted(_:result:now:)``.
        case spawn(SpawnKey, Supervisor.NodeConfig)
        /// Send a signal to the process group led by `pid`, unless that process has already been reaped.
        case signal(pid: Int32, signal: Int32)
        /// Call ``timerFired(_:now:)`` once `deadline` (time since the origin) has come.
        case schedule(TimerKey, deadline: Duration)
        /// Deliver an event to the subscribers.
        case emit(ProcessSupervisor.Event)
        /// The node is gone for good: remove its configuration file.
        case discard(serial: UInt64, name: String)
    }

    /// An entry of Zeek's supervisor table.
    struct TableEntry: Sendable, Hashable {
        /// The node's configuration.
        var config: Supervisor.NodeConfig
        /// The last pid reported for the node (0: none, or the last spawn failed).
        var pid: Int32
        /// The serial number of the node in ``nodes``.
        var serial: UInt64
    }

    /// Where a node is in its life.
    enum Phase: Sendable, Hashable {
        /// Waiting for the previous node of the same name (this serial) to stop.
        case blocked(by: UInt64)
        /// A spawn request is in flight.
        case spawning
        /// The process runs.
        case running(pid: Int32)
        /// The process exited prematurely (or never started); a revival timer is set.
        case awaitingRevival
        /// The stop sequence is running; `thenRespawn` for a restart.
        case stopping(pid: Int32, attempt: Int, thenRespawn: Bool)
    }

    /// What to do once an in-flight spawn completes.
    enum AfterSpawn: Sendable, Hashable {
        case nothing
        case destroy
        case restart
    }

    /// A node of the stem's table.
    struct Node: Sendable, Hashable {
        /// The node's serial number.
        let serial: UInt64
        /// The node's configuration.
        let config: Supervisor.NodeConfig
        /// Where the node is in its life.
        var phase: Phase
        /// The revival counters.
        var backoff = RevivalBackoff()
        /// When the node was last spawned (time since the origin).
        var spawnTime: Duration?
        /// Bumped by every spawn and stop, so that older timers and spawn results are recognised as stale.
        var generation: UInt64 = 0
        /// What to do once the in-flight spawn completes.
        var afterSpawn = AfterSpawn.nothing
        /// A Boolean value indicating whether the in-flight spawn is a revival.
        var isRevival = false

        /// The node's name.
        var name: String { config.name }
    }

    /// How nodes are stopped.
    let stopSequence: ProcessSupervisor.Configuration.StopSequence
    /// Zeek's supervisor table, by node name.
    private(set) var table: [String: TableEntry] = [:]
    /// The stem's nodes, by serial number.
    private(set) var nodes: [UInt64: Node] = [:]
    /// A Boolean value indicating whether shutdown has begun (no more creates).
    private(set) var isShuttingDown = false
    /// A Boolean value indicating whether stops skip SIGTERM and send SIGKILL at once.
    private(set) var killsImmediately = false
    private var nextSerial: UInt64 = 1

    /// Creates an empty state.
    ///
    /// - Parameter stopSequence: How nodes are stopped.
    init(stopSequence: ProcessSupervisor.Configuration.StopSequence) {
        self.stopSequence = stopSequence
    }

    /// A Boolean value indicating whether shutdown has begun and every node process is gone.
    var isStopped: Bool { isShuttingDown && nodes.isEmpty }

    /// The names of the nodes whose processes are not gone yet, sorted.
    var remainingNodeNames: [String] { nodes.values.map(\.name).sorted() }

    // MARK: - Supervisor API

    /// Zeek's checks 1–4 of `Supervisor::create`, in Zeek's order; check 5 (the working directory) is I/O and is
    /// the owner's.
    ///
    /// - Parameter config: The node's configuration.
    /// - Returns: Zeek's error text, or `nil` when the checks pass.
    func validationError(for config: Supervisor.NodeConfig) -> String? {
        if config.name.isEmpty { return "node names must not be an empty string" }
        if config.name.utf8.contains(UInt8(ascii: " ")) {
            return "node names must not contain spaces: '\(config.name)'"
        }
        if table[config.name] != nil { return "node with name '\(config.name)' already exists" }
        if config.interface != nil, config.pcapFile != nil {
            return "node with name '\(config.name)' has interface and pcap_file set"
        }
        return nil
    }

    /// Adds a validated node and spawns it (or queues it behind a node of the same name that is still stopping).
    ///
    /// - Parameters:
    ///   - config: The node's configuration; must pass ``validationError(for:)``.
    ///   - now: The current time.
    /// - Returns: The actions.
    mutating func create(_ config: Supervisor.NodeConfig, now: Duration) -> [Action] {
        let serial = nextSerial
        nextSerial += 1
        table[config.name] = TableEntry(config: config, pid: 0, serial: serial)
        if let predecessor = nodes.values.first(where: { $0.name == config.name }) {
            nodes[serial] = Node(serial: serial, config: config, phase: .blocked(by: predecessor.serial))
            return []
        }
        nodes[serial] = Node(serial: serial, config: config, phase: .spawning)
        return spawn(serial, isRevival: false)
    }

    /// Zeek's `Supervisor::destroy`: `""` destroys every node and returns `true` even when there are none; a
    /// name returns `false` when unknown.
    ///
    /// - Parameters:
    ///   - name: The node, or `""` for all.
    ///   - now: The current time.
    /// - Returns: Zeek's result and the actions.
    mutating func destroy(_ name: String, now: Duration) -> (Bool, [Action]) {
        if name.isEmpty {
            let entries = table.values.sorted { $0.config.name.utf8.lexicographicallyPrecedes($1.config.name.utf8) }
            table.removeAll()
            return (true, entries.flatMap { destroyNode($0.serial, now: now) })
        }
        guard let entry = table.removeValue(forKey: name) else { return (false, []) }
        return (true, destroyNode(entry.serial, now: now))
    }

    /// Zeek's `Supervisor::restart`.
    ///
    /// `""` restarts every node and returns `true`; a name returns `false` when unknown. The configuration and the
    /// revival counters are kept.
    ///
    /// - Parameters:
    ///   - name: The node, or `""` for all.
    ///   - now: The current time.
    /// - Returns: Zeek's result and the actions.
    mutating func restart(_ name: String, now: Duration) -> (Bool, [Action]) {
        if name.isEmpty {
            let entries = table.values.sorted { $0.config.name.utf8.lexicographicallyPrecedes($1.config.name.utf8) }
            return (true, entries.flatMap { restartNode($0.serial, now: now) })
        }
        guard let entry = table[name] else { return (false, []) }
        return (true, restartNode(entry.serial, now: now))
    }

    /// Zeek's `Supervisor::status`.
    ///
    /// `""` gives every node; an unknown name gives an empty table. `pid` is the current or last known process id,
    /// absent when the last report was 0.
    ///
    /// - Parameter name: The node, or `""` for all.
    /// - Returns: The status.
    func status(_ name: String) -> Supervisor.Status {
        func nodeStatus(_ entry: TableEntry) -> Supervisor.NodeStatus {
            Supervisor.NodeStatus(node: entry.config, pid: entry.pid == 0 ? nil : Int(entry.pid))
        }
        if name.isEmpty { return Supervisor.Status(nodes: table.mapValues(nodeStatus)) }
        guard let entry = table[name] else { return Supervisor.Status() }
        return Supervisor.Status(nodes: [name: nodeStatus(entry)])
    }

    /// Begins shutdown: every node is destroyed and no more can be created.
    ///
    /// - Parameter now: The current time.
    /// - Returns: The actions.
    mutating func shutdown(now: Duration) -> [Action] {
        isShuttingDown = true
        return destroy("", now: now).1
    }

    /// Begins an immediate shutdown: every node process group gets SIGKILL now (used when no timer can run).
    ///
    /// - Parameter now: The current time.
    /// - Returns: The actions.
    mutating func shutdownImmediately(now: Duration) -> [Action] {
        killsImmediately = true
        var actions = shutdown(now: now)
        for node in nodes.values {
            if case .stopping(let pid, _, _) = node.phase {
                actions.append(.signal(pid: pid, signal: SupervisorSignal.kill))
            }
        }
        return actions
    }

    // MARK: - Events from the process monitor and the timers

    /// Records the outcome of a spawn.
    ///
    /// - Parameters:
    ///   - key: The spawn's key.
    ///   - result: The outcome.
    ///   - now: The current time.
    /// - Returns: The actions.
    mutating func spawnCompleted(_ key: SpawnKey, result: SpawnResult, now: Duration) -> [Action] {
        guard var node = nodes[key.serial], node.generation == key.generation, node.phase == .spawning else {
            // Not expected: nothing waits for this process, so do not leave it running.
            if case .spawned(let pid) = result { return [.signal(pid: pid, signal: SupervisorSignal.kill)] }
            return []
        }
        node.spawnTime = now
        var actions: [Action] = []
        let afterSpawn = node.afterSpawn
        node.afterSpawn = .nothing
        switch result {
        case .spawned(let pid):
            if node.isRevival { actions.append(.emit(.revived(node: node.name, pid: Int(pid)))) }
            actions.append(.emit(.nodeStatus(node: node.name, pid: Int(pid))))
            recordPID(pid, of: node)
            node.phase = .running(pid: pid)
            nodes[key.serial] = node
            switch afterSpawn {
            case .nothing: break
            case .destroy: actions += beginStop(key.serial, thenRespawn: false, now: now)
            case .restart: actions += beginStop(key.serial, thenRespawn: true, now: now)
            }
        case .failed(let error):
            actions.append(.emit(.spawnFailed(node: node.name, error: error)))
            actions.append(.emit(.nodeStatus(node: node.name, pid: 0)))
            recordPID(0, of: node)
            nodes[key.serial] = node
            switch afterSpawn {
            case .destroy: actions += remove(key.serial)
            case .restart: actions += spawn(key.serial, isRevival: false)
            case .nothing: actions += awaitRevival(key.serial)
            }
        }
        return actions
    }

    /// Records that a node's process has exited (and has been reaped).
    ///
    /// - Parameters:
    ///   - serial: The node's serial number.
    ///   - pid: The process id.
    ///   - termination: How it ended.
    ///   - now: The current time.
    /// - Returns: The actions.
    mutating func processExited(
        serial: UInt64,
        pid: Int32,
        termination: ProcessSupervisor.Termination,
        now: Duration
    ) -> [Action] {
        guard var node = nodes[serial] else { return [] }
        switch node.phase {
        case .running(let running) where running == pid:
            if let spawnTime = node.spawnTime { node.backoff.observe(uptime: now - spawnTime) }
            nodes[serial] = node
            return [.emit(.prematureExit(node: node.name, pid: Int(pid), termination: termination))]
                + awaitRevival(serial, now: now)
        case .stopping(let stopping, _, let thenRespawn) where stopping == pid:
            let stopped = Action.emit(.stopped(node: node.name, pid: Int(pid), termination: termination))
            return [stopped] + (thenRespawn ? spawn(serial, isRevival: false) : remove(serial))
        default:
            return []
        }
    }

    /// Handles a timer that has come due.
    ///
    /// - Parameters:
    ///   - key: The timer's key.
    ///   - now: The current time.
    /// - Returns: The actions.
    mutating func timerFired(_ key: TimerKey, now: Duration) -> [Action] {
        guard var node = nodes[key.serial], node.generation == key.generation else { return [] }
        switch (key.purpose, node.phase) {
        case (.revival, .awaitingRevival):
            node.backoff.recordAttempt()
            nodes[key.serial] = node
            return spawn(key.serial, isRevival: true)
        case (.stopEscalation, .stopping(let pid, let attempt, let thenRespawn)):
            node.phase = .stopping(pid: pid, attempt: attempt + 1, thenRespawn: thenRespawn)
            nodes[key.serial] = node
            return signalActions(node, pid: pid, attempt: attempt + 1, now: now)
        default:
            return []
        }
    }

    // MARK: - Transitions

    private mutating func spawn(_ serial: UInt64, isRevival: Bool) -> [Action] {
        guard var node = nodes[serial] else { return [] }
        node.generation += 1
        node.phase = .spawning
        node.isRevival = isRevival
        nodes[serial] = node
        return [.spawn(SpawnKey(serial: serial, generation: node.generation), node.config)]
    }

    private mutating func awaitRevival(_ serial: UInt64, now: Duration? = nil) -> [Action] {
        guard var node = nodes[serial] else { return [] }
        node.generation += 1
        node.phase = .awaitingRevival
        nodes[serial] = node
        let deadline = (node.spawnTime ?? .zero) + node.backoff.delay
        let schedule = Action.schedule(
            TimerKey(serial: serial, generation: node.generation, purpose: .revival),
            deadline: deadline
        )
        guard let now else { return [schedule] }
        let delay = Duration.seconds((deadline - now).wholeSecondsRoundedUp)
        return [.emit(.revivalScheduled(node: node.name, delay: delay)), schedule]
    }

    private mutating func beginStop(_ serial: UInt64, thenRespawn: Bool, now: Duration) -> [Action] {
        guard var node = nodes[serial], case .running(let pid) = node.phase else { return [] }
        node.generation += 1
        node.phase = .stopping(pid: pid, attempt: 0, thenRespawn: thenRespawn)
        nodes[serial] = node
        return signalActions(node, pid: pid, attempt: 0, now: now)
    }

    private func signalActions(_ node: Node, pid: Int32, attempt: Int, now: Duration) -> [Action] {
        let signal = killsImmediately ? SupervisorSignal.kill : stopSequence.signal(forAttempt: attempt)
        let key = TimerKey(serial: node.serial, generation: node.generation, purpose: .stopEscalation)
        return [
            .signal(pid: pid, signal: signal),
            .emit(.signalSent(node: node.name, pid: Int(pid), signal: signal, attempt: attempt)),
            .schedule(key, deadline: now + stopSequence.interval),
        ]
    }

    private mutating func destroyNode(_ serial: UInt64, now: Duration) -> [Action] {
        guard var node = nodes[serial] else { return [] }
        switch node.phase {
        case .running:
            return beginStop(serial, thenRespawn: false, now: now)
        case .stopping(let pid, let attempt, _):
            node.phase = .stopping(pid: pid, attempt: attempt, thenRespawn: false)
            nodes[serial] = node
            return []
        case .spawning:
            node.afterSpawn = .destroy
            nodes[serial] = node
            return []
        case .awaitingRevival, .blocked:
            return remove(serial)
        }
    }

    private mutating func restartNode(_ serial: UInt64, now: Duration) -> [Action] {
        guard var node = nodes[serial] else { return [] }
        switch node.phase {
        case .running:
            return beginStop(serial, thenRespawn: true, now: now)
        case .awaitingRevival:
            // Zeek's destroy skips a dead node; the spawn follows at once.
            return spawn(serial, isRevival: false)
        case .spawning:
            if node.afterSpawn == .nothing { node.afterSpawn = .restart }
            nodes[serial] = node
            return []
        case .stopping, .blocked:
            return []
        }
    }

    private mutating func remove(_ serial: UInt64) -> [Action] {
        guard let node = nodes.removeValue(forKey: serial) else { return [] }
        var actions: [Action] = [.discard(serial: serial, name: node.name)]
        let waiting = nodes.values.filter { $0.phase == .blocked(by: serial) }.map(\.serial).sorted()
        for successor in waiting { actions += spawn(successor, isRevival: false) }
        return actions
    }

    private mutating func recordPID(_ pid: Int32, of node: Node) {
        guard table[node.name]?.serial == node.serial else { return }
        table[node.name]?.pid = pid
    }
}

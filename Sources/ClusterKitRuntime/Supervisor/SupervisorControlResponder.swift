public import ClusterKitModel
public import ClusterKitProcesses

/// The supervisor's side of ``SupervisorControl``: runs the nodes an agent asks for as supervised processes (a
/// ``ProcessNodeHost``) and answers its requests on a backend, as Zeek's supervisor answers `SupervisorControl`
/// events.
///
/// Its nodes are this process's children, not the agent's: an agent that dies and comes back finds them running
/// and takes them over (``SupervisedNodeHost/adopt(_:)``). What differs from Zeek:
/// - `destroy_response` comes once the node's process is gone, not when the stop begins, so that an agent can
///   start a node on the same port right after;
/// - `status_response` gives a node's pid only while its process runs (Zeek's gives the last one reported), so
///   that an agent does not take over a node that is waiting to be revived;
/// - the nodes' program is the one ``ProcessNodeHost/CommandProvider`` chooses from the configuration alone, as
///   Zeek's supervisor forks itself: settings beyond the `Supervisor::NodeConfig` do not travel.
public final class SupervisorControlResponder: Sendable {
    /// The most requests answered at once; further ones wait (read from the backend no sooner).
    public static let maximumConcurrentRequests = 64

    /// The nodes' processes.
    public let host: ProcessNodeHost
    private let backend: any ClusterBackend
    private let configs = Guarded<[String: Supervisor.NodeConfig]>([:])
    private let statuses: AsyncStream<(node: String, pid: Int)>
    private let onStop: @Sendable () -> Void
    private let log: (@Sendable (String) -> Void)?

    /// Creates a responder; nothing happens until ``run()``.
    ///
    /// - Parameters:
    ///   - backend: Where the agent's requests arrive and the answers go (subscribed by ``run()``).
    ///   - configuration: The nodes' runtime directory, environment and stop sequence.
    ///   - command: Chooses each node's program from its configuration.
    ///   - onStop: Called for `stop_request()`: the owner stops the whole process tree.
    ///   - log: Gets one line per request and per node event; default none.
    public init(
        backend: any ClusterBackend,
        configuration: ProcessSupervisor.Configuration,
        command: @escaping @Sendable (Supervisor.NodeConfig) -> ProcessSupervisor.NodeCommand,
        onStop: @escaping @Sendable () -> Void,
        log: (@Sendable (String) -> Void)? = nil
    ) {
        let (statuses, continuation) = AsyncStream.makeStream(
            of: (node: String, pid: Int).self,
            bufferingPolicy: .bufferingNewest(1_024)
        )
        self.statuses = statuses
        self.backend = backend
        self.onStop = onStop
        self.log = log
        host = ProcessNodeHost(
            configuration: configuration,
            command: { _, config in command(config) },
            eventHandler: { event in
                if case .nodeStatus(let node, let pid) = event { continuation.yield((node, pid)) }
                log?("\(event)")
            }
        )
    }

    /// Runs the nodes and answers requests until cancelled; then every node process gets SIGKILL (stop them first
    /// with ``shutdown()`` for the stop sequence).
    ///
    /// - Throws: ``BackendError`` when the backend cannot subscribe or connect.
    public func run() async throws {
        try await backend.subscribe(Topic(SupervisorControl.topicPrefix), eventNames: SupervisorControl.requests)
        try await backend.connect()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.host.run() }
            group.addTask { await self.forwardStatuses() }
            group.addTask { await self.forwardExits() }
            await withTaskGroup(of: Void.self) { requests in
                // At most this many requests at once (a destroy waits for its process): the next one waits.
                var running = 0
                do {
                    for try await received in backend.events {
                        if running == Self.maximumConcurrentRequests {
                            await requests.next()
                            running -= 1
                        }
                        running += 1
                        requests.addTask { await self.answer(received.event) }
                    }
                } catch {
                    log?("supervisor: requests ended: \(error)")
                }
            }
            group.cancelAll()
        }
    }

    /// Stops every node with the stop sequence and returns when none is left.
    ///
    /// - Throws: ``SupervisorError`` naming the nodes still running at the limit.
    public func shutdown() async throws {
        configs.withLock { $0 = [:] }
        try await host.shutdown()
    }

    /// The supervisor's status of `name` (every node for `""`).
    ///
    /// - Parameter name: A node's name, or `""`.
    /// - Returns: Each node's configuration, with its pid while its process runs.
    public func status(_ name: String = "") -> Supervisor.Status {
        let hosted = host.status()
        let known = configs.withLock { $0 }
        var nodes: [String: Supervisor.NodeStatus] = [:]
        for (node, config) in known where name.isEmpty || node == name {
            let running = hosted[node].flatMap { $0.isRunning ? $0.pid : nil }
            nodes[node] = Supervisor.NodeStatus(node: config, pid: running)
        }
        return Supervisor.Status(nodes: nodes)
    }

    // MARK: - Requests

    private func answer(_ event: Broker.Event) async {
        if event.name == SupervisorControl.stopRequest {
            log?("supervisor: rx \(event.name)")
            onStop()
            return
        }
        guard event.arguments.count == 2, case .string(let reqid) = event.arguments[0] else {
            log?("supervisor: ignoring malformed \(event.name)")
            return
        }
        log?("supervisor: rx \(event.name) \(reqid)")
        let argument = event.arguments[1]
        let response: (String, Broker.Value)
        switch event.name {
        case SupervisorControl.createRequest:
            guard let config = try? Supervisor.NodeConfig(brokerValue: argument) else {
                log?("supervisor: ignoring \(event.name) \(reqid): its node is not a Supervisor::NodeConfig")
                return
            }
            response = (SupervisorControl.createResponse, .string(await create(config)))
        case SupervisorControl.statusRequest, SupervisorControl.destroyRequest, SupervisorControl.restartRequest:
            guard case .string(let name) = argument else {
                log?("supervisor: ignoring \(event.name) \(reqid): its node is not a string")
                return
            }
            switch event.name {
            case SupervisorControl.statusRequest:
                response = (SupervisorControl.statusResponse, status(name).brokerValue)
            case SupervisorControl.destroyRequest:
                response = (SupervisorControl.destroyResponse, .boolean(await destroy(name)))
            default:
                response = (SupervisorControl.restartResponse, .boolean(await restart(name)))
            }
        default:
            return
        }
        do {
            try await backend.publish(
                Broker.Event(response.0, [.string(reqid), response.1]),
                to: SupervisorControl.responseTopic(response.0, reqid: reqid)
            )
        } catch {
            log?("supervisor: cannot answer \(reqid): \(error)")
        }
    }

    /// `Supervisor::create`: Zeek's checks and texts, then a node process.
    private func create(_ config: Supervisor.NodeConfig) async -> String {
        let name = config.name
        let exists = configs.withLock { configs in
            if configs[name] != nil { return true }
            configs[name] = config
            return false
        }
        if exists { return "node with name '\(name)' already exists" }
        let error = await host.create(ProcessNodeHost.launch(for: config))
        if !error.isEmpty { configs.withLock { _ = $0.removeValue(forKey: name) } }
        return error
    }

    private func destroy(_ name: String) async -> Bool {
        let names = configs.withLock { configs -> [String] in
            let names = name.isEmpty ? Array(configs.keys) : (configs[name] == nil ? [] : [name])
            for name in names { configs[name] = nil }
            return names
        }
        await withDiscardingTaskGroup { group in
            for name in names { group.addTask { await self.host.stop(name) } }
        }
        return name.isEmpty || !names.isEmpty
    }

    private func restart(_ name: String) async -> Bool {
        let names = configs.withLock { configs in
            name.isEmpty ? Array(configs.keys) : (configs[name] == nil ? [] : [name])
        }
        for name in names { _ = await host.restart(name) }
        return name.isEmpty || !names.isEmpty
    }

    // MARK: - Notifications

    private func forwardStatuses() async {
        for await (node, pid) in statuses {
            try? await backend.publish(
                Broker.Event(SupervisorControl.nodeStatus, [.string(node), .count(UInt64(max(0, pid)))]),
                to: Topic(SupervisorControl.topicPrefix + "/node_status")
            )
        }
    }

    private func forwardExits() async {
        for await exit in host.exits {
            let outputs = host.status()[exit.name]?.outputs ?? Management.NodeOutputs(stdout: "", stderr: "")
            try? await backend.publish(
                Broker.Event(SupervisorControl.notifyNodeExit, [.string(exit.name), outputs.brokerValue]),
                to: Topic(SupervisorControl.managementTopic)
            )
        }
    }
}

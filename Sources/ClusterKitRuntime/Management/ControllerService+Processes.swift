import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

extension ControllerService {
    /// Every node's process, and the pids of the cluster's other processes (agent processes and their supervisor),
    /// for `get_node_processes` and `shutdown`.
    ///
    /// Agents in this process report what their node hosts know. Agent processes (``AgentMode/remote``) are asked with
    /// ClusterKit's `get_node_processes_request` on their topics; one that does not answer within 2 s, or whose connection
    /// goes away meanwhile, is left out. The
    /// agents' own pids come from `get_nodes`, only when `withOthers` asks for them.
    func currentProcesses(withOthers: Bool = false) async -> (nodes: [NodeProcessStatus], others: [Int]) {
        guard agentMode == .remote else { return (processStatuses, []) }
        var others: [Int] = supervisorPID.map { [$0] } ?? []
        // Agents whose connection is gone are not asked (they would only be waited for); those that reached the hub
        // through an agent link (`zeekctl agent --listen`) have no client entry and are asked.
        let connected = Set(server.clients.map(\.endpoint))
        let asked = cluster.controller.agents.values.filter { agent in
            agent.listenPort != nil || connected.contains(agent.nodeID)
        }
        let instances = asked.map(\.instance).sorted()
        // How many of the asked agents can still answer: one that goes away meanwhile is not waited for.
        let linked = asked.filter { $0.listenPort != nil }.count
        let endpoints = Set(asked.filter { $0.listenPort == nil }.map(\.nodeID))
        let server = self.server
        let reachable = { @Sendable in
            linked + endpoints.intersection(server.clients.map(\.endpoint)).count
        }
        let answers = AnswerCount()
        guard !instances.isEmpty else { return ([], others) }
        let backend = cluster.hub.makeBackend(name: "clusterkit-processes")
        let reqid = UniqueID.make()
        var nodes: [NodeProcessStatus] = []
        do {
            try await backend.subscribe(
                Topic(AgentAPI.topicPrefix + "/"),
                eventNames: [ClusterKitControllerAPI.agentGetNodeProcessesResponse]
            )
            try await backend.connect()
            for instance in instances {
                try await backend.publish(
                    Broker.Event(ClusterKitControllerAPI.agentGetNodeProcessesRequest, [.string(reqid)]),
                    to: AgentAPI.topic(instance)
                )
            }
            nodes = await withTaskGroup(of: [NodeProcessStatus]?.self) { group in
                group.addTask {
                    var collected: [NodeProcessStatus] = []
                    var answered = 0
                    do {
                        for try await received in backend.events {
                            let arguments = received.event.arguments
                            guard arguments.count == 2, arguments[0] == .string(reqid),
                                case .vector(let values) = arguments[1]
                            else { continue }
                            collected += values.compactMap { try? NodeProcessStatus(brokerValue: $0) }
                            answered += 1
                            answers.count.withLock { $0 = answered }
                            if answered == instances.count { break }
                        }
                    } catch {
                        return collected
                    }
                    return collected
                }
                group.addTask {
                    // At most 2 s, and no longer than the agents that can still answer have answered.
                    for _ in 0..<40 {
                        try? await Task.sleep(for: .milliseconds(50))
                        if answers.count.withLock({ $0 }) >= reachable() { break }
                    }
                    return nil
                }
                // The answers, or at the limit nothing more: closing the backend ends the collector.
                let first = await group.next() ?? nil
                if let first {
                    group.cancelAll()
                    return first
                }
                await backend.close()
                return await group.next().flatMap { $0 } ?? []
            }
        } catch {
            nodes = []
        }
        await backend.close()
        if withOthers { others += await agentPIDs(instances) }
        return (nodes.sorted { $0.node < $1.node }, others)
    }

    /// The process ids of the connected agent processes, from `get_nodes` (their own entries).
    private func agentPIDs(_ instances: [String]) async -> [Int] {
        let backend = cluster.hub.makeBackend(name: "clusterkit-agents")
        do {
            let results = try await withDispatcher(
                backend: backend,
                protocols: [.managementController],
                options: DispatchOptions(timeout: .seconds(5))
            ) { dispatcher in
                try await ControllerClient(dispatcher: dispatcher).getNodes()
            }
            await backend.close()
            return results.flatMap { result -> [Int] in
                guard case .vector(let values)? = result.data else { return [] }
                return values.compactMap { value in
                    guard let status = try? Management.NodeStatus(brokerValue: value), status.mgmtRole == .agent
                    else { return nil }
                    return status.pid.flatMap { $0 == Int(getpid()) ? nil : $0 }
                }
            }
        } catch {
            await backend.close()
            return []
        }
    }
}

/// How many agents answered so far, shared by the collector and the timer of ``ControllerService/currentProcesses(withOthers:)``.
private final class AnswerCount: Sendable {
    let count = Guarded(0)
}

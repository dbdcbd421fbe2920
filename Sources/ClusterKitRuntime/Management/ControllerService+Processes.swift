import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

extension ControllerService {
    /// Every node's process, and the pids of the cluster's other processes (agent processes and their supervisor),
    /// for `get_node_processes` and `shutdown`.
    ///
    /// Agents in this process report what their node hosts know. Agent processes (``AgentMode/remote``) are asked with
    /// ClusterKit's `get_node_processes_request` on their topics; one that does not answer within 2 s is left out. The
    /// agents' own pids come from `get_nodes`, only when `withOthers` asks for them.
    func currentProcesses(withOthers: Bool = false) async -> (nodes: [NodeProcessStatus], others: [Int]) {
        guard agentMode == .remote else { return (processStatuses, []) }
        var others: [Int] = supervisorPID.map { [$0] } ?? []
        let instances = cluster.controller.agents.keys.sorted()
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
                            if answered == instances.count { break }
                        }
                    } catch {
                        return collected
                    }
                    return collected
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(2))
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

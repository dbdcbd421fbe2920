import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// Membership across a WebSocket API server: node processes (over WebSocket) and an in-process manager.
@Suite struct ClusterMemberWebSocketTests {
    @Test func nodeProcessesOverWebSocketGoUpAndDownAtTheManager() async throws {
        let hub = InMemoryBackend.Hub()
        try await withAPIServer(hub: hub) { server in
            let layout = try NodeProcessTests.resolve(name: "manager", layoutFile: "/c/node.cfg").layout
            let backend = hub.makeBackend(name: "manager")
            let manager = try ClusterMember(layout: layout, node: "manager", backend: backend)
            try await manager.subscribe()
            try await backend.connect()
            let serving = Task {
                for try await received in backend.events { try await manager.handle(received) }
            }
            defer { serving.cancel() }
            var events = manager.events.makeAsyncIterator()
            let (stopWorker, stopped) = AsyncStream<Void>.makeStream()
            let worker = try NodeProcessTests.resolve(
                name: "worker-1",
                layoutFile: "/c/node.cfg",
                hub: "127.0.0.1:\(server.port)"
            )
            let proxy = try NodeProcessTests.resolve(
                name: "proxy-1",
                layoutFile: "/c/node.cfg",
                hub: "127.0.0.1:\(server.port)"
            )
            await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await NodeProcess(configuration: worker).run(until: { for await _ in stopWorker {} })
                }
                group.addTask { try await NodeProcess(configuration: proxy).run() }
                var up = Set<String>()
                while up.count < 2, let event = await events.next() {
                    guard case .nodeUp(let name, _) = event else { continue }
                    up.insert(name)
                }
                #expect(up == ["worker-1", "proxy-1"])
                #expect(manager.activeNodeCount(of: .worker) == 1)
                #expect(manager.activeNodeCount(of: .proxy) == 1)
                stopped.finish()
                let down = await events.next()
                guard case .nodeDown(let name, _)? = down else {
                    Issue.record("expected node_down, got \(String(describing: down))")
                    group.cancelAll()
                    return
                }
                #expect(name == "worker-1")
                #expect(manager.upNodes == ["proxy-1"])
                group.cancelAll()
            }
        }
    }
}

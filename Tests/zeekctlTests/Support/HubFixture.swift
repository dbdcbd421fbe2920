import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A hub served over WebSocket on an ephemeral loopback port, with a watcher that sees every node's hello.
struct HubFixture: Sendable {
    let hub: InMemoryBackend.Hub
    let server: WebSocketAPIServer
    /// Subscribed to `notify_node_hello` on `zeek/management/node`.
    let watcher: InMemoryBackend

    /// Waits for hellos until every name in `names` has said hello; returns them in arrival order.
    func waitForHellos(_ names: Set<String>, timeout: Duration = .seconds(30)) async throws -> [String] {
        let watcher = self.watcher
        return try await withDeadline(timeout, "hellos from \(names.sorted())") {
            var missing = names
            var seen: [String] = []
            for try await received in watcher.events where received.event.name == NodeRuntime.API.notifyNodeHello {
                guard case .string(let name)? = received.event.arguments.first else { continue }
                seen.append(name)
                missing.remove(name)
                if missing.isEmpty { return seen }
            }
            throw BackgroundBinary.Failure(description: "the watcher's events ended")
        }
    }

    /// Asks `nodes` for `id` through the Management node API.
    func getIDValue(_ id: String, nodes: [String], timeout: Duration = .seconds(10)) async throws -> DispatchReport {
        try await withDispatcher(
            backend: hub.makeBackend(name: "client"),
            protocols: [.managementNode],
            options: DispatchOptions(timeout: timeout)
        ) { dispatcher in
            try await dispatcher.getIDValue(id, nodes: nodes.map { DispatchTarget($0) }, via: .managementNode)
        }
    }
}

/// Runs `body` with a ``HubFixture``; shuts the server down afterwards.
func withHub<T: Sendable>(_ body: (HubFixture) async throws -> T) async throws -> T {
    let hub = InMemoryBackend.Hub()
    let server = try WebSocketAPIServer(
        hub: hub,
        options: WebSocketAPIServer.Options(webSocket: WebSocketServer.Options(port: 0))
    )
    let watcher = hub.makeBackend(name: "watcher")
    try await watcher.subscribe(NodeRuntime.API.topic, eventNames: [NodeRuntime.API.notifyNodeHello])
    try await watcher.connect()
    async let running: Void = server.run()
    do {
        let value = try await body(HubFixture(hub: hub, server: server, watcher: watcher))
        await server.shutdown()
        await running
        return value
    } catch {
        await server.shutdown()
        await running
        throw error
    }
}

/// A loopback TCP port that is bound but not listening: connecting to it is refused while this lives.
final class RefusedPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard descriptor >= 0, bound else {
            close(descriptor)
            throw BackgroundBinary.Failure(description: "cannot bind a loopback port")
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(descriptor)
    }
}

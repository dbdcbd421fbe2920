import Foundation
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// The real `zeek-client` 1.5.0 against a ``WebSocketAPIServer`` serving a ``ManagementCluster``.
///
/// Runs when `ZEEK_CLIENT` names the program (`scripts/test.sh` installs it and sets the variable).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ZEEK_CLIENT"] != nil), .timeLimit(.minutes(1)))
struct WebSocketAPIServerZeekClientTests {
    struct Run: Sendable {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs `zeek-client` with arguments; output goes to temporary files read after it exits, and a run
    /// longer than `timeout` is killed.
    static func zeekClient(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> Run {
        let program = ProcessInfo.processInfo.environment["ZEEK_CLIENT"] ?? "zeek-client"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zeek-client-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputURL = directory.appendingPathComponent("stdout")
        let errorURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let outputHandle = try FileHandle(forWritingTo: outputURL)
        let errorHandle = try FileHandle(forWritingTo: errorURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        try process.run()
        try? outputHandle.close()
        try? errorHandle.close()
        let status = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await status in exited.stream { return status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            for await result in group {
                if let result { return result }
                if process.isRunning { process.terminate() }
            }
            return Int32(-1)
        }
        return Run(
            status: status,
            output: (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "",
            error: (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
        )
    }

    @Test func zeekClientDeploysAndReadsValuesThroughTheServer() async throws {
        let hub = InMemoryBackend.Hub()
        let cluster = ManagementCluster(hub: hub)
        let log = LogLines()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zeek-client-ini-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ini = directory.appendingPathComponent("cluster.ini")
        try """
        [instances]
        agent-1

        [manager]
        instance = agent-1
        role = manager

        [worker-1]
        instance = agent-1
        role = worker
        """.write(to: ini, atomically: true, encoding: .utf8)

        try await withAPIServer(hub: hub, catalog: .standard, log: log) { server in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let ready = AsyncStream<Void>.makeStream()
                group.addTask { try await cluster.run { _ in ready.continuation.yield() } }
                for await _ in ready.stream { break }
                let controller = "127.0.0.1:\(server.port)"

                let deployed = try await Self.zeekClient(["--controller", controller, "deploy-config", ini.path])
                #expect(deployed.status == 0, "\(deployed.error)")
                let results = try JSONValue.parse(deployed.output)
                #expect(results["errors"] == .array([]))
                #expect(results["results"]?["nodes"]?["manager"]?["success"] == .bool(true))

                let value = try await Self.zeekClient(["--controller", controller, "get-id-value", "Cluster::node"])
                #expect(value.status == 0, "\(value.error)")
                let values = try JSONValue.parse(value.output)
                #expect(values["results"]?["manager"] == .string("manager"))
                #expect(values["results"]?["worker-1"] == .string("worker-1"))

                // zeek-client sends no X-Application-Name and subscribes to the controller topic only.
                #expect(log.all.contains { $0.hasSuffix(") subscribed to [zeek/management/controller]") })
                group.cancelAll()
            }
        }
    }
}

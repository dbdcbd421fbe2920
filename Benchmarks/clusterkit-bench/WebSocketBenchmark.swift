import ClusterKit
import Foundation

/// `clusterkit-bench websocket [--messages N] [--runs N] [--size BYTES] [--tls [--no-resume]] [--handshakes N]`.
///
/// Text messages per second over one loopback connection, client to server and server to client, median of several
/// runs; then handshakes per second (connect, upgrade, close, one after another). `--tls` uses `wss://` with the
/// test certificates of Tests/ClusterKitTests/Fixtures/tls; its handshakes resume the TLS session (the client's
/// default) unless `--no-resume` makes every one a full handshake.
func runWebSocketBenchmark(_ arguments: [String]) async throws {
    var messages = 200_000
    var runs = 5
    var size = 100
    var handshakes = 200
    let tls = arguments.contains("--tls")
    let resumes = !arguments.contains("--no-resume")
    var index = 0
    let valued = arguments.filter { $0 != "--tls" && $0 != "--no-resume" }
    while index + 1 < valued.count {
        let value = Int(valued[index + 1]) ?? 0
        switch valued[index] {
        case "--messages": messages = max(1, value)
        case "--runs": runs = max(1, value)
        case "--size": size = max(1, value)
        case "--handshakes": handshakes = max(1, value)
        default: break
        }
        index += 2
    }

    var options = WebSocketServer.Options(port: 0)
    options.connection.pingInterval = nil
    var clientOptions = WebSocketClient.Options()
    if tls {
        options.tls = Cluster.WebSocketTLSOptions(
            certFile: benchmarkCertificate("server.pem"),
            keyFile: benchmarkCertificate("server.key")
        )
        clientOptions.tls.caFile = benchmarkCertificate("ca.pem")
        clientOptions.tls.resumesSessions = resumes
    }
    let scheme = tls ? "wss" : "ws"
    let server = try WebSocketServer(options: options)
    let url = "\(scheme)://127.0.0.1:\(server.port)/v1/messages/json"
    let client = try await WebSocketClient.connect(to: url, options: clientOptions)
    guard let accepted = try await server.accept() else { return }
    let text = String(repeating: "x", count: size)
    let count = messages

    print(
        "websocket\(tls ? " (TLS)" : ""): \(messages) text messages of \(size) bytes per run, \(runs) runs, "
            + "one loopback connection"
    )
    for (name, sender, receiver) in [("client -> server", client, accepted), ("server -> client", accepted, client)] {
        var rates: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            async let sending: Void = {
                for _ in 0..<count { try await sender.send(text: text) }
            }()
            var bytes = 0
            for _ in 0..<messages { bytes += try await receiver.receive()?.byteCount ?? 0 }
            try await sending
            let elapsed = start.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            guard bytes == messages * size else { throw BenchmarkError.lostMessages }
            rates.append(Double(messages) / seconds)
        }
        let sorted = rates.sorted()
        let median = sorted[sorted.count / 2]
        let all = rates.map { String(Int($0)) }.joined(separator: " ")
        print("\(name): median \(Int(median)) messages/s (runs: \(all))")
    }
    await client.close()

    let start = ContinuousClock.now
    var resumed = 0
    for _ in 0..<handshakes {
        let connection = try await WebSocketClient.connect(to: url, options: clientOptions)
        if connection.tls?.isResumed == true { resumed += 1 }
        guard let peer = try await server.accept() else { return }
        await connection.close()
        _ = try await peer.receive()
    }
    let elapsed = start.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let kind = tls ? ", \(resumed) of them resumed TLS sessions" : ""
    print("handshakes: \(Int(Double(handshakes) / seconds)) per second (\(handshakes), one after another\(kind))")
    await server.shutdown()
}

/// A test certificate of the repository, for `--tls`.
func benchmarkCertificate(_ name: String) -> String {
    var directory = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { directory.deleteLastPathComponent() }  // Benchmarks/clusterkit-bench/X.swift → root
    return directory.path + "/Tests/ClusterKitTests/Fixtures/tls/" + name
}

private enum BenchmarkError: Error {
    case lostMessages
}

import ClusterKit

/// `clusterkit-bench websocket [--messages N] [--runs N] [--size BYTES]`: text messages per second over one
/// loopback connection, client to server and server to client, median of several runs.
func runWebSocketBenchmark(_ arguments: [String]) async throws {
    var messages = 200_000
    var runs = 5
    var size = 100
    var index = 0
    while index + 1 < arguments.count {
        let value = Int(arguments[index + 1]) ?? 0
        switch arguments[index] {
        case "--messages": messages = max(1, value)
        case "--runs": runs = max(1, value)
        case "--size": size = max(1, value)
        default: break
        }
        index += 2
    }

    var options = WebSocketServer.Options(port: 0)
    options.connection.pingInterval = nil
    let server = try WebSocketServer(options: options)
    let client = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/v1/messages/json")
    guard let accepted = try await server.accept() else { return }
    let text = String(repeating: "x", count: size)
    let count = messages

    print("websocket: \(messages) text messages of \(size) bytes per run, \(runs) runs, one loopback connection")
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
    await server.shutdown()
}

private enum BenchmarkError: Error {
    case lostMessages
}

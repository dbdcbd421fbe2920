import ClusterKit

/// `clusterkit-bench events [--events N] [--runs N] [--direction up|down] [--max-event-queue-size N] [--tls]`.
///
/// Small events per second over one loopback connection between a ``WebSocketBackend`` and a
/// ``WebSocketAPIServer``, median of several runs; both directions unless `--direction` picks one (`up`: client -> server, `down`: server -> client), which helps
/// when comparing builds in many short alternating runs on a noisy machine. `--tls` uses `wss://` with the
/// repository's test certificates. `--max-event-queue-size` is the server's (default 32, Zeek's; 0: no limit).
///
/// - client -> server: the backend publishes `X::ping(count)` on `bench/up`; an in-process hub participant
///   receives them through the server.
/// - server -> client: the participant publishes on `bench/down`; the backend receives them.
///
/// The hub's inboxes hold a whole run (events and bytes), so a momentarily slower reader is never closed and never
/// slows the writer down (the run checks).
func runEventsBenchmark(_ arguments: [String]) async throws {
    var onlyDirection: String?
    var events = 200_000
    var runs = 5
    var maxEventQueueSize = WebSocketAPIServer.Options.standard.maxEventQueueSize
    var index = 0
    let tls = arguments.contains("--tls")
    let arguments = arguments.filter { $0 != "--tls" }
    while index + 1 < arguments.count {
        let value = Int(arguments[index + 1]) ?? 0
        switch arguments[index] {
        case "--events": events = max(1, value)
        case "--runs": runs = max(1, value)
        case "--direction": onlyDirection = arguments[index + 1] == "down" ? "server -> client" : "client -> server"
        case "--max-event-queue-size": maxEventQueueSize = max(0, value)
        default: break
        }
        index += 2
    }

    // Inboxes hold a whole run in events and bytes, so that neither back-pressure nor a full client inbox
    // takes part in the measurement.
    let hub = InMemoryBackend.Hub(
        options: .init(inboxLimit: events + 1, inboxByteLimit: .max)
    )
    var webSocket = WebSocketServer.Options(port: 0)
    webSocket.connection.pingInterval = nil
    var clientOptions = WebSocketBackend.Options()
    if tls {
        webSocket.tls = Cluster.WebSocketTLSOptions(
            certFile: benchmarkCertificate("server.pem"),
            keyFile: benchmarkCertificate("server.key")
        )
        clientOptions.client.tls.caFile = benchmarkCertificate("ca.pem")
    }
    let server = try WebSocketAPIServer(
        hub: hub,
        options: WebSocketAPIServer.Options(webSocket: webSocket, maxEventQueueSize: maxEventQueueSize)
    )
    let count = events

    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await server.run() }
        let participant = hub.makeBackend(name: "participant")
        try await participant.subscribe("bench/up")
        try await participant.connect()
        let client = WebSocketBackend(url: server.url, options: clientOptions)
        try await client.subscribe("bench/down")
        try await client.connect()

        print(
            "events\(tls ? " (TLS)" : ""): \(events) events X::ping(count) per run, \(runs) runs, one loopback connection, "
                + "max_event_queue_size \(maxEventQueueSize)"
        )
        let directions: [(String, any ClusterBackend, any ClusterBackend, Topic)] = [
            ("client -> server", client, participant, "bench/up"),
            ("server -> client", participant, client, "bench/down"),
        ]
        for (name, sender, receiver, topic) in directions where onlyDirection == nil || onlyDirection == name {
            var rates: [Double] = []
            for _ in 0..<runs {
                let start = ContinuousClock.now
                async let publishing: Void = {
                    for number in 0..<count {
                        try await sender.publish(Broker.Event("X::ping", [.count(UInt64(number))]), to: topic)
                    }
                }()
                var iterator = receiver.events.makeAsyncIterator()
                var last: UInt64 = 0
                for _ in 0..<count {
                    guard let received = try await iterator.next() else { throw EventsBenchmarkError.lostEvents }
                    if case .count(let number)? = received.event.arguments.first { last = number }
                }
                try await publishing
                let elapsed = start.duration(to: .now)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                guard last == UInt64(count - 1), hub.slowConsumers.isEmpty else {
                    throw EventsBenchmarkError.lostEvents
                }
                rates.append(Double(count) / seconds)
            }
            let sorted = rates.sorted()
            let median = sorted[sorted.count / 2]
            let all = rates.map { String(Int($0)) }.joined(separator: " ")
            print("\(name): median \(Int(median)) events/s (runs: \(all))")
        }
        await client.close()
        await participant.close()
        await server.shutdown()
        try await group.waitForAll()
    }
}

private enum EventsBenchmarkError: Error {
    case lostEvents
}

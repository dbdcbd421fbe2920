import ClusterKit

/// `clusterkit-bench bridge [--records N] [--events N] [--runs N] [--only encode|stored|decode|events]`.
///
/// The Codable bridge against the hand-written paths (issue 16's targets), median of several runs. `--only` runs one
/// part, the bridge's side alone for `encode` and `decode` (for `perf record`).
///
/// - records: a 10-field record encoded to and decoded from its Broker value, written once as a `Codable` struct
///   through ``Broker/ValueEncoder``/``Broker/ValueDecoder`` and once as a hand-written ``BrokerRecord``
///   (target: the bridge within 2x).
/// - events: that record as the one argument of an event, client -> server over one loopback WebSocket
///   connection, published with the typed `publish(_:_:to:)` and received with the typed `events(named:as:)`,
///   against a hand-built `Broker.Event` and the plain event stream (target: typed at least 80% of untyped); and
///   the same with the record as a ``BrokerStoredRecord``.
enum BridgeBenchmark {
    struct TypedRecord: Codable, Equatable, Sendable {
        var id: String
        var priority: Int
        var hits: UInt64
        var ratio: Double
        var enabled: Bool
        var comment: String?
        var tags: [String]
        var address: Broker.Address
        var port: Broker.Port
        var timeout: Broker.Timespan
    }

    /// The same record, written from its stored properties (``BrokerStoredRecord``).
    struct StoredRecord: Codable, Equatable, Sendable, BrokerStoredRecord {
        var id: String
        var priority: Int
        var hits: UInt64
        var ratio: Double
        var enabled: Bool
        var comment: String?
        var tags: [String]
        var address: Broker.Address
        var port: Broker.Port
        var timeout: Broker.Timespan

        init(_ typed: TypedRecord) {
            id = typed.id
            priority = typed.priority
            hits = typed.hits
            ratio = typed.ratio
            enabled = typed.enabled
            comment = typed.comment
            tags = typed.tags
            address = typed.address
            port = typed.port
            timeout = typed.timeout
        }
    }

    struct HandRecord: BrokerRecord, Equatable {
        static let zeekTypeName = "Bench::Record"
        static let fieldNames = [
            "id", "priority", "hits", "ratio", "enabled", "comment", "tags", "address", "port", "timeout",
        ]
        var id: String
        var priority: Int
        var hits: UInt64
        var ratio: Double
        var enabled: Bool
        var comment: String?
        var tags: [String]
        var address: Broker.Address
        var port: Broker.Port
        var timeout: Broker.Timespan

        init(_ typed: TypedRecord) {
            id = typed.id
            priority = typed.priority
            hits = typed.hits
            ratio = typed.ratio
            enabled = typed.enabled
            comment = typed.comment
            tags = typed.tags
            address = typed.address
            port = typed.port
            timeout = typed.timeout
        }

        init(reading record: inout Broker.RecordReader) throws {
            id = try record.required()
            priority = try record.required()
            hits = try record.required()
            ratio = try record.required()
            enabled = try record.required()
            comment = try record.optional()
            tags = try record.required()
            address = try record.required()
            port = try record.required()
            timeout = try record.required()
        }

        var fieldValues: [Broker.Value] {
            [
                id.brokerValue, priority.brokerValue, hits.brokerValue, ratio.brokerValue, enabled.brokerValue,
                comment.map(\.brokerValue) ?? .none, tags.brokerValue, address.brokerValue, port.brokerValue,
                timeout.brokerValue,
            ]
        }
    }

    static let sample = TypedRecord(
        id: "rule-17",
        priority: -3,
        hits: 12_345,
        ratio: 0.25,
        enabled: true,
        comment: nil,
        tags: ["scan", "ssh"],
        address: Broker.Address(ipv4: 0x0A00_0001),
        port: Broker.Port(22, .tcp),
        timeout: Broker.Timespan(.seconds(30))
    )

    static func run(_ arguments: [String]) async throws {
        let records = Int(value(of: "--records", in: arguments) ?? "") ?? 200_000
        let events = Int(value(of: "--events", in: arguments) ?? "") ?? 100_000
        let runs = Int(value(of: "--runs", in: arguments) ?? "") ?? 5
        switch value(of: "--only", in: arguments) {
        case "encode"?:
            let encoder = Broker.ValueEncoder()
            let time = try nanoseconds(count: records, runs: runs) { _ = try encoder.encode(sample) }
            print("bridge encode: \(format(time))")
        case "stored"?:
            let encoder = Broker.ValueEncoder()
            let stored = StoredRecord(sample)
            let time = try nanoseconds(count: records, runs: runs) { _ = try encoder.encode(stored) }
            print("bridge encode, stored record: \(format(time))")
        case "decode"?:
            let decoder = Broker.ValueDecoder()
            let value = HandRecord(sample).brokerValue
            let time = try nanoseconds(count: records, runs: runs) {
                _ = try decoder.decode(TypedRecord.self, from: value)
            }
            print("bridge decode: \(format(time))")
        case "events"?:
            try await measureEvents(count: events, runs: runs)
        default:
            try measureRecords(count: records, runs: runs)
            try await measureEvents(count: events, runs: runs)
        }
    }

    // MARK: - Records

    private static func measureRecords(count: Int, runs: Int) throws {
        let hand = HandRecord(sample)
        let value = hand.brokerValue
        let stored = StoredRecord(sample)
        guard try Broker.ValueEncoder().encode(sample) == value, try Broker.ValueEncoder().encode(stored) == value,
            try Broker.ValueDecoder().decode(TypedRecord.self, from: value) == sample
        else { throw ControllerBenchmarkError("the bridge and the hand-written record disagree") }
        print("bridge: a 10-field record, \(count) encodes and decodes per run, \(runs) runs (ns per record)")
        let encoder = Broker.ValueEncoder()
        let decoder = Broker.ValueDecoder()
        let floorEncoder = BridgeFloor.Encoder()
        guard try floorEncoder.encoding(sample) == value,
            try BridgeFloor.Decoder(value).decoding(TypedRecord.self) == sample
        else { throw ControllerBenchmarkError("the floor coders and the hand-written record disagree") }
        let typedEncode = try nanoseconds(count: count, runs: runs) { _ = try encoder.encode(sample) }
        let storedEncode = try nanoseconds(count: count, runs: runs) { _ = try encoder.encode(stored) }
        let handEncode = try nanoseconds(count: count, runs: runs) { _ = hand.brokerValue }
        let floorEncode = try nanoseconds(count: count, runs: runs) { _ = try BridgeFloor.Encoder().encoding(sample) }
        let typedDecode = try nanoseconds(count: count, runs: runs) {
            _ = try decoder.decode(TypedRecord.self, from: value)
        }
        let handDecode = try nanoseconds(count: count, runs: runs) { _ = try HandRecord(brokerValue: value) }
        let floorDecode = try nanoseconds(count: count, runs: runs) {
            _ = try BridgeFloor.Decoder(value).decoding(TypedRecord.self)
        }
        print(
            "  encode: bridge \(format(typedEncode)), hand-written \(format(handEncode)), ratio \(ratio(typedEncode, handEncode))"
                + "; a minimal Encoder \(format(floorEncode))"
        )
        print(
            "  encode, BrokerStoredRecord: bridge \(format(storedEncode)), hand-written \(format(handEncode)), ratio "
                + ratio(storedEncode, handEncode)
        )
        print(
            "  decode: bridge \(format(typedDecode)), hand-written \(format(handDecode)), ratio \(ratio(typedDecode, handDecode))"
                + "; a minimal Decoder \(format(floorDecode))"
        )
    }

    private static func nanoseconds(count: Int, runs: Int, _ body: () throws -> Void) throws -> Double {
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            for _ in 0..<count { try body() }
            samples.append(Measure.seconds(start.duration(to: .now)) * 1e9 / Double(count))
        }
        return Measure.quantile(samples, 0.5)
    }

    private static func format(_ nanoseconds: Double) -> String { Measure.format(nanoseconds, digits: 0) + " ns" }
    private static func ratio(_ a: Double, _ b: Double) -> String { Measure.format(a / b, digits: 2) }

    // MARK: - Events

    private static func measureEvents(count: Int, runs: Int) async throws {
        let hub = InMemoryBackend.Hub(options: .init(inboxLimit: count + 1, inboxByteLimit: .max))
        var webSocket = WebSocketServer.Options(port: 0)
        webSocket.connection.pingInterval = nil
        let server = try WebSocketAPIServer(hub: hub, options: WebSocketAPIServer.Options(webSocket: webSocket))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await server.run() }
            defer { group.cancelAll() }
            print("bridge: \(count) events carrying the record per run, client -> server over one loopback connection")
            var typed: [Double] = []
            var stored: [Double] = []
            var untyped: [Double] = []
            for _ in 0..<runs {
                // Alternating, each on a fresh connection and participant.
                untyped.append(try await eventsPerSecond(hub: hub, url: server.url, count: count, mode: .untyped))
                typed.append(try await eventsPerSecond(hub: hub, url: server.url, count: count, mode: .typed))
                stored.append(try await eventsPerSecond(hub: hub, url: server.url, count: count, mode: .stored))
            }
            let typedMedian = Measure.quantile(typed, 0.5)
            let storedMedian = Measure.quantile(stored, 0.5)
            let untypedMedian = Measure.quantile(untyped, 0.5)
            print(
                "  typed \(Int(typedMedian)) events/s, untyped \(Int(untypedMedian)) events/s, typed/untyped "
                    + ratio(typedMedian, untypedMedian)
            )
            print(
                "  typed BrokerStoredRecord \(Int(storedMedian)) events/s, stored/untyped "
                    + ratio(storedMedian, untypedMedian)
            )
            await server.shutdown()
        }
    }

    /// How the events of a run are published and received.
    enum EventMode {
        /// A hand-built `Broker.Event` (its value made once), read with the hand-written record.
        case untyped
        /// The `Codable` record, published and received typed.
        case typed
        /// The ``StoredRecord``, published and received typed.
        case stored
    }

    private static func eventsPerSecond(
        hub: InMemoryBackend.Hub,
        url: String,
        count: Int,
        mode: EventMode
    ) async throws
        -> Double
    {
        let participant = hub.makeBackend(name: "participant-\(mode)-\(UniqueID.make())")
        try await participant.subscribe("bench/bridge")
        try await participant.connect()
        let client = WebSocketBackend(url: url)
        try await client.connect()
        let handValue = HandRecord(sample).brokerValue
        let storedSample = StoredRecord(sample)
        let start = ContinuousClock.now
        async let publishing: Void = {
            for _ in 0..<count {
                switch mode {
                case .typed: try await client.publish("Bench::record", sample, to: "bench/bridge")
                case .stored: try await client.publish("Bench::record", storedSample, to: "bench/bridge")
                case .untyped:
                    try await client.publish(Broker.Event("Bench::record", [handValue]), to: "bench/bridge")
                }
            }
        }()
        var received = 0
        switch mode {
        case .typed:
            for try await (record) in participant.events(named: "Bench::record", as: TypedRecord.self) {
                guard record == sample else { throw ControllerBenchmarkError("a typed event came back different") }
                received += 1
                if received == count { break }
            }
        case .stored:
            for try await (record) in participant.events(named: "Bench::record", as: StoredRecord.self) {
                guard record == storedSample else {
                    throw ControllerBenchmarkError("a stored record event came back different")
                }
                received += 1
                if received == count { break }
            }
        case .untyped:
            for try await event in participant.events {
                guard (try? HandRecord(brokerValue: event.event.arguments[0])) != nil else {
                    throw ControllerBenchmarkError("an event came back different")
                }
                received += 1
                if received == count { break }
            }
        }
        try await publishing
        let seconds = Measure.seconds(start.duration(to: .now))
        await client.close()
        await participant.close()
        return Double(count) / seconds
    }
}

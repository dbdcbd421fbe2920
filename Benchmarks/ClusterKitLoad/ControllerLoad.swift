import ClusterKit
import Foundation

/// Many clients driving one controller at once, each on its own WebSocket connection, checking every answer
/// (issue 12's load suite; `clusterkit-bench load` and the CI test `ControllerLoadTests` run it).
///
/// Each client subscribes to the controller topic as `zeek-client` does and keeps up to
/// ``Options/inFlight`` `get_id_value_request`s in flight, each with a request id no other client uses. Every
/// frame it receives is accounted for: another client's request (every subscriber of the topic sees those, as in
/// Zeek), an answer to one of its own pending requests (checked to carry every
/// node's value), a second answer to one of them (duplicated), an answer to a request it never sent (crossed:
/// the controller answers only the client that asked), or something else (unexpected). A request not answered
/// within ``Options/responseTimeout`` is lost.
public struct ControllerLoad: Sendable {
    /// How much load, and how long to wait.
    public struct Options: Sendable {
        /// The number of clients, each with its own connection.
        public var clients: Int
        /// The requests each client sends.
        public var requestsPerClient: Int
        /// The most requests a client has unanswered at once.
        public var inFlight: Int
        /// The identifier asked for.
        public var identifier: String
        /// How long a client waits for the next answer before it counts its pending requests as lost.
        public var responseTimeout: Duration

        /// Creates options; the defaults are the issue's: 100 clients of 200 requests, 10 in flight.
        ///
        /// - Parameters:
        ///   - clients: The number of clients.
        ///   - requestsPerClient: The requests per client.
        ///   - inFlight: The most unanswered requests per client.
        ///   - identifier: The identifier asked for.
        ///   - responseTimeout: The longest wait for an answer.
        public init(
            clients: Int = 100,
            requestsPerClient: Int = 200,
            inFlight: Int = 10,
            identifier: String = "Cluster::node",
            responseTimeout: Duration = .seconds(30)
        ) {
            self.clients = clients
            self.requestsPerClient = requestsPerClient
            self.inFlight = inFlight
            self.identifier = identifier
            self.responseTimeout = responseTimeout
        }
    }

    /// What the clients saw.
    public struct Report: Sendable {
        /// Requests sent.
        public var sent = 0
        /// Requests answered once, on their own connection, with every node's value.
        public var answered = 0
        /// Requests answered, on their own connection, without a success for every node.
        public var incomplete = 0
        /// Requests never answered.
        public var lost = 0
        /// Answers to requests the receiving client did not send.
        public var crossed = 0
        /// Second answers to one request.
        public var duplicated = 0
        /// Frames that were none of those (errors, other events).
        public var unexpected = 0
        /// Other clients' requests, which every subscriber of the controller topic sees, as in Zeek.
        public var othersRequests = 0
        /// Clients that could not connect or lost their connection, with the error.
        public var failedClients: [String] = []
        /// The round-trip times of the answered requests, in milliseconds.
        public var latencies: [Double] = []
        /// The wall-clock time of the whole run.
        public var elapsed: Duration = .zero
        /// The first few problems, each naming its client and request.
        public var problems: [String] = []

        /// Answered requests per second over the run.
        public var requestsPerSecond: Double {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            return seconds > 0 ? Double(answered + incomplete) / seconds : 0
        }

        /// Adds another client's report.
        mutating func merge(_ other: Report) {
            sent += other.sent
            answered += other.answered
            incomplete += other.incomplete
            lost += other.lost
            crossed += other.crossed
            duplicated += other.duplicated
            unexpected += other.unexpected
            othersRequests += other.othersRequests
            failedClients += other.failedClients
            latencies += other.latencies
            problems += other.problems.prefix(max(0, 20 - problems.count))
        }
    }

    /// Runs the load against a controller and returns what every client saw.
    ///
    /// - Parameters:
    ///   - url: The controller's WebSocket URL.
    ///   - nodes: The nodes every answer must carry a success for.
    ///   - options: The load.
    /// - Returns: The merged report.
    public static func run(url: String, nodes: Set<String>, options: Options = Options()) async -> Report {
        let clock = ContinuousClock()
        let start = clock.now
        var report = await withTaskGroup(of: Report.self) { group in
            for client in 0..<options.clients {
                group.addTask { await runClient(client, url: url, nodes: nodes, options: options) }
            }
            var merged = Report()
            for await one in group { merged.merge(one) }
            return merged
        }
        report.elapsed = clock.now - start
        return report
    }

    /// One client's requests and answers.
    private static func runClient(_ client: Int, url: String, nodes: Set<String>, options: Options) async -> Report {
        var report = Report()
        let connection: WebSocketConnection
        do {
            connection = try await WebSocketClient.connect(to: url)
            try await connection.send(text: Broker.JSON.encodeSubscriptions([ControllerAPI.topic.name]))
            guard case .text(let ack) = try await connection.receive(), ack.contains("\"ack\"") else {
                throw LoadError("no ack after subscribing")
            }
        } catch {
            report.failedClients.append("client \(client): \(error)")
            report.lost = options.requestsPerClient
            return report
        }
        let clock = ContinuousClock()
        var sentAt: [String: ContinuousClock.Instant] = [:]
        var answeredIDs: Set<String> = []
        var next = 0
        do {
            while next < options.requestsPerClient || !sentAt.isEmpty {
                while sentAt.count < options.inFlight, next < options.requestsPerClient {
                    let reqid = "load-\(client)-\(next)"
                    let event = Broker.Event(
                        ControllerAPI.getIDValueRequest,
                        [.string(reqid), .string(options.identifier), .set([])]
                    )
                    let frame = Broker.JSON.encode(.data(.init(topic: ControllerAPI.topic.name, event: event)))
                    sentAt[reqid] = clock.now
                    try await connection.send(text: frame)
                    report.sent += 1
                    next += 1
                }
                let message = try await receive(connection, within: options.responseTimeout)
                guard let message else {
                    report.lost += sentAt.count
                    report.problems.append("client \(client): \(sentAt.count) requests unanswered after the timeout")
                    sentAt.removeAll()
                    break
                }
                account(message, client: client, nodes: nodes, sentAt: &sentAt, answered: &answeredIDs, report: &report)
            }
        } catch {
            report.failedClients.append("client \(client): \(error)")
            report.lost += sentAt.count + (options.requestsPerClient - next)
        }
        await connection.close()
        return report
    }

    /// Accounts for one frame a client received.
    private static func account(
        _ message: WebSocketMessage,
        client: Int,
        nodes: Set<String>,
        sentAt: inout [String: ContinuousClock.Instant],
        answered: inout Set<String>,
        report: inout Report
    ) {
        guard case .text(let text) = message, case .data(let data)? = try? Broker.JSON.decodeMessage(text),
            let event = try? Broker.Event(data.value)
        else {
            report.unexpected += 1
            report.problems.append("client \(client): unexpected frame \(String(describing: message).prefix(120))")
            return
        }
        // Other clients' requests on the controller topic reach every subscriber, as in Zeek.
        if event.name == ControllerAPI.getIDValueRequest {
            report.othersRequests += 1
            return
        }
        guard event.name == ControllerAPI.getIDValueResponse, event.arguments.count == 2,
            case .string(let reqid) = event.arguments[0]
        else {
            report.unexpected += 1
            report.problems.append("client \(client): unexpected frame \(String(describing: message).prefix(120))")
            return
        }
        guard let start = sentAt.removeValue(forKey: reqid) else {
            if answered.contains(reqid) {
                report.duplicated += 1
                report.problems.append("client \(client): a second answer to \(reqid)")
            } else {
                report.crossed += 1
                report.problems.append("client \(client): an answer to \(reqid), which it did not send")
            }
            return
        }
        answered.insert(reqid)
        let elapsed = ContinuousClock.now - start
        report.latencies.append(
            Double(elapsed.components.attoseconds) * 1e-15 + Double(elapsed.components.seconds) * 1e3
        )
        let results = (try? [Management.Result](brokerValue: event.arguments[1])) ?? []
        let succeeded = Set(results.filter(\.success).compactMap(\.node))
        if succeeded == nodes, results.count == nodes.count {
            report.answered += 1
        } else {
            report.incomplete += 1
            report.problems.append(
                "client \(client): \(reqid) answered with \(succeeded.count) of \(nodes.count) nodes' values"
            )
        }
    }

    /// The next message, or `nil` when none came within `timeout`.
    private static func receive(
        _ connection: WebSocketConnection,
        within timeout: Duration
    ) async throws
        -> WebSocketMessage?
    {
        try await withThrowingTaskGroup(of: WebSocketMessage?.self) { group in
            group.addTask {
                guard let message = try await connection.receive() else { throw LoadError("the controller closed") }
                return message
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}

extension ControllerLoad {
    /// The layout the load runs against: a Management INI with seven nodes on one instance (a manager, a logger, a
    /// proxy and four workers), all in the controller's process.
    public static let layoutINI =
        """
        [instances]
        agent-1

        [manager]
        instance = agent-1
        role = manager

        [logger-1]
        instance = agent-1
        role = logger

        [proxy-1]
        instance = agent-1
        role = proxy

        """ + (1...4).map { "[worker-\($0)]\ninstance = agent-1\nrole = worker\n" }.joined(separator: "\n")

    /// The node names of ``layoutINI``.
    public static let layoutNodes: Set<String> = [
        "manager", "logger-1", "proxy-1", "worker-1", "worker-2", "worker-3", "worker-4",
    ]

    /// The peak resident memory of a process (`VmHWM` in `/proc/PID/status`), in megabytes.
    ///
    /// - Parameter pid: The process.
    /// - Returns: The peak, or `nil` when the process is gone or the file unreadable.
    public static func peakResidentMegabytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return kilobytes.map { $0 / 1024 }
        }
        return nil
    }
}

/// Why a load client stopped.
struct LoadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

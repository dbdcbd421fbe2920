import ClusterKit
import Foundation
import Synchronization

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
///
/// With a ``Fault`` (a node process killed once the clients have had so many answers), an answer that carries every
/// other node's value and a failure naming the faulty node is partial, not incomplete; with a
/// ``Options/deadline``, an answer that takes longer is overdue.
public struct ControllerLoad: Sendable {
    /// Something done to the cluster once, while the load runs: a node process killed, for one.
    public struct Fault: Sendable {
        /// The answers the clients have received together when the fault is injected.
        public var afterAnswers: Int
        /// The node it takes down: an answer may name it as failed instead of carrying its value.
        public var node: String
        /// Injects the fault (called once, from one client's task).
        public var inject: @Sendable () -> Void

        /// Creates a fault.
        ///
        /// - Parameters:
        ///   - afterAnswers: When to inject it.
        ///   - node: The node it takes down.
        ///   - inject: What it does.
        public init(afterAnswers: Int, node: String, inject: @escaping @Sendable () -> Void) {
            self.afterAnswers = afterAnswers
            self.node = node
            self.inject = inject
        }
    }

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
        /// The longest round trip that is not overdue; `nil` for no limit.
        ///
        /// With a ``fault``, it applies to the answers that come once the fault is injected (the requests in
        /// flight then, and those sent after).
        public var deadline: Duration?
        /// A fault to inject while the load runs; `nil` for none.
        public var fault: Fault?

        /// Creates options; the defaults are the issue's: 100 clients of 200 requests, 10 in flight.
        ///
        /// - Parameters:
        ///   - clients: The number of clients.
        ///   - requestsPerClient: The requests per client.
        ///   - inFlight: The most unanswered requests per client.
        ///   - identifier: The identifier asked for.
        ///   - responseTimeout: The longest wait for an answer.
        ///   - deadline: The longest round trip that is not overdue; default none.
        ///   - fault: A fault to inject; default none.
        public init(
            clients: Int = 100,
            requestsPerClient: Int = 200,
            inFlight: Int = 10,
            identifier: String = "Cluster::node",
            responseTimeout: Duration = .seconds(30),
            deadline: Duration? = nil,
            fault: Fault? = nil
        ) {
            self.deadline = deadline
            self.fault = fault
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
        /// Requests answered, on their own connection, without a success for every node (and not partial).
        public var incomplete = 0
        /// Requests answered with every node's value but the fault's node, and a failure that names it.
        public var partial = 0
        /// Partial answers whose failure for the fault's node is a timeout (the agent waited for its deadline)
        /// rather than its exit (`node worker-2 is not running: exited on signal 9, …`, answered at once).
        public var partialByTimeout = 0
        /// Answers that came later than ``Options/deadline``.
        public var overdue = 0
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
            return seconds > 0 ? Double(answered + partial + incomplete) / seconds : 0
        }

        /// Adds another client's report.
        mutating func merge(_ other: Report) {
            sent += other.sent
            answered += other.answered
            incomplete += other.incomplete
            partial += other.partial
            partialByTimeout += other.partialByTimeout
            overdue += other.overdue
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
        let answers = Answers()
        var report = await withTaskGroup(of: Report.self) { group in
            for client in 0..<options.clients {
                group.addTask { await runClient(client, url: url, nodes: nodes, options: options, answers: answers) }
            }
            var merged = Report()
            for await one in group { merged.merge(one) }
            return merged
        }
        report.elapsed = clock.now - start
        return report
    }

    /// One client's requests and answers.
    private static func runClient(
        _ client: Int,
        url: String,
        nodes: Set<String>,
        options: Options,
        answers: Answers
    ) async -> Report {
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
                let before = report.answered + report.partial + report.incomplete
                account(
                    message,
                    client: client,
                    nodes: nodes,
                    options: options,
                    checksDeadline: options.fault == nil || answers.isFaultInjected,
                    sentAt: &sentAt,
                    answered: &answeredIDs,
                    report: &report
                )
                if report.answered + report.partial + report.incomplete > before, let fault = options.fault,
                    answers.count() == fault.afterAnswers
                {
                    answers.faultInjected()
                    fault.inject()
                }
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
        options: Options,
        checksDeadline: Bool,
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
        if let deadline = options.deadline, checksDeadline, elapsed > deadline {
            report.overdue += 1
            report.problems.append("client \(client): \(reqid) answered after \(elapsed), past its \(deadline)")
        }
        let results = (try? [Management.Result](brokerValue: event.arguments[1])) ?? []
        let succeeded = Set(results.filter(\.success).compactMap(\.node))
        if succeeded == nodes, results.count == nodes.count {
            report.answered += 1
        } else if let fault = options.fault, isPartial(results, succeeded: succeeded, nodes: nodes, down: fault.node) {
            report.partial += 1
            if let timeout = results.first(where: { $0.error?.contains("timed out") == true }) {
                report.partialByTimeout += 1
                report.problems.append(
                    "client \(client): \(reqid) answered after \(elapsed) by a timeout: \(timeout.error ?? "")"
                )
            }
        } else {
            report.incomplete += 1
            report.problems.append(
                "client \(client): \(reqid) answered with \(succeeded.count) of \(nodes.count) nodes' values"
            )
        }
    }

    /// Whether an answer carries every node's value but `down`'s, and for `down` failures only, at least one of
    /// which names it.
    private static func isPartial(
        _ results: [Management.Result],
        succeeded: Set<String>,
        nodes: Set<String>,
        down: String
    ) -> Bool {
        let failures = results.filter { !$0.success }
        return succeeded == nodes.subtracting([down]) && !failures.isEmpty
            && failures.allSatisfy { $0.node == down || $0.node == nil }
            && failures.contains { $0.error?.contains(down) == true }
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

/// The answers all clients have received so far, counted across their tasks to time a ``ControllerLoad/Fault``.
final class Answers: Sendable {
    private let total = Atomic(0)
    private let injected = Atomic(false)

    /// Whether the fault has been injected.
    var isFaultInjected: Bool { injected.load(ordering: .acquiring) }

    /// Records that the fault is being injected.
    func faultInjected() {
        injected.store(true, ordering: .releasing)
    }

    /// Counts one answer and returns the count with it.
    func count() -> Int {
        total.add(1, ordering: .relaxed).newValue
    }
}

/// Why a load client stopped.
struct LoadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

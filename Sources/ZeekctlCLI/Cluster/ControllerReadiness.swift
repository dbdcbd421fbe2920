import ClusterKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a `zeekctl controller` started with `--ready-fd N` reports on that descriptor: once it answers requests,
/// its URL and what its start-up deployment did; or why it could not start.
///
/// One JSON document on one line, then the descriptor is closed:
/// `{"url": "ws://127.0.0.1:2149/v1/messages/json", "deployment": {"id": "…", "nodes": 5, "instances":
/// ["agent-h"], "failures": [{"subject": "worker-1", "error": "…"}]}}` (`deployment` is `null` without a start-up
/// configuration), or `{"error": "…"}`. `zeekctl cluster start` reads it from a pipe, so it learns that the
/// controller is ready, and which nodes failed, without reading anything the controller printed for people.
struct ControllerReadiness: Sendable, Hashable {
    /// The start-up deployment's outcome.
    struct Deployment: Sendable, Hashable {
        /// A node (or instance) that failed, with its error.
        struct Failure: Sendable, Hashable {
            /// The node, else the instance, else `controller`.
            var subject: String
            /// The error text.
            var error: String
        }

        /// The configuration's id.
        var id: String
        /// How many nodes it has.
        var nodeCount: Int
        /// Its instances, in order.
        var instances: [String]
        /// What failed; empty when every node runs.
        var failures: [Failure]

        /// The outcome of deploying `configuration` with these results.
        init(_ configuration: Management.Configuration, results: [Management.Result]) {
            id = configuration.id
            nodeCount = configuration.nodes.count
            instances = configuration.instances.map(\.name)
            failures = results.filter { !$0.success }.map { result in
                Failure(subject: result.node ?? result.instance ?? "controller", error: result.error ?? "failed")
            }
        }

        init(id: String, nodeCount: Int, instances: [String], failures: [Failure]) {
            self.id = id
            self.nodeCount = nodeCount
            self.instances = instances
            self.failures = failures
        }

        /// The line `zeekctl controller` prints: `deployed configuration ID: N nodes on INSTANCES` (plus
        /// `, K failed`), without a newline.
        var summary: String {
            let nodes = "\(nodeCount) node\(nodeCount == 1 ? "" : "s")"
            let failed = failures.isEmpty ? "" : ", \(failures.count) failed"
            return "deployed configuration \(id): \(nodes) on \(instances.joined(separator: ", "))\(failed)"
        }

        /// The summary, then one indented line per failure (`  NODE: ERROR`), each ending in a newline.
        var report: String {
            ([summary] + failures.map { "  \($0.subject): \($0.error)" }).map { $0 + "\n" }.joined()
        }
    }

    /// The controller's outcome.
    enum Outcome: Sendable, Hashable {
        /// It answers at `url`; `deployment` is its start-up deployment, if it had one.
        case ready(url: String, deployment: Deployment?)
        /// It could not start.
        case failed(String)
    }

    /// The outcome.
    var outcome: Outcome

    /// The document, one line without a newline.
    var json: String {
        switch outcome {
        case .failed(let error):
            return JSONValue.object(["error": .string(error)]).text()
        case .ready(let url, let deployment):
            let deploymentValue: JSONValue =
                deployment.map { deployment in
                    .object([
                        "id": .string(deployment.id),
                        "nodes": .integer(Int64(deployment.nodeCount)),
                        "instances": .array(deployment.instances.map(JSONValue.string)),
                        "failures": .array(
                            deployment.failures.map {
                                .object(["subject": .string($0.subject), "error": .string($0.error)])
                            }
                        ),
                    ])
                } ?? .null
            return JSONValue.object(["url": .string(url), "deployment": deploymentValue]).text()
        }
    }

    /// Reads a document.
    ///
    /// - Parameter text: What the controller wrote.
    /// - Throws: ``ReadinessError`` naming what is missing or malformed.
    init(parsing text: String) throws(ReadinessError) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(text)
        } catch {
            throw ReadinessError(description: "readiness report is not JSON: \(error)")
        }
        if let error = document["error"]?.stringValue {
            outcome = .failed(error)
            return
        }
        guard let url = document["url"]?.stringValue else {
            throw ReadinessError(description: "readiness report has neither 'url' nor 'error'")
        }
        guard let deployment = document["deployment"], deployment != .null else {
            outcome = .ready(url: url, deployment: nil)
            return
        }
        guard let id = deployment["id"]?.stringValue, case .integer(let nodes)? = deployment["nodes"],
            let instances = deployment["instances"]?.arrayValue?.compactMap(\.stringValue),
            let failures = deployment["failures"]?.arrayValue
        else {
            throw ReadinessError(description: "readiness report has a malformed 'deployment'")
        }
        var parsed: [Deployment.Failure] = []
        for failure in failures {
            guard let subject = failure["subject"]?.stringValue, let error = failure["error"]?.stringValue else {
                throw ReadinessError(description: "readiness report has a malformed failure")
            }
            parsed.append(Deployment.Failure(subject: subject, error: error))
        }
        outcome = .ready(
            url: url,
            deployment: Deployment(id: id, nodeCount: Int(nodes), instances: instances, failures: parsed)
        )
    }

    init(_ outcome: Outcome) {
        self.outcome = outcome
    }
}

/// A readiness report that cannot be read.
struct ReadinessError: Error, Sendable, Hashable, CustomStringConvertible {
    var description: String
}

/// The write end of `--ready-fd`: reports once, then closes the descriptor.
final class ReadinessReporter: Sendable {
    private let descriptor: Int32
    private let hasReported = Atomic(false)

    /// Takes over `descriptor`, made close-on-exec so that node processes do not inherit it.
    init(descriptor: Int32) {
        self.descriptor = descriptor
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    }

    /// Writes the report and closes the descriptor, the first time only; errors are ignored (the reader then sees
    /// the end of the pipe without a report, and says so).
    func report(_ readiness: ControllerReadiness) {
        guard hasReported.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        let bytes = Array((readiness.json + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            written += count
        }
        close(descriptor)
    }
}

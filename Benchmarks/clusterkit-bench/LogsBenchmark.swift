import ClusterKit
import Foundation

/// `clusterkit-bench logs [--runs N]`: how fast lines in Zeek's formats are made and written.
///
/// - `encode ascii|json`: one management log line (`ZeekLogEncoder.line`), a typical controller message;
/// - `escape ascii`: the same line with a newline and a non-ASCII character in it (Zeek's `\xNN` path);
/// - `write ascii|json`: `ManagementLog.info` into a file in a temporary directory, through the writer's buffer
///   (written every 64 KiB; closed at the end).
enum LogsBenchmark {
    static func run(_ arguments: [String]) async throws {
        let runs = max(1, TopicsBenchmark.option("--runs", in: arguments) ?? 7)
        print("logs: median of \(runs) runs")
        print("workload        lines/s     ns/line")
        let info = Management.Log.Info(
            ts: LogDirectory.systemTime(),
            node: "controller",
            level: "INFO",
            role: "CONTROLLER",
            message: "rx Management::Controller::API::get_id_value_request 6a3f0c1e-3b7d-11f1-9d2a-02fc00000001"
        )
        var escaped = info
        escaped.message = "rx Management::Controller::API::get_id_value_request r\u{E9}q\nid"
        for (name, format, record) in [
            ("encode ascii", ZeekLogFormat.ascii, info), ("encode json", .json, info),
            ("escape ascii", .ascii, escaped),
        ] {
            let encoder = ZeekLogEncoder(
                path: "management-controller",
                fields: Management.Log.Info.zeekLogFields,
                format: format
            )
            var bytes = 0
            let rates = Measure.rates(runs: runs) { bytes &+= encoder.line(record).count }
            report(name, Measure.median(rates))
        }
        for format in ZeekLogFormat.allCases {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "clusterkit-bench-logs-\(UUID())"
            ).path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let logs = LogDirectory(options: LogDirectory.Options(directory: directory, format: format))
            let log = logs.managementLog(node: "controller", role: .controller)
            let rates = Measure.rates(runs: runs) { log.info(info.message) }
            logs.close()
            report("write \(format.rawValue)", Measure.median(rates))
        }
    }

    private static func report(_ name: String, _ rate: Double) {
        print(
            name + String(repeating: " ", count: max(0, 14 - name.count)),
            TopicsBenchmark.pad(TopicsBenchmark.format(rate, 0), 11),
            TopicsBenchmark.pad(TopicsBenchmark.format(1e9 / rate, 1), 11)
        )
    }
}

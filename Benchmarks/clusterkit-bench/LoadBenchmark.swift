import ClusterKit
import ClusterKitLoad
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `clusterkit-bench load [--clients N] [--requests N] [--in-flight N] [--zeekctl PATH]`: issue 12's load suite in
/// its long form, against a `zeekctl controller` process with a 7-node layout (a manager, a logger, a proxy and
/// four workers, in the controller's process).
///
/// Prints requests/s, p50/p99 latency, what was lost, crossed or duplicated, and the controller's peak resident
/// memory (`VmHWM`); exits 1 when a request was lost, crossed, duplicated or incomplete, or the peak passed 300 MB.
func runLoadBenchmark(arguments: [String]) async throws {
    let options = ControllerLoad.Options(
        clients: Int(value(of: "--clients", in: arguments) ?? "") ?? 100,
        requestsPerClient: Int(value(of: "--requests", in: arguments) ?? "") ?? 200,
        inFlight: Int(value(of: "--in-flight", in: arguments) ?? "") ?? 10
    )
    let benchDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let zeekctl = value(of: "--zeekctl", in: arguments) ?? benchDirectory + "/zeekctl"
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("load-bench-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let iniPath = directory.appendingPathComponent("cluster.ini").path
    try ControllerLoad.layoutINI.write(toFile: iniPath, atomically: true, encoding: .utf8)

    print(
        "load: \(options.clients) clients x \(options.requestsPerClient) get_id_value requests "
            + "(\(options.inFlight) in flight each) through 'zeekctl controller', 7 nodes"
    )
    let controller = try SpawnedProcess(
        zeekctl,
        ["controller", "--listen", "127.0.0.1:0", "--config", iniPath],
        outputPath: directory.appendingPathComponent("controller.out").path
    )
    defer { controller.stop() }
    let url = try controller.waitForLine(prefix: "listening on ", timeout: .seconds(60))
    let report = await ControllerLoad.run(url: url, nodes: ControllerLoad.layoutNodes, options: options)
    let peak = ControllerLoad.peakResidentMegabytes(of: controller.pid)

    let p50 = Measure.format(Measure.quantile(report.latencies, 0.5), digits: 2)
    let p99 = Measure.format(Measure.quantile(report.latencies, 0.99), digits: 2)
    print("  \(report.sent) sent, \(report.answered) answered with every node's value in \(report.elapsed)")
    print("  \(Measure.format(report.requestsPerSecond, digits: 0)) requests/s, p50 \(p50) ms, p99 \(p99) ms")
    print(
        "  lost \(report.lost), crossed \(report.crossed), duplicated \(report.duplicated), incomplete "
            + "\(report.incomplete), unexpected \(report.unexpected), failed clients \(report.failedClients.count)"
    )
    print("  controller peak resident memory: \(peak.map { "\($0) MB" } ?? "unknown")")
    for problem in report.problems.prefix(10) { print("  problem: \(problem)") }
    let clean =
        report.lost == 0 && report.crossed == 0 && report.duplicated == 0 && report.incomplete == 0
        && report.failedClients.isEmpty
    if !clean || (peak ?? 0) >= 300 { exit(1) }
}

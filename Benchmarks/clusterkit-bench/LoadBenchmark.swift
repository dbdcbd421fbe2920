import ClusterKit
import ClusterKitLoad
import Foundation
import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// `clusterkit-bench load [--clients N] [--requests N] [--in-flight N] [--zeekctl PATH] [--processes [--kill NODE]]`:
/// issue 12's load suite in its long form, against a `zeekctl controller` process with a 7-node layout (a manager,
/// a logger, a proxy and four workers, in the controller's process; with `--processes`, node processes of
/// `zeekctl cluster start`, one of which, `--kill NODE` (default `worker-2`), is killed with SIGKILL halfway).
///
/// Prints requests/s, p50/p99 latency, what was lost, crossed or duplicated, and the controller's peak resident
/// memory (`VmHWM`); exits 1 when a request was lost, crossed, duplicated or incomplete, or the peak passed 300 MB
/// (with `--processes`: or an answer took longer than the agent's 5 s deadline plus 1 s).
func runLoadBenchmark(arguments: [String]) async throws {
    let options = ControllerLoad.Options(
        clients: Int(value(of: "--clients", in: arguments) ?? "") ?? 100,
        requestsPerClient: Int(value(of: "--requests", in: arguments) ?? "") ?? 200,
        inFlight: Int(value(of: "--in-flight", in: arguments) ?? "") ?? 10
    )
    if arguments.contains("--processes") {
        try await runProcessLoadBenchmark(arguments: arguments, options: options)
        return
    }
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

    printLoadReport(report, peak: peak)
    let clean =
        report.lost == 0 && report.crossed == 0 && report.duplicated == 0 && report.incomplete == 0
        && report.failedClients.isEmpty
    if !clean || (peak ?? 0) >= 300 { exit(1) }
}

/// The load through node processes of `zeekctl cluster start`, one of them killed with SIGKILL once half the
/// requests are answered: the answers in flight then complete at once with the others' values and the dead node
/// named (the agent learns of the exit from the supervisor), within the agent's 5 s deadline plus 1 s.
private func runProcessLoadBenchmark(arguments: [String], options: ControllerLoad.Options) async throws {
    let victim = value(of: "--kill", in: arguments) ?? "worker-2"
    let cluster = try await BenchCluster(arguments: arguments, name: "load-bench", ini: ControllerLoad.layoutINI)
    defer { cluster.remove() }

    print(
        "load: \(options.clients) clients x \(options.requestsPerClient) get_id_value requests "
            + "(\(options.inFlight) in flight each) through 'zeekctl cluster start', 7 node processes, "
            + "\(victim) killed halfway"
    )
    let started = try await cluster.start()
    let report: ControllerLoad.Report
    let nodePeaks: [String: Int]
    do {
        let statuses = try await LocalCluster.status(controller: started.url)
        guard let pid = statuses.first(where: { $0.node == victim })?.pid else {
            throw ControllerBenchmarkError("no node process named \(victim)")
        }
        var loaded = options
        loaded.deadline = .seconds(6)
        loaded.fault = ControllerLoad.Fault(
            afterAnswers: options.clients * options.requestsPerClient / 2,
            node: victim,
            inject: { kill(pid_t(pid), SIGKILL) }
        )
        report = await ControllerLoad.run(url: started.url, nodes: ControllerLoad.layoutNodes, options: loaded)
        nodePeaks = Dictionary(
            uniqueKeysWithValues: try await LocalCluster.status(controller: started.url).compactMap { status in
                status.pid.flatMap { ControllerLoad.peakResidentMegabytes(of: Int32($0)) }.map { (status.node, $0) }
            }
        )
    } catch {
        _ = try? await LocalCluster.stop(controller: started.url)
        throw error
    }
    let peak = ControllerLoad.peakResidentMegabytes(of: Int32(started.pid))
    _ = try await LocalCluster.stop(controller: started.url)

    printLoadReport(report, peak: peak)
    print(
        "  partial (\(victim) named): \(report.partial), of which by the agent's timeout rather than the exit: "
            + "\(report.partialByTimeout); overdue (over 6 s): \(report.overdue)"
    )
    print(
        "  node processes' peak resident memory: "
            + nodePeaks.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) MB" }.joined(separator: ", ")
    )
    let clean =
        report.lost == 0 && report.crossed == 0 && report.duplicated == 0 && report.incomplete == 0
        && report.overdue == 0 && report.partialByTimeout == 0 && report.failedClients.isEmpty
    if !clean || (peak ?? 0) >= 300 { exit(1) }
}

private func printLoadReport(_ report: ControllerLoad.Report, peak: Int?) {
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
}

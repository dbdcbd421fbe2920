import Foundation
import Testing

@testable import ClusterKitModel
@testable import ClusterKitRuntime

/// The log writer and the log directory over a file system in memory: buffering, `#close`, failures reported
/// once, the management log's level filter.
@Suite struct ZeekLogWriterTests {
    static let utc = TimeZone(secondsFromGMT: 0) ?? .current
    static let time = Broker.Timestamp(nanosecondsSinceEpoch: 1_796_416_860_000_000_000)
    static let header =
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tcluster\n"
        + "#open\t2026-12-04-20-41-00\n#fields\tts\tnode\tmessage\n#types\ttime\tstring\tstring\n"

    let files = MemoryLogFileSystem()
    let errors = ReportedErrors()

    func directory(
        format: ZeekLogFormat = .ascii,
        level: Management.Log.Level = .info,
        bufferLimit: Int = 65_536,
        clock: ManualClock = ManualClock()
    ) -> LogDirectory {
        LogDirectory(
            options: LogDirectory.Options(
                directory: "/logs",
                format: format,
                level: level,
                bufferLimit: bufferLimit,
                timeZone: Self.utc
            ),
            fileSystem: files,
            clock: clock,
            now: { Self.time },
            onError: errors.sink
        )
    }

    @Test func nothingIsOpenedBeforeTheFirstLine() {
        let logs = directory()
        _ = logs.clusterLog(node: "controller")
        _ = logs.managementLog(node: "controller", role: .controller)
        logs.flush()
        logs.close()
        #expect(files.paths.isEmpty)
    }

    @Test func linesAreBufferedUntilAFlushAndTheCloseLineEndsTheFile() {
        let logs = directory()
        let log = logs.clusterLog(node: "controller")
        log.write("got hello from worker-1 (abc)")
        log.write("node down: worker-1")
        #expect(files.writes == 0)
        logs.flush()
        let lines =
            "1796416860.000000\tcontroller\tgot hello from worker-1 (abc)\n"
            + "1796416860.000000\tcontroller\tnode down: worker-1\n"
        #expect(files.text("/logs/cluster.log") == Self.header + lines)
        logs.close()
        #expect(files.text("/logs/cluster.log") == Self.header + lines + "#close\t2026-12-04-20-41-00\n")
        // Closed: later lines are dropped.
        log.write("late")
        logs.flush()
        #expect(files.text("/logs/cluster.log")?.contains("late") == false)
        #expect(errors.all.isEmpty)
    }

    @Test func aFullBufferIsWrittenAtOnce() {
        let logs = directory(bufferLimit: 1_000)
        let log = logs.clusterLog(node: "n")
        for index in 0..<30 { log.write("message \(index)") }
        // The header and lines pass 1,000 bytes: written without a flush, in whole lines.
        #expect(files.writes >= 1)
        let text = files.text("/logs/cluster.log") ?? ""
        #expect(text.hasPrefix(Self.header))
        #expect(text.hasSuffix("\n"))
        logs.close()
        #expect(files.text("/logs/cluster.log")?.components(separatedBy: "message ").count == 31)
    }

    @Test func theSameFileGivesTheSameWriter() {
        let logs = directory()
        logs.managementLog(node: "agent-a", role: .agent).info("first run")
        logs.managementLog(node: "agent-a", role: .agent).info("second run")
        logs.close()
        let text = files.text("/logs/management-agent-a.log") ?? ""
        #expect(text.components(separatedBy: "#fields").count == 2)
        #expect(text.contains("\tagent-a\tINFO\tAGENT\tfirst run\n"))
        #expect(text.contains("\tagent-a\tINFO\tAGENT\tsecond run\n"))
        #expect(files.opens("/logs/management-agent-a.log") == 1)
    }

    @Test func fileNamesKeepOnlySafeCharacters() {
        let logs = directory()
        logs.managementLog(node: "../etc/x y", role: .controller).info("m")
        logs.close()
        #expect(files.paths == ["/logs/management-.._etc_x_y.log"])
        // The node column keeps the name as it is (escaped by the format).
        #expect(files.text("/logs/management-.._etc_x_y.log")?.contains("\t../etc/x y\tINFO\t") == true)
    }

    @Test(arguments: [
        (Management.Log.Level.debug, ["DEBUG", "INFO", "WARNING", "ERROR"]),
        (.info, ["INFO", "WARNING", "ERROR"]),
        (.warning, ["WARNING", "ERROR"]),
        (.error, ["ERROR"]),
    ])
    func theManagementLogWritesItsLevelAndAbove(level: Management.Log.Level, written: [String]) {
        let logs = directory(level: level)
        let log = logs.managementLog(node: "controller", role: .controller)
        var built: [String] = []
        func message(_ text: String) -> String {
            built.append(text)
            return text
        }
        log.debug(message("d"))
        log.info(message("i"))
        log.warning(message("w"))
        log.error(message("e"))
        logs.close()
        let rows = (files.text("/logs/management-controller.log") ?? "").split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.map { $0[2] } == written)
        #expect(rows.allSatisfy { $0[1] == "controller" && $0[3] == "CONTROLLER" })
        // A message below the level is never built.
        #expect(built.count == written.count)
    }

    @Test func jsonFilesHaveNoHeaderAndNoCloseLine() {
        let logs = directory(format: .json)
        logs.managementLog(node: "agent-a", role: .agent).warning("dropped x")
        logs.close()
        #expect(
            files.text("/logs/management-agent-a.log")
                == "{\"ts\":1796416860.0,\"node\":\"agent-a\",\"level\":\"WARNING\",\"role\":\"AGENT\",\"message\":\"dropped x\"}\n"
        )
    }

    @Test func aFileThatCannotBeOpenedIsReportedOnceAndItsLinesDropped() {
        files.refuseOpening("/logs/cluster.log")
        let logs = directory()
        let cluster = logs.clusterLog(node: "controller")
        let management = logs.managementLog(node: "controller", role: .controller)
        for _ in 0..<5 { cluster.write("lost") }
        management.info("kept")
        logs.close()
        #expect(errors.all.map(\.description) == ["/logs/cluster.log: cannot open: No such file or directory"])
        #expect(errors.all.first?.code == .cannotOpen)
        #expect(files.text("/logs/management-controller.log")?.contains("\tkept\n") == true)
        #expect(logs.writer(path: "cluster", fields: Cluster.Info.zeekLogFields).statistics.droppedLines == 5)
    }

    @Test func aFailedWriteIsReportedOnceAndLaterLinesAreDropped() {
        let logs = directory()
        let log = logs.clusterLog(node: "controller")
        log.write("one")
        logs.flush()
        files.setFailingWrites(true)
        log.write("two")
        logs.flush()
        log.write("three")
        logs.flush()
        files.setFailingWrites(false)
        log.write("four")
        logs.close()
        #expect(errors.all.map(\.description) == ["/logs/cluster.log: cannot write: No space left on device"])
        let text = files.text("/logs/cluster.log") ?? ""
        #expect(text.contains("\tone\n"))
        #expect(!text.contains("four"))
        #expect(!text.contains("#close"))
    }

    @Test func runFlushesEveryInterval() async {
        let clock = ManualClock()
        let logs = directory(clock: clock)
        let task = Task { await logs.run() }
        await clock.waitForSleepers(1)
        logs.clusterLog(node: "n").write("hello")
        #expect(files.writes == 0)
        clock.advance(by: .seconds(1))
        await clock.waitForSleepers(1)
        #expect(files.text("/logs/cluster.log")?.hasSuffix("\tn\thello\n") == true)
        task.cancel()
        await task.value
    }

    @Test func theLocalFileSystemAppendsAndRefusesSymbolicLinks() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zeeklog-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let errors = ReportedErrors()
        for run in ["first", "second"] {
            let logs = LogDirectory(options: LogDirectory.Options(directory: directory), onError: errors.sink)
            logs.clusterLog(node: "n").write(run)
            logs.close()
        }
        let text = try String(contentsOfFile: directory + "/cluster.log", encoding: .utf8)
        #expect(text.components(separatedBy: "#close").count == 3)
        #expect(text.contains("\tn\tfirst\n") && text.contains("\tn\tsecond\n"))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/cluster.log")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        try FileManager.default.createSymbolicLink(
            atPath: directory + "/management-c.log",
            withDestinationPath: "/dev/null"
        )
        let logs = LogDirectory(options: LogDirectory.Options(directory: directory), onError: errors.sink)
        logs.managementLog(node: "c", role: .controller).error("x")
        logs.close()
        #expect(errors.all.map(\.code) == [.cannotOpen])
        #expect(errors.all.first?.description.hasPrefix(directory + "/management-c.log: ") == true)
    }
}

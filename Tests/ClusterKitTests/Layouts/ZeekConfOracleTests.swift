import ClusterKit
import Foundation
import Testing

/// One case of the zeek-conf oracle (`Fixtures/zeek-conf-oracle`, made by running Zeek's own
/// zeek-cluster-layout-generator): its input and what the generator made of it.
///
/// `ZEEK_CONF_ORACLE_CASES` may name another folder of cases of the same shape (the held-out ones).
struct ZeekConfOracleCase: CustomStringConvertible, Sendable {
    /// The folder holding the cases.
    static let folder: String =
        ProcessInfo.processInfo.environment["ZEEK_CONF_ORACLE_CASES"]
        ?? fixturesURL.appendingPathComponent("zeek-conf-oracle/cases").path

    /// Every case, by name.
    static let all: [ZeekConfOracleCase] = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        .sorted().map { ZeekConfOracleCase(name: $0) }

    /// One row of `error-lines.tsv`.
    struct ErrorLine: Sendable {
        var file: String
        var lines: [Int]
        var message: String
    }

    var name: String
    var description: String { name }
    var directory: String { Self.folder + "/" + name }

    func text(_ file: String) -> String? { try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) }

    /// The input as given to the generator's `-C`: `zeek.conf`, `cluster`, or the path of `path.txt`;
    /// `nil` for the flag form.
    var inputPath: String? {
        if FileManager.default.fileExists(atPath: directory + "/args.txt") { return nil }
        if let path = text("path.txt") { return path.trimmingCharacters(in: .whitespacesAndNewlines) }
        return FileManager.default.fileExists(atPath: directory + "/zeek.conf") ? "zeek.conf" : "cluster"
    }

    /// The generator's arguments of the flag form, one per line.
    var arguments: [String]? {
        guard var text = text("args.txt") else { return nil }
        if text.hasSuffix("\n") { text.removeLast() }
        return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    var expectedExit: Int32 {
        Int32(text("expected.exit")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
    }
    var expectedLayout: String { text("expected.zeek") ?? "" }

    /// The generator's error lines, without `invalid config PATH` headers and the deprecation warning.
    var expectedMessages: [String] {
        (text("expected.stderr") ?? "").split(separator: "\n").map(String.init).filter {
            !$0.hasPrefix("invalid config ") && !$0.hasPrefix("Remove in v9.1:")
        }
    }

    var errorLines: [ErrorLine] {
        (text("error-lines.tsv") ?? "").split(separator: "\n").dropFirst().map { row in
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return ErrorLine(
                file: fields.first ?? "",
                lines: (fields.count > 1 ? fields[1] : "").split(separator: ",").compactMap { Int($0) },
                message: fields.count > 2 ? fields[2...].joined(separator: "\t") : ""
            )
        }
    }

    /// The flag form as ``ZeekLayoutGenerator/Flags`` (the last of a repeated flag wins; `-o` and
    /// non-flag arguments are not the layout's business).
    var flags: ZeekLayoutGenerator.Flags? {
        guard let arguments else { return nil }
        var flags = ZeekLayoutGenerator.Flags()
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            let value = index + 1 < arguments.count ? arguments[index + 1] : nil
            index += 2
            switch flag {
            case "-L": flags.loggers = value
            case "-P": flags.proxies = value
            case "-W": flags.workers = value
            case "-M": flags.manager = value
            case "-a": flags.address = value
            case "-p": flags.port = value
            case "-m": flags.metricsPort = value
            case "-b": flags.metricsAddress = value
            case "-x": flags.prefix = value
            case "-o": break
            default: index -= 1
            }
        }
        return flags
    }
}

extension Layouts {
    /// Every case of the zeek-conf oracle through the library: the layout byte for byte, every error
    /// message of the generator with a line `error-lines.tsv` names, and the generated layout read back.
    @Suite struct ZeekConfOracleTests {
        @Test func everyCaseIsFound() {
            #expect(ZeekConfOracleCase.all.count >= 70)
        }

        @Test(arguments: ZeekConfOracleCase.all)
        func libraryMatchesZeeksGenerator(_ oracle: ZeekConfOracleCase) throws {
            if let flags = oracle.flags {
                switch flags.generatedText() {
                case .success(let text):
                    #expect(oracle.expectedExit == 0 || oracle.name.contains("open-error"))
                    if oracle.expectedExit == 0 { #expect(text == oracle.expectedLayout) }
                case .failure(let list):
                    #expect(oracle.expectedExit == 1)
                    #expect(list.problems.map(\.message) == oracle.expectedMessages)
                }
                return
            }
            let path = try #require(oracle.inputPath)
            let loaded = LayoutLoader().loadZeekConf(path: oracle.directory + "/" + path, displayName: path)
            let cluster = loaded.zeekConf
            if oracle.expectedExit == 0 {
                let generated = try #require(cluster?.generatedText, "\(loaded.issues)")
                #expect(generated == oracle.expectedLayout)
                #expect(try loaded.generatedLayout().text == oracle.expectedLayout)
            } else {
                #expect(cluster?.generatedText == nil)
                #expect(throws: LayoutGenerationError.self) { try loaded.generatedLayout() }
                let errors = loaded.issues.filter { $0.severity == .error }
                for expected in oracle.errorLines {
                    let match = errors.first { issue in
                        issue.message.contains(expected.message)
                            && (expected.file.isEmpty || issue.location.file == expected.file)
                            && (expected.lines.isEmpty || expected.lines.contains(issue.location.line ?? -1))
                    }
                    #expect(match != nil, "no error '\(expected.message)' at \(expected.file):\(expected.lines)")
                }
                for message in oracle.expectedMessages {
                    #expect(errors.contains { $0.message.contains(message) }, "no error '\(message)'")
                }
            }
        }

        /// What the generator writes is itself an input: read back, it has the same nodes, ports and
        /// metrics ports, and it passes `check` unless ClusterKit found the configuration unrunnable.
        @Test(arguments: ZeekConfOracleCase.all.filter { $0.expectedExit == 0 && $0.inputPath != nil })
        func generatedLayoutReadsBack(_ oracle: ZeekConfOracleCase) throws {
            let path = try #require(oracle.inputPath)
            let loaded = LayoutLoader().loadZeekConf(path: oracle.directory + "/" + path, displayName: path)
            let script = LayoutLoader().load(text: oracle.expectedLayout, file: "cluster-layout.zeek", format: .layout)
            func shape(_ layout: Cluster.Layout) -> [String] {
                layout.nodes.map { "\($0.name) \($0.node.nodeType) \($0.node.p) \($0.node.metricsPort ?? .unset)" }
            }
            #expect(shape(script.layout) == shape(loaded.layout))
            #expect(script.layout.managerIsLogger == loaded.layout.managerIsLogger)
            #expect(script.nodeSummaries.map(\.host) == loaded.nodeSummaries.map(\.host))
            #expect(script.hasErrors == loaded.hasErrors, "\(script.issues) / \(loaded.issues)")
        }
    }
}

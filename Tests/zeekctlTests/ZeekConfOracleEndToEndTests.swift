import Foundation
import Testing

/// Runs the built `zeekctl` on every case of the zeek-conf oracle (made by Zeek's own
/// zeek-cluster-layout-generator; `ZEEK_CONF_ORACLE_CASES` may name another folder of such cases):
/// `layout` prints the generator's layout byte for byte or fails with every message on standard error;
/// `check` names each rejected input's errors as `FILE:LINE:`; the generated layout checks clean and lists
/// the same nodes as the input.
///
/// Error format (see Docs/zeek9.md): one line per error, `FILE:LINE: error: MESSAGE`, MESSAGE being the
/// generator's text; `FILE` is the input file as given (`zeek.conf`, `cluster/b.zeek.conf`), the line one
/// of those `error-lines.tsv` lists. Errors about no single line (`too many manager nodes`, a missing path)
/// are `PATH: error: MESSAGE`; flag values are `error: --FLAG: MESSAGE`.
@Suite struct ZeekConfOracleEndToEndTests {
    static let casesPath =
        ProcessInfo.processInfo.environment["ZEEK_CONF_ORACLE_CASES"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ClusterKitTests/Fixtures/zeek-conf-oracle/cases").path

    static let cases = ((try? FileManager.default.contentsOfDirectory(atPath: casesPath)) ?? []).sorted()

    /// The generator's flags and `zeekctl layout`'s names for them.
    static let longFlags = [
        "-L": "--loggers", "-P": "--proxies", "-W": "--workers", "-M": "--manager", "-a": "--address",
        "-p": "--port", "-m": "--metrics-port", "-b": "--metrics-address", "-x": "--node-prefix", "-o": "--output",
    ]

    struct Case {
        var directory: String

        func text(_ file: String) -> String? { try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) }

        /// The `-C` input, or `nil` for the flag form.
        var input: String? {
            if text("args.txt") != nil { return nil }
            if let path = text("path.txt") { return path.trimmingCharacters(in: .whitespacesAndNewlines) }
            return FileManager.default.fileExists(atPath: directory + "/zeek.conf") ? "zeek.conf" : "cluster"
        }

        /// `zeekctl layout`'s arguments for the case.
        var layoutArguments: [String] {
            if let input { return ["layout", input] }
            var text = self.text("args.txt") ?? ""
            if text.hasSuffix("\n") { text.removeLast() }
            let given =
                text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var arguments = ["layout"]
            var index = 0
            while index < given.count {
                if let long = longFlags[given[index]], index + 1 < given.count {
                    arguments += [long, given[index + 1]]
                    index += 2
                } else {
                    index += 1  // the generator ignores arguments that are not flags
                }
            }
            if arguments.count == 1 || arguments == ["layout", "--output", "out"] { arguments += ["--manager", "1"] }
            return arguments
        }

        var expectedExit: Int32 {
            Int32(text("expected.exit")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        }

        var messages: [String] {
            (text("expected.stderr") ?? "").split(separator: "\n").map(String.init).filter {
                !$0.hasPrefix("invalid config ") && !$0.hasPrefix("Remove in v9.1:")
            }
        }

        /// `error-lines.tsv`: file, lines, message.
        var errorLines: [(file: String, lines: [String], message: String)] {
            (text("error-lines.tsv") ?? "").split(separator: "\n").dropFirst().map { row in
                let fields = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                return (
                    fields.first ?? "", (fields.count > 1 ? fields[1] : "").split(separator: ",").map(String.init),
                    fields.count > 2 ? fields[2] : ""
                )
            }
        }
    }

    @Test func everyCaseIsFound() {
        #expect(Self.cases.count >= 70)
    }

    @Test(arguments: cases)
    func layoutMatchesZeeksGenerator(_ name: String) async throws {
        let oracle = Case(directory: Self.casesPath + "/" + name)
        let run = try await BinaryRunner.run(oracle.layoutArguments, currentDirectory: oracle.directory)
        if oracle.expectedExit == 0 {
            #expect(run.status == 0, "\(run.error)")
            #expect(run.output == oracle.text("expected.zeek"))
            return
        }
        #expect(run.status == 1)
        #expect(run.output.isEmpty)
        for message in oracle.messages {
            if let failed = message.firstMatch(of: /^failed to open (.*): (.*)$/) {
                // Writing -o: zeekctl's own words, naming the file and the system's reason.
                #expect(run.error.contains("\(failed.1): cannot write: \(failed.2)"), "\(run.error)")
            } else {
                #expect(run.error.contains(message), "'\(message)' not in \(run.error)")
            }
        }
    }

    @Test(arguments: cases)
    func checkNamesEveryErrorWithItsLine(_ name: String) async throws {
        let oracle = Case(directory: Self.casesPath + "/" + name)
        guard let input = oracle.input, oracle.expectedExit != 0 else { return }
        let run = try await BinaryRunner.run(["check", input], currentDirectory: oracle.directory)
        #expect(run.status == 1)
        let lines = (run.output + run.error).split(separator: "\n").map(String.init)
        for row in oracle.errorLines {
            let places =
                row.lines.isEmpty ? [row.file.isEmpty ? input : row.file] : row.lines.map { "\(row.file):\($0):" }
            let found = lines.contains { line in line.contains(row.message) && places.contains { line.hasPrefix($0) } }
            #expect(found, "no line '\(places): ... \(row.message)' in:\n\(lines.joined(separator: "\n"))")
        }
    }

    /// The generated layout is an input too: `check` passes unless the input itself fails `check` (what Zeek
    /// cannot run), and `nodes` lists the same nodes and ports for both.
    @Test(arguments: cases)
    func generatedLayoutChecksAndListsTheSameNodes(_ name: String) async throws {
        let oracle = Case(directory: Self.casesPath + "/" + name)
        guard oracle.expectedExit == 0, let input = oracle.input else { return }
        let inputCheck = try await BinaryRunner.run(["check", input], currentDirectory: oracle.directory)
        let layoutCheck = try await BinaryRunner.run(["check", "expected.zeek"], currentDirectory: oracle.directory)
        #expect(layoutCheck.status == inputCheck.status, "\(inputCheck.output)\n\(layoutCheck.output)")
        guard inputCheck.status == 0 else { return }
        let fromInput = try await BinaryRunner.run(
            ["nodes", input, "--format", "json"],
            currentDirectory: oracle.directory
        )
        let fromLayout = try await BinaryRunner.run(
            ["nodes", "expected.zeek", "--format", "json"],
            currentDirectory: oracle.directory
        )
        #expect(fromLayout.status == 0)
        // The same nodes, types, hosts, addresses and ports; the layout has no interfaces (zeek.conf does).
        #expect(
            fromLayout.output == fromInput.output.replacing(/"interface" *: *"[^"]*"/, with: "\"interface\": null")
        )
        let names = (oracle.text("expected.zeek") ?? "").matches(of: /\n    \["([^"]+)"\]/).map { String($0.1) }
        #expect(names.allSatisfy { fromLayout.output.contains("\"\($0)\"") })
    }
}

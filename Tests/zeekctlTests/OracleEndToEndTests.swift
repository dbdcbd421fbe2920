import Foundation
import Testing

/// Runs the built `zeekctl layout` on every golden ZeekControl case (the fixtures of ClusterKitTests,
/// found next to this file) and compares with ZeekControl's output byte for byte.
///
/// The cases use `host=localhost`; the binary resolves it with the system resolver, as ZeekControl does
/// (`/etc/hosts`, no DNS).
@Suite(.serialized) struct OracleEndToEndTests {
    static let casesPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ClusterKitTests/Fixtures/zeekctl-oracle/cases").path

    static let cases = ((try? FileManager.default.contentsOfDirectory(atPath: casesPath)) ?? []).sorted()

    @Test func everyCaseIsFound() {
        #expect(Self.cases.count >= 4)
    }

    @Test(arguments: cases)
    func layoutMatchesZeekControl(_ name: String) async throws {
        let directory = Self.casesPath + "/" + name
        let run = try await BinaryRunner.run(
            ["layout", "node.cfg", "--zeekctl-cfg", "zeekctl.cfg.extra"],
            currentDirectory: directory
        )
        let expectedExit = try String(contentsOfFile: directory + "/exit-code.txt", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(String(run.status) == expectedExit)
        if expectedExit == "0" {
            let file = ["cluster-layout.zeek", "standalone-layout.zeek"].first {
                FileManager.default.fileExists(atPath: directory + "/" + $0)
            }
            let expected = try String(contentsOfFile: directory + "/" + (file ?? ""), encoding: .utf8)
            #expect(run.output == expected)
            #expect(run.error.isEmpty)
        } else {
            let stderr = try String(contentsOfFile: directory + "/stderr.txt", encoding: .utf8)
            #expect(run.output.isEmpty)
            #expect(run.error == "node.cfg: error: " + String(stderr.dropFirst("Error: ".count)))
        }
    }
}

import Foundation
import Testing

@testable import ZeekctlCLI

@Suite struct DispatchCommandTests {
    /// A directory without layout files, so the built-in example is used.
    static let emptyDirectory = FileManager.default.temporaryDirectory.path

    @Test func theBuiltInExampleAnswersEveryNodeInZeekControlOrder() async {
        let run = await runZeekctl(
            ["dispatch", "get_id_value", "Cluster::node"],
            currentDirectory: Self.emptyDirectory
        )
        #expect(run.status == .success)
        #expect(
            run.output == """
                NODE      TYPE     VALUE
                logger-1  logger   "logger-1"
                manager   manager  "manager"
                proxy-1   proxy    "proxy-1"
                worker-1  worker   "worker-1"
                worker-2  worker   "worker-2"

                """
        )
        #expect(run.error.isEmpty)
    }

    @Test func groupedOutputFoldsEqualValues() async {
        let run = await runZeekctl(
            ["dispatch", "get_id_value", "bits_per_uid", "--group"],
            currentDirectory: Self.emptyDirectory
        )
        #expect(run.status == .success)
        #expect(
            run.output
                == "NODES                                           VALUE\nlogger-1, manager, proxy-1, worker-1, worker-2  96\n"
        )
    }

    @Test func jsonIsZeekClientsShapeAndUnknownNodesMakeAPartialResult() async {
        let run = await runZeekctl(
            ["dispatch", "get_id_value", "bits_per_uid", "--nodes", "worker-1, ghost", "--format", "json"],
            currentDirectory: Self.emptyDirectory
        )
        #expect(run.status == .partial)
        #expect(
            run.output == """
                {
                  "errors": [
                    {
                      "error": "unknown cluster node",
                      "source": "ghost"
                    }
                  ],
                  "results": {
                    "worker-1": 96
                  }
                }

                """
        )
    }

    @Test func setValuesAreRenderedAsToJSONAndNullDeclaresWithoutValue() async {
        let set = await runZeekctl(
            ["dispatch", "get_id_value", "Site::x", "--set", #"Site::x={"a": [1, 2.5, null]}"#, "--nodes", "manager"],
            currentDirectory: Self.emptyDirectory
        )
        #expect(set.status == .success)
        #expect(set.output == "NODE     TYPE     VALUE\nmanager  manager  {\"a\":[1,2.5,null]}\n")
        let null = await runZeekctl(
            ["dispatch", "get_id_value", "Site::y", "--set", "Site::y=null", "--nodes", "worker-2"],
            currentDirectory: Self.emptyDirectory
        )
        #expect(null.status == .failure)
        #expect(null.output == "NODE      TYPE    VALUE\nworker-2  worker  error: no ID value\n")
    }

    @Test func aLayoutFileInTheCurrentDirectoryIsTheDefault() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dispatch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        [manager]
        type=manager
        host=127.0.0.1

        [proxy]
        type=proxy
        host=127.0.0.1

        [edge]
        type=worker
        host=127.0.0.1
        lb_method=custom
        lb_procs=2
        """.write(to: directory.appendingPathComponent("node.cfg"), atomically: true, encoding: .utf8)
        let run = await runZeekctl(
            ["dispatch", "get_id_value", "Cluster::node", "--group", "--format", "json"],
            currentDirectory: directory.path
        )
        #expect(run.status == .success)
        #expect(run.output.contains(#""edge-2": "edge-2""#))
        #expect(run.output.contains(#""proxy": "proxy""#))
    }

    @Test func anInvalidLayoutIsRefusedWithItsIssues() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dispatch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.cfg")
        try "[w]\ntype=wrker\nhost=127.0.0.1\n".write(to: file, atomically: true, encoding: .utf8)
        let run = await runZeekctl(["dispatch", "get_id_value", "Cluster::node", "--layout", file.path])
        #expect(run.status == .failure)
        #expect(run.output.isEmpty)
        #expect(run.error.contains("unknown node type 'wrker' given for node 'w'"))
    }

    @Test(arguments: [
        (["dispatch"], "error: 'zeekctl dispatch' needs an action: get_id_value ID\n"),
        (["dispatch", "get_value", "x"], "error: unknown dispatch action 'get_value' (known: get_id_value)\n"),
        (["dispatch", "get_id_value"], "error: 'zeekctl dispatch get_id_value' takes exactly one ID\n"),
        (
            ["dispatch", "get_id_value", "x", "--timeout", "0"],
            "error: invalid value '0' for '--timeout' (expected a number of seconds from 0.001 to 86400)\n"
        ),
        (["dispatch", "get_id_value", "x", "--set", "novalue"], "error: invalid '--set novalue' (expected ID=JSON)\n"),
        (
            ["dispatch", "get_id_value", "x", "--set", "a={"],
            "error: invalid JSON in '--set a={': byte 1: unexpected end of input, expected a string\n"
        ),
        (
            ["dispatch", "get_id_value", "x", "--format", "xml"],
            "error: invalid value 'xml' for '--format' (expected 'table', 'json')\n"
        ),
        (["dispatch", "get_id_value", "x", "--protocol", "control"], "error: '--protocol' needs '--websocket'\n"),
        (
            ["dispatch", "get_id_value", "x", "--controller", "ws://127.0.0.1:1", "--layout", "node.cfg"],
            "error: '--controller' cannot be combined with '--websocket', '--layout' or '--set'\n"
        ),
    ])
    func usageMistakesExitSixtyFour(arguments: [String], error: String) async {
        let run = await runZeekctl(arguments)
        #expect(run.status == .usage)
        #expect(run.error == error)
    }

    @Test func theBuiltBinaryRunsTheMainJob() async throws {
        let run = try await ZeekctlBinary.run(
            ["dispatch", "get_id_value", "Cluster::manager_is_logger", "--group"],
            currentDirectory: Self.emptyDirectory
        )
        #expect(run.status == 0)
        #expect(
            run.output
                == "NODES                                           VALUE\nlogger-1, manager, proxy-1, worker-1, worker-2  false\n"
        )
        let unknown = try await ZeekctlBinary.run(
            ["dispatch", "get_id_value", "No::such"],
            currentDirectory: Self.emptyDirectory
        )
        #expect(unknown.status == 1)
    }
}

@Suite struct DispatchRendererTests {
    @Test func multiLineValuesContinueUnderTheirColumnAndRequestErrorsFollow() {
        let report = DispatchReportFixture.make()
        #expect(
            DispatchRenderer.table(report) == """
                NODE      TYPE     VALUE
                manager   manager  {
                                   \t1.2.3.4/32
                                   }
                worker-1  worker   error: request timed out after 2 s waiting for worker-1

                """ + "error: request timed out\n"
        )
    }
}

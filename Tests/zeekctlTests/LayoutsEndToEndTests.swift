import Foundation
import Testing

/// Runs the built `zeekctl` binary on real files.
@Suite(.serialized) struct LayoutsEndToEndTests {
    @Test func layoutCheckAndNodesThroughTheBinary() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let layout = try await BinaryRunner.run(["layout", "node.cfg"], currentDirectory: directory)
            #expect(layout.status == 0)
            #expect(layout.output == clusterLayoutText)
            try write(layout.output, to: "cluster-layout.zeek", in: directory)

            let check = try await BinaryRunner.run(
                ["check", "node.cfg", "cluster-layout.zeek"],
                currentDirectory: directory
            )
            #expect(check.status == 0)
            #expect(check.output == "0 errors, 0 warnings in 2 files\n")

            let nodes = try await BinaryRunner.run(
                ["nodes", "cluster-layout.zeek", "--format", "json"],
                currentDirectory: directory
            )
            #expect(nodes.status == 0)
            #expect(nodes.output.contains("\"name\": \"worker-1-2\",\n    \"type\": \"WORKER\""))
        }
    }

    @Test func binaryExitsOneOnErrorsAnd64OnUsage() async throws {
        try await withTemporaryDirectory { directory in
            try write("[manager]\ntype=manager\nhost=127.0.0.1\n[manager]\n", to: "node.cfg", in: directory)
            let check = try await BinaryRunner.run(["check", "node.cfg"], currentDirectory: directory)
            #expect(check.status == 1)
            #expect(
                check.output.hasPrefix(
                    "node.cfg:4: error: section 'manager' already exists (first defined on line 1)\n"
                )
            )
            let layout = try await BinaryRunner.run(["layout", "node.cfg"], currentDirectory: directory)
            #expect(layout.status == 1)
            #expect(layout.output.isEmpty)
            let usage = try await BinaryRunner.run(["nodes"], currentDirectory: directory)
            #expect(usage.status == 64)
            #expect(usage.error == "error: 'zeekctl nodes' takes exactly one FILE\n")
        }
    }
}

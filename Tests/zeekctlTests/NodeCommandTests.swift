import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct NodeCommandTests {
    @Test func aNodeJoinsTheHubAnswersDispatchesAndExitsZeroOnSIGTERM() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withHub { fixture in
                let node = try BackgroundBinary([
                    "node", "--name", "worker-1-2", "--layout", directory + "/node.cfg",
                    "--hub", "127.0.0.1:\(fixture.server.port)", "--set", "Site::answer=42",
                ])
                #expect(try await fixture.waitForHellos(["worker-1-2"]) == ["worker-1-2"])
                let report = try await fixture.getIDValue("Cluster::node", nodes: ["worker-1-2"])
                #expect(report["worker-1-2"] == .replied(#""worker-1-2""#))
                let answer = try await fixture.getIDValue("Site::answer", nodes: ["worker-1-2"])
                #expect(answer["worker-1-2"] == .replied("42"))
                #expect(fixture.server.clients.map(\.applicationName) == ["zeekctl-node-worker-1-2"])

                node.send(SIGTERM)
                let exit = try await node.waitForExit(timeout: .seconds(10))
                #expect(exit.status == 0)
                // The backend's log lines (such as `connected to … as '…'`) go to standard error; no error does.
                #expect(!exit.error.contains("error:"))
            }
        }
    }

    @Test func sigintEndsTheNodeWithStatusZeroAndTheFullURLIsAccepted() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withHub { fixture in
                let node = try BackgroundBinary([
                    "node", "--name", "manager", "--layout", directory + "/node.cfg",
                    "--hub", "ws://127.0.0.1:\(fixture.server.port)/v1/messages/json",
                ])
                _ = try await fixture.waitForHellos(["manager"])
                node.send(SIGINT)
                #expect(try await node.waitForExit(timeout: .seconds(10)).status == 0)
            }
        }
    }

    @Test func anUnknownNodeIsNamedWithTheLayoutFile() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let run = try await ZeekctlBinary.run(
                ["node", "--name", "ghost", "--layout", "node.cfg", "--hub", "127.0.0.1:1"],
                currentDirectory: directory,
                environment: ["PATH": "/usr/bin:/bin"]
            )
            #expect(run.status == 1)
            #expect(run.error.hasPrefix("error: node 'ghost' is not in the layout /"))
            #expect(run.error.hasSuffix("/node.cfg\n"))
        }
    }

    @Test func aRefusedHubGivesTheConnectionError() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let refused = try RefusedPort()
            let run = try await ZeekctlBinary.run(
                ["node", "--name", "manager", "--layout", "node.cfg", "--hub", "127.0.0.1:\(refused.port)"],
                currentDirectory: directory,
                environment: ["PATH": "/usr/bin:/bin"]
            )
            #expect(run.status == 1)
            #expect(run.error == "error: ws://127.0.0.1:\(refused.port)/v1/messages/json: connection refused\n")
        }
    }

    @Test func missingInputsAreExplained() async throws {
        let environment = ["PATH": "/usr/bin:/bin"]
        let noLayout = try await ZeekctlBinary.run(
            ["node", "--name", "manager", "--hub", "127.0.0.1:1"],
            environment: environment
        )
        #expect(noLayout.status == 1)
        #expect(noLayout.error == "error: no layout file given and CLUSTERKIT_NODE_CONFIG is not set\n")
        let noHub = try await ZeekctlBinary.run(["node", "--name", "manager"], environment: environment)
        #expect(noHub.status == 64)
        #expect(noHub.error == "error: 'zeekctl node' needs '--hub ws://HOST:PORT'\n")
        let badHub = try await ZeekctlBinary.run(
            ["node", "--name", "manager", "--hub", "http://127.0.0.1:1"],
            environment: environment
        )
        #expect(badHub.status == 64)
        #expect(
            badHub.error
                == "error: invalid WebSocket address 'http://127.0.0.1:1': scheme 'http' is not supported (use ws:// or wss://)"
                + " for '--hub'\n"
        )
    }
}

import Foundation
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// What the supervisor refuses although Zeek's accepts it: environments that shadow its own variables and
/// working directories outside its runtime directory.
@Suite struct ProcessSupervisorHardeningTests {
    typealias Harness = SupervisorHarness

    @Test func environmentEntriesThatCouldShadowTheSupervisorsAreRefused() async throws {
        try await Harness.withSupervisor { harness in
            let supervisor = harness.supervisor
            let refused: [([String: String], String)] = [
                (["A=B": "x"], "node 'w' env key 'A=B' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
                (
                    ["CLUSTERKIT_NODE_CONFIG=/tmp/evil.json": "x"],
                    "node 'w' env key 'CLUSTERKIT_NODE_CONFIG=/tmp/evil.json' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"
                ),
                ([":": "x"], "node 'w' env key ':' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
                (["": "x"], "node 'w' env key '' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
                (["A\nB": "x"], "node 'w' env key 'A\\nB' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
                (["CLUSTER_NODE": "x"], "node 'w' env key 'CLUSTER_NODE' is reserved for the supervisor"),
                (
                    ["CLUSTERKIT_NODE_CONFIG": "x"],
                    "node 'w' env key 'CLUSTERKIT_NODE_CONFIG' is reserved for the supervisor"
                ),
                (["CLUSTERKIT_TOKEN": "x"], "node 'w' env key 'CLUSTERKIT_TOKEN' is reserved for the supervisor"),
                (["OK": "a\u{0}b"], "node 'w' env key 'OK' has a value holding a NUL byte"),
            ]
            for (env, error) in refused {
                let config = Harness.node("w", "exit 0") { $0.env.merge(env) { $1 } }
                #expect(config.environmentError == error)
                #expect(supervisor.create(config) == error)
            }
            #expect(supervisor.status().nodes.isEmpty)
            // The controller decides which ordinary variables a node may have; the supervisor takes them.
            let config = Harness.node("w", "echo \"$LD_BIND_NOW $CLUSTER_NODE\"") {
                $0.env["LD_BIND_NOW"] = "1"
                $0.cluster = ["w": Supervisor.ClusterEndpoint(role: .worker, host: .ipv4Loopback, p: .unset)]
            }
            #expect(config.environmentError == nil)
            #expect(supervisor.create(config) == "")
            try await harness.waitForLine("1 w", from: "w")
        }
    }

    @Test func workingDirectoriesOutsideTheRuntimeDirectoryAreRefused() async throws {
        try await Harness.withSupervisor { harness in
            let runtime = harness.runtime
            for directory in [
                "/etc/zeek-escape", harness.directory, harness.directory + "/escape", runtime + "/../escape",
                runtime + "/a/../../escape", "../escape", "a/../../escape", "..", runtime + "-sibling",
            ] {
                #expect(
                    harness.supervisor.create(Harness.node("w", "exit 0") { $0.directory = directory })
                        == "node 'w' working directory \(directory) is outside the runtime directory \(runtime)"
                )
            }
            #expect(!FileManager.default.fileExists(atPath: harness.directory + "/escape"))
            #expect(!FileManager.default.fileExists(atPath: runtime + "-sibling"))
            #expect(harness.supervisor.status().nodes.isEmpty)

            // Inside is fine; a relative directory is read against the runtime directory.
            #expect(harness.supervisor.create(Harness.node("w", "pwd -P") { $0.directory = "nodes/./w" }) == "")
            let expected = URL(fileURLWithPath: runtime + "/nodes/w").resolvingSymlinksInPath().path
            try await harness.waitForLine(expected, from: "w")
            #expect(harness.supervisor.create(Harness.node("root", "exit 0") { $0.directory = runtime }) == "")
        }
    }

    @Test(
        arguments: [
            ("x", "rt", "rt/x"),
            ("a/../x", "rt/", "rt/a/../x"),
            ("/srv/rt/x", "/srv/rt", "/srv/rt/x"),
            ("/srv/rt", "/srv/rt/", "/srv/rt"),
            ("/srv/rt/x/../../rt/y", "/srv/rt", "/srv/rt/x/../../rt/y"),
            ("", "/srv/rt", ""),
        ] as [(String, String, String?)]
    )
    func directoriesInsideResolve(path: String, root: String, resolved: String?) {
        #expect(WorkingDirectory.resolve(path, within: root) == resolved)
    }

    @Test(arguments: [
        ("/srv/rt/../x", "/srv/rt"), ("/srv/rtx", "/srv/rt"), ("/srv", "/srv/rt"), ("../x", "rt"), ("/abs", "rt"),
        ("x", ""), ("x", "../rt"), ("x/../..", "/srv/rt"),
    ])
    func directoriesOutsideAreRefused(path: String, root: String) {
        #expect(WorkingDirectory.resolve(path, within: root) == nil)
    }
}

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

/// ClusterKit's own checks when a controller stages a configuration: environment, names, limits, cost.
@Suite struct StagingChecksTests {
    static func node(_ name: String, env: [String: String] = [:]) -> Management.Node {
        Management.Node(name: name, instance: "agent-1", role: .worker, env: env)
    }

    static func configuration(nodes: [Management.Node], instances: [String] = ["agent-1"]) -> Management.Configuration {
        Management.Configuration(id: "c", instances: instances.map { Management.Instance(name: $0) }, nodes: nodes)
    }

    @Test(arguments: ["FOO", "_x", "a1", "Foo_Bar_9", "ZEE", "LD", "PATHS", "CLUSTER", "ld_preload", "LANG", "TZ"])
    func ordinaryVariablesAreAccepted(key: String) {
        #expect(Management.Configuration.environmentProblem(key: key, value: "v a l u e = ok") == nil)
        #expect(Self.configuration(nodes: [Self.node("w", env: [key: "x"])]).stagingErrors().isEmpty)
    }

    @Test(arguments: [
        ("", "env key '' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
        ("A=B", "env key 'A=B' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
        (
            "CLUSTERKIT_NODE_CONFIG=/tmp/evil",
            "env key 'CLUSTERKIT_NODE_CONFIG=/tmp/evil' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"
        ),
        ("A\u{0}B", "env key 'A\\0B' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
        ("1A", "env key '1A' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
        ("A B", "env key 'A B' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
        ("É", "env key 'É' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
        ("X\n", "env key 'X\\n' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
        ("LD_PRELOAD", "env key 'LD_PRELOAD' is reserved"),
        ("LD_LIBRARY_PATH", "env key 'LD_LIBRARY_PATH' is reserved"),
        ("LD_AUDIT", "env key 'LD_AUDIT' is reserved"),
        ("PATH", "env key 'PATH' is reserved"),
        ("ZEEKPATH", "env key 'ZEEKPATH' is reserved"),
        ("ZEEK_PLUGIN_PATH", "env key 'ZEEK_PLUGIN_PATH' is reserved"),
        ("ZEEK_DEFAULT_CONNECT_RETRY", "env key 'ZEEK_DEFAULT_CONNECT_RETRY' is reserved"),
        ("CLUSTER_NODE", "env key 'CLUSTER_NODE' is reserved"),
        ("CLUSTERKIT_NODE_CONFIG", "env key 'CLUSTERKIT_NODE_CONFIG' is reserved"),
        ("CLUSTERKIT_ANYTHING", "env key 'CLUSTERKIT_ANYTHING' is reserved"),
        ("GCONV_PATH", "env key 'GCONV_PATH' is reserved"),
        ("GLIBC_TUNABLES", "env key 'GLIBC_TUNABLES' is reserved"),
        ("BASH_ENV", "env key 'BASH_ENV' is reserved"),
    ])
    func refusedKeysNameTheNodeAndTheKey(key: String, problem: String) {
        #expect(Management.Configuration.environmentProblem(key: key, value: "x") == problem)
        let errors = Self.configuration(nodes: [Self.node("worker-1", env: [key: "x", "GOOD": "1"])]).stagingErrors()
        #expect(errors.map(\.message) == ["node 'worker-1' " + problem])
        #expect(errors.map(\.code) == [.refusedEnvironmentVariable])
        #expect(errors.map(\.node) == ["worker-1"])
    }

    @Test func aValueHoldingNULIsRefused() {
        #expect(
            Management.Configuration.environmentProblem(key: "A", value: "x\u{0}y")
                == "env value of 'A' holds a NUL byte"
        )
        #expect(Management.Configuration.environmentProblem(key: "A", value: "") == nil)
    }

    @Test(
        arguments: [
            ("worker-1", nil),
            ("a.b_c-D9", nil),
            ("...", nil),
            ("", "node name is empty"),
            (".", "node name '.' is not allowed"),
            ("..", "node name '..' is not allowed"),
            ("../../home/u/x", "node name '../../home/u/x' has characters outside [A-Za-z0-9._-]"),
            ("a/b", "node name 'a/b' has characters outside [A-Za-z0-9._-]"),
            ("tap worker", "node name 'tap worker' has characters outside [A-Za-z0-9._-]"),
            ("w\n1", "node name 'w\\n1' has characters outside [A-Za-z0-9._-]"),
            ("wörker", "node name 'wörker' has characters outside [A-Za-z0-9._-]"),
            (
                String(repeating: "x", count: 256),
                "node name '\(String(repeating: "x", count: 64))...' is longer than 255 bytes"
            ),
        ] as [(String, String?)]
    )
    func namesAreSafeAsFileNames(name: String, problem: String?) {
        #expect(Management.Configuration.nameProblem(name, kind: "node") == problem)
        #expect(Management.Configuration.nameProblem(String(repeating: "y", count: 255), kind: "node") == nil)
        let instanceProblem = problem.map { "instance" + $0.dropFirst("node".count) }
        #expect(Management.Configuration.nameProblem(name, kind: "instance") == instanceProblem)
    }

    @Test func badNamesAreStagingErrorsAndTheZeekChecksStillRun() {
        let configuration = Self.configuration(
            nodes: [Self.node("a/b"), Self.node("a/b"), Management.Node(name: "x", instance: "..", role: .worker)],
            instances: ["agent-1", ".."]
        )
        #expect(
            configuration.stagingErrors().map(\.message) == [
                "instance name '..' is not allowed", "multiple nodes named 'a/b'",
                "node name 'a/b' has characters outside [A-Za-z0-9._-]",
                "node name 'a/b' has characters outside [A-Za-z0-9._-]",
            ]
        )
        // Zeek's own checks are unchanged.
        #expect(configuration.controllerErrors().map(\.message) == ["multiple nodes named 'a/b'"])
    }

    @Test func theLimitsAreGenerousAndOverridable() {
        #expect(Management.ControllerOptions.standard.maximumInstances == 256)
        #expect(Management.ControllerOptions.standard.maximumNodes == 4096)
        let largest = Management.Configuration(
            id: "largest",
            instances: (0..<256).map { Management.Instance(name: "agent-\($0)") },
            nodes: (0..<4096).map { Management.Node(name: "node-\($0)", instance: "agent-\($0 % 256)", role: .worker) }
        )
        #expect(largest.stagingErrors().isEmpty)

        var over = largest
        over.instances.append(Management.Instance(name: "agent-256"))
        over.nodes.append(Management.Node(name: "bad/name", instance: "nowhere", role: .worker, env: ["PATH": ""]))
        // Over a limit, only the limits are reported: nothing else is looked at.
        #expect(
            over.stagingErrors().map(\.message) == [
                "configuration has 257 instances, more than the limit of 256",
                "configuration has 4097 nodes, more than the limit of 4096",
            ]
        )
        #expect(over.stagingErrors().map(\.code) == [.tooManyInstances, .tooManyNodes])

        var options = Management.ControllerOptions.standard
        options.maximumInstances = 1
        options.maximumNodes = 10_000
        #expect(
            over.stagingErrors(options: options).map(\.message) == [
                "configuration has 257 instances, more than the limit of 1"
            ]
        )
    }

    @Test func portAssignmentCostsTheSameForOneInstanceOrThousands() {
        // It once searched the instances for every node: 4,096 instances took ~16 times as long as one.
        func configuration(instances count: Int) -> Management.Configuration {
            Management.Configuration(
                id: "c",
                instances: (0..<count).map { Management.Instance(name: "agent-\($0)", host: .ipv4Loopback) },
                nodes: (0..<4096).map {
                    Management.Node(
                        name: "node-\($0)",
                        instance: "agent-\($0 % count)",
                        role: $0 % 4 == 0 ? .proxy : .worker
                    )
                }
            )
        }
        let one = configuration(instances: 1)
        let many = configuration(instances: 4096)
        let clock = ContinuousClock()
        func fastest(_ configuration: Management.Configuration) -> Duration {
            (0..<3).map { _ in clock.measure { _ = configuration.assigningPorts() } }.min() ?? .zero
        }
        let oneTime = fastest(one)
        let manyTime = fastest(many)
        #expect(manyTime < oneTime * 4, "one instance: \(oneTime), 4096 instances: \(manyTime)")
        #expect(many.assigningPorts().nodes.filter { $0.p != nil }.count == 1024)
        #expect(one.assigningPorts().nodes.compactMap(\.metricsPort).count == 4096)
    }
}

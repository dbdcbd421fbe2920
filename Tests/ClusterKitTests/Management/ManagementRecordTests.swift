import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct ManagementRecordTests {
    @Test func fieldOrdersMatchZeek() {
        #expect(Management.Result.fieldNames == ["reqid", "success", "instance", "data", "error", "node"])
        #expect(Management.Option.fieldNames == ["name", "value"])
        #expect(Management.Instance.fieldNames == ["name", "host", "listen_port"])
        #expect(
            Management.Node.fieldNames == [
                "name", "instance", "role", "state", "p", "scripts", "options", "interface", "cpu_affinity", "env",
                "metrics_port",
            ]
        )
        #expect(Management.Configuration.fieldNames == ["id", "instances", "nodes"])
        #expect(
            Management.NodeStatus.fieldNames == [
                "node", "state", "mgmt_role", "cluster_role", "pid", "p", "metrics_port",
            ]
        )
        #expect(Management.NodeOutputs.fieldNames == ["stdout", "stderr"])
    }

    @Test func resultMatchesTheProtocolExampleByteForByte() throws {
        let json = """
            {"@data-type":"vector","data":[{"@data-type":"string","data":"Hq5tQxJd0Aa"},\
            {"@data-type":"boolean","data":true},{"@data-type":"string","data":"instance-1"},\
            {"@data-type":"string","data":"96"},{"@data-type":"none","data":{}},\
            {"@data-type":"string","data":"manager"}]}
            """
        let result = Management.Result(reqid: "Hq5tQxJd0Aa", instance: "instance-1", data: "96", node: "manager")
        #expect(Broker.JSON.encode(result.brokerValue) == json)
        #expect(try Management.Result(brokerValue: Broker.JSON.decode(json)) == result)
    }

    @Test func unsetOptionalsAreNoneAndDefaultsAreCarried() {
        let result = Management.Result(reqid: "r")
        #expect(result.brokerValue == .vector(["r", true, .none, .none, .none, .none]))
        let status = Management.NodeStatus(node: "manager", state: .running)
        #expect(
            status.brokerValue
                == .vector([
                    "manager", .enumValue("Management::RUNNING"), .enumValue("Management::NONE"),
                    .enumValue("Supervisor::NONE"), .none, .none, .none,
                ])
        )
        let node = Management.Node(name: "w", instance: "i", role: .worker)
        #expect(node.brokerValue.vectorValue?[9] == .table([]), "env is an empty table, never none")
    }

    @Test func noneForAFieldWithADefaultGivesTheDefault() throws {
        let result = try Management.Result(brokerValue: .vector(["r", .none, .none, .none, .none, .none]))
        #expect(result.success)
        let status = try Management.NodeStatus(
            brokerValue: .vector(["n", .enumValue("Management::PENDING"), .none, .none, .none, .none, .none])
        )
        #expect(status.mgmtRole == .none)
        #expect(status.clusterRole == .none)
    }

    @Test func extraTrailingElementsAreIgnoredAndTooFewAreRejected() throws {
        let longer = try Management.Option(brokerValue: .vector(["a", "b", .count(9), .none]))
        #expect(longer == Management.Option(name: "a", value: "b"))
        let error = #expect(throws: Broker.ConversionError.self) {
            try Management.Result(brokerValue: .vector(["r", true]))
        }
        #expect(error?.code == .tooFewFields)
        #expect(error?.description == "Management::Result needs 6 fields, got 2")
    }

    @Test func olderVectorsWithoutMetricsPortAreAccepted() throws {
        let status = try Management.NodeStatus(
            brokerValue: .vector([
                "manager", .enumValue("Management::RUNNING"), .enumValue("Management::NONE"),
                .enumValue("Supervisor::MANAGER"), .integer(4242), .port(.tcp(2200)),
            ])
        )
        #expect(status.pid == 4242)
        #expect(status.metricsPort == nil)
    }

    @Test func nodeAsZeekClientSendsItDecodes() throws {
        // PROTOCOL.md §4.6: what zeek-client 1.5.0 sends for a worker.
        let value: Broker.Value = .vector([
            "worker-01", "instance-1", .enumValue("Supervisor::WORKER"), .enumValue("Management::RUNNING"), .none,
            .vector(["bar baz.zeek", "foo.zeek"]), .none, "eth0", .integer(3),
            .table([(key: "FOO", value: "bar"), (key: "BAZ", value: "a b")]), .none,
        ])
        let node = try Management.Node(brokerValue: value)
        #expect(
            node
                == Management.Node(
                    name: "worker-01",
                    instance: "instance-1",
                    role: .worker,
                    state: .running,
                    scripts: ["bar baz.zeek", "foo.zeek"],
                    interface: "eth0",
                    cpuAffinity: 3,
                    env: ["BAZ": "a b", "FOO": "bar"]
                )
        )
        #expect(node.brokerValue == value)
    }

    @Test func wrongTypesNameTheRecordAndField() {
        let error = #expect(throws: Broker.ConversionError.self) {
            try Management.NodeStatus(brokerValue: .vector(["n", "RUNNING", .none, .none, .none, .none, .none]))
        }
        #expect(error?.description == "Management::NodeStatus.state: expected enum-value, got string")
        let unknown = #expect(throws: Broker.ConversionError.self) {
            try Management.Node(
                brokerValue: .vector([
                    "n", "i", .enumValue("Supervisor::BOSS"), .enumValue("Management::RUNNING"), .none, .none, .none,
                    .none, .none, .table([]), .none,
                ])
            )
        }
        #expect(
            unknown?.description == "Management::Node.role: unknown Supervisor::ClusterRole value 'Supervisor::BOSS'"
        )
        let nested = #expect(throws: Broker.ConversionError.self) {
            try Management.Configuration(
                brokerValue: .vector(["id", .set([.vector(["a", .address("10.0.0.1"), .count(1)])]), .set([])])
            )
        }
        #expect(
            nested?.description
                == "Management::Configuration.instances[0]: Management::Instance.listen_port: expected port, got count"
        )
    }

    @Test func configurationWritesSetsAndReadsSetsOrVectors() throws {
        let configuration = Management.Configuration(
            id: "cfg",
            instances: [
                Management.Instance(name: "b", host: "10.0.0.2", listenPort: .tcp(2151)),
                Management.Instance(name: "a"),
            ],
            nodes: [Management.Node(name: "manager", instance: "a", role: .manager, p: .tcp(5000))]
        )
        let value = configuration.brokerValue
        guard case .set(let instances) = value.vectorValue?[1] else { return #expect(Bool(false)) }
        #expect(instances.elements.first?.vectorValue?.first == "a", "sets are written sorted")
        let decoded = try Management.Configuration(brokerValue: value)
        #expect(decoded.id == "cfg")
        #expect(Set(decoded.instances) == Set(configuration.instances))
        #expect(decoded.nodes == configuration.nodes)
        let asVectors = try Management.Configuration(
            brokerValue: .vector(["x", .vector([Management.Instance(name: "a").brokerValue]), .vector([])])
        )
        #expect(asVectors.instances == [Management.Instance(name: "a")])
        #expect(Management.Configuration().id.count == 17)
        #expect(Management.Configuration().id != Management.Configuration().id)
    }

    @Test func enumsUseQualifiedNamesOnTheWire() throws {
        #expect(Management.State.running.brokerValue == .enumValue("Management::RUNNING"))
        #expect(Management.Role.controller.unqualifiedName == "CONTROLLER")
        #expect(try Management.State(brokerValue: .enumValue("Management::CRASHED")) == .crashed)
        #expect(throws: Broker.ConversionError.self) { try Management.State(brokerValue: .enumValue("RUNNING")) }
        #expect(Management.State.allCases.count == 6)
        #expect(
            Management.Role.allCases.map(\.rawValue) == [
                "Management::NONE", "Management::AGENT", "Management::CONTROLLER", "Management::NODE",
            ]
        )
    }

    @Test(arguments: [
        Management.Result(reqid: "r", success: false, instance: "i", data: .vector([.count(1)]), error: "e", node: "n")
            .brokerValue,
        Management.NodeOutputs(stdout: "out\n", stderr: "").brokerValue,
        Management.Instance(name: "agent-v6", host: "2001:db8::5", listenPort: .tcp(2151)).brokerValue,
        Management.Node(
            name: "w",
            instance: "i",
            role: .worker,
            state: .pending,
            p: .tcp(1),
            scripts: [],
            options: [Management.Option(name: "a", value: "1")],
            interface: "eth0",
            cpuAffinity: -1,
            env: ["A": "b"],
            metricsPort: .tcp(9000)
        ).brokerValue,
        Management.NodeStatus(
            node: "n",
            state: .failed,
            mgmtRole: .agent,
            clusterRole: .proxy,
            pid: 1,
            p: .tcp(2),
            metricsPort: .tcp(3)
        )
        .brokerValue,
    ])
    func recordsRoundTripThroughJSON(value: Broker.Value) throws {
        #expect(try Broker.JSON.decode(Broker.JSON.encode(value)) == value)
    }
}

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct SupervisorRecordTests {
    @Test func fieldOrdersMatchZeek() {
        #expect(
            Supervisor.NodeConfig.fieldNames == [
                "name", "interface", "pcap_file", "directory", "stdout_file", "stderr_file", "bare_mode",
                "addl_base_scripts", "addl_user_scripts", "env", "cpu_affinity", "cluster",
            ]
        )
        #expect(
            Supervisor.ClusterEndpoint.fieldNames == ["role", "host", "p", "interface", "pcap_file", "metrics_port"]
        )
        #expect(Supervisor.NodeStatus.fieldNames == ["node", "pid"])
        #expect(Supervisor.Status.fieldNames == ["nodes"])
    }

    @Test func nodeConfigDefaultsAreZeeks() {
        let config = Supervisor.NodeConfig(name: "worker-1")
        #expect(
            config.brokerValue
                == .vector([
                    "worker-1", .none, .none, .none, .none, .none, .none, .vector([]), .vector([]), .table([]), .none,
                    .table([]),
                ])
        )
    }

    @Test func statusRoundTripsWithNestedClusterTable() throws {
        let endpoint = Supervisor.ClusterEndpoint(
            role: .manager,
            host: "127.0.0.1",
            p: .tcp(2200),
            metricsPort: .tcp(9000)
        )
        let config = Supervisor.NodeConfig(
            name: "manager",
            directory: "/tmp/m",
            bareMode: true,
            addlUserScripts: ["local.zeek"],
            env: ["ZEEK_X": "1"],
            cpuAffinity: 2,
            cluster: ["manager": endpoint]
        )
        let status = Supervisor.Status(nodes: ["manager": Supervisor.NodeStatus(node: config, pid: 4711)])
        let text = Broker.JSON.encode(status.brokerValue)
        #expect(try Supervisor.Status(brokerValue: Broker.JSON.decode(text)) == status)
        #expect(Supervisor.ClusterRole.worker.brokerValue == .enumValue("Supervisor::WORKER"))
        #expect(Supervisor.ClusterRole.manager.nodeType == .manager)
    }
}

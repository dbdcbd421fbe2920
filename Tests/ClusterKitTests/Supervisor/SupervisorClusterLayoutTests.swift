import ClusterKit
import Testing

@Suite struct SupervisorClusterLayoutTests {
    private static let host = Broker.Address.ipv4Loopback

    private static func endpoint(
        _ role: Supervisor.ClusterRole,
        _ port: UInt16,
        metrics: UInt16? = nil
    ) -> Supervisor.ClusterEndpoint {
        Supervisor.ClusterEndpoint(
            role: role,
            host: host,
            p: .tcp(port),
            interface: role == .worker ? "eth0" : nil,
            metricsPort: metrics.map { .tcp($0) }
        )
    }

    @Test func translatesEveryRoleAndPointsNonManagersAtTheManager() throws {
        let config = Supervisor.NodeConfig(
            name: "worker-1",
            cluster: [
                "manager": Self.endpoint(.manager, 2200, metrics: 9000),
                "logger-1": Self.endpoint(.logger, 2201),
                "proxy-1": Self.endpoint(.proxy, 2202),
                "worker-1": Self.endpoint(.worker, 0, metrics: 9001),
            ]
        )
        let layout = try #require(Supervisor.clusterLayout(for: config))
        #expect(layout.names == ["logger-1", "manager", "proxy-1", "worker-1"])
        #expect(
            layout["manager"] == Cluster.Node(nodeType: .manager, ip: Self.host, p: .tcp(2200), metricsPort: .tcp(9000))
        )
        #expect(layout["logger-1"] == Cluster.Node(nodeType: .logger, ip: Self.host, p: .tcp(2201), manager: "manager"))
        #expect(layout["proxy-1"] == Cluster.Node(nodeType: .proxy, ip: Self.host, p: .tcp(2202), manager: "manager"))
        // The interface is not copied.
        #expect(
            layout["worker-1"]
                == Cluster.Node(
                    nodeType: .worker,
                    ip: Self.host,
                    p: .tcp(0),
                    manager: "manager",
                    metricsPort: .tcp(9001)
                )
        )
        #expect(layout.managerIsLogger == false)
    }

    @Test func managerIsLoggerWithoutLoggers() throws {
        let config = Supervisor.NodeConfig(
            name: "m",
            cluster: ["m": Self.endpoint(.manager, 1), "w": Self.endpoint(.worker, 2)]
        )
        #expect(try #require(Supervisor.clusterLayout(for: config)).managerIsLogger)
    }

    @Test func emptyClusterTableGivesNoLayout() {
        #expect(Supervisor.clusterLayout(for: Supervisor.NodeConfig(name: "standalone")) == nil)
    }

    @Test func roleNoneKeepsThePreviousEntrysType() {
        let layout = Supervisor.clusterLayout(from: [
            (name: "first", endpoint: Self.endpoint(.none, 1)),
            (name: "logger", endpoint: Self.endpoint(.logger, 2)),
            (name: "after-logger", endpoint: Self.endpoint(.none, 3)),
        ])
        #expect(layout.nodes.map(\.node.nodeType) == [.none, .logger, .logger])
        // Two loggers now, so the manager (there is none) would not be the logger.
        #expect(layout.managerIsLogger == false)
    }

    @Test func noneAfterManagerBecomesAManagerWithoutManagerField() {
        let layout = Supervisor.clusterLayout(from: [
            (name: "m", endpoint: Self.endpoint(.manager, 1)),
            (name: "x", endpoint: Self.endpoint(.none, 2)),
            (name: "w", endpoint: Self.endpoint(.worker, 3)),
        ])
        #expect(layout["x"]?.nodeType == .manager)
        #expect(layout["x"]?.manager == nil)
        #expect(layout["w"]?.manager == "m")
    }

    @Test func withSeveralManagersTheLastOneWins() {
        let layout = Supervisor.clusterLayout(from: [
            (name: "m2", endpoint: Self.endpoint(.manager, 1)),
            (name: "m1", endpoint: Self.endpoint(.manager, 2)),
            (name: "w", endpoint: Self.endpoint(.worker, 3)),
        ])
        #expect(layout["w"]?.manager == "m1")
        #expect(layout["m1"]?.manager == nil)
    }
}

import ClusterKit
import Testing

@Suite struct SupervisorNodeConfigTests {
    @Test func supervisedNodeReadsItsConfigurationFromTheNamedFile() throws {
        let config = Supervisor.NodeConfig(
            name: "w",
            env: ["A": "b"],
            cluster: ["w": .init(role: .worker, host: .ipv4Loopback, p: .tcp(5))]
        )
        let json = Broker.JSON.encode(config.brokerValue)
        let environment = [Supervisor.nodeConfigurationEnvironmentKey: "/run/w.json"]
        let read = try Supervisor.supervisedNodeConfig(environment: environment) { path in
            #expect(path == "/run/w.json")
            return json
        }
        #expect(read == config)
        #expect(try Supervisor.supervisedNodeConfig(environment: [:]) { _ in json } == nil)
    }

    @Test func unreadableOrInvalidNodeConfigurationIsAnError() throws {
        let environment = [Supervisor.nodeConfigurationEnvironmentKey: "/run/w.json"]
        let invalid = try #require(throws: SupervisorError.self) {
            try Supervisor.supervisedNodeConfig(environment: environment) { _ in "[1, 2" }
        }
        #expect(invalid.code == .invalidNodeConfiguration)
        #expect(invalid.description.hasPrefix("invalid node configuration in '/run/w.json': "))
        let missing = try #require(throws: SupervisorError.self) {
            try Supervisor.supervisedNodeConfig(environment: [
                Supervisor.nodeConfigurationEnvironmentKey: "/nonexistent/x"
            ])
        }
        #expect(missing.code == .invalidNodeConfiguration)
        #expect(missing.description.hasPrefix("cannot read node configuration '/nonexistent/x': "))
    }
}

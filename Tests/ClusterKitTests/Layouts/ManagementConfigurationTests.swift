import ClusterKit
import Testing

extension Layouts {
    @Suite struct ManagementConfigurationTests {
        static func configuration(_ name: String) throws -> Management.Configuration {
            try #require(ManagementINI.parse(fixture("zeek-client-ini/\(name).ini"), file: "\(name).ini").configuration)
        }

        @Test func portAssignmentWorkedExample() throws {
            let ready = try Self.configuration("01-two-instances").assigningPorts()
            func node(_ name: String) -> Management.Node? { ready.nodes.first { $0.name == name } }
            #expect(node("manager")?.p == .tcp(5000))
            #expect(node("logger-1")?.p == .tcp(2200))
            #expect(node("proxy-1")?.p == .tcp(2201))
            #expect(node("worker-1")?.p == nil)
            #expect(node("manager")?.metricsPort == .tcp(9000))
            #expect(node("logger-1")?.metricsPort == .tcp(9001))
            #expect(node("proxy-1")?.metricsPort == .tcp(9100))
            #expect(node("worker-1")?.metricsPort == .tcp(9000))
            #expect(node("worker-2")?.metricsPort == .tcp(9001))
        }

        @Test func supervisorTranslation() throws {
            let ready = try Self.configuration("01-two-instances").assigningPorts()
            let endpoints = ready.clusterEndpoints(instanceAddresses: ["agent-hub": "10.0.0.1"])
            #expect(
                endpoints["worker-1"]
                    == Supervisor.ClusterEndpoint(
                        role: .worker,
                        host: "10.0.0.2",
                        p: .unset,
                        interface: "af_packet::eth0",
                        metricsPort: .tcp(9000)
                    )
            )
            #expect(endpoints["manager"]?.host == Broker.Address("10.0.0.1"))
            let layout = ready.clusterLayout(instanceAddresses: ["agent-hub": "10.0.0.1"])
            #expect(layout.names == ["logger-1", "manager", "proxy-1", "worker-1", "worker-2"])
            #expect(!layout.managerIsLogger)
            #expect(layout["worker-2"]?.manager == "manager")
            #expect(layout["manager"]?.manager == nil)
            #expect(layout["worker-1"]?.interface == nil)
            #expect(
                layout["logger-1"]
                    == Cluster.Node(
                        nodeType: .logger,
                        ip: "10.0.0.1",
                        p: .tcp(2200),
                        manager: "manager",
                        metricsPort: .tcp(9001)
                    )
            )
        }

        @Test func controllerErrorsAreSortedWithStrcmp() {
            let configuration = Management.Configuration(
                id: "x",
                instances: [
                    Management.Instance(name: "agent", host: "10.0.0.1", listenPort: .tcp(2151)),
                    Management.Instance(name: "agent"), Management.Instance(name: "w"),
                ],
                nodes: [
                    Management.Node(name: "m", instance: "agent", role: .manager, p: .tcp(2151)),
                    Management.Node(name: "l", instance: "agent", role: .logger, p: .tcp(2150)),
                    Management.Node(name: "p", instance: "agent", role: .proxy, p: .tcp(2150)),
                    Management.Node(name: "w", instance: "nowhere", role: .worker),
                    Management.Node(name: "w", instance: "agent", role: .worker),
                ]
            )
            var options = Management.ControllerOptions()
            options.autoAssignBrokerPorts = false
            #expect(
                configuration.controllerErrors(options: options).map(\.message) == [
                    "multiple instances named 'agent'",
                    "multiple nodes named 'w'",
                    "multiple nodes on instance 'agent' using port 2150/tcp",
                    "node 'l' port 2150/tcp conflicts with controller port",
                    "node 'm' port 2151/tcp conflicts with agent port on instance 'agent'",
                    "node 'p' port 2150/tcp conflicts with controller port",
                    "node 'w' has undeclared instance name 'nowhere'",
                    "node and instance names collide: w",
                ]
            )
            options.zeekVersion = ZeekVersion(6, 0)
            let lacking = Management.Configuration(
                id: "y",
                instances: [Management.Instance(name: "a")],
                nodes: [
                    Management.Node(name: "m", instance: "a", role: .manager),
                    Management.Node(name: "l", instance: "a", role: .logger),
                ]
            )
            #expect(
                lacking.controllerErrors(options: options).map(\.message) == [
                    "port auto-assignment disabled but nodes l, m lack ports"
                ]
            )
        }

        @Test func writerRoundTripsThroughTheReader() throws {
            let configuration = try Self.configuration("01-two-instances")
            let text = ManagementINI.text(of: configuration)
            let again = try #require(
                ManagementINI.parse(text, file: "again.ini", configurationID: configuration.id).configuration
            )
            #expect(Set(again.nodes) == Set(configuration.nodes))
            #expect(ManagementINI.text(of: again) == text)
            #expect(text.contains("env = GREETING=\"hello world\" ZEEK_FOO=1\n"))
        }

        @Test func iniEdgeCases() {
            let ini = ManagementINI.parse(
                """
                [instances]
                a = 300.1.1.1:2151
                b = [2001:db8::1]:x

                [x y]
                instance = a
                role = Supervisor::WORKER
                port = 27760/tcp
                state = RUNNING
                scripts = "unterminated
                """,
                file: "c.ini"
            )
            #expect(ini.configuration == nil)
            #expect(
                ini.issues.map(\.message) == [
                    "invalid spec for instance \"a\": '300.1.1.1' does not appear to be an IPv4 or IPv6 address",
                    "invalid spec for instance \"b\": port 'x' is not a port number",
                    "ignoring node \"x y\" state \"RUNNING\" in configuration",
                    "invalid node \"x y\" configuration: cannot convert \"x y.port\" value \"27760/tcp\" to int",
                    "invalid node \"x y\" configuration: No closing quotation",
                ]
            )
        }

        @Test func managementValidationChecksTheSupervisorAndTheCluster() {
            let loaded = LayoutLoader().load(
                text:
                    "[instances]\nagent\n\n[tap worker]\ninstance = agent\nrole = worker\n\n[p]\ninstance = agent\nrole = proxy\n",
                file: "c.ini",
                format: .ini
            )
            #expect(
                loaded.issues.map(\.description) == [
                    "c.ini:4: error: node names must not contain spaces: 'tap worker' (the Supervisor refuses to create it)",
                    "c.ini: warning: the cluster has 2 logger, proxy and worker node(s) but no manager",
                ]
            )
            #expect(loaded.readyConfiguration?.nodes.first { $0.name == "p" }?.p == .tcp(2200))
        }
    }
}

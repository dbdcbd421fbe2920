import ClusterKit
import Testing

extension Layouts {
    @Suite struct ClusterLayoutScriptTests {
        @Test func readsZeekControlsOwnOutput() {
            let text = fixture("zeekctl-oracle/cases/03-lb-procs-expansion/cluster-layout.zeek")
            let script = ClusterLayoutScript.parse(text, file: "cluster-layout.zeek")
            #expect(script.issues.isEmpty)
            #expect(!script.layout.managerIsLogger)
            #expect(script.layout.names.first == "control")
            #expect(script.layout.nodes.count == 12)
            let worker = script.layout["worker-c"]
            #expect(worker?.nodeType == .worker)
            #expect(worker?.ip == Broker.Address("10.0.0.3"))
            #expect(worker?.p == .tcp(27773))
            #expect(worker?.manager == "manager")
            #expect(worker?.metricsPort == .tcp(10001))
            #expect(script.locations["worker-c"] == SourceLocation(file: "cluster-layout.zeek", line: 15))
            #expect(LayoutValidator().validate(script).isEmpty)
        }

        @Test func readsBroLayoutsWithLegacyFields() {
            let text = """
                # Automatically generated. Do not edit.
                redef Cluster::nodes = {
                \t["control"] = [$node_type=Cluster::CONTROL, $ip=127.0.0.1, $zone_id="", $p=47760/tcp],
                \t["manager"] = [$node_type=Cluster::MANAGER, $ip=127.0.0.1, $zone_id="", $p=47761/tcp, $workers=set("worker-1")],
                \t["proxy-1"] = [$node_type=Cluster::PROXY, $ip=127.0.0.1, $zone_id="", $p=47762/tcp, $manager="manager", $workers=set("worker-1")],
                \t["worker-1"] = [$node_type=Cluster::WORKER, $ip=127.0.0.1, $zone_id="", $p=47763/tcp, $interface="eth0", $manager="manager", $proxy="proxy-1"],
                \t["time-machine"] = [$node_type=Cluster::TIME_MACHINE, $ip=10.0.0.5, $p=47757/tcp],
                };
                """
            let script = ClusterLayoutScript.parse(text, file: "cluster-layout.bro")
            #expect(script.issues.isEmpty)
            #expect(script.layout["manager"]?.workers == ["worker-1"])
            #expect(script.layout["worker-1"]?.proxy == "proxy-1")
            #expect(script.layout["worker-1"]?.interface == "eth0")
            #expect(script.layout["time-machine"]?.nodeType == .timeMachine)
            #expect(LayoutValidator().validate(script).isEmpty)
            // The same text as a .zeek file for a current Zeek: legacy fields warn, the time machine is an error.
            let current = LayoutValidator().validate(ClusterLayoutScript.parse(text, file: "cluster-layout.zeek"))
            #expect(current.filter { $0.severity == .error }.map(\.code) == [.timeMachineRemoved])
            #expect(current.filter { $0.code == .legacyField }.count == 4)
        }

        @Test func appendsSkipsPragmasAndTheWebSocketBlockAndReportsExpressions() {
            let text = """
                @pragma push ignore-deprecations
                redef Cluster::manager_is_logger = T;
                redef Cluster::nodes = {
                \t["manager-1"] = [$node_type=Cluster::MANAGER, $ip=127.0.0.1, $p=to_port(getenv("BROKER_PORT1"))],
                };
                @pragma pop ignore-deprecations
                redef Cluster::nodes += {
                \t["worker-1"] = [$node_type=Cluster::WORKER, $ip=[::1], $manager="manager-1", $colour="red"],
                };

                event zeek_init()
                \t{
                \tCluster::listen_websocket([$listen_addr=127.0.0.1, $listen_port=27759/tcp]);
                \t}
                """
            let script = ClusterLayoutScript.parse(text, file: "cluster-layout.zeek")
            #expect(script.layout.names == ["manager-1", "worker-1"])
            #expect(script.layout["worker-1"]?.ip == Broker.Address("::1"))
            #expect(script.layout["worker-1"]?.p == .unset)
            #expect(script.unevaluatedPorts == ["manager-1"])
            #expect(
                script.issues.map(\.description) == [
                    "cluster-layout.zeek:4: error: $p of node 'manager-1' is 'to_port(getenv(\"BROKER_PORT1\"))', which cannot "
                        + "be evaluated without running Zeek",
                    "cluster-layout.zeek:8: warning: $colour of node 'worker-1' is not a field of any Cluster::Node version; ignored",
                ]
            )
            // No "missing port" warning for the manager whose port is an expression.
            #expect(LayoutValidator().validate(script).map(\.code) == [.unevaluableExpression, .unknownField])
        }

        @Test func syntaxProblemsAndMissingFields() {
            let text =
                "redef Cluster::nodes = {\n\t[\"a\"] = [$ip=1.2.3.4],\n\t[\"b\"] = [$node_type=Cluster::BOSS, $ip=1.2.3.4],\n\t[\"c\"] = [$node_type=Cluster::WORKER],\n"
            let script = ClusterLayoutScript.parse(text, file: "l.zeek")
            #expect(
                script.issues.map(\.description) == [
                    "l.zeek:2: error: node 'a' has no $node_type",
                    "l.zeek:3: error: $node_type of node 'b' is 'Cluster::BOSS', not a Cluster::NodeType",
                    "l.zeek:4: error: node 'c' has no $ip",
                    "l.zeek:5: error: the Cluster::nodes table is not closed with '}'",
                ]
            )
        }
    }
}

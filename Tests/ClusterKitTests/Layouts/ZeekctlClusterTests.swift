import ClusterKit
import Testing

extension Layouts {
    @Suite struct ZeekctlClusterTests {
        static func build(_ text: String, settings: ZeekctlSettings = .standard) -> (ZeekctlCluster, [ValidationIssue])
        {
            let result = LayoutValidator(options: .init(settings: settings)).validate(
                NodeCfg.parse(text, file: "node.cfg")
            )
            return (result.cluster, result.issues)
        }

        static let base = "[m]\ntype=manager\nhost=10.0.0.1\n[p]\ntype=proxy\nhost=10.0.0.1\n"

        @Test func lbProcsExpandsEvenForOneProcess() {
            let (cluster, issues) = Self.build(
                Self.base + "[worker-0]\ntype=worker\nhost=10.0.0.2\nlb_method=custom\nlb_procs=1\n"
            )
            #expect(issues.isEmpty)
            #expect(cluster.nodes.map(\.name) == ["m", "p", "worker-0-1"])
        }

        @Test func pinCPUsRoundRobinAndInterfacesFromTheEnd() {
            let (cluster, issues) = Self.build(
                Self.base
                    + "[w]\ntype=worker\nhost=10.0.0.2\nlb_method=interfaces\nlb_procs=4\nlb_interfaces=a, b,c,d\npin_cpus=2,3,+4\n"
            )
            #expect(issues.isEmpty)
            let workers = cluster.nodes.filter { $0.type == .worker }
            #expect(workers.map(\.name) == ["w-1", "w-2", "w-3", "w-4"])
            #expect(workers.map(\.pinCPU) == [2, 3, 4, 2])
            #expect(workers.map(\.interface) == ["d", "c", "b", "a"])
            #expect(workers.map(\.count) == [1, 2, 3, 4])
        }

        @Test func orderIsByTypeThenFilePosition() {
            let (cluster, _) = Self.build(
                "[w2]\ntype=worker\nhost=1.1.1.1\n[p]\ntype=proxy\nhost=1.1.1.1\n[l]\ntype=logger\nhost=1.1.1.1\n"
                    + "[a-manager]\ntype=manager\nhost=1.1.1.1\n[w1]\ntype=worker\nhost=1.1.1.1\n"
            )
            #expect(cluster.nodes.map(\.name) == ["l", "a-manager", "p", "w2", "w1"])
            #expect(cluster.layout.names == ["control", "a-manager", "l", "p", "w2", "w1"])
        }

        @Test func nameClashesAreCaseInsensitiveAfterExpansion() {
            let (_, issues) = Self.build(
                Self.base
                    + "[worker-1]\ntype=worker\nhost=1.1.1.1\nlb_method=custom\nlb_procs=2\n[Worker-1-2]\ntype=worker\nhost=1.1.1.1\n"
            )
            #expect(issues.map(\.message) == ["node name \"Worker-1-2\" is a duplicate of \"worker-1-2\""])
            #expect(issues.first?.location == SourceLocation(file: "node.cfg", line: 12))
        }

        @Test(
            arguments: [
                (
                    "[w]\ntype=worker\nhost=1.1.1.1\nlb_procs=x\nlb_method=custom\n",
                    "number of load-balanced processes must be an integer for node 'w'"
                ),
                (
                    "[w]\ntype=worker\nhost=1.1.1.1\nlb_procs=0\nlb_method=custom\n",
                    "number of load-balanced processes must be greater than zero for node 'w'"
                ),
                (
                    "[w]\ntype=worker\nhost=1.1.1.1\nlb_method=custom\n",
                    "number of load-balanced processes not specified for node 'w'"
                ),
                (
                    "[w]\ntype=worker\nhost=1.1.1.1\nlb_procs=2\nlb_method=interfaces\n",
                    "list of load-balanced interfaces not specified for node 'w'"
                ),
                (
                    "[w]\ntype=worker\nhost=1.1.1.1\nenv_vars=A\n",
                    "node 'w' config: missing '=' in env_vars option value: A"
                ),
                ("[w]\nhost=1.1.1.1\n", "no type given for node w"),
                (
                    "[w]\ntype=worker\nhost=1.1.1.1\npin_cpus=1,-1\n",
                    "pin cpus list must contain only non-negative integers for node 'w'"
                ),
            ]
        )
        func perNodeChecksUseZeekControlsWords(_ input: String, _ message: String) {
            let (_, issues) = Self.build(Self.base + input)
            #expect(issues.first?.message == message)
            #expect(issues.first?.node == "w")
        }

        @Test func wholeSetChecks() {
            #expect(Self.build("").1.map(\.message) == ["no nodes found in node config"])
            #expect(
                Self.build("[p]\ntype=proxy\nhost=1.1.1.1\n").1.map(\.message) == ["no manager defined in node config"]
            )
            #expect(
                Self.build("[s]\ntype=standalone\nhost=1.1.1.1\n[w]\ntype=worker\nhost=1.1.1.1\n").1.map(\.message) == [
                    "more than one node defined in standalone node config"
                ]
            )
        }

        @Test func hostLookupUsesTheInjectedResolver() {
            let resolver = StaticHostResolver(["sensor": ["fe80::1%eth0", "10.1.1.1"], "v6only": ["2001:db8::7%lo"]])
            let options = LayoutValidator.Options(hostResolver: resolver)
            let text = "[m]\ntype=manager\nhost=v6only\n[p]\ntype=proxy\nhost=sensor\n[w]\ntype=worker\nhost=nowhere\n"
            let result = LayoutValidator(options: options).validate(NodeCfg.parse(text, file: "node.cfg"))
            #expect(result.cluster.nodes.map { $0.address?.description } == ["2001:db8::7", "10.1.1.1", nil])
            #expect(
                result.issues.map(\.message) == [
                    "hostname lookup failed for 'nowhere' in node config [Name or service not known]"
                ]
            )
            #expect(HostResolution.addresses(["fe80::2%lo"]).zeekctlAddress == Broker.Address("fe80::2"))
        }

        @Test func localhostRuleOnlyWhenAsked() {
            let text = "[m]\ntype=manager\nhost=127.0.0.1\n[p]\ntype=proxy\nhost=10.0.0.1\n"
            #expect(Self.build(text).1.isEmpty)
            let options = LayoutValidator.Options(checksLocalhostRule: true)
            let issues = LayoutValidator(options: options).validate(NodeCfg.parse(text, file: "node.cfg")).issues
            #expect(issues.map(\.code) == [.localhostMix])
            #expect(issues.first?.node == "p")
        }

        @Test func generatedLayoutChecks() {
            var settings = ZeekctlSettings()
            settings.zeekPort = 9989
            settings.clusterBackend = .broker
            let (_, issues) = Self.build(
                "[m]\ntype=manager\nhost=1.1.1.1\n[p]\ntype=proxy\nhost=1.1.1.1\n[control]\ntype=worker\nhost=1.1.1.1\n",
                settings: settings
            )
            #expect(issues.contains { $0.code == .reservedNodeName && $0.node == "control" })
            // ZeekPort 9989: control 9989, m 9990, p 9991 collides with the manager's metrics port 9991.
            #expect(
                issues.contains {
                    $0.code == .portConflict && $0.node == "p"
                        && $0.message
                            == "Broker port 9991/tcp of node 'p' on 1.1.1.1 is already used: metrics port 9991/tcp of node 'm'"
                }
            )
            let quoted = Self.build(Self.base + "[w\"x]\ntype=worker\nhost=1.1.1.1\n").1
            #expect(quoted.map(\.code) == [.invalidNodeName])
        }

        @Test func nodesDescriptionMatchesZeekControl() {
            let (cluster, _) = Self.build("[zeek]\ntype=standalone\nhost=127.0.0.1\nenv_vars=B=2, A=1\n")
            #expect(
                cluster.nodes[0].zeekctlDescription
                    == "            zeek - addr=127.0.0.1 af_packet_block_size= af_packet_block_timeout= af_packet_buffer_size= "
                    + "af_packet_checksum_validation_mode= af_packet_enable_defrag= af_packet_enable_fanout= "
                    + "af_packet_enable_hw_timestamping= af_packet_fanout_id= af_packet_fanout_mode= af_packet_link_type= "
                    + "aux_scripts= count=1 env_vars=A=1,B=2 ether= host=127.0.0.1 interface= lb_interfaces= lb_method= "
                    + "lb_procs= name=zeek pin_cpus= test_mykey= type=standalone zeekbase= zone_id="
            )
        }
    }
}

import ClusterKit
import Testing

extension Layouts {
    /// The zeek.conf rules of the oracle's FORMAT.md that its cases do not all pin down.
    @Suite struct ZeekConfTests {
        static func errors(_ text: String, file: String = "zeek.conf") -> [String] {
            ZeekConfCluster.parse(text, file: file).issues.filter { $0.severity == .error }.map(\.description)
        }

        static func names(_ text: String, file: String = "zeek.conf") -> [String] {
            ZeekConfCluster.parse(text, file: file).nodes.map(\.name)
        }

        @Test func linesAreTrimmedCommentsOnlyInTheFirstColumnAndContinuationsExtendTheLastOption() {
            let conf = ZeekConf.parse(
                "# c\r\nmAnager = 1 # one\r\n\t\n[zeek]\nenv = A=1\n  # B=2\n  C=3 \n",
                file: "z.conf"
            )
            #expect(conf.issues.isEmpty)
            #expect(conf.sections.map(\.name) == [nil, "zeek"])
            #expect(conf.sections.first?.options.first?.key == "mAnager")
            #expect(conf.sections.first?.options.first?.value == "1 # one")
            #expect(conf.sections.last?.options.first?.values.map(\.text) == ["A=1", "# B=2", "C=3"])
            #expect(conf.sections.last?.options.first?.values.map(\.line) == [5, 6, 7])
        }

        @Test func lineErrorsAreAllReportedAndADuplicateSectionStopsReading() {
            #expect(
                Self.errors("Manager = 1\n  x\n[zeek]\nproxies 3\nloggers=1\nloggers=2\n[zeek]\nbad line\n") == [
                    "zeek.conf:1: error: invalid line 'Manager = 1'",
                    "zeek.conf:2: error: unexpected continuation line '  x'",
                    "zeek.conf:4: error: invalid line 'proxies 3' in section 'zeek'",
                    "zeek.conf:6: error: duplicate option 'loggers' in section 'zeek'",
                    "zeek.conf:7: error: duplicate section 'zeek'",
                ]
            )
        }

        @Test func interfaceNamesAreSearchedNotAnchored() {
            #expect(
                Self.names("[interface mirror interface tap0]\ninterface = x\nworkers = 1\n") == ["worker-tap0-1"]
            )
            for header in ["interfaces", "interface", "interface eth0 ", "interface Eth0"] {
                #expect(
                    Self.errors("[\(header)]\ninterface = x\nworkers = 1\n") == [
                        "zeek.conf:1: error: invalid interface name in '\(header)' (must match /interface [-_a-z0-9]+/)"
                    ]
                )
            }
        }

        @Test func everyBadInterfaceSectionAndGlobalKeyIsReported() {
            let text = "[zeek]\nloggers = x\nproxies = -1\n[interface a]\nworkers = 1\n[interface b]\ninterface = b\n"
            #expect(
                Self.errors(text) == [
                    "zeek.conf:4: error: found workers but no interface option in section 'interface a'",
                    "zeek.conf:6: error: found interface but no worker option in section 'interface b'",
                    "zeek.conf:2: error: invalid loggers value: 'x'",
                    "zeek.conf:3: error: invalid proxies value: '-1'",
                ]
            )
        }

        @Test(arguments: [
            ("[::1]", true), ("[::]", false), ("::1", false), ("10.0.0.01", false), ("10.0.0.255", true),
            ("256.0.0.1", false), ("[fe80::1%eth0]", false), ("[2001:db8::1]", true), ("host.example", false),
        ])
        func addresses(_ address: String, _ valid: Bool) {
            #expect(Self.errors("address = \(address)\n").isEmpty == valid)
        }

        @Test(arguments: [
            ("", true), ("0", true), ("1,2-4,6-20:2", true), ("1-2-3", false), ("1,2,", false), ("1, 2", false),
            ("-1", false), ("4-2", false), ("1-4:0", false), ("0-2000000000", true), ("a", false),
        ])
        func cpuLists(_ list: String, _ valid: Bool) {
            #expect(
                Self.errors("[interface a]\ninterface = a\nworkers = 1\nworkers_cpu_list = \(list)\n").isEmpty == valid
            )
        }

        @Test func singleValuedKeysWithContinuationsAreErrorsNotCrashes() {
            #expect(
                Self.errors("[zeek]\nloggers = 1\n  2\n") == ["zeek.conf:2: error: multiple values for 'loggers' given"]
            )
            #expect(
                Self.errors("loggers = 1\n  2\nproxies = 1\n  2\n") == [
                    "zeek.conf:1: error: multiple values for 'loggers' given",
                    "zeek.conf:3: error: multiple values for 'proxies' given",
                ]
            )
        }

        @Test func emptyNiceIsNoKeyAndPrefixesAndPortsFollowZeek() {
            #expect(Self.errors("manager_nice =\n").isEmpty)
            #expect(
                Self.errors("[zeek]\nmanager_nice =\n") == [
                    "zeek.conf:2: error: invalid key 'manager_nice' in section 'zeek'"
                ]
            )
            #expect(Self.errors("cluster_node_prefix = x\n").isEmpty)
            #expect(Self.errors("cluster_node_prefix = 1x\n").count == 1)
            let cluster = ZeekConfCluster.parse(
                "manager = 1\nloggers = 1\nport = +5x\nmetrics_port = 0\n",
                file: "zeek.conf"
            )
            #expect(cluster.nodes.map(\.port) == [5, 6])
            #expect(cluster.nodes.map(\.metricsPort) == [0, 0])
        }

        @Test func aHostFileNamedAnyHowIsAOneHostClusterWithAHostsTable() throws {
            let cluster = ZeekConfCluster.parse("manager = 1\n", file: "etc/My.Box.zeek.conf")
            #expect(cluster.hosts.first?.hostName == "My.Box")
            #expect(try #require(cluster.generatedText).contains("\t[\"My.Box\"] = [$ip=(blocking_lookup_hostname"))
        }

        @Test func foldersReadEveryHostFileInByteOrderAndReportEveryFile() {
            let reader = InMemoryLayoutReader([
                "c/a.zeek.conf": "loggers = two\n", "c/a-b.zeek.conf": "manager = 1\n", "c/README": "x",
                "c/Upper.zeek.conf": "junk", "c/b.zeek.conf": "proxies = x\n", "c/wkr-9.zeek.conf": "manager = 1\n",
            ])
            let loaded = LayoutLoader(reader: reader).loadZeekConf(path: "c")
            #expect(loaded.zeekConf?.hosts.map(\.hostName) == ["a-b", "a", "b", "wkr-9"])
            #expect(
                loaded.issues.map(\.description) == [
                    "c/a.zeek.conf:1: error: invalid loggers value: 'two'",
                    "c/b.zeek.conf:1: error: invalid proxies value: 'x'",
                    "c: error: too many manager nodes (2) from c (manager = 1 in c/a-b.zeek.conf:1, c/wkr-9.zeek.conf:1)",
                ]
            )
            #expect(
                LayoutLoader(reader: reader).loadZeekConf(path: "none").issues.map(\.description) == [
                    "none: error: neither file nor directory: none"
                ]
            )
        }

        @Test func whatZeekCannotRunIsACheckErrorOnTheLineThatCausesIt() throws {
            let reader = InMemoryLayoutReader([
                "c/a.zeek.conf": "manager = 1\naddress = 10.0.0.1\ncluster_node_prefix =\nloggers = 1\n",
                "c/b.zeek.conf": "address = 10.0.0.1\ncluster_node_prefix =\nloggers = 1\nmetrics_port = 0\n",
            ])
            let loaded = LayoutLoader(reader: reader).loadZeekConf(path: "c")
            #expect(
                loaded.issues.map(\.description) == [
                    "c/b.zeek.conf:2: error: node 'logger-1' is made twice, also by node 'logger-1' (c/a.zeek.conf:4): "
                        + "Zeek cannot load a layout with a node name twice (set cluster_node_prefix to tell the "
                        + "hosts' nodes apart)",
                    "c/b.zeek.conf:3: error: port 27760/tcp of node 'logger-1' on 10.0.0.1 is already the port of node "
                        + "'manager' (c/a.zeek.conf:1): Zeek cannot run both",
                ]
            )
            // The generator writes it all the same; `zeekctl layout` shows ClusterKit's errors as warnings.
            #expect(try loaded.generatedLayout().text.contains("[\"logger-1\"]"))
            #expect(!loaded.generationIssues.containsErrors)
        }

        @Test func hostileCountsAreBounded() {
            let cluster = ZeekConfCluster.parse("loggers = 2000000000\n", file: "zeek.conf")
            #expect(cluster.nodes.count == LayoutLimits.standard.maximumNodes)
            #expect(cluster.generatedText == nil)
            #expect(cluster.issues.map(\.code) == [.tooManyNodes])
        }

        @Test func flagFormReportsEveryBadValue() {
            var flags = ZeekLayoutGenerator.Flags(loggers: "two", workers: "eth0:2,", manager: "2", port: "-1")
            guard case .failure(let list) = flags.generatedText() else {
                Issue.record("accepted")
                return
            }
            #expect(
                list.problems.map(\.message) == [
                    "invalid numeric value for L: two", "-W invalid: 'eth0:2,'", "flag -M expects 0 or 1",
                    "invalid numeric value for p: -1",
                ]
            )
            flags = ZeekLayoutGenerator.Flags(workers: "a:99999999999")
            guard case .failure(let big) = flags.generatedText() else {
                Issue.record("accepted")
                return
            }
            #expect(big.problems.map(\.message) == ["invalid numeric value for W: 99999999999"])
            // A repeated flag: the last value wins, but the generator checks each as it comes.
            let repeated = ZeekLayoutGenerator.Flags(occurrences: [("L", "5 "), ("m", "7"), ("L", "2")])
            #expect(repeated.loggers == "2")
            guard case .failure(let early) = repeated.generatedText() else {
                Issue.record("accepted")
                return
            }
            #expect(early.problems.map(\.message) == ["invalid numeric value for L: 5 "])
            let fine = ZeekLayoutGenerator.Flags(occurrences: [("L", "5"), ("L", "0"), ("W", "eth0:2,"), ("W", "0")])
            guard case .success(let text) = fine.generatedText() else {
                Issue.record("rejected")
                return
            }
            #expect(!text.contains("logger-1"))
        }

        @Test func generatedLayoutsReadWithTheirHostsTableAndPortsComparedPerHost() {
            let text = """
                module Cluster;

                type Host: record {
                \tip: addr;
                };

                const hosts: table[string] of Host &redef;

                redef Cluster::hosts += {
                \t["a"] = [$ip=(blocking_lookup_hostname("a") as vector of addr)[0]],
                \t["b"] = [$ip=(blocking_lookup_hostname("b") as vector of addr)[0]],
                \t["c"] = [$ip=10.0.0.3],
                };

                redef Cluster::nodes += {
                    ["a-worker-1"] = [$node_type=Cluster::WORKER, $ip=hosts["a"]$ip, $manager="manager", $metrics_port=9991/tcp],
                    ["b-worker-1"] = [$node_type=Cluster::WORKER, $ip=hosts["b"]$ip, $manager="manager", $metrics_port=9991/tcp],
                    ["c-proxy-1"] = [$node_type=Cluster::PROXY, $ip=hosts["c"]$ip, $p=1/tcp, $manager="manager", $metrics_port=1/tcp],
                    ["d-worker-1"] = [$node_type=Cluster::WORKER, $ip=hosts["d"]$ip, $manager="manager", $metrics_port=9991/tcp],
                };
                @if ( Cluster::node in Cluster::nodes )
                @endif
                """
            let loaded = LayoutLoader().load(text: text, file: "cluster-layout.zeek", format: .layout)
            #expect(
                loaded.issues.map(\.description) == [
                    "cluster-layout.zeek:19: error: $ip of node 'd-worker-1' is 'hosts[\"d\"]$ip', but Cluster::hosts has no host 'd'",
                    "cluster-layout.zeek:18: error: metrics port 1/tcp of node 'c-proxy-1' on 10.0.0.3 is already used: Broker port 1/tcp of node 'c-proxy-1'",
                    "cluster-layout.zeek: warning: the cluster has 4 logger, proxy and worker node(s) but no manager",
                ]
            )
            #expect(loaded.nodeSummaries.map(\.host) == ["a", "b", "c", "d"])
            #expect(loaded.nodeSummaries.map(\.address) == [nil, nil, "10.0.0.3", nil])
        }
    }
}

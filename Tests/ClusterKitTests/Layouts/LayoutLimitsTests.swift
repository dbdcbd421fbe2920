import ClusterKit
import Testing

extension Layouts {
    /// Numbers are range-checked where they are read, counters never overflow, and expansion and
    /// interpolation stay within ``LayoutLimits``: every bad input is a located error, never a trap or a hang.
    @Suite struct LayoutLimitsTests {
        static let base = "[m]\ntype=manager\nhost=10.0.0.1\n[p]\ntype=proxy\nhost=10.0.0.1\n"

        static func validate(
            _ text: String,
            settings: ZeekctlSettings = .standard,
            limits: LayoutLimits = .standard
        ) -> LayoutValidator.NodeCfgResult {
            LayoutValidator(options: .init(settings: settings, limits: limits))
                .validate(NodeCfg.parse(text, file: "node.cfg", limits: limits))
        }

        // MARK: - Ports and ids (C2)

        @Test func zeekctlPortsAndClusterIDsOutOfRangeAreErrorsAtTheirLineAndKeepTheDefault() {
            let cfg = ZeekctlCfg.parse(
                "ZeekPort = 9223372036854775807\nMetricsPort = 65536\nWebSocketPort = -1\n"
                    + "PFRINGClusterID = 99999999999999999999999\nZeekPort = 1_000\n",
                file: "zeekctl.cfg"
            )
            let (settings, issues) = ZeekctlSettings.resolved(from: cfg, version: .current)
            #expect(
                issues.map(\.description) == [
                    "zeekctl.cfg:1: error: zeekctl option 'zeekport' has value '9223372036854775807' outside the "
                        + "range of ports (0-65535)",
                    "zeekctl.cfg:2: error: zeekctl option 'metricsport' has value '65536' outside the range of ports "
                        + "(0-65535)",
                    "zeekctl.cfg:3: error: zeekctl option 'websocketport' has value '-1' outside the range of ports "
                        + "(0-65535)",
                    "zeekctl.cfg:4: error: zeekctl option 'pfringclusterid' has value '99999999999999999999999' "
                        + "outside the range of PF_RING cluster ids (0-2147483647)",
                ]
            )
            #expect(issues.allSatisfy { $0.code == .invalidZeekctlOption })
            #expect(settings.zeekPort == 1000)
            #expect(settings.metricsPort == ZeekctlSettings.standard.metricsPort)
            #expect(settings.webSocketPort == ZeekctlSettings.standard.webSocketPort)
            #expect(settings.pfRingClusterID == 21)
        }

        @Test func aSetOptionFromTheCommandLineIsCheckedToo() throws {
            let option = try #require(ZeekctlCfg.option("ZeekPort=9223372036854775807", source: "--set"))
            let (settings, issues) = ZeekctlSettings.resolved(from: ZeekctlCfg(options: [option]))
            #expect(issues.map(\.location) == [SourceLocation(file: "--set")])
            #expect(settings.zeekPort == ZeekctlSettings.standard.zeekPort)
        }

        @Test func portCountersPastTheRangeNameEachNodeAndSettingWithoutOverflowing() {
            // Set directly, the settings are not checked: the counters must saturate, not trap.
            for zeekPort in [Int.max, Int.max - 1, 65_534] {
                var settings = ZeekctlSettings.standard
                settings.zeekPort = zeekPort
                settings.metricsPort = Int.max - 1
                let result = Self.validate(Self.base + "[w]\ntype=worker\nhost=10.0.0.2\n", settings: settings)
                let ports = result.issues.filter { $0.code == .portOutOfRange }
                #expect(ports.contains { $0.node == "w" && $0.key == "ZeekPort" && $0.location.line == 7 })
                #expect(ports.contains { $0.node == "w" && $0.key == "MetricsPort" })
                #expect(
                    ports.contains {
                        $0.message.hasPrefix("port ")
                            && $0.message.hasSuffix(
                                "of node 'w' is outside the valid range "
                                    + "(ZeekControl's ZeekPort counter passed 65535)"
                            )
                    }
                )
                #expect(result.cluster.nodes.allSatisfy { ($0.port ?? 0) > 65_535 })
            }
            var webSocket = ZeekctlSettings.standard
            webSocket.webSocketPort = 70_000
            #expect(
                Self.validate(Self.base, settings: webSocket).issues.map(\.description) == [
                    "node.cfg: error: WebSocketPort 70000 is outside the valid range (0-65535)"
                ]
            )
            var negative = ZeekctlSettings.standard
            negative.zeekPort = -10
            negative.clusterBackend = .broker
            let result = Self.validate(Self.base, settings: negative)
            #expect(
                result.issues.contains { $0.code == .portOutOfRange && $0.message.contains("ZeekPort is negative") }
            )
        }

        @Test func pfRingClusterIDsPastTheMaximumAreAnErrorNamingTheNode() {
            var settings = ZeekctlSettings.standard
            settings.pfRingClusterID = ZeekctlSettings.maximumPFRingClusterID
            let workers =
                "[a]\ntype=worker\nhost=10.0.0.2\ninterface=eth0\nlb_method=pf_ring\nlb_procs=2\n"
                + "[b]\ntype=worker\nhost=10.0.0.2\ninterface=eth1\nlb_method=pf_ring\nlb_procs=2\n"
            let result = Self.validate(Self.base + workers, settings: settings)
            let errors = result.issues.filter { $0.key == "PFRINGClusterID" }
            #expect(errors.map(\.node) == ["b-1"])
            #expect(errors.first?.location.line == 13)
            #expect(result.cluster.nodes.first { $0.name == "a-1" }?.envVars["PCAP_PF_RING_CLUSTER_ID"] == "2147483647")
            settings.pfRingClusterID = .max
            #expect(Self.validate(Self.base + workers, settings: settings).issues.contains { $0.node == "a-1" })
        }

        // MARK: - Expansion (M6)

        @Test func lbProcsPastThePerSectionLimitIsALocatedErrorAndNotExpanded() {
            for value in ["1025", "1000000", "99999999999999999999999"] {
                let result = Self.validate(
                    Self.base + "[w]\ntype=worker\nhost=10.0.0.2\nlb_method=custom\nlb_procs=\(value)\n"
                )
                let issue = result.issues.first { $0.code == .tooManyProcesses }
                #expect(
                    issue?.description
                        == "node.cfg:11: error: lb_procs=\(value) for node 'w' is more than ClusterKit expands (at most "
                        + "1024 per node: LayoutLimits.maximumProcessesPerSection)"
                )
                #expect(result.cluster.nodes.count == 3)
            }
        }

        @Test func twentyFourSectionsCannotExpandPastTheNodeLimit() {
            let sections = (1...24).map { "[w\($0)]\ntype=worker\nhost=10.0.0.2\nlb_method=custom\nlb_procs=1000\n" }
            let result = Self.validate(Self.base + sections.joined())
            #expect(result.cluster.nodes.count <= LayoutLimits.standard.maximumNodes)
            let refused = result.issues.filter { $0.code == .tooManyProcesses }
            #expect(refused.first?.node == "w20")
            #expect(
                refused.first?.message
                    == "lb_procs=1000 for node 'w20' would take the layout past 20000 nodes (LayoutLimits.maximumNodes; "
                    + "19002 before it)"
            )
        }

        @Test func sectionsPastTheNodeLimitAreLeftOutWithOneError() {
            var limits = LayoutLimits.standard
            limits.maximumNodes = 3
            let text =
                Self.base + "[w1]\ntype=worker\nhost=1.1.1.1\n[w2]\ntype=worker\nhost=1.1.1.1\n[w3]\ntype=worker\n"
            let result = Self.validate(text, limits: limits)
            #expect(result.cluster.nodes.map(\.name) == ["m", "p", "w1"])
            #expect(
                result.issues.filter { $0.code == .tooManyNodes }.map(\.description) == [
                    "node.cfg:10: error: more than 3 nodes (LayoutLimits.maximumNodes): node 'w2' and the sections "
                        + "after it are left out"
                ]
            )
        }

        @Test func managementINIAndScriptsHaveTheNodeLimitToo() {
            var limits = LayoutLimits.standard
            limits.maximumNodes = 2
            let ini = ManagementINI.parse(
                "[instances]\nagent\n[a]\nrole=manager\ninstance=agent\n[b]\nrole=worker\ninstance=agent\n"
                    + "[c]\nrole=worker\ninstance=agent\n[d]\nrole=worker\ninstance=agent\n",
                file: "x.ini",
                limits: limits
            )
            #expect(ini.configuration == nil)
            #expect(
                ini.issues.map(\.description) == [
                    "x.ini:9: error: more than 2 nodes (LayoutLimits.maximumNodes): node 'c' and the 1 sections after "
                        + "it are left out"
                ]
            )
            let entries = (1...4).map { "[\"n\($0)\"] = [$node_type=Cluster::WORKER, $ip=1.1.1.1]," }
            let script = ClusterLayoutScript.parse(
                "redef Cluster::nodes = {\n" + entries.joined(separator: "\n") + "\n};\n",
                file: "cluster-layout.zeek",
                limits: limits
            )
            #expect(script.layout.names == ["n1", "n2"])
            #expect(script.issues.filter { $0.code == .tooManyNodes }.map(\.location.line) == [4])
        }

        @Test func managementINIPortsPastIntAreOutOfRangeAsInZeekClient() {
            let ini = ManagementINI.parse(
                "[w]\nrole=worker\ninstance=a\nport = 99999999999999999999\nmetrics_port=70000\n",
                file: "x.ini"
            )
            #expect(
                ini.issues.map(\.message) == [
                    "invalid node \"w\" configuration: port 99999999999999999999 outside valid range",
                    "invalid node \"w\" configuration: metrics port 99999999999999999999 outside valid range",
                ]
            )
        }

        // MARK: - Interpolation (M5)

        /// `a0` is ten bytes and each `aN` repeats `a(N-1)` ten times: `a9` would be 10 GB.
        static let chain: String = {
            var text = "[DEFAULT]\na0 = 0123456789\n"
            for level in 1...9 {
                text += "a\(level) = " + String(repeating: "%(a\(level - 1))s", count: 10) + "\n"
            }
            return text
        }()

        @Test func anInterpolationChainStopsAtTheValueLimitWithALocatedError() {
            let nodeCfg = NodeCfg.parse(Self.chain + "[m]\ntype=manager\nhost=%(a9)s\n", file: "node.cfg")
            let issues = nodeCfg.sections.flatMap(\.issues).filter { $0.code == .interpolationTooLarge }
            // a4 and above pass 64 KiB (a4 makes 100 kB), and so does the host that names a9.
            #expect(issues.map(\.location.line) == [6, 7, 8, 9, 10, 11, 14])
            #expect(
                issues.first?.description
                    == "node.cfg:6: error: value of key 'a4' in section 'DEFAULT': interpolation would make it longer "
                    + "than 65536 bytes (LayoutLimits.maximumInterpolatedValueSize)"
            )
            #expect(nodeCfg.sections.first?["host"] == "")

            let ini = ManagementINI.parse(Self.chain + "[m]\nrole=manager\ninterface=%(a9)s\n", file: "x.ini")
            #expect(ini.configuration == nil)
            #expect(ini.issues.contains { $0.code == .interpolationTooLarge && $0.location.line == 14 })
        }

        @Test func referencesNestedMoreThanTenDeepAreAnError() {
            var text = "[DEFAULT]\nk0 = %%\n"
            for level in 1...11 { text += "k\(level) = %(k\(level - 1))s\n" }
            let nodeCfg = NodeCfg.parse(text + "[m]\ntype=manager\nhost=h\n", file: "node.cfg")
            let issues = nodeCfg.sections.flatMap(\.issues).filter { $0.code == .badInterpolation }
            #expect(issues.map(\.location.line) == [12, 13])  // k10 and k11 reach k0 at depth 11 and 12
            #expect(issues.first?.message.contains("references nest more than 10 deep") == true)
        }

        @Test func interpolationOfTheWholeFileIsBoundedToo() {
            var limits = LayoutLimits.standard
            limits.maximumInterpolatedTotalSize = 1_000
            let value = String(repeating: "x", count: 90)
            let sections = (1...20).map { "[w\($0)]\ntype=worker\nhost=h\n" }.joined()
            let nodeCfg = NodeCfg.parse(
                "[DEFAULT]\nv = \(value)\nenv_vars = A=%(v)s\n" + sections,
                file: "node.cfg",
                limits: limits
            )
            let tooLarge = nodeCfg.sections.flatMap(\.issues).filter { $0.code == .interpolationTooLarge }
            #expect(tooLarge.count == 1)  // [DEFAULT] problems are reported once
            #expect(tooLarge.first?.message.hasSuffix("(LayoutLimits.maximumInterpolatedTotalSize)") == true)
            #expect(nodeCfg.sections.prefix(10).allSatisfy { $0["env_vars"] == "A=" + value })
            #expect(nodeCfg.sections.last?["env_vars"] == "")
        }
    }
}

import ClusterKit
import Testing

extension Layouts {
    /// The text each Zeek version's ZeekControl writes (LAYOUTS.md §7).
    @Suite struct LayoutGeneratorTests {
        static let nodeCfg = """
            [logger]
            type=logger
            host=127.0.0.1
            [manager]
            type=manager
            host=127.0.0.1
            [proxy-1]
            type=proxy
            host=127.0.0.1
            [worker-1]
            type=worker
            host=127.0.0.1
            interface=eth0

            """

        static func generate(_ version: ZeekVersion, _ extra: String = "", nodeCfg: String = nodeCfg) throws -> String {
            let cfg = ZeekctlCfg.parse(extra, file: "zeekctl.cfg")
            let settings = ZeekctlSettings.resolved(from: cfg, version: version).settings
            let loader = LayoutLoader(options: .init(settings: settings))
            return try loader.load(text: nodeCfg, file: "node.cfg", format: .nodeCfg).generatedLayout().text
        }

        @Test func zeek5LoggersFirstOldPortInterfaces() throws {
            #expect(
                try Self.generate(ZeekVersion(5, 0)) == """
                    # Automatically generated. Do not edit.
                    redef Cluster::manager_is_logger = F;
                    redef Cluster::nodes = {
                    \t["control"] = [$node_type=Cluster::CONTROL, $ip=127.0.0.1, $p=47760/tcp],
                    \t["logger"] = [$node_type=Cluster::LOGGER, $ip=127.0.0.1, $p=47761/tcp],
                    \t["manager"] = [$node_type=Cluster::MANAGER, $ip=127.0.0.1, $p=47762/tcp],
                    \t["proxy-1"] = [$node_type=Cluster::PROXY, $ip=127.0.0.1, $p=47763/tcp, $manager="manager"],
                    \t["worker-1"] = [$node_type=Cluster::WORKER, $ip=127.0.0.1, $p=47764/tcp, $interface="eth0", $manager="manager"],
                    };

                    """
            )
            #expect(try Self.generate(ZeekVersion(6, 2)).contains("$p=27760/tcp]"))
        }

        @Test func zeek70ManagerFirstMetricsAndPragmas() throws {
            #expect(
                try Self.generate(ZeekVersion(7, 0)) == """
                    # Automatically generated. Do not edit.
                    redef Cluster::manager_is_logger = F;
                    @pragma push ignore-deprecations
                    redef Cluster::nodes = {
                    \t["control"] = [$node_type=Cluster::CONTROL, $ip=127.0.0.1, $p=27760/tcp],
                    \t["manager"] = [$node_type=Cluster::MANAGER, $ip=127.0.0.1, $p=27761/tcp, $metrics_port=9991/tcp],
                    \t["logger"] = [$node_type=Cluster::LOGGER, $ip=127.0.0.1, $p=27762/tcp, $metrics_port=9992/tcp],
                    \t["proxy-1"] = [$node_type=Cluster::PROXY, $ip=127.0.0.1, $p=27763/tcp, $manager="manager", $metrics_port=9993/tcp],
                    \t["worker-1"] = [$node_type=Cluster::WORKER, $ip=127.0.0.1, $p=27764/tcp, $interface="eth0", $manager="manager", $metrics_port=9994/tcp],
                    };
                    @pragma pop ignore-deprecations

                    """
            )
        }

        @Test func zeek71To80NoInterfaceNoWebSocket() throws {
            let text71 = try Self.generate(ZeekVersion(7, 1))
            #expect(!text71.contains("@pragma") && !text71.contains("$interface"))
            #expect(text71.hasSuffix("$metrics_port=9994/tcp],\n};\n"))
            #expect(try Self.generate(ZeekVersion(8, 0)) == text71)
            let webSocket = try Self.generate(
                ZeekVersion(8, 0),
                "UseWebSocket = 1\nWebSocketHost = [::1]\nWebSocketPort = 1234\n"
            )
            #expect(
                webSocket.hasSuffix(
                    "Cluster::listen_websocket([$listen_addr=[::1], $listen_port=1234/tcp]);\n\t\t}\n\t}\n"
                )
            )
            #expect(try Self.generate(ZeekVersion(8, 0), "ClusterBackend = ZeroMQ").contains("$p=27762/tcp],\n"))
        }

        @Test func standaloneTextsByVersion() throws {
            let standalone = "[zeek]\ntype=standalone\nhost=127.0.0.1\n"
            #expect(
                try Self.generate(ZeekVersion(6, 0), nodeCfg: standalone) == """
                    # Automatically generated. Do not edit.
                    redef Broker::default_port = 27760/tcp;
                    event zeek_init()
                    \t{
                    \tif ( getenv("ZEEKCTL_DISABLE_LISTEN") == "" )
                    \t\tBroker::listen();
                    \t}

                    """
            )
            #expect(
                try Self.generate(ZeekVersion(7, 1), nodeCfg: standalone).hasPrefix(
                    "# Automatically generated. Do not edit.\nredef Broker::default_port = 27760/tcp;\n"
                        + "redef Telemetry::metrics_port = 9991/tcp;\nevent zeek_init()\n"
                )
            )
            #expect(
                try Self.generate(.current, "MetricsPort = 0", nodeCfg: standalone).hasPrefix(
                    "# Automatically generated. Do not edit.\nredef Broker::default_port = 27762/tcp;\n\nevent zeek_init()\n"
                )
            )
        }

        @Test func ipv6AddressesAreBracketedWithoutZone() throws {
            let cfg = "[m]\ntype=manager\nhost=2001:db8::1\n[p]\ntype=proxy\nhost=fe80::2%%lo\n"
            let text = try Self.generate(.current, nodeCfg: cfg)
            #expect(text.contains("[\"control\"] = [$node_type=Cluster::CONTROL, $ip=[2001:db8::1], $p=27762/tcp],"))
            #expect(text.contains("[\"p\"] = [$node_type=Cluster::PROXY, $ip=[fe80::2], $p=27764/tcp"))
            #expect(text.contains("redef Cluster::manager_is_logger = T;"))
        }

        @Test func timeMachineLineAndItsCheck() throws {
            let options = "TimeMachineHost = 10.0.0.9"
            #expect(
                try Self.generate(ZeekVersion(7, 0), options).contains(
                    "\t[\"time-machine\"] = [$node_type=Cluster::TIME_MACHINE, $ip=10.0.0.9, $p=47757/tcp],\n};"
                )
            )
            let settings = ZeekctlSettings.resolved(from: ZeekctlCfg.parse(options, file: "zeekctl.cfg")).settings
            let loaded = LayoutLoader(options: .init(settings: settings)).load(
                text: Self.nodeCfg,
                file: "node.cfg",
                format: .nodeCfg
            )
            #expect(loaded.issues.map(\.code) == [.timeMachineRemoved])
        }

        @Test func unsupportedVersionAndUnresolvedHostsThrow() throws {
            let loaded = LayoutLoader().load(
                text: "[zeek]\ntype=standalone\nhost=sensor\n",
                file: "node.cfg",
                format: .nodeCfg
            )
            let error = try #require(throws: LayoutGenerationError.self) { try loaded.generatedLayout() }
            #expect(error.code == .unresolvedAddress)
            #expect(error.description == "host 'sensor' of node 'zeek' has no address")
            #expect(ZeekVersion("8.0.5") == ZeekVersion(8, 0, 5))
            #expect(ZeekVersion("8") == nil)
        }

        @Test func zeekctlCfgValuesAreChecked() {
            let cfg = ZeekctlCfg.parse(
                "# c\nZeekPort = abc\nUseWebSocket = maybe\nbroken line\nWebSocketHost = \"x\"\n",
                file: "zeekctl.cfg"
            )
            let issues = ZeekctlSettings.resolved(from: cfg).issues
            #expect(
                issues.map(\.description) == [
                    "zeekctl.cfg:4: error: zeekctl config syntax error: broken line",
                    "zeekctl.cfg:2: error: zeekctl option 'zeekport' has invalid value 'abc' for type int",
                    "zeekctl.cfg:3: error: zeekctl option 'usewebsocket' has invalid value 'maybe' for type bool",
                    "zeekctl.cfg:5: error: value of zeekctl option \"websockethost\" cannot be wrapped in quotes",
                ]
            )
            let old = ZeekctlSettings.resolved(
                from: ZeekctlCfg.parse("ClusterBackend = ZeroMQ", file: "z"),
                version: ZeekVersion(7, 2)
            )
            #expect(old.issues.map(\.code) == [.unsupportedSetting])
            #expect(old.settings.clusterBackend == .broker)
        }
    }
}

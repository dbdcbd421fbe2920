import ClusterKit
import Testing

extension Validation {
    @Suite struct CrossNodeRulesTests {
        static func issues(_ nodes: [(String, Cluster.Node)], managerIsLogger: Bool = true) -> [String] {
            let layout = Cluster.Layout(
                nodes: nodes.map { Cluster.NamedNode(name: $0.0, node: $0.1) },
                managerIsLogger: managerIsLogger
            )
            return LayoutValidator().validate(layout, file: "layout.zeek").map { "\($0.severity): \($0.message)" }
        }

        static let manager = ("manager", Cluster.Node(nodeType: .manager, ip: "10.0.0.1", p: .tcp(2200)))

        @Test func portsConflictPerHost() {
            #expect(
                Self.issues([
                    Self.manager,
                    (
                        "p",
                        Cluster.Node(
                            nodeType: .proxy,
                            ip: "10.0.0.1",
                            p: .tcp(2201),
                            manager: "manager",
                            metricsPort: .tcp(2200)
                        )
                    ),
                    ("w", Cluster.Node(nodeType: .worker, ip: "10.0.0.2", p: .tcp(2200), manager: "manager")),
                ]) == [
                    "error: metrics port 2200/tcp of node 'p' on 10.0.0.1 is already used: Broker port 2200/tcp of node 'manager'"
                ]
            )
        }

        @Test func managerFieldMustNameAManager() {
            #expect(
                Self.issues([
                    Self.manager,
                    ("p", Cluster.Node(nodeType: .proxy, ip: "10.0.0.1", p: .tcp(2201), manager: "boss")),
                    ("w1", Cluster.Node(nodeType: .worker, ip: "10.0.0.2", manager: "p")),
                    ("w2", Cluster.Node(nodeType: .worker, ip: "10.0.0.2")),
                ]) == [
                    "error: node 'p' names manager 'boss', which is not a node of the cluster",
                    "error: node 'w1' names manager 'p', which is a Cluster::PROXY, not a Cluster::MANAGER",
                    "warning: worker 'w2' has no $manager: with the Broker backend it does not connect to the manager",
                ]
            )
        }

        @Test func clusterNeedsAManagerAndSomeoneWritingLogs() {
            #expect(
                Self.issues([("w", Cluster.Node(nodeType: .worker, ip: "10.0.0.2"))]) == [
                    "warning: the cluster has 1 logger, proxy and worker node(s) but no manager"
                ]
            )
            let worker = ("w", Cluster.Node(nodeType: .worker, ip: "10.0.0.2", manager: "manager"))
            #expect(
                Self.issues([Self.manager, worker], managerIsLogger: false) == [
                    "error: Cluster::manager_is_logger is F but the cluster has no logger: no node writes logs (ZeroMQ fails "
                        + "with 'No ZeroMQ connect_log_endpoints configured')"
                ]
            )
            let logger = ("l", Cluster.Node(nodeType: .logger, ip: "10.0.0.1", p: .tcp(2201)))
            #expect(
                Self.issues([Self.manager, logger, worker]) == [
                    "warning: Cluster::manager_is_logger is T although the cluster has 1 logger(s): the manager writes logs too"
                ]
            )
            #expect(Self.issues([Self.manager, logger, worker], managerIsLogger: false).isEmpty)
        }

        @Test func listenedToNodesNeedPortsAndNamesAreUnique() {
            #expect(
                Self.issues(
                    [
                        Self.manager, ("l", Cluster.Node(nodeType: .logger, ip: "10.0.0.1")),
                        ("l", Cluster.Node(nodeType: .logger, ip: "10.0.0.3", p: .tcp(1))),
                        ("w", Cluster.Node(nodeType: .worker, ip: "10.0.0.2", manager: "manager")),
                    ],
                    managerIsLogger: false
                ) == [
                    "error: node 'l' is defined more than once in Cluster::nodes (the last definition wins)",
                    "warning: node 'l' (Cluster::LOGGER) has no port, but other nodes connect to it",
                ]
            )
        }

        @Test func formatsComeFromFileNames() {
            #expect(LayoutFormat(fileName: "/etc/zeek/node.cfg") == .nodeCfg)
            #expect(LayoutFormat(fileName: "cluster-layout.BRO") == .layout)
            #expect(LayoutFormat(fileName: "a.zeek") == .layout)
            #expect(LayoutFormat(fileName: "cluster.ini") == .ini)
            #expect(LayoutFormat(fileName: "node.cfg.bak") == nil)
        }

        @Test func loaderReadsThroughTheInjectedReader() throws {
            let loader = LayoutLoader(
                reader: InMemoryLayoutReader(["/x/node.cfg": "[zeek]\ntype=standalone\nhost=127.0.0.1\n"])
            )
            let loaded = try loader.load(path: "/x/node.cfg", displayName: "node.cfg")
            #expect(loaded.format == .nodeCfg)
            #expect(loaded.issues.isEmpty)
            #expect(loaded.layout.nodes.isEmpty)
            #expect(loaded.zeekctlCluster?.nodes.first?.port == 27762)
            let missing = try #require(throws: LayoutLoadError.self) { try loader.load(path: "/x/other.cfg") }
            #expect(missing.description == "cannot read file: /x/other.cfg")
            let unknown = try #require(throws: LayoutLoadError.self) { try loader.load(path: "/x/node.txt") }
            #expect(unknown.code == .unknownFormat)
        }
    }
}

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct ZeekValueTests {
    static let worker = Cluster.Node(
        nodeType: .worker,
        ip: "127.0.0.1",
        p: .tcp(27766),
        manager: "manager",
        metricsPort: .tcp(9994)
    )

    @Test func toJSONFollowsZeeksShapes() {
        #expect(ZeekValue.count(96).json == "96")
        #expect(ZeekValue.int(-3).json == "-3")
        #expect(ZeekValue.string("x\"y").json == #""x\"y""#)
        #expect(ZeekValue.bool(true).json == "true")
        #expect(ZeekValue.double(1.0).json == "1.0")
        #expect(ZeekValue.double(.nan).json == "null")
        #expect(ZeekValue.time(Broker.Timestamp(secondsSinceEpoch: 1_700_000_000.5)).json == "1700000000.5")
        #expect(ZeekValue.interval(Broker.Timespan(.seconds(10))).json == #""10.0 secs""#)
        #expect(ZeekValue.port(.tcp(80)).json == #"{"port":80,"proto":"tcp"}"#)
        #expect(ZeekValue.port(.unset).json == #"{"port":0,"proto":"unknown"}"#)
        #expect(ZeekValue.addr("2001:db8::1").json == #""2001:db8::1""#)
        #expect(Broker.Subnet("10.0.0.0/8").map { ZeekValue.subnet($0).json } == #""10.0.0.0/8""#)
        #expect(ZeekValue.enumValue("Cluster::WORKER").json == #""Cluster::WORKER""#)
        #expect(ZeekValue.pattern("^a.*").json == #""/^a.*/""#)
        #expect(ZeekValue.set([.string("a"), .string("b")]).json == #"["a","b"]"#)
        #expect(ZeekValue.vector([.count(1), nil]).json == "[1,null]")
        #expect(
            ZeekValue.table([ZeekValue.TableEntry(.string("k"), .count(1)), ZeekValue.TableEntry(.count(2), .count(3))])
                .json == #"{"k":1,"2":3}"#
        )
        #expect(
            ZeekValue.table([ZeekValue.TableEntry(.list([.count(1), .string("a")]), .bool(false))]).json
                == #"{"[1,\"a\"]":false}"#
        )
    }

    @Test func recordsOmitUnsetFieldsAndStripLeadingUnderscores() {
        #expect(
            ZeekValue.record(Self.worker).json
                == #"{"node_type":"Cluster::WORKER","ip":"127.0.0.1","zone_id":"","p":{"port":27766,"proto":"tcp"},"manager":"manager","metrics_port":{"port":9994,"proto":"tcp"}}"#
        )
        let record = ZeekValue.record(
            ZeekValue.Record("", [ZeekValue.Record.Field("_x", .count(1)), ZeekValue.Record.Field("y", nil)])
        )
        #expect(record.json == #"{"x":1}"#)
    }

    @Test func formattedFollowsFmtPercentS() {
        #expect(ZeekValue.bool(false).formatted == "F")
        #expect(ZeekValue.string("raw text").formatted == "raw text")
        #expect(ZeekValue.double(3).formatted == "3.0")
        #expect(ZeekValue.double(1.5).formatted == "1.5")
        #expect(ZeekValue.double(1.0 / 3).formatted == "0.333333")
        #expect(ZeekValue.double(-2.25).formatted == "-2.25")
        #expect(ZeekValue.double(3e9).formatted == "3.000000e+09")
        #expect(ZeekValue.interval(Broker.Timespan(.seconds(86_400))).formatted == "1.0 day")
        #expect(ZeekValue.interval(Broker.Timespan(.seconds(3600))).formatted == "1.0 hr")
        #expect(ZeekValue.interval(Broker.Timespan(.seconds(2 * 86_400 + 3 * 3600))).formatted == "2.0 days 3.0 hrs")
        #expect(ZeekValue.interval(Broker.Timespan(.seconds(5))).formatted == "5.0 secs")
        #expect(ZeekValue.interval(Broker.Timespan(.milliseconds(1500))).formatted == "1.0 sec 500.0 msecs")
        #expect(ZeekValue.interval(Broker.Timespan(nanoseconds: 0)).formatted == "0 secs")
        #expect(ZeekValue.port(.tcp(80)).formatted == "80/tcp")
        #expect(ZeekValue.enumValue("Cluster::CLUSTER_BACKEND_ZEROMQ").formatted == "Cluster::CLUSTER_BACKEND_ZEROMQ")
        #expect(ZeekValue.vector([.count(1), .count(2)]).formatted == "[1, 2]")
        // PROTOCOL.md §9.3: a set of subnets, one per TAB-indented line.
        let nets = ZeekValue.set(
            ["::1/128", "5.6.0.0/16", "fe80::1/128", "1.2.3.4/32"].compactMap { Broker.Subnet($0) }.map { .subnet($0) }
        )
        #expect(nets.formatted == "{\n\t::1/128,\n\t5.6.0.0/16,\n\tfe80::1/128,\n\t1.2.3.4/32\n}")
        #expect(ZeekValue.table([ZeekValue.TableEntry(.string("a"), .count(1))]).formatted == "{\n\t[a] = 1\n}")
        #expect(
            ZeekValue.record(Self.worker).formatted
                == "[node_type=Cluster::WORKER, ip=127.0.0.1, zone_id=, p=27766/tcp, manager=manager, id=<uninitialized>, metrics_port=9994/tcp]"
        )
    }

    @Test func jsonValuesMapToNaturalZeekTypes() {
        #expect(ZeekValue.from(json: 5) == .count(5))
        #expect(ZeekValue.from(json: -5) == .int(-5))
        #expect(ZeekValue.from(json: 1.5) == .double(1.5))
        #expect(ZeekValue.from(json: nil) == nil)
        #expect(ZeekValue.from(json: .object(["a": [true, "x"]]))?.json == #"{"a":[true,"x"]}"#)
    }
}

@Suite struct NodeDispatchTests {
    static func registry() -> IDRegistry {
        var layout = Cluster.Layout(managerIsLogger: false)
        layout.append(
            Cluster.NamedNode(name: "manager", node: Cluster.Node(nodeType: .manager, ip: "127.0.0.1", p: .tcp(27763)))
        )
        layout.append(Cluster.NamedNode(name: "worker-1", node: ZeekValueTests.worker))
        var registry = IDRegistry.clusterNode(name: "worker-1", layout: layout)
        registry.set("Site::declared", nil)
        return registry
    }

    @Test func getIDValueRepliesWithToJSONText() throws {
        let dispatch = NodeDispatch(nodeName: "worker-1")
        let result = try #require(
            dispatch.respond(
                reqid: "n1",
                action: ["get_id_value", "Cluster::node"],
                nodes: [],
                registry: Self.registry()
            )
        )
        #expect(result == Management.Result(reqid: "n1", data: .string(#""worker-1""#), node: "worker-1"))
        let bits = dispatch.respond(
            reqid: "n2",
            action: ["get_id_value", "bits_per_uid", "ignored"],
            nodes: ["worker-1"],
            registry: Self.registry()
        )
        #expect(bits?.data == .string("96"))
        let nodes = dispatch.respond(
            reqid: "n3",
            action: ["get_id_value", "Cluster::nodes"],
            nodes: [],
            registry: Self.registry()
        )
        #expect(
            nodes?.data
                == .string(
                    #"{"manager":{"node_type":"Cluster::MANAGER","ip":"127.0.0.1","zone_id":"","p":{"port":27763,"proto":"tcp"}},"#
                        + #""worker-1":{"node_type":"Cluster::WORKER","ip":"127.0.0.1","zone_id":"","p":{"port":27766,"proto":"tcp"},"manager":"manager","metrics_port":{"port":9994,"proto":"tcp"}}}"#
                )
        )
        let interval = dispatch.respond(
            reqid: "n4",
            action: ["get_id_value", "Cluster::retry_interval"],
            nodes: [],
            registry: Self.registry()
        )
        #expect(interval?.data == .string(#""1.0 sec""#))
    }

    @Test(arguments: [
        ([String](), "no dispatch arguments provided"),
        (["frobnicate"], "dispatch frobnicate unknown"),
        (["get_id_value"], "get_id_value expects name of global identifier"),
        (["get_id_value", "No::such_id"], "unknown id"),
        (["get_id_value", "Site::declared"], "no ID value"),
    ])
    func errorsUseZeeksStrings(action: [String], error: String) {
        let result = NodeDispatch(nodeName: "worker-1").respond(
            reqid: "r",
            action: action,
            nodes: [],
            registry: Self.registry()
        )
        #expect(result == Management.Result(reqid: "r", success: false, error: error, node: "worker-1"))
    }

    @Test func requestsForOtherNodesAreIgnored() {
        let dispatch = NodeDispatch(nodeName: "worker-1")
        #expect(
            dispatch.respond(reqid: "r", action: ["get_id_value", "x"], nodes: ["manager"], registry: Self.registry())
                == nil
        )
    }
}

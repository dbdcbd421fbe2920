import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct ClusterRecordTests {
    @Test func nodeHasZeekEightsFieldsAndDefaults() {
        #expect(Cluster.Node.fieldNames == ["node_type", "ip", "zone_id", "p", "manager", "id", "metrics_port"])
        let node = Cluster.Node(nodeType: .worker, ip: "10.0.0.2", manager: "manager")
        #expect(
            Broker.JSON.encode(node.brokerValue)
                == #"{"@data-type":"vector","data":[{"@data-type":"enum-value","data":"Cluster::WORKER"},"#
                + #"{"@data-type":"address","data":"10.0.0.2"},{"@data-type":"string","data":""},"#
                + #"{"@data-type":"port","data":"0/?"},{"@data-type":"string","data":"manager"},"#
                + #"{"@data-type":"none","data":{}},{"@data-type":"none","data":{}}]}"#
        )
    }

    @Test func legacyFieldsRoundTripAfterTheCurrentOnes() throws {
        let bro = Cluster.Node(
            nodeType: .worker,
            ip: "10.0.0.2",
            zoneID: "",
            p: .tcp(47763),
            manager: "manager",
            interface: "eth0",
            proxy: "proxy-1",
            logger: "logger",
            workers: nil,
            timeMachine: "time-machine"
        )
        let value = bro.brokerValue
        #expect(value.vectorValue?.count == 13)
        #expect(try Cluster.Node(brokerValue: value) == bro)
        // A newer Zeek's extra trailing fields of other types are ignored, not read as legacy fields.
        var newer = Cluster.Node(nodeType: .proxy, ip: "10.0.0.1").fieldValues
        newer += [.count(1), .count(2), .count(3), .count(4), .count(5), .count(6)]
        #expect(try Cluster.Node(brokerValue: .vector(newer)) == Cluster.Node(nodeType: .proxy, ip: "10.0.0.1"))
    }

    @Test func nodeTypesUseClusterNames() {
        #expect(
            Cluster.NodeType.allCases.map(\.rawValue) == [
                "Cluster::NONE", "Cluster::CONTROL", "Cluster::LOGGER", "Cluster::MANAGER", "Cluster::PROXY",
                "Cluster::WORKER", "Cluster::TIME_MACHINE",
            ]
        )
        #expect(Cluster.NodeType.worker.zeekctlName == "worker")
        #expect(Cluster.NodeType.control.zeekctlName == nil)
        #expect(Cluster.NodeType.proxy.supervisorRole == .proxy)
    }

    @Test func storeInfoCarriesZeeksDefaults() throws {
        let info = Cluster.StoreInfo(name: "s")
        #expect(
            info.brokerValue
                == .vector([
                    "s", .none, "", false, .enumValue("Broker::MEMORY"),
                    .vector([.vector(["", .none, .none, .enumValue("Broker::SQLITE_FAILURE_MODE_FAIL"), false])]),
                    .timespan(Broker.Timespan(.seconds(10))), .timespan(Broker.Timespan(.seconds(300))),
                    .timespan(Broker.Timespan(.seconds(120))),
                ])
        )
        #expect(
            try Cluster.StoreInfo(
                brokerValue: .vector([.none, .none, .none, .none, .none, .none, .none, .none, .none])
            ) == Cluster.StoreInfo()
        )
    }

    @Test func webSocketOptionsFollowZeeksRules() throws {
        let tls = Cluster.WebSocketTLSOptions(certFile: "c.pem")
        let error = #expect(throws: Cluster.ConfigurationError.self) { try tls.validate() }
        #expect(error?.description == "invalid tls_options: cert_file set without key_file")
        #expect(throws: Cluster.ConfigurationError.self) { try Cluster.WebSocketTLSOptions(keyFile: "k").validate() }
        try Cluster.WebSocketTLSOptions().validate()
        #expect(Cluster.WebSocketTLSOptions(certFile: "c", keyFile: "k").isEnabled)
        let both = Cluster.WebSocketServerOptions(
            listenHost: "127.0.0.1",
            listenAddr: "127.0.0.1",
            listenPort: .tcp(27759)
        )
        #expect(
            throws: Cluster.ConfigurationError(.invalidListenAddress, "cannot use both listen_addr and listen_host")
        ) {
            try both.validate()
        }
        let neither = Cluster.WebSocketServerOptions(listenPort: .tcp(27759))
        #expect(throws: Cluster.ConfigurationError(.invalidListenAddress, "missing listen_host field")) {
            try neither.validate()
        }
        let good = Cluster.WebSocketServerOptions(listenAddr: "127.0.0.1", listenPort: .tcp(27759))
        try good.validate()
        #expect(good.maxEventQueueSize == 32)
        #expect(good.pingInterval == Broker.Timespan(.seconds(5)))
        #expect(try Cluster.WebSocketServerOptions(brokerValue: good.brokerValue) == good)
    }

    @Test func endpointInfoFormatsAsZeekLogsIt() throws {
        let info = Cluster.EndpointInfo(
            id: "e-websocket-0",
            network: Cluster.NetworkInfo(address: "127.0.0.1", boundPort: .tcp(51000)),
            applicationName: "zeekctl/2.6.0"
        )
        #expect(info.formatted == "'e-websocket-0' (127.0.0.1:51000) application_name=zeekctl/2.6.0")
        #expect(try Cluster.EndpointInfo(brokerValue: info.brokerValue) == info)
        let event = Cluster.Event(name: "Cluster::hello", args: ["worker-1", "id"])
        #expect(event.brokerValue == .vector([.vector(["Cluster::hello"]), .vector(["worker-1", "id"])]))
        #expect(try Cluster.Event(brokerValue: event.brokerValue) == event)
        let log = Cluster.Info(ts: Broker.Timestamp(nanosecondsSinceEpoch: 0), node: "manager", message: "got hello")
        #expect(try Cluster.Info(brokerValue: log.brokerValue) == log)
    }

    @Test func optionsHaveZeeksDefaults() {
        let options = Cluster.Options.standard
        #expect(
            options.broadcastTopics == [
                "zeek/cluster/logger", "zeek/cluster/manager", "zeek/cluster/proxy", "zeek/cluster/worker",
            ]
        )
        #expect(options.nodeTopicPrefix == "zeek/cluster/node/")
        #expect(options.nodeIDTopicPrefix == "zeek/cluster/nodeid/")
        #expect(options.managerIsLogger)
        #expect(options.enableRoundRobinLogging)
        #expect(options.defaultWebSocketMaxEventQueueSize == 32)
        #expect(options.defaultWebSocketPingInterval == .seconds(5))
        #expect(options.retryInterval == .seconds(1))
        #expect(options.backend == .broker)
        #expect(options.node == "")
        #expect(Cluster.Options(environment: ["CLUSTER_NODE": "worker-1"]).node == "worker-1")
        #expect(options.proxyPoolSpec == Cluster.PoolSpec(topic: "zeek/cluster/pool/proxy", nodeType: .proxy))
    }

    @Test(arguments: [
        ([String: String](), Duration.seconds(1)),
        (["ZEEK_DEFAULT_CONNECT_RETRY": "5"], .seconds(5)),
        (["ZEEK_DEFAULT_CONNECT_RETRY": "2.5"], .seconds(2)),
        (["ZEEK_DEFAULT_CONNECT_RETRY": "x"], .seconds(0)),
        (["ZEEK_DEFAULT_CONNECT_RETRY": "  7s"], .seconds(7)),
        (["ZEEK_DEFAULT_CONNECT_RETRY": "-3"], .seconds(0)),
    ])
    func connectRetryFollowsTheEnvironmentOverride(environment: [String: String], expected: Duration) {
        #expect(Cluster.Options.standard.connectRetryInterval(environment: environment) == expected)
    }

    @Test func scriptRetryIntervalIsRaisedToOneSecondAndTruncated() {
        var options = Cluster.Options.standard
        options.retryInterval = .milliseconds(300)
        #expect(options.connectRetryInterval(environment: [:]) == .seconds(1))
        options.retryInterval = .milliseconds(1900)
        #expect(options.connectRetryInterval(environment: [:]) == .seconds(1))
        options.retryInterval = .zero
        #expect(options.connectRetryInterval(environment: [:]) == .zero)
    }

    @Test func layoutKeepsOrderAndFindsFirstOfDuplicates() {
        var layout = Cluster.Layout(managerIsLogger: false)
        layout.append(Cluster.NamedNode(name: "worker-2", node: Cluster.Node(nodeType: .worker, ip: "10.0.0.2")))
        layout.append(Cluster.NamedNode(name: "manager", node: Cluster.Node(nodeType: .manager, ip: "10.0.0.1")))
        layout.append(Cluster.NamedNode(name: "worker-1", node: Cluster.Node(nodeType: .worker, ip: "10.0.0.3")))
        layout.append(Cluster.NamedNode(name: "worker-2", node: Cluster.Node(nodeType: .worker, ip: "10.9.9.9")))
        #expect(layout.names == ["worker-2", "manager", "worker-1", "worker-2"])
        #expect(layout["worker-2"]?.ip == "10.0.0.2")
        #expect(layout.nodes(ofType: .worker).map(\.name) == ["worker-1", "worker-2", "worker-2"])
        guard case .table(let table) = layout.brokerValue else { return #expect(Bool(false)) }
        #expect(table.count == 3, "a Zeek table keeps one entry per name")
    }
}

@Suite struct LegacyRouteNodeTypeTests {
    @Test func legacyRouteTypesMapToClusterTypesBothWays() {
        for type in LegacyEventRoutes.NodeType.allCases {
            #expect(LegacyEventRoutes.NodeType(type.clusterNodeType) == type)
        }
        #expect(LegacyEventRoutes.NodeType(Cluster.NodeType.none) == nil)
        #expect(
            LegacyEventRoutes.bro255WithScriptAdditions.handlers(
                of: "Drop::drop_address",
                raisedOn: LegacyEventRoutes.NodeType(.manager) ?? .control
            ).contains(.worker)
        )
    }
}

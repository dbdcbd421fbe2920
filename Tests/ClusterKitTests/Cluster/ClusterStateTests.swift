import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct ClusterStateTests {
    static let now = Broker.Timestamp(nanosecondsSinceEpoch: 0)

    static func state(
        node: String = "manager",
        layout: Cluster.Layout = EmbeddedCluster.example,
        scheme: TopicScheme = .broker
    ) -> ClusterState {
        ClusterState(layout: layout, options: Cluster.Options(environment: ["CLUSTER_NODE": node]), scheme: scheme)
    }

    @Test func clusterFunctionsFollowZeek() {
        let state = Self.state(node: "worker-1")
        #expect(state.isEnabled)
        #expect(state.localNodeType == .worker)
        #expect(state.localNodeMetricsPort == .tcp(9994))
        #expect(state.nodeCount(of: .worker) == 2)
        #expect(state.nodeCount(of: .control) == 1)
        #expect(state.activeNodeCount(of: .worker) == 0)
        #expect(state.nodeTopic("worker-2") == Topic("zeek/cluster/node/worker-2/"))
        #expect(state.nodeIDTopic("abc") == Topic("zeek/cluster/nodeid/abc/"))
        #expect(Self.state(scheme: .zeroMQ).nodeTopic("worker-2") == Topic("zeek.cluster.node.worker-2."))
        let unknown = state.nodeIDToNode("nobody")
        #expect(unknown.name == "")
        #expect(unknown.node == Cluster.Node(nodeType: .none, ip: .ipv4Unspecified))
        let standalone = ClusterState(layout: EmbeddedCluster.example, options: .standard)
        #expect(!standalone.isEnabled)
        #expect(standalone.localNodeType == .none)
        #expect(standalone.localNodeMetricsPort == .unset)
        #expect(Self.state(node: "not-in-layout").localNodeType == .none)
    }

    @Test func helloRaisesNodeUpOnceAndLogs() {
        var state = Self.state()
        #expect(
            state.hello(name: "worker-1", id: "id-1", now: Self.now) == [
                .nodeUp(name: "worker-1", id: "id-1"),
                .log(Cluster.Info(ts: Self.now, node: "manager", message: "got hello from worker-1 (id-1)")),
            ]
        )
        #expect(state.nodeIDToNode("id-1").name == "worker-1")
        #expect(state.activeNodeCount(of: .worker) == 1)
        // The same id again: no node_up, silently logged again.
        #expect(state.hello(name: "worker-1", id: "id-1", now: Self.now).count == 1)
        // A new id without node_down: duplicate error, and both ids count (Zeek counts ids, not names).
        let duplicate = state.hello(name: "worker-1", id: "id-2", now: Self.now)
        #expect(duplicate.first == .error("Got Cluster::hello msg from duplicate node:worker-1"))
        #expect(state.activeNodeCount(of: .worker) == 2)
        #expect(
            state.hello(name: "stranger", id: "x", now: Self.now) == [
                .error("Got Cluster::hello msg from unexpected node: stranger")
            ]
        )
    }

    @Test func nodeDownFindsTheNodeByID() {
        var state = Self.state()
        _ = state.hello(name: "proxy-1", id: "p1", now: Self.now)
        #expect(
            state.nodeDown(name: "ignored", id: "p1", now: Self.now) == [
                .log(Cluster.Info(ts: Self.now, node: "manager", message: "node down: proxy-1"))
            ]
        )
        #expect(state.layout["proxy-1"]?.id == nil)
        #expect(state.activeNodeCount(of: .proxy) == 0)
        #expect(
            state.nodeDown(name: "proxy-1", id: "p1", now: Self.now) == [
                .error("No node found in Cluster::node_down() node:proxy-1 id:p1")
            ]
        )
    }

    @Test func createStoreFollowsZeeksDecisionOrder() throws {
        var manager = Self.state(node: "manager")
        let (masterInfo, masterEffects) = try manager.createStore("users", now: Self.now)
        #expect(masterInfo.master)
        #expect(masterInfo.masterNode == "manager", "an empty master node defaults to the first manager by name")
        #expect(
            masterEffects == [.log(Cluster.Info(ts: Self.now, node: "manager", message: "created master store: users"))]
        )
        var worker = Self.state(node: "worker-1")
        let (clone, cloneEffects) = try worker.createStore("users", persistent: true, now: Self.now)
        #expect(!clone.master)
        #expect(clone.backend == .sqlite, "persistent turns MEMORY into the persistent default")
        #expect(
            cloneEffects == [.log(Cluster.Info(ts: Self.now, node: "worker-1", message: "created clone store: users"))]
        )
    }

    @Test func createStorePathAndFatalCases() throws {
        var options = Cluster.Options(environment: ["CLUSTER_NODE": "worker-1"])
        options.defaultStoreDir = "/spool/stores/"
        var state = ClusterState(layout: EmbeddedCluster.example, options: options)
        #expect(try state.createStore("a/b", now: Self.now).info.options.sqlite.path == "/spool/stores//a/b.sqlite")
        var elsewhere = Cluster.StoreInfo(options: options)
        elsewhere.masterNode = "nowhere"
        state.configureStore(elsewhere, named: "x")
        let unknown = #expect(throws: Cluster.StoreError.self) { try state.createStore("x", now: Self.now) }
        #expect(unknown?.description == "master node 'nowhere' for cluster store 'x' does not exist")
        var noManager = ClusterState(
            layout: Cluster.Layout(nodes: [EmbeddedCluster.example.nodes[4]]),
            options: options
        )
        let missing = #expect(throws: Cluster.StoreError.self) { try noManager.createStore("y", now: Self.now) }
        #expect(
            missing?.description
                == "empty master node name for cluster store 'y', but there's no manager node to default"
        )
    }

    @Test func createStoreOutsideAClusterWarnsOnDuplicates() throws {
        var state = ClusterState(layout: Cluster.Layout(), options: .standard)
        let first = try state.createStore("s", now: Self.now)
        #expect(first.info.master)
        #expect(first.effects.isEmpty)
        #expect(
            try state.createStore("s", now: Self.now).effects == [.warning("duplicate cluster store creation for s")]
        )
    }

    static func proxyLayout() -> Cluster.Layout {
        Cluster.Layout(
            nodes: ["manager", "proxy-1", "proxy-2"].map { name in
                Cluster.NamedNode(
                    name: name,
                    node: Cluster.Node(nodeType: name == "manager" ? .manager : .proxy, ip: .ipv4Loopback)
                )
            }
        )
    }

    @Test func hrwUsesZeeksFormulaAndTestVectors() throws {
        #expect(HRW.fnv1a32("a") == 3_826_002_220)
        #expect(HRW.fnv1a32("proxy-1.0") == 2_719_221_839)
        #expect(HRW.fnv1a32("proxy-2.0") == 1_703_397_214)
        var state = Self.state(node: "manager", layout: Self.proxyLayout())
        state.registerStandardPools()
        try state.initializePools()
        let pool = state.options.proxyPoolSpec.topic
        #expect(state.pools[pool]?.members.map(\.alias) == ["proxy-1.0", "proxy-2.0"])
        #expect(state.hrwTopic(pool: pool, key: "example.com") == nil, "no site is up yet")
        _ = state.hello(name: "proxy-1", id: "a", now: Self.now)
        _ = state.hello(name: "proxy-2", id: "b", now: Self.now)
        #expect(state.hrwTopic(pool: pool, key: "example.com") == Topic("zeek/cluster/node/proxy-2/"))
        #expect(state.hrwTopic(pool: pool, key: "10.0.0.1") == Topic("zeek/cluster/node/proxy-1/"))
        _ = state.nodeDown(name: "proxy-2", id: "b", now: Self.now)
        #expect(state.hrwTopic(pool: pool, key: "example.com") == Topic("zeek/cluster/node/proxy-1/"))
    }

    /// The HRW table changes in place as nodes come and go; every pick must be the one a table built afresh from
    /// the members that are up gives (Zeek's rule: the highest weight, ties to the larger site id).
    @Test func hrwPicksFollowNodesComingAndGoingInAnyOrder() throws {
        let names = (1...40).map { "proxy-\($0)" }
        let layout = Cluster.Layout(
            nodes: (["manager"] + names).map { name in
                Cluster.NamedNode(
                    name: name,
                    node: Cluster.Node(nodeType: name == "manager" ? .manager : .proxy, ip: .ipv4Loopback)
                )
            }
        )
        var state = Self.state(node: "manager", layout: layout)
        state.registerStandardPools()
        try state.initializePools()
        let topic = state.options.proxyPoolSpec.topic
        let keys = (0..<64).map { "10.1.\($0 / 8).\($0 % 8)" }
        var generator = SystemRandomNumberGenerator()
        var up: Set<String> = []
        for step in 0..<400 {
            let name = names.randomElement(using: &generator) ?? "proxy-1"
            if up.contains(name) {
                _ = state.nodeDown(name: name, id: "id-\(name)", now: Self.now)
                up.remove(name)
            } else {
                _ = state.hello(name: name, id: "id-\(name)", now: Self.now)
                up.insert(name)
            }
            let pool = try #require(state.pools[topic])
            #expect(Set(pool.members.filter(\.alive).map(\.name)) == up)
            let sites = pool.members.filter { up.contains($0.name) }.map(\.siteID)
            #expect(pool.hrwSites == Set(sites))
            // The table changed in place is the one a rebuild makes.
            #expect(pool.hrwTable.sites == sites && pool.hrwTable.firsts == sites.map(HRW.first))
            #expect(pool.hrwTable.members.map { pool.members[$0].siteID } == sites)
            for key in keys {
                let digest = HRW.fnv1a32(key)
                let best = sites.max { a, b in
                    let (weightA, weightB) = (HRW.weight(site: a, digest: digest), HRW.weight(site: b, digest: digest))
                    return weightA != weightB ? weightA < weightB : a < b
                }
                let topicOfBest = best.flatMap { site in pool.members.first { $0.siteID == site }?.topic }
                #expect(pool.hrwTopic(for: key) == topicOfBest, "step \(step), key \(key)")
            }
        }
    }

    @Test func roundRobinWalksAliveMembersPerKey() throws {
        var state = Self.state(node: "proxy-1", layout: Self.proxyLayout())
        state.registerStandardPools()
        try state.initializePools()
        let pool = state.options.proxyPoolSpec.topic
        // Only the local node starts alive.
        #expect(state.roundRobinTopic(pool: pool) == Topic("zeek/cluster/node/proxy-1/"))
        #expect(state.roundRobinTopic(pool: pool) == Topic("zeek/cluster/node/proxy-1/"))
        _ = state.hello(name: "proxy-2", id: "b", now: Self.now)
        #expect(state.roundRobinTopic(pool: pool) == Topic("zeek/cluster/node/proxy-2/"))
        #expect(state.roundRobinTopic(pool: pool) == Topic("zeek/cluster/node/proxy-1/"))
        #expect(state.roundRobinTopic(pool: pool, key: "other") == Topic("zeek/cluster/node/proxy-1/"))
        // Without loggers the manager joins the logger pool (manager_is_logger); until it is up, logs fall back.
        #expect(state.pools[state.options.loggerPoolSpec.topic]?.members.map(\.name) == ["manager"])
        #expect(state.roundRobinLogTopic(for: "Conn::LOG") == Topic("zeek/logs/Conn::LOG"))
        _ = state.hello(name: "manager", id: "m", now: Self.now)
        #expect(state.roundRobinLogTopic(for: "Conn::LOG") == Topic("zeek/cluster/node/manager/"))
    }

    @Test func exclusivePoolsFollowZeeksRules() throws {
        var state = Self.state(layout: Self.proxyLayout())
        state.registerPool(Cluster.PoolSpec(topic: "a", nodeType: .proxy, exclusive: true))
        let missing = #expect(throws: Cluster.PoolError.self) { try state.initializePools() }
        #expect(
            missing?.description == "Cluster::PoolSpec 'max_nodes' field must be set when using the 'exclusive' flag"
        )
        var tooMany = Self.state(layout: Self.proxyLayout())
        tooMany.registerPool(Cluster.PoolSpec(topic: "a", nodeType: .proxy, maxNodes: 3, exclusive: true))
        let need = #expect(throws: Cluster.PoolError.self) { try tooMany.initializePools() }
        #expect(need?.description == "not enough proxy nodes to satisfy pool exclusivity requirements: need 3 nodes")
        var fine = Self.state(layout: Self.proxyLayout())
        fine.registerPool(Cluster.PoolSpec(topic: "b", nodeType: .proxy))
        fine.registerPool(Cluster.PoolSpec(topic: "a", nodeType: .proxy, maxNodes: 1, exclusive: true))
        try fine.initializePools()
        #expect(fine.pools["a"]?.members.map(\.name) == ["proxy-1"])
        #expect(fine.pools["b"]?.members.map(\.name) == ["proxy-2"], "exclusive members leave the eligible list")
        var invalid = Self.state(layout: Self.proxyLayout())
        invalid.registerPool(Cluster.PoolSpec(topic: "c", nodeType: .control))
        #expect(throws: Cluster.PoolError("invalid pool node type: Cluster::CONTROL")) { try invalid.initializePools() }
    }
}

import ClusterKit
import Testing

@Suite struct TopicSchemeTests {
    @Test func brokerNamesEveryTopicAsZeek() {
        let scheme = TopicScheme.broker

        #expect(scheme.nodeTopic("worker-1") == "zeek/cluster/node/worker-1/")
        #expect(scheme.nodeIDTopic("A1B2") == "zeek/cluster/nodeid/A1B2/")
        #expect(scheme.loggerTopic == "zeek/cluster/logger")
        #expect(scheme.managerTopic == "zeek/cluster/manager")
        #expect(scheme.proxyTopic == "zeek/cluster/proxy")
        #expect(scheme.workerTopic == "zeek/cluster/worker")
        #expect(scheme.proxyPoolTopic == "zeek/cluster/pool/proxy")
        #expect(scheme.workerPoolTopic == "zeek/cluster/pool/worker")
        #expect(scheme.loggerPoolTopic == "zeek/cluster/pool/logger")
        #expect(scheme.logTopic(for: "Conn::LOG") == "zeek/logs/Conn::LOG")
        #expect(
            scheme.broadcastTopics == [
                "zeek/cluster/logger", "zeek/cluster/manager", "zeek/cluster/proxy", "zeek/cluster/worker",
            ]
        )
        #expect(scheme.separator == "/")
        #expect(scheme.nodeTopicPrefix == "zeek/cluster/node/")
    }

    @Test func zeroMQNamesEveryTopicAsZeek() {
        let scheme = TopicScheme.zeroMQ

        #expect(scheme.nodeTopic("worker-1") == "zeek.cluster.node.worker-1.")
        #expect(
            scheme.nodeIDTopic("zeromq_manager_host_4711_NAbc") == "zeek.cluster.nodeid.zeromq_manager_host_4711_NAbc."
        )
        #expect(scheme.loggerTopic == "zeek.cluster.logger")
        #expect(scheme.managerTopic == "zeek.cluster.manager")
        #expect(scheme.proxyTopic == "zeek.cluster.proxy")
        #expect(scheme.workerTopic == "zeek.cluster.worker")
        #expect(scheme.proxyPoolTopic == "zeek.cluster.pool.proxy")
        #expect(scheme.workerPoolTopic == "zeek.cluster.pool.worker")
        #expect(scheme.loggerPoolTopic == "zeek.cluster.pool.logger")
        #expect(scheme.logTopic(for: "Conn::LOG") == nil)
        #expect(scheme.separator == ".")
        #expect(scheme.nodeTopicPrefix == "zeek.cluster.node")
    }

    @Test func zeroMQBroadcastTopicsKeepBrokerNames() {
        #expect(TopicScheme.zeroMQ.broadcastTopics == TopicScheme.broker.broadcastTopics)
        #expect(!TopicScheme.zeroMQ.broadcastTopics.contains(TopicScheme.zeroMQ.workerTopic))
    }

    @Test func standaloneNodeTopicHasAnEmptyName() {
        #expect(TopicScheme.broker.nodeTopic("") == "zeek/cluster/node//")
        #expect(TopicScheme.zeroMQ.nodeTopic("") == "zeek.cluster.node..")
    }

    @Test func prefixOptionsFollowEachBackendsFormula() {
        let broker = TopicScheme(backend: .broker, nodeTopicPrefix: "site/node/", nodeIDTopicPrefix: "site/id/")
        let zeroMQ = TopicScheme(backend: .zeroMQ, nodeTopicPrefix: "site.node", nodeIDTopicPrefix: "site.id")

        #expect(broker.nodeTopic("m") == "site/node/m/")
        #expect(broker.nodeIDTopic("i") == "site/id/i/")
        #expect(zeroMQ.nodeTopic("m") == "site.node.m.")
        #expect(zeroMQ.nodeIDTopic("i") == "site.id.i.")
    }

    @Test func copiedSchemeFollowsRedefs() {
        var scheme = TopicScheme.broker
        scheme.managerTopic = "site/manager"

        #expect(scheme.managerTopic == "site/manager")
        #expect(scheme.broadcastTopics.contains("zeek/cluster/manager"))
    }

    @Test(arguments: TopicScheme.Backend.allCases)
    func controlReplyTopicAlwaysUsesSlashes(_ backend: TopicScheme.Backend) {
        let scheme = TopicScheme(backend: backend)

        #expect(
            scheme.controlReplyTopic(response: "Control::id_value_response", node: "worker-1")
                == "zeek/control/id_value_response/worker-1"
        )
        #expect(
            scheme.controlReplyTopic(response: "peer_status_response", node: "manager")
                == "zeek/control/peer_status_response/manager"
        )
        #expect(
            scheme.controlReplyTopic(response: "net_stats_response", node: "") == "zeek/control/net_stats_response/"
        )
    }

    @Test func replyTopicIsAttributedToTheTextAfterTheLastSlash() {
        let scheme = TopicScheme.zeroMQ

        #expect(scheme.controlReplyNode(of: "zeek/control/id_value_response/worker-1") == "worker-1")
        #expect(scheme.controlReplyNode(of: "zeek/control/id_value_response/") == "")
        #expect(scheme.controlReplyNode(of: "zeek/control/A1B2C3") == nil)
        #expect(scheme.controlReplyNode(of: "zeek/controlX/id_value_response/worker-1") == nil)
        #expect(scheme.controlReplyNode(of: "zeek.cluster.node.worker-1.") == nil)

        let reply = ControlReplyTopic("zeek/control/id_value_response/worker-1")
        #expect(reply == ControlReplyTopic(response: "id_value_response", node: "worker-1"))
        #expect(reply?.topic == "zeek/control/id_value_response/worker-1")
    }

    @Test func controlReplyTopicsFallUnderTheControlPrefix() {
        let router = TopicRouter<String>()
        router.subscribe(ControlReplyTopic.prefix, "zeekctl")

        let topic = TopicScheme.zeroMQ.controlReplyTopic(response: "id_value_response", node: "worker-1")
        #expect(router.subscribers(matching: topic) == ["zeekctl"])
    }
}

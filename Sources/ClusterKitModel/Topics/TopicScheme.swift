/// How a Zeek cluster names its topics: Broker's `/`-separated names or the ZeroMQ backend's `.`-separated ones.
///
/// The values are Zeek 8.0's defaults:
///
/// | | ``broker`` | ``zeroMQ`` |
/// | --- | --- | --- |
/// | ``nodeTopic(_:)`` | `zeek/cluster/node/<name>/` | `zeek.cluster.node.<name>.` |
/// | ``nodeIDTopic(_:)`` | `zeek/cluster/nodeid/<id>/` | `zeek.cluster.nodeid.<id>.` |
/// | ``loggerTopic`` | `zeek/cluster/logger` | `zeek.cluster.logger` |
/// | ``managerTopic`` | `zeek/cluster/manager` | `zeek.cluster.manager` |
/// | ``proxyTopic`` | `zeek/cluster/proxy` | `zeek.cluster.proxy` |
/// | ``workerTopic`` | `zeek/cluster/worker` | `zeek.cluster.worker` |
/// | pool topics | `zeek/cluster/pool/{proxy,worker,logger}` | `zeek.cluster.pool.{proxy,worker,logger}` |
/// | ``logTopic(for:)`` | `zeek/logs/<Log::ID>` | none: logs use PUSH/PULL sockets |
/// | ``broadcastTopics`` | the four type topics, `/` names | the same `/` names (see there) |
///
/// The properties are variables so a scheme can follow a cluster's `redef`s: copy a preset and set what
/// the cluster changed. The Control framework's reply topics are not part of a scheme: they always use
/// `/` (see ``ControlReplyTopic``).
public struct TopicScheme: Sendable, Hashable {
    /// The cluster backend whose naming a scheme follows.
    public enum Backend: String, Sendable, Hashable, CaseIterable {
        /// Broker (`Cluster::CLUSTER_BACKEND_BROKER`), the default up to Zeek 8.0.
        case broker
        /// ZeroMQ (`Cluster::CLUSTER_BACKEND_ZEROMQ`), ZeekControl's default from Zeek 8.1.
        case zeroMQ
    }

    /// The backend whose formulas ``nodeTopic(_:)`` and ``nodeIDTopic(_:)`` use.
    public var backend: Backend
    /// The node topic prefix option, as Zeek spells it for this backend.
    ///
    /// Broker: `Cluster::node_topic_prefix`, default `zeek/cluster/node/` (with the trailing `/`);
    /// ZeroMQ: `Cluster::Backend::ZeroMQ::node_topic_prefix`, default `zeek.cluster.node` (without a dot).
    public var nodeTopicPrefix: String
    /// The node id topic prefix option, as Zeek spells it for this backend.
    ///
    /// Broker: `Cluster::nodeid_topic_prefix`, default `zeek/cluster/nodeid/`; ZeroMQ:
    /// `Cluster::Backend::ZeroMQ::nodeid_topic_prefix`, default `zeek.cluster.nodeid`.
    public var nodeIDTopicPrefix: String
    /// `Cluster::logger_topic`, subscribed by every logger.
    public var loggerTopic: Topic
    /// `Cluster::manager_topic`, subscribed by the manager.
    public var managerTopic: Topic
    /// `Cluster::proxy_topic`, subscribed by every proxy.
    public var proxyTopic: Topic
    /// `Cluster::worker_topic`, subscribed by every worker.
    public var workerTopic: Topic
    /// The topic of `Cluster::logger_pool_spec`.
    public var loggerPoolTopic: Topic
    /// The topic of `Cluster::proxy_pool_spec`.
    public var proxyPoolTopic: Topic
    /// The topic of `Cluster::worker_pool_spec`.
    public var workerPoolTopic: Topic
    /// `Cluster::broadcast_topics`: `{logger_topic, manager_topic, proxy_topic, worker_topic}`.
    ///
    /// Under ZeroMQ this still holds the **Broker-style** names (`zeek/cluster/logger`, ...): the const set
    /// is built when Zeek parses `cluster/main.zeek`, before the ZeroMQ backend's `redef`s of the four
    /// topics load. ClusterKit models that, so a ZeroMQ scheme's broadcast topics differ from its
    /// ``loggerTopic`` and friends. (Derived from Zeek's load order; not covered by an upstream test.)
    /// There is deliberately no "all nodes" topic. Zeek's set has no order; this list keeps the order of
    /// the declaration.
    public var broadcastTopics: [Topic]
    /// `Broker::default_log_topic_prefix` (`zeek/logs/`), or `nil` when logs do not travel on topics (ZeroMQ).
    public var logTopicPrefix: Topic?

    /// Broker's names, Zeek 8.0's defaults.
    public static let broker = TopicScheme(backend: .broker)

    /// The ZeroMQ backend's names, Zeek 8.0's defaults (`broadcast_topics` keeps Broker's names).
    public static let zeroMQ = TopicScheme(backend: .zeroMQ)

    /// Creates a backend's scheme, optionally with other node topic prefixes, as a cluster's `redef`s would.
    ///
    /// - Parameters:
    ///   - backend: The backend.
    ///   - nodeTopicPrefix: The backend's node topic prefix option (see ``nodeTopicPrefix``); `nil` for
    ///     Zeek's default.
    ///   - nodeIDTopicPrefix: The backend's node id topic prefix option (see ``nodeIDTopicPrefix``); `nil`
    ///     for Zeek's default.
    public init(backend: Backend, nodeTopicPrefix: String? = nil, nodeIDTopicPrefix: String? = nil) {
        self.backend = backend
        let brokerTypeTopics: [Topic] = [
            "zeek/cluster/logger", "zeek/cluster/manager", "zeek/cluster/proxy", "zeek/cluster/worker",
        ]
        broadcastTopics = brokerTypeTopics
        switch backend {
        case .broker:
            self.nodeTopicPrefix = nodeTopicPrefix ?? "zeek/cluster/node/"
            self.nodeIDTopicPrefix = nodeIDTopicPrefix ?? "zeek/cluster/nodeid/"
            loggerTopic = brokerTypeTopics[0]
            managerTopic = brokerTypeTopics[1]
            proxyTopic = brokerTypeTopics[2]
            workerTopic = brokerTypeTopics[3]
            loggerPoolTopic = "zeek/cluster/pool/logger"
            proxyPoolTopic = "zeek/cluster/pool/proxy"
            workerPoolTopic = "zeek/cluster/pool/worker"
            logTopicPrefix = "zeek/logs/"
        case .zeroMQ:
            self.nodeTopicPrefix = nodeTopicPrefix ?? "zeek.cluster.node"
            self.nodeIDTopicPrefix = nodeIDTopicPrefix ?? "zeek.cluster.nodeid"
            loggerTopic = "zeek.cluster.logger"
            managerTopic = "zeek.cluster.manager"
            proxyTopic = "zeek.cluster.proxy"
            workerTopic = "zeek.cluster.worker"
            loggerPoolTopic = "zeek.cluster.pool.logger"
            proxyPoolTopic = "zeek.cluster.pool.proxy"
            workerPoolTopic = "zeek.cluster.pool.worker"
            logTopicPrefix = nil
        }
    }

    /// The separator the backend's node topics use: `/` for Broker, `.` for ZeroMQ.
    ///
    /// ZeekControl calls this `ClusterTopicSeparator`.
    public var separator: String {
        switch backend {
        case .broker: "/"
        case .zeroMQ: "."
        }
    }

    /// `Cluster::node_topic(name)`: the topic only the named node subscribes to.
    ///
    /// Broker: `node_topic_prefix + name + "/"`; ZeroMQ: `node_topic_prefix + "." + name + "."`.
    ///
    /// - Parameter name: The node name, such as `worker-1`; a standalone process has `""`.
    /// - Returns: The node's topic, such as `zeek/cluster/node/worker-1/`.
    public func nodeTopic(_ name: String) -> Topic {
        switch backend {
        case .broker: Topic(nodeTopicPrefix + name + "/")
        case .zeroMQ: Topic(nodeTopicPrefix + "." + name + ".")
        }
    }

    /// `Cluster::nodeid_topic(id)`: the topic of one running node process, by its node id.
    ///
    /// Broker: `nodeid_topic_prefix + id + "/"`; ZeroMQ: `nodeid_topic_prefix + "." + id + "."`.
    ///
    /// - Parameter id: The node id (Broker endpoint id, or ZeroMQ's `zeromq_<node>_<host>_<pid>_<uid>`).
    /// - Returns: The node id's topic.
    public func nodeIDTopic(_ id: String) -> Topic {
        switch backend {
        case .broker: Topic(nodeIDTopicPrefix + id + "/")
        case .zeroMQ: Topic(nodeIDTopicPrefix + "." + id + ".")
        }
    }

    /// The node id in a ``nodeIDTopic(_:)``, or `nil` when `topic` is not one of this scheme's node id topics.
    ///
    /// What Zeek's ZeroMQ backend does with an observed subscription (`topic[|prefix|:][:-1]`): strip the prefix
    /// and the trailing separator; an empty id is not one.
    ///
    /// - Parameter topic: A topic, such as `zeek/cluster/nodeid/4f1c…/`.
    /// - Returns: The id, such as `4f1c…`.
    public func nodeID(inNodeIDTopic topic: Topic) -> String? {
        let prefix = backend == .broker ? nodeIDTopicPrefix : nodeIDTopicPrefix + "."
        let name = topic.name
        guard name.hasPrefix(prefix), name.hasSuffix(separator) else { return nil }
        let id = name.dropFirst(prefix.count).dropLast(separator.count)
        guard !id.isEmpty, !id.contains(separator) else { return nil }
        return String(id)
    }

    /// The topic every node of a type subscribes to (`Cluster::worker_topic` for a worker, ...), or `nil` for a
    /// type without one (`NONE`, `TIME_MACHINE`).
    ///
    /// - Parameter type: The node type.
    /// - Returns: The type's topic.
    public func typeTopic(for type: Cluster.NodeType) -> Topic? {
        switch type {
        case .logger: loggerTopic
        case .manager: managerTopic
        case .proxy: proxyTopic
        case .worker: workerTopic
        case .none, .control, .timeMachine: nil
        }
    }

    /// `Broker::default_log_topic(id, path)`: the topic of log writes when no logger is alive.
    ///
    /// With round-robin logging (Zeek's default) a log write goes to a live logger's ``nodeTopic(_:)``;
    /// this topic is the fallback. The ZeroMQ backend sends logs over PUSH/PULL sockets, without a topic.
    ///
    /// - Parameter logID: The stream id as Zeek prints it, such as `Conn::LOG`.
    /// - Returns: `zeek/logs/<logID>` for Broker, `nil` for ZeroMQ.
    public func logTopic(for logID: String) -> Topic? {
        logTopicPrefix?.appending(logID)
    }

    /// The topic a Control framework controllee replies on; the same for every backend.
    ///
    /// - Parameters:
    ///   - response: The response event, short (`id_value_response`) or qualified
    ///     (`Control::id_value_response`).
    ///   - node: The replying node's `Cluster::node`; `""` for a standalone process.
    /// - Returns: `zeek/control/<response>/<node>`, always with `/`.
    public func controlReplyTopic(response: String, node: String) -> Topic {
        ControlReplyTopic(response: response, node: node).topic
    }

    /// The node a Control framework reply topic comes from: the text after its last `/`.
    ///
    /// - Parameter topic: A topic such as `zeek/control/id_value_response/worker-1`.
    /// - Returns: The node name (`""` for a standalone process), or `nil` when `topic` is not a reply topic.
    public func controlReplyNode(of topic: Topic) -> String? {
        ControlReplyTopic(topic)?.node
    }
}

/// A Control framework reply topic, `zeek/control/<response short name>/<node>`.
///
/// A controllee publishes each response on `Control::topic_prefix + "/<response>/" + Cluster::node`. The
/// separator is `/` under every backend, ZeroMQ included; a standalone process has `Cluster::node == ""`,
/// so its topic ends in `/`. A client subscribes to ``prefix`` and attributes each reply to the node named
/// after the last `/`.
public struct ControlReplyTopic: Sendable, Hashable {
    /// `Control::topic_prefix`, `zeek/control`.
    public static let prefix: Topic = "zeek/control"

    /// The response event's short name, such as `id_value_response`.
    public var response: String
    /// The replying node's name; `""` for a standalone process.
    public var node: String

    /// Creates a reply topic for a response and a node.
    ///
    /// - Parameters:
    ///   - response: The response event, short or qualified; a `Module::` qualifier is dropped.
    ///   - node: The replying node's name.
    public init(response: String, node: String) {
        let bytes = Array(response.utf8)
        var start = 0
        for index in stride(from: bytes.count - 2, through: 0, by: -1)
        where bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: ":") {
            start = index + 2
            break
        }
        self.response = String(decoding: bytes[start...], as: UTF8.self)
        self.node = node
    }

    /// Reads a reply topic; `nil` unless it is `zeek/control/<response>/<node>`.
    ///
    /// The node is the text after the **last** `/`, the response what lies between the prefix and it.
    /// `zeek/control/<Broker node id>`, a controllee's request topic, has no second `/` and is not a reply.
    ///
    /// - Parameter topic: The topic a reply arrived on.
    public init?(_ topic: Topic) {
        let bytes = Array(topic.name.utf8)
        let prefix = Array(Self.prefix.name.utf8) + [UInt8(ascii: "/")]
        guard bytes.starts(with: prefix), let slash = bytes.lastIndex(of: UInt8(ascii: "/")), slash > prefix.count
        else { return nil }
        response = String(decoding: bytes[prefix.count..<slash], as: UTF8.self)
        node = String(decoding: bytes[(slash + 1)...], as: UTF8.self)
    }

    /// The topic, `zeek/control/<response>/<node>`.
    public var topic: Topic {
        Topic("\(Self.prefix.name)/\(response)/\(node)")
    }
}

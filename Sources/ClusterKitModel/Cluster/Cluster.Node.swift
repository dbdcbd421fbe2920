extension Cluster {
    /// Zeek's `Cluster::Node`: one entry of `Cluster::nodes`.
    ///
    /// The first seven fields are Zeek 8's record in declaration order. The legacy fields (Bro 2.x and Zeek up
    /// to 7.0) are kept so that old layouts can be read and checked; they are not part of Zeek 8's record, so
    /// the Broker form carries them only when one is set, after the seven current fields (Zeek ignores extra
    /// trailing elements).
    public struct Node: BrokerRecord, Sendable, Hashable {
        /// The node's role.
        public var nodeType: NodeType
        /// The node's IP address.
        public var ip: Broker.Address
        /// An RFC 4007 zone for a link-local IPv6 address (unused since Bro 2.6); default `""`.
        public var zoneID: String
        /// The port the node listens on for peers; default `0/unknown` (does not listen).
        public var p: Broker.Port
        /// The manager this node uses (proxies and workers).
        public var manager: String?
        /// The backend's id for the node while it is connected.
        public var id: String?
        /// The Prometheus metrics port (Zeek 7.0+).
        public var metricsPort: Broker.Port?
        /// Legacy: the capture interface (workers; removed in Zeek 7.1).
        public var interface: String?
        /// Legacy: the proxy a worker uses (Bro ≤ 2.5).
        public var proxy: String?
        /// Legacy: the logger a node uses (Bro 2.5).
        public var logger: String?
        /// Legacy: the workers of a manager or proxy (Bro ≤ 2.5).
        public var workers: Set<String>?
        /// Legacy: the Time Machine a node uses (removed in Zeek 7.1).
        public var timeMachine: String?
        /// Legacy: a BPF filter from `policy/misc/load-balancing` (Bro 2.2 – Zeek 7.0, run time only).
        public var lbFilter: String?

        /// Creates a node.
        ///
        /// - Parameters:
        ///   - nodeType: The role.
        ///   - ip: The address.
        ///   - zoneID: The IPv6 zone (unused).
        ///   - p: The listen port.
        ///   - manager: The manager's name.
        ///   - id: The backend id while connected.
        ///   - metricsPort: The metrics port.
        ///   - interface: Legacy capture interface.
        ///   - proxy: Legacy proxy name.
        ///   - logger: Legacy logger name.
        ///   - workers: Legacy worker names.
        ///   - timeMachine: Legacy Time Machine name.
        ///   - lbFilter: Legacy load-balancing filter.
        public init(
            nodeType: NodeType,
            ip: Broker.Address,
            zoneID: String = "",
            p: Broker.Port = .unset,
            manager: String? = nil,
            id: String? = nil,
            metricsPort: Broker.Port? = nil,
            interface: String? = nil,
            proxy: String? = nil,
            logger: String? = nil,
            workers: Set<String>? = nil,
            timeMachine: String? = nil,
            lbFilter: String? = nil
        ) {
            self.nodeType = nodeType
            self.ip = ip
            self.zoneID = zoneID
            self.p = p
            self.manager = manager
            self.id = id
            self.metricsPort = metricsPort
            self.interface = interface
            self.proxy = proxy
            self.logger = logger
            self.workers = workers
            self.timeMachine = timeMachine
            self.lbFilter = lbFilter
        }

        /// `Cluster::Node`.
        public static let zeekTypeName = "Cluster::Node"
        /// Zeek 8's fields in declaration order (the legacy fields follow only when set).
        public static let fieldNames = ["node_type", "ip", "zone_id", "p", "manager", "id", "metrics_port"]
        /// The legacy fields, in the order ClusterKit appends them.
        public static let legacyFieldNames = ["interface", "proxy", "logger", "workers", "time_machine", "lb_filter"]

        /// A Boolean value indicating whether any legacy field is set.
        public var hasLegacyFields: Bool {
            interface != nil || proxy != nil || logger != nil || workers != nil || timeMachine != nil
                || lbFilter != nil
        }

        /// Reads the fields in order, and the legacy fields when the vector carries them.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(
                nodeType: try record.required(),
                ip: try record.required(),
                zoneID: try record.withDefault(""),
                p: try record.withDefault(.unset),
                manager: try record.optional(),
                id: try record.optional(),
                metricsPort: try record.optional()
            )
            // Trailing elements are ClusterKit's legacy fields only if all six fit; otherwise they are extra
            // fields from a newer Zeek, which Zeek's rule says to ignore.
            guard
                var legacy = try? Broker.RecordReader(
                    .vector(Array(record.remaining.prefix(Self.legacyFieldNames.count))),
                    typeName: Self.zeekTypeName,
                    fieldNames: Self.legacyFieldNames
                )
            else { return }
            do {
                let interface: String? = try legacy.optional()
                let proxy: String? = try legacy.optional()
                let logger: String? = try legacy.optional()
                let workers: Set<String>? = try legacy.optional()
                let timeMachine: String? = try legacy.optional()
                let lbFilter: String? = try legacy.optional()
                (self.interface, self.proxy, self.logger) = (interface, proxy, logger)
                (self.workers, self.timeMachine, self.lbFilter) = (workers, timeMachine, lbFilter)
            } catch {
                return
            }
        }

        /// The field values in declaration order, then the legacy fields when one is set.
        public var fieldValues: [Broker.Value] {
            var values: [Broker.Value] = [
                nodeType.brokerValue, ip.brokerValue, zoneID.brokerValue, p.brokerValue,
                manager?.brokerValue ?? .none, id?.brokerValue ?? .none, metricsPort?.brokerValue ?? .none,
            ]
            if hasLegacyFields {
                values += [
                    interface?.brokerValue ?? .none, proxy?.brokerValue ?? .none, logger?.brokerValue ?? .none,
                    workers?.brokerValue ?? .none, timeMachine?.brokerValue ?? .none, lbFilter?.brokerValue ?? .none,
                ]
            }
            return values
        }
    }

    /// Zeek's `Cluster::NamedNode`: a node with its name.
    public struct NamedNode: BrokerRecord, Sendable, Hashable {
        /// The node's name, the key in `Cluster::nodes`.
        public var name: String
        /// The node.
        public var node: Node

        /// Creates a named node.
        ///
        /// - Parameters:
        ///   - name: The name.
        ///   - node: The node.
        public init(name: String, node: Node) {
            self.name = name
            self.node = node
        }

        /// `Cluster::NamedNode`.
        public static let zeekTypeName = "Cluster::NamedNode"
        /// The fields in declaration order.
        public static let fieldNames = ["name", "node"]

        /// Reads the fields in order.
        ///
        /// - Parameter record: The reader.
        /// - Throws: ``Broker/ConversionError``.
        public init(reading record: inout Broker.RecordReader) throws {
            self.init(name: try record.required(), node: try record.required())
        }

        /// The field values in declaration order.
        public var fieldValues: [Broker.Value] { [name.brokerValue, node.brokerValue] }
    }
}

extension Cluster {
    /// A cluster layout as Zeek sees it: `Cluster::nodes` and `Cluster::manager_is_logger`.
    ///
    /// Nodes keep their order (ZeekControl's order for generated layouts, file order for read ones). Names
    /// are expected to be unique; a layout read from a file may still hold duplicates so that the validator
    /// can report them, and lookups by name then find the first.
    public struct Layout: Sendable, Hashable {
        /// The nodes in order.
        public private(set) var nodes: [NamedNode]
        /// `Cluster::manager_is_logger`; Zeek's default is `true`.
        public var managerIsLogger: Bool
        private var positions: [String: Int]

        /// Creates a layout.
        ///
        /// - Parameters:
        ///   - nodes: The nodes in order.
        ///   - managerIsLogger: Whether the manager writes the logs.
        public init(nodes: [NamedNode] = [], managerIsLogger: Bool = true) {
            self.nodes = []
            self.managerIsLogger = managerIsLogger
            self.positions = [:]
            for node in nodes { append(node) }
        }

        /// Appends a node; a repeated name is kept but lookups keep finding the first.
        ///
        /// - Parameter node: The node.
        public mutating func append(_ node: NamedNode) {
            if positions[node.name] == nil { positions[node.name] = nodes.count }
            nodes.append(node)
        }

        /// Sets a node's record, adding it when the name is new.
        ///
        /// - Parameters:
        ///   - name: The node's name.
        ///   - node: The record.
        public mutating func set(_ name: String, _ node: Node) {
            if let position = positions[name] {
                nodes[position].node = node
            } else {
                append(NamedNode(name: name, node: node))
            }
        }

        /// The node with a name, or `nil`.
        ///
        /// - Parameter name: The node's name.
        public subscript(name: String) -> Node? {
            positions[name].map { nodes[$0].node }
        }

        /// The node names in order.
        public var names: [String] { nodes.map(\.name) }

        /// The nodes of one type, sorted by name (Zeek's `nodes_with_type`, `strcmp` order).
        ///
        /// - Parameter type: The node type.
        /// - Returns: The matching nodes.
        public func nodes(ofType type: NodeType) -> [NamedNode] {
            nodes.filter { $0.node.nodeType == type }.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        }

        /// The `Cluster::nodes` table as a Broker value: node name to `Cluster::Node`.
        public var brokerValue: Broker.Value {
            .table(Broker.ValueTable(nodes.map { (key: .string($0.name), value: $0.node.brokerValue) }))
        }
    }
}

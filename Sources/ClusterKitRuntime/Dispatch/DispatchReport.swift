import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// The outcome of dispatching one action to a set of nodes: one entry per node, plus errors that belong to
/// no node (`no cluster deployed`, a controller's `request timed out`).
public struct DispatchReport: Sendable, Hashable {
    /// One node's outcome.
    public struct Entry: Sendable, Hashable {
        /// The node's name.
        public var node: String
        /// The node's type, when known.
        public var nodeType: Cluster.NodeType?
        /// What the node did.
        public var outcome: NodeOutcome

        /// Creates an entry.
        ///
        /// - Parameters:
        ///   - node: The node's name.
        ///   - nodeType: The node's type.
        ///   - outcome: What it did.
        public init(node: String, nodeType: Cluster.NodeType? = nil, outcome: NodeOutcome) {
            self.node = node
            self.nodeType = nodeType
            self.outcome = outcome
        }
    }

    /// Nodes with the same value, for a grouped view.
    public struct Group: Sendable, Hashable {
        /// The shared outcome.
        public var outcome: NodeOutcome
        /// The nodes, in report order.
        public var nodes: [String]
    }

    /// The per-node entries, in ZeekControl's order (by type: standalone, logger, manager, proxy, worker;
    /// then by position in the layout).
    public var entries: [Entry]
    /// Errors that belong to no node.
    public var errors: [String]
    /// How the values are encoded: `to_json` text (Management) or `fmt("%s")` text (Control).
    public var valueEncoding: ValueEncoding

    /// How replied values are written.
    public enum ValueEncoding: Sendable, Hashable {
        /// JSON text from Zeek's `to_json()`.
        case json
        /// Plain text from `fmt("%s")`.
        case text
    }

    /// Creates a report, putting entries in ZeekControl's order.
    ///
    /// - Parameters:
    ///   - entries: The per-node entries; nodes of the same type keep their relative order.
    ///   - errors: Errors that belong to no node.
    ///   - valueEncoding: How values are encoded.
    public init(entries: [Entry], errors: [String] = [], valueEncoding: ValueEncoding = .json) {
        self.entries = entries.enumerated().sorted { lhs, rhs in
            let left = lhs.element.nodeType?.zeekctlRank ?? Int.max
            let right = rhs.element.nodeType?.zeekctlRank ?? Int.max
            return (left, lhs.offset) < (right, rhs.offset)
        }.map(\.element)
        self.errors = errors
        self.valueEncoding = valueEncoding
    }

    /// The overall result.
    public var summary: DispatchSummary {
        let replied = entries.filter(\.outcome.isReplied).count
        if replied == 0 { return .noneReplied }
        return replied == entries.count && errors.isEmpty ? .allReplied : .partial
    }

    /// The outcome of a node, or `nil` when it is not in the report.
    ///
    /// - Parameter node: The node's name.
    public subscript(node: String) -> NodeOutcome? {
        entries.first { $0.node == node }?.outcome
    }

    /// Nodes folded by equal outcome, in order of first appearance.
    public var grouped: [Group] {
        var groups: [Group] = []
        var positions: [NodeOutcome: Int] = [:]
        for entry in entries {
            if let position = positions[entry.outcome] {
                groups[position].nodes.append(entry.node)
            } else {
                positions[entry.outcome] = groups.count
                groups.append(Group(outcome: entry.outcome, nodes: [entry.node]))
            }
        }
        return groups
    }

    /// The report in the shape `zeek-client get-id-value` prints:
    /// `{"errors": [{"source": NODE_OR_NULL, "error": TEXT}], "results": {NODE: VALUE}}`.
    ///
    /// JSON values are parsed (a value that is not JSON becomes the error `JSON decode error: …`, as in
    /// `zeek-client`); text values are strings. Write it with `.python(indent: 2, sortKeys: true)` to get
    /// `zeek-client`'s exact text.
    public var zeekClientDocument: JSONValue {
        var errorList: [JSONValue] = errors.map { .object(["source": nil, "error": .string($0)]) }
        var results: [JSONValue.Member] = []
        for entry in entries {
            switch entry.outcome {
            case .replied(let text):
                switch valueEncoding {
                case .text: results.append(JSONValue.Member(entry.node, .string(text)))
                case .json:
                    do {
                        results.append(JSONValue.Member(entry.node, try JSONValue.parse(text)))
                    } catch let error as JSONError {
                        errorList.append(
                            .object(["source": .string(entry.node), "error": .string("JSON decode error: \(error)")])
                        )
                    } catch {
                        errorList.append(.object(["source": .string(entry.node), "error": .string("\(error)")]))
                    }
                }
            default:
                let text = entry.outcome.errorText(node: entry.node) ?? ""
                errorList.append(.object(["source": .string(entry.node), "error": .string(text)]))
            }
        }
        return .object(["errors": .array(errorList), "results": .object(results)])
    }
}

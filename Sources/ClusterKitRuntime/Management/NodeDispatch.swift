import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// What a Zeek cluster node does with `Management::Node::API::node_dispatch_request`, as a pure function.
///
/// Mirrors `policy/frameworks/management/node/main.zeek`: requests naming other nodes are ignored; the
/// result carries the request id and `Cluster::node`; actions come from a table that starts with
/// `get_id_value`.
public struct NodeDispatch: Sendable {
    /// One dispatch action: its arguments (the action vector after the action name) and the registry, to a
    /// filled-in result.
    public typealias Action =
        @Sendable (_ arguments: [String], _ registry: IDRegistry, _ result: inout Management.Result) -> Void

    /// The node's name (`Cluster::node`).
    public var nodeName: String
    /// The action table, by action name.
    public var actions: [String: Action]

    /// Creates the dispatcher of one node with Zeek's action table.
    ///
    /// - Parameter nodeName: The node's name.
    public init(nodeName: String) {
        self.nodeName = nodeName
        self.actions = ["get_id_value": Self.getIDValue]
    }

    /// Zeek's `dispatch_get_id_value`: `to_json` of the identifier's value, or `unknown id` / `no ID value`.
    public static let getIDValue: Action = { arguments, registry, result in
        guard let id = arguments.first else {
            result.success = false
            result.error = "get_id_value expects name of global identifier"
            return
        }
        switch registry.lookup(id) {
        case .value(let value): result.data = .string(value.json)
        case .noValue:
            result.success = false
            result.error = "no ID value"
        case .unknown:
            result.success = false
            result.error = "unknown id"
        }
    }

    /// Answers one request as the node would.
    ///
    /// - Parameters:
    ///   - reqid: The request id.
    ///   - action: The action vector, such as `["get_id_value", "Cluster::node"]`.
    ///   - nodes: The nodes the request is for; empty means all.
    ///   - registry: The node's identifiers.
    /// - Returns: The result to send back, or `nil` when the request is for other nodes.
    public func respond(
        reqid: String,
        action: [String],
        nodes: Set<String>,
        registry: IDRegistry
    ) -> Management.Result? {
        if !nodes.isEmpty && !nodes.contains(nodeName) { return nil }
        var result = Management.Result(reqid: reqid, node: nodeName)
        guard let name = action.first else {
            result.success = false
            result.error = "no dispatch arguments provided"
            return result
        }
        guard let handler = actions[name] else {
            result.success = false
            result.error = "dispatch \(name) unknown"
            return result
        }
        handler(Array(action.dropFirst()), registry, &result)
        return result
    }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Something a request waits to hear from: a cluster node, possibly on a named instance, or an instance.
///
/// A Management controller's request waits for instances (agents); an agent's for the nodes it runs;
/// a Control framework dispatch for nodes.
public enum RequestTarget: Sendable, Hashable {
    /// A cluster node by name, with the instance (agent) it runs on when known.
    case node(String, instance: String? = nil)
    /// A Management instance (an agent) by name.
    case instance(String)
}

extension RequestTarget: CustomStringConvertible {
    /// The target for people: `worker-1`, `worker-1 (instance 'agent-1')` or `instance 'agent-1'`.
    public var description: String {
        switch self {
        case .node(let name, nil): name
        case .node(let name, let instance?): "\(name) (instance '\(instance)')"
        case .instance(let name): "instance '\(name)'"
        }
    }
}

extension [RequestTarget] {
    /// The targets for people, nodes grouped by instance in order of first appearance.
    ///
    /// `worker-1, worker-2 (instance 'agent-1'); worker-3 (instance 'agent-2'); instances 'agent-3', 'agent-4'`.
    var listedForPeople: String {
        var groups: [(instance: String?, nodes: [String])] = []
        var instances: [String] = []
        for target in self {
            switch target {
            case .node(let name, let instance):
                if let index = groups.firstIndex(where: { $0.instance == instance }) {
                    groups[index].nodes.append(name)
                } else {
                    groups.append((instance, [name]))
                }
            case .instance(let name):
                instances.append(name)
            }
        }
        var parts = groups.map { group in
            let nodes = group.nodes.joined(separator: ", ")
            guard let instance = group.instance else { return nodes }
            return "\(nodes) (instance '\(instance)')"
        }
        if !instances.isEmpty {
            let names = instances.map { "'\($0)'" }.joined(separator: ", ")
            parts.append((instances.count == 1 ? "instance " : "instances ") + names)
        }
        return parts.joined(separator: "; ")
    }
}

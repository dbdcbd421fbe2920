public import ClusterKitModel

extension ManagementINI {
    /// A configuration in INI form, byte for byte as `zeek-client get-config` writes it.
    ///
    /// `[instances]` first (sorted by name; `name` alone, or `name = host:port` with IPv6 hosts unbracketed),
    /// then one section per node sorted by name with the keys `instance`, `role` (upper case), `port`,
    /// `scripts`, `interface`, `cpu_affinity`, `env`, `metrics_port`; unset keys are left out; `env` is sorted
    /// by key and values with white space are double-quoted, as are such scripts. Every section ends with an
    /// empty line (Python's `ConfigParser.write`).
    ///
    /// - Parameter configuration: The configuration.
    /// - Returns: The INI text.
    public static func text(of configuration: Management.Configuration) -> String {
        var text = ""
        if !configuration.instances.isEmpty {
            text += "[instances]\n"
            for instance in configuration.instances.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) })
            {
                if let port = instance.listenPort {
                    text += "\(instance.name) = \(instance.host):\(port.number)\n"
                } else {
                    text += "\(instance.name)\n"
                }
            }
            text += "\n"
        }
        for node in configuration.nodes.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            text += "[\(node.name)]\n"
            text += "instance = \(node.instance)\n"
            text += "role = \(node.role.shortName)\n"
            if let port = node.p { text += "port = \(port.number)\n" }
            if let scripts = node.scripts, !scripts.isEmpty {
                let words = scripts.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map(quotedIfSpaced)
                text += "scripts = \(words.joined(separator: " "))\n"
            }
            if let interface = node.interface { text += "interface = \(interface)\n" }
            if let cpu = node.cpuAffinity { text += "cpu_affinity = \(cpu)\n" }
            if !node.env.isEmpty {
                let items = node.env.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                text += "env = " + items.map { "\($0.key)=\(quotedIfSpaced($0.value))" }.joined(separator: " ") + "\n"
            }
            if let metrics = node.metricsPort { text += "metrics_port = \(metrics.number)\n" }
            text += "\n"
        }
        return text
    }

    private static func quotedIfSpaced(_ value: String) -> String {
        TextLines.splitOnSpace(Substring(value)).count > 1 ? "\"\(value)\"" : value
    }

    /// A configuration in `zeek-client`'s JSON form (`to_json_data`), before `json.dumps`.
    ///
    /// Instances and nodes are sorted by name. An instance has `name`, plus `host` and `port` when it has
    /// a listen port (or only `host` when the host is not `0.0.0.0`). Node fields are `name`, `instance`,
    /// `role`, `port`, `scripts`, `options`, `interface`, `cpu_affinity`, `env`, `metrics_port`, unset ones
    /// `null`. Write it with ``JSONValue/Style/python(indent:sortKeys:)`` and sorted keys.
    ///
    /// - Parameters:
    ///   - configuration: The configuration.
    ///   - instancePortsAsText: Whether instance ports are strings, as in `zeek-client`'s parse of a local
    ///     INI file (`"2151"`), rather than integers, as in data received from a controller.
    /// - Returns: The JSON value.
    public static func json(of configuration: Management.Configuration, instancePortsAsText: Bool) -> JSONValue {
        let instances: [JSONValue] = configuration.instances
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            .map { instance in
                if let port = instance.listenPort {
                    let portValue: JSONValue =
                        instancePortsAsText ? .string(String(port.number)) : .integer(Int64(port.number))
                    return .object([
                        "name": .string(instance.name), "host": .string(instance.host.description), "port": portValue,
                    ])
                }
                if instance.host != .ipv4Unspecified {
                    return .object(["name": .string(instance.name), "host": .string(instance.host.description)])
                }
                return .object(["name": .string(instance.name)])
            }
        let nodes: [JSONValue] = configuration.nodes
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            .map { node in
                .object([
                    "name": .string(node.name),
                    "instance": .string(node.instance),
                    "role": .string(node.role.shortName),
                    "port": node.p.map { .integer(Int64($0.number)) } ?? .null,
                    "scripts": node.scripts.map { .array($0.map(JSONValue.string)) } ?? .null,
                    "options": .null,
                    "interface": node.interface.map(JSONValue.string) ?? .null,
                    "cpu_affinity": node.cpuAffinity.map { .integer(Int64($0)) } ?? .null,
                    "env": .object(
                        node.env.sorted { $0.key < $1.key }.map { JSONValue.Member($0.key, .string($0.value)) }
                    ),
                    "metrics_port": node.metricsPort.map { .integer(Int64($0.number)) } ?? .null,
                ])
            }
        return .object(["id": .string(configuration.id), "instances": .array(instances), "nodes": .array(nodes)])
    }
}

extension Supervisor.ClusterRole {
    /// The role without its module: `MANAGER`, as `zeek-client` prints it.
    public var shortName: String {
        String(rawValue.dropFirst("Supervisor::".count))
    }
}

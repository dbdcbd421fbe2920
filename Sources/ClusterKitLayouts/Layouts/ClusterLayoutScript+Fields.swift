import ClusterKitModel

extension ClusterLayoutScript.Reader {
    mutating func makeNode(
        name: String,
        fields: [(name: String, value: String, line: Int)],
        location: SourceLocation
    ) -> Cluster.Node? {
        var nodeType: Cluster.NodeType?
        var address: Broker.Address?
        var hasAddressField = false
        var node = Cluster.Node(nodeType: .none, ip: .ipv4Unspecified)
        for field in fields {
            let fieldLocation = SourceLocation(file: file, line: field.line)
            func unevaluable(_ what: String = "") {
                issues.append(
                    .error(
                        .unevaluableExpression,
                        "$\(field.name) of node '\(name)' is '\(field.value)', which cannot be evaluated "
                            + "without running Zeek\(what)",
                        at: fieldLocation,
                        node: name,
                        key: field.name
                    )
                )
            }
            func string() -> String? {
                guard let text = Self.stringValue(field.value) else {
                    unevaluable()
                    return nil
                }
                return text
            }
            if let removedIn = ClusterLayoutScript.legacyFields[field.name], !isBro {
                issues.append(
                    .warning(
                        .legacyField,
                        "$\(field.name) of node '\(name)' is kept, but Cluster::Node has no such field since "
                            + removedIn,
                        at: fieldLocation,
                        node: name,
                        key: field.name
                    )
                )
            }
            switch field.name {
            case "node_type":
                if let type = Self.nodeType(field.value) {
                    nodeType = type
                } else {
                    issues.append(
                        .error(
                            .invalidValue,
                            "$node_type of node '\(name)' is '\(field.value)', not a Cluster::NodeType",
                            at: fieldLocation,
                            node: name,
                            key: "node_type"
                        )
                    )
                }
            case "node_roles":
                let roles = Self.setElements(field.value) ?? []
                if nodeType == nil, let first = roles.first { nodeType = Self.nodeType(first) }
            case "ip":
                hasAddressField = true
                if let parsed = Self.address(field.value) {
                    address = parsed
                } else if let host = Self.hostReference(field.value) {
                    nodeHosts[name] = host
                    if let known = hosts[host] {
                        address = known
                    } else {
                        issues.append(
                            .error(
                                .invalidValue,
                                "$ip of node '\(name)' is '\(field.value)', but Cluster::hosts has no host '\(host)'",
                                at: fieldLocation,
                                node: name,
                                key: "ip"
                            )
                        )
                    }
                } else if field.value.contains("(") || field.value.contains("getenv") {
                    unevaluable()
                } else {
                    issues.append(
                        .error(
                            .invalidValue,
                            "$ip of node '\(name)' is '\(field.value)', not an IP address",
                            at: fieldLocation,
                            node: name,
                            key: "ip"
                        )
                    )
                }
            case "p", "metrics_port":
                if let port = Broker.Port.zeekLiteral(field.value) {
                    if field.name == "p" { node.p = port } else { node.metricsPort = port }
                } else {
                    if field.name == "p" { unevaluatedPorts.insert(name) }
                    unevaluable()
                }
            case "zone_id": node.zoneID = string() ?? ""
            case "manager": node.manager = string()
            case "id": node.id = string()
            case "interface": node.interface = string()
            case "proxy", "datanode": node.proxy = string()
            case "logger": node.logger = string()
            case "time_machine": node.timeMachine = string()
            case "lb_filter": node.lbFilter = string()
            case "workers", "datanodes":
                if let elements = Self.setElements(field.value) {
                    node.workers = Set(elements.compactMap { Self.stringValue($0) })
                } else {
                    unevaluable()
                }
            default:
                issues.append(
                    .warning(
                        .unknownField,
                        "$\(field.name) of node '\(name)' is not a field of any Cluster::Node version; ignored",
                        at: fieldLocation,
                        node: name,
                        key: field.name
                    )
                )
            }
        }
        guard let nodeType else {
            if !fields.contains(where: { $0.name == "node_type" }) {
                issues.append(
                    .error(
                        .missingField,
                        "node '\(name)' has no $node_type",
                        at: location,
                        node: name,
                        key: "node_type"
                    )
                )
            }
            return nil
        }
        node.nodeType = nodeType
        if !hasAddressField {
            issues.append(.error(.missingField, "node '\(name)' has no $ip", at: location, node: name, key: "ip"))
        }
        node.ip = address ?? .ipv4Unspecified
        return node
    }

    /// `HOST` of `hosts["HOST"]$ip` (or `Cluster::hosts[...]`), or `nil`.
    static func hostReference(_ text: String) -> String? {
        var rest = Substring(text)
        if rest.hasPrefix("Cluster::") { rest = rest.dropFirst("Cluster::".count) }
        guard rest.hasPrefix("hosts["), rest.hasSuffix("]$ip") else { return nil }
        return stringValue(String(rest.dropFirst("hosts[".count).dropLast("]$ip".count)))
    }

    static func stringValue(_ text: String) -> String? {
        var reader = ClusterLayoutScript.Reader(bytes: Array(text.utf8), file: "", isBro: false)
        guard let value = reader.stringLiteral(), reader.atEnd else { return nil }
        return value
    }

    static func nodeType(_ text: String) -> Cluster.NodeType? {
        Cluster.NodeType(rawValue: text)
    }

    static func address(_ text: String) -> Broker.Address? {
        if text.hasPrefix("[") && text.hasSuffix("]") {
            return Broker.Address(String(text.dropFirst().dropLast()))
        }
        guard let address = Broker.Address(text), address.isIPv4 else { return nil }
        return address
    }

    /// The elements of `set(a, b, ...)`, or `nil` when the text is not such a constructor.
    static func setElements(_ text: String) -> [String]? {
        guard text.hasPrefix("set("), text.hasSuffix(")") else { return nil }
        let body = text.dropFirst(4).dropLast()
        var elements: [String] = []
        var currentElement = ""
        var inString = false
        var escaped = false
        for character in body {
            if inString {
                currentElement.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
                continue
            }
            if character == "\"" { inString = true }
            if character == "," {
                elements.append(currentElement.trimmingSpaces())
                currentElement = ""
                continue
            }
            currentElement.append(character)
        }
        let last = currentElement.trimmingSpaces()
        if !last.isEmpty { elements.append(last) }
        return elements
    }
}

extension Broker.Port {
    /// Parses a Zeek port literal: `<number>/tcp`, `/udp`, `/icmp` or `/unknown`; `nil` for anything else.
    static func zeekLiteral(_ text: String) -> Broker.Port? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 5, parts[0].allSatisfy(\.isASCIIDigit),
            let number = UInt16(parts[0])
        else { return nil }
        switch parts[1] {
        case "tcp": return Broker.Port(number, .tcp)
        case "udp": return Broker.Port(number, .udp)
        case "icmp": return Broker.Port(number, .icmp)
        case "unknown": return Broker.Port(number, .unknown)
        default: return nil
        }
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces and tabs.
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) ?? first
        return String(scalars[first...last])
    }
}

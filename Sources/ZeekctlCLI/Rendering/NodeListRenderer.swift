import ClusterKit

/// Renders node listings as a table, JSON, or ZeekControl's own `nodes` lines.
enum NodeListRenderer {
    static let headers = ["NAME", "TYPE", "HOST", "ADDRESS", "PORT", "METRICS", "INTERFACE", "MANAGER"]

    /// A table with one row per node; absent values are `-`; columns separated by two spaces.
    static func table(_ nodes: [LayoutNodeSummary]) -> String {
        let rows: [[String]] = nodes.map { node in
            [
                node.name, node.type, node.host, node.address ?? "-", node.port.map(String.init) ?? "-",
                node.metricsPort.map(String.init) ?? "-", node.interface ?? "-", node.manager ?? "-",
            ]
        }
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (column, cell) in cells.enumerated() {
                if column == cells.count - 1 {
                    text += cell
                } else {
                    text += cell.padding(toLength: widths[column] + 2)
                }
            }
            return text + "\n"
        }
        return line(headers) + rows.map(line).joined()
    }

    /// A JSON array with one object per node; node.cfg nodes carry their ZeekControl attributes.
    static func json(_ nodes: [LayoutNodeSummary]) -> String {
        let objects: [JSONValue] = nodes.map { node in
            var members: [JSONValue.Member] = [
                .init("name", .string(node.name)), .init("type", .string(node.type)), .init("host", .string(node.host)),
                .init("address", node.address.map(JSONValue.string) ?? .null),
                .init("port", node.port.map { .integer(Int64($0)) } ?? .null),
                .init("metrics_port", node.metricsPort.map { .integer(Int64($0)) } ?? .null),
                .init("interface", node.interface.map(JSONValue.string) ?? .null),
                .init("manager", node.manager.map(JSONValue.string) ?? .null),
            ]
            if let attributes = node.zeekctlAttributes {
                members.append(.init("zeekctl", .object(attributes.map { .init($0.key, .string($0.value)) })))
            }
            return .object(members)
        }
        return JSONValue.array(objects).text(style: .python(indent: 2)) + "\n"
    }

    /// ZeekControl's `nodes` output: one description line per node (node.cfg only).
    static func zeekctl(_ nodes: [LayoutNodeSummary]) -> String {
        nodes.compactMap(\.zeekctlDescription).map { $0 + "\n" }.joined()
    }
}

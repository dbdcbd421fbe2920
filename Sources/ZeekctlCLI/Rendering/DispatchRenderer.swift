import ClusterKit

/// Renders dispatch reports as a table or as `zeek-client`'s JSON.
enum DispatchRenderer {
    /// `zeek-client get-id-value`'s output: JSON, two-space indent, sorted keys.
    static func json(_ report: DispatchReport) -> String {
        report.zeekClientDocument.text(style: .python(indent: 2, sortKeys: true)) + "\n"
    }

    /// One row per node: node, type, and the value or the error.
    static func table(_ report: DispatchReport) -> String {
        let rows = report.entries.map { entry in
            [entry.node, entry.nodeType.map(typeName) ?? "-", cell(entry.outcome, node: entry.node)]
        }
        return TableText.render(header: ["NODE", "TYPE", "VALUE"], rows: rows) + errorLines(report)
    }

    /// One row per distinct outcome, listing the nodes that share it.
    static func grouped(_ report: DispatchReport) -> String {
        let rows = report.grouped.map { group in
            [group.nodes.joined(separator: ", "), cell(group.outcome, node: group.nodes.joined(separator: ", "))]
        }
        return TableText.render(header: ["NODES", "VALUE"], rows: rows) + errorLines(report)
    }

    private static func typeName(_ type: Cluster.NodeType) -> String {
        type.zeekctlName ?? type.unqualifiedName.lowercased()
    }

    private static func cell(_ outcome: NodeOutcome, node: String) -> String {
        if case .replied(let value) = outcome { return value }
        return "error: " + (outcome.errorText(node: node) ?? "")
    }

    private static func errorLines(_ report: DispatchReport) -> String {
        report.errors.map { "error: \($0)\n" }.joined()
    }
}

/// Plain text tables: left-aligned columns two spaces apart; multi-line cells continue under their column.
enum TableText {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all {
            for (column, cell) in row.enumerated() where column < widths.count - 1 {
                widths[column] = max(
                    widths[column],
                    cell.split(separator: "\n", omittingEmptySubsequences: false).map(\.count).max() ?? 0
                )
            }
        }
        var text = ""
        for row in all {
            let lines = row.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            let height = lines.map(\.count).max() ?? 1
            for line in 0..<height {
                var parts: [String] = []
                for column in row.indices {
                    let cell = line < lines[column].count ? lines[column][line] : ""
                    parts.append(column == row.count - 1 ? cell : cell.padding(toLength: widths[column]))
                }
                var rendered = parts.joined(separator: "  ")
                while rendered.hasSuffix(" ") { rendered.removeLast() }
                text += rendered + "\n"
            }
        }
        return text
    }
}

import ClusterKit

/// `zeekctl cluster status` output.
enum ClusterStatusRenderer {
    /// The table: node, type, state, pid, port, uptime, restarts.
    static func table(_ statuses: [NodeProcessStatus], now: Double) -> String {
        let rows = statuses.map { status in
            [
                status.node, status.role.nodeType.zeekctlName ?? "-", status.state.unqualifiedName,
                status.pid.map(String.init) ?? "-", status.port.map { String($0.number) } ?? "-",
                uptime(of: status, now: now).map(duration) ?? "-", String(status.restarts),
            ]
        }
        return TableText.render(
            header: ["NODE", "TYPE", "STATE", "PID", "PORT", "UPTIME", "RESTARTS"],
            rows: rows
        )
    }

    /// `{"nodes": {NAME: {"type", "state", "pid", "port", "uptime", "restarts"}}}`, keys sorted, uptime in
    /// seconds (millisecond precision), `null` where unknown.
    static func json(_ statuses: [NodeProcessStatus], now: Double) -> String {
        let nodes = statuses.map { status in
            JSONValue.Member(
                status.node,
                .object([
                    "pid": status.pid.map { .integer(Int64($0)) } ?? .null,
                    "port": status.port.map { .integer(Int64($0.number)) } ?? .null,
                    "restarts": .integer(Int64(status.restarts)),
                    "state": .string(status.state.unqualifiedName),
                    "type": status.role.nodeType.zeekctlName.map(JSONValue.string) ?? .null,
                    "uptime": uptime(of: status, now: now).map { .double(($0 * 1000).rounded() / 1000) } ?? .null,
                ])
            )
        }
        return JSONValue.object(["nodes": .object(nodes)]).text(style: .python(indent: 2, sortKeys: true)) + "\n"
    }

    /// The longest uptime shown, 100 years in seconds: the start time comes from the controller, and a
    /// nonsensical one must not overflow the conversion to whole seconds.
    static let maximumUptime: Double = 100 * 366 * 86_400

    /// How long a running node has been up, at least 0 and at most ``maximumUptime``; `nil` when not running or
    /// the start time is not a finite number.
    static func uptime(of status: NodeProcessStatus, now: Double) -> Double? {
        guard status.state == .running, let startedAt = status.startedAt else { return nil }
        let uptime = now - startedAt.secondsSinceEpoch
        guard uptime.isFinite else { return nil }
        return min(max(0, uptime), maximumUptime)
    }

    /// `45s`, `12m 05s`, `3h 02m`, `2d 04h`.
    static func duration(_ seconds: Double) -> String {
        let total = seconds.isFinite ? Int(min(max(0, seconds), maximumUptime)) : 0
        let (days, hours, minutes, rest) = (total / 86_400, total / 3600 % 24, total / 60 % 60, total % 60)
        if days > 0 { return "\(days)d \(pad(hours))h" }
        if hours > 0 { return "\(hours)h \(pad(minutes))m" }
        if minutes > 0 { return "\(minutes)m \(pad(rest))s" }
        return "\(rest)s"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

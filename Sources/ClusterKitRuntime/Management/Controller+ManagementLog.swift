import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension Controller {
    /// Writes a line to the management log (``Options/managementLog``), when there is one and the level is
    /// written.
    ///
    /// The lines follow Zeek's controller: `rx <event> <reqid>` for what arrives, `tx <event> <reqid>` (and
    /// `… to <instance>`) for what leaves, `request <id> timed out`, and warnings and errors for what is
    /// dropped or fails.
    func note(_ level: Management.Log.Level, _ message: @autoclosure () -> String) {
        options.managementLog?.log(level, message())
    }

    /// The management log line for a message that arrived as the event `eventName`.
    static func receivedLine(_ message: Message, eventName: String) -> String {
        switch message {
        case .request(let request):
            "rx \(eventName) \(request.reqid)"
        case .agentHello(let hello):
            "rx \(eventName) \(hello.instance) \(hello.nodeID) \(hello.isConnecting ? "T" : "F")"
        case .agentResponse(let response):
            "rx \(eventName) \(response.areq)"
        }
    }

    /// The level of a line the state machine logs: refusals and drops are warnings, errors errors, an agent's
    /// hello a debug line (Zeek's `instance <name> newly checked in`; its `rx notify_agent_hello` is the
    /// information), the rest information.
    static func managementLevel(of line: String) -> Management.Log.Level {
        if line.hasPrefix("error") { return .error }
        if line.hasPrefix("refused ") || line.hasPrefix("dropped ") { return .warning }
        if line.hasPrefix("agent "), line.hasSuffix(" said hello") { return .debug }
        return .info
    }
}

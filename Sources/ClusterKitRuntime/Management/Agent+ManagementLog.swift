import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension Agent {
    /// Writes a line to the agent's management log, when it has one and the level is written.
    ///
    /// The lines follow Zeek's agent: `rx <event> <reqid>` for what arrives, `tx <event> <reqid>` for what
    /// leaves, node hellos and answers, `request <id> timed out`, and warnings and errors for nodes that exit
    /// or fail to start and for what is dropped.
    func note(_ level: Management.Log.Level, _ message: @autoclosure () -> String) {
        managementLog?.log(level, message())
    }

    /// The management log line for a message that arrived as the event `eventName`.
    static func receivedLine(_ message: Message, eventName: String) -> String {
        switch message {
        case .request(let request):
            switch request {
            case .agentWelcome(let reqid), .agentStandby(let reqid), .deploy(let reqid, _, _), .getNodes(let reqid),
                .restart(let reqid, _):
                "rx \(eventName) \(reqid)"
            case .nodeDispatch(let reqid, let action, _):
                "rx \(eventName) \(reqid) \(action.joined(separator: " "))"
            }
        case .nodeHello(let node):
            "rx \(eventName) \(node)"
        case .nodeResponse(let response):
            "rx \(eventName) \(response.reqid) from \(response.node)"
        }
    }
}

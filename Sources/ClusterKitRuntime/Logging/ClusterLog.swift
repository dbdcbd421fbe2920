import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// A hub's or a node's cluster log: Zeek's `Cluster::log` (`cluster.log`, columns `ts`, `node`, `message`).
///
/// The WebSocket API server writes its clients' arrivals and departures here in the words of Zeek's
/// `cluster.log` (`WebSocket client '<id>' (<ip>:<port>) subscribed to [<topics>]`, `… gone with code <code>`);
/// a node's membership (``ClusterMember``) writes Zeek's `got hello from <name> (<id>)` and `node down: <name>`
/// through ``write(_:)-(Cluster.Info)``.
public final class ClusterLog: Sendable {
    /// The node the lines name, such as `controller` or `manager`.
    public let node: String
    private let writer: ZeekLogWriter
    private let now: @Sendable () -> Broker.Timestamp

    /// Creates a cluster log over a writer.
    ///
    /// - Parameters:
    ///   - node: The node the lines name.
    ///   - writer: The file, whose columns must be ``Cluster/Info``'s.
    ///   - now: The time of each line.
    package init(node: String, writer: ZeekLogWriter, now: @escaping @Sendable () -> Broker.Timestamp) {
        self.node = node
        self.writer = writer
        self.now = now
    }

    /// Writes a message as Zeek's `Cluster::log(msg)` does: now, this log's node.
    ///
    /// - Parameter message: The message, such as `node down: worker-1`.
    public func write(_ message: String) {
        writer.write(Cluster.Info(ts: now(), node: node, message: message))
    }

    /// Writes a whole record, its time and node included.
    ///
    /// - Parameter info: The record.
    public func write(_ info: Cluster.Info) {
        writer.write(info)
    }

    /// Writes every line buffered so far to the file.
    public func flush() {
        writer.flush()
    }
}

/// The receive buffer memory all connections of one server may hold together
/// (``WebSocketServer/Options/sharedReceiveBufferLimit``).
///
/// It is a plain counter without a lock: every connection of a server runs on its reactor's thread. A client
/// loop's budget is unlimited. Each connection's ``WebSocketProtocolCore`` charges what its frame and
/// reassembly buffers hold beyond the standing read buffer, asks before growing them, and gives everything back
/// when it is closed.
final class ReceiveBufferBudget {
    /// The most ``used`` may reach: the server's shared limit, unlimited on a client loop.
    var limit: Int
    /// The bytes the connections' buffers hold beyond their standing read buffers.
    private(set) var used = 0

    /// Creates an empty budget.
    ///
    /// - Parameter limit: The most bytes the connections may hold together (default: unlimited).
    init(limit: Int = .max) {
        self.limit = limit
    }

    /// Whether the connections' buffers may grow by `delta` bytes (shrinking always may).
    func mayCharge(_ delta: Int) -> Bool {
        delta <= 0 || used + delta <= limit
    }

    /// Records that the connections' buffers grew (or shrank, when negative) by `delta` bytes.
    func charge(_ delta: Int) {
        used += delta
    }
}

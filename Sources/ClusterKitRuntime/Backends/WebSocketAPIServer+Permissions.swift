import ClusterKitModel
import ClusterKitWebSocket

extension WebSocketAPIServer {
    /// The upgrade request header that carries the node token: `X-ClusterKit-Node-Token`.
    public static let nodeTokenHeader = "X-ClusterKit-Node-Token"

    /// A fresh node token: 32 bytes from the system's cryptographically secure random source, as 64 lower-case
    /// hexadecimal digits.
    ///
    /// - Returns: The token.
    public static func makeNodeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            for shift in stride(from: 60, through: 0, by: -4) {
                text.append(digits[Int((word >> UInt64(shift)) & 0xf)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The error frame for an event the connection may not publish, or `nil` when it may.
    func permission(for name: String, isNode: Bool) -> Broker.ErrorMessage? {
        if options.inProcessOnlyEvents.contains(name) {
            return Broker.ErrorMessage(
                code: "not_permitted",
                context: "event '\(name)' may only be published inside the controller"
            )
        }
        if !isNode, options.nodeOnlyEvents.contains(name) {
            return Broker.ErrorMessage(
                code: "not_permitted",
                context: "event '\(name)' may only be published by the cluster's nodes"
            )
        }
        return nil
    }

    /// Whether `sent` is the node token, compared in constant time (for a given token length).
    static func isNodeToken(_ sent: String?, _ token: String) -> Bool {
        guard let sent else { return false }
        let sentBytes = Array(sent.utf8)
        let tokenBytes = Array(token.utf8)
        var difference = UInt8(sentBytes.count == tokenBytes.count ? 0 : 1)
        for index in tokenBytes.indices {
            difference |= tokenBytes[index] ^ (index < sentBytes.count ? sentBytes[index] : 0)
        }
        return difference == 0 && !tokenBytes.isEmpty
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension BrokerJSONDecoder {
    /// Reads a data message carrying an event without metadata, when it is written exactly as Zeek's server
    /// and ClusterKit write it: compact, members in the order `type`, `topic`, `@data-type`, `data`, the
    /// event as `[count 1, count 1, [string name, vector args]]`.
    ///
    /// Returns `nil` at the first byte that differs from that shape, and the caller then reads the frame with
    /// the general decoder (``Broker/JSON/decodeMessage(_:limits:)``), which accepts every spelling. Only the
    /// arguments are decoded as values, so the event's wrapper vectors are never built; every frame of a busy
    /// WebSocket connection goes through here.
    ///
    /// - Parameter bytes: The frame's UTF-8 text, already validated.
    /// - Returns: The topic and the event, or `nil`.
    package static func compactEvent(_ bytes: UnsafeBufferPointer<UInt8>) -> (topic: String, event: Broker.Event)? {
        guard var decoder = try? BrokerJSONDecoder(bytes: bytes, validatesUTF8: false, limits: .standard) else {
            return nil
        }
        return try? decoder.decodeCompactEvent()
    }

    private mutating func decodeCompactEvent() throws(JSONError) -> (topic: String, event: Broker.Event)? {
        guard literal(#"{"type":"data-message","topic":"#) else { return nil }
        let topic = try scanner.parseString()
        guard literal(#","@data-type":"vector","data":[{"@data-type":"count","data":1},"#),
            literal(#"{"@data-type":"count","data":1},{"@data-type":"vector","data":["#),
            literal(#"{"@data-type":"string","data":"#)
        else { return nil }
        let name = try scanner.parseString()
        guard literal(#"},{"@data-type":"vector","data":["#) else { return nil }
        var arguments: [Broker.Value] = []
        if !literal("]") {
            repeat {
                // Depth 6 is where the general decoder reads each argument, so both enforce the same limit.
                arguments.append(try decodeValue(depth: 6))
            } while literal(",")
            guard literal("]") else { return nil }
        }
        guard literal("}]}]}") else { return nil }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { return nil }
        return (topic, Broker.Event(name, arguments))
    }

    /// Consumes `text` if the bytes at the current position are exactly it.
    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard scanner.bytes.count - scanner.index >= count, let base = scanner.bytes.baseAddress else { return false }
        guard memcmp(base + scanner.index, text.utf8Start, count) == 0 else { return false }
        scanner.index += count
        return true
    }
}

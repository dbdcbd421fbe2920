// libFuzzer target `broker-json` (Docs/fuzzing.md): Broker's JSON v1 decoders.
//
// Checks, beyond not crashing:
// - a value `Broker.JSON.decode(utf8:)` reads re-encodes to text that decodes to a value that encodes to the same
//   text (not always an equal value: Broker writes timestamps to the millisecond), and likewise for messages;
// - when the fast event path (`BrokerJSONDecoder.compactEvent`) reads a frame, the general decoder reads the same
//   topic and event from it.
import ClusterKitModel
import FuzzSupport

/// Checks one input.
func brokerJSONFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = Array(input)

    if let value = try? Broker.JSON.decode(utf8: bytes) {
        let text = Broker.JSON.encode(value)
        guard let again = try? Broker.JSON.decode(text) else { fatalError("re-encoded value does not decode: \(text)") }
        guard Broker.JSON.encode(again) == text else { fatalError("value changed on a round trip: \(text)") }
    }

    let message = try? Broker.JSON.decodeMessage(utf8: bytes)
    if let message {
        let text = Broker.JSON.encode(message)
        guard let again = try? Broker.JSON.decodeMessage(text) else {
            fatalError("re-encoded message does not decode: \(text)")
        }
        guard Broker.JSON.encode(again) == text else { fatalError("message changed on a round trip: \(text)") }
    }

    // The fast path reads frames that are valid UTF-8 (the WebSocket layer checked them).
    guard String(validating: bytes, as: UTF8.self) != nil else { return }
    let fast = bytes.withUnsafeBufferPointer { BrokerJSONDecoder.compactEvent($0) }
    if let fast {
        guard case .data(let data) = message else { fatalError("fast path read an event the general decoder refuses") }
        guard data.topic == fast.topic, let event = try? Broker.Event(data.value), event == fast.event else {
            fatalError("fast path and general decoder disagree on topic or event")
        }
    }
}

runFuzzer(brokerJSONFuzz)

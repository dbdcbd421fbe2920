// libFuzzer target `broker-json` (Docs/fuzzing.md): Broker's JSON v1 decoders.
//
// Checks, beyond not crashing:
// - a value `Broker.JSON.decode(utf8:)` reads re-encodes to text that decodes to a value that encodes to the same
//   text (not always an equal value: Broker writes timestamps to the millisecond), and likewise for messages;
// - when the fast event path (`BrokerJSONDecoder.compactEvent`) reads a frame, the general decoder reads the same
//   topic and event from it;
// - the Codable bridge (`Broker.ValueDecoder`) reads any decoded value into a few user types, or throws a
//   `Broker.ConversionError`; what it reads, `Broker.ValueEncoder` writes back to a value it reads the same way; and
//   a `BrokerStoredRecord` (written from its stored properties) is written as the same type's `encode(to:)` writes.
import ClusterKitModel
import FuzzSupport

/// A marker: the user types of `Plain` are not `BrokerStoredRecord`s.
enum Plain {}
/// A marker: the user types of `Stored` are `BrokerStoredRecord`s.
enum Stored {}

/// User types of the kinds the bridge maps: a record with optionals, nested records, collections and Broker types.
///
/// No `Date` or floating point: a `Date` cannot hold every nanosecond, and NaN is not equal to itself. Each is
/// generic over a marker that is not stored: `Stored` makes it a `BrokerStoredRecord`, `Plain` does not.
struct FuzzPort<Marker>: Codable, Hashable {
    var number: UInt16
    var proto: String?
}

struct FuzzRule<Marker>: Codable, Hashable {
    var id: String
    var priority: Int8
    var comment: String?
    var ports: Set<FuzzPort<Marker>>
    var limits: [String: UInt32]
    var created: Broker.Timestamp?
    var timeout: Duration?
    var address: Broker.Address?
    var tags: [[Bool]]
}

extension FuzzPort: BrokerStoredRecord where Marker == Stored {}
extension FuzzRule: BrokerStoredRecord where Marker == Stored {}

/// Decodes `value` as `T`, and checks that encoding what it read gives a value that decodes to the same.
func bridgeRoundTrip<T: Codable & Equatable>(_ type: T.Type, _ value: Broker.Value) {
    let decoded: T
    do {
        decoded = try Broker.ValueDecoder().decode(type, from: value)
    } catch is Broker.ConversionError {
        return
    } catch {
        fatalError("the bridge threw something other than a ConversionError: \(error)")
    }
    guard let encoded = try? Broker.ValueEncoder().encode(decoded),
        let again = try? Broker.ValueDecoder().decode(type, from: encoded), again == decoded
    else { fatalError("the bridge does not read back what it wrote for \(T.self): \(Broker.JSON.encode(value))") }
}

/// Checks that a stored record is written as its synthesized `encode(to:)` writes it.
func storedMatchesPlain(_ value: Broker.Value) {
    let decoder = Broker.ValueDecoder()
    guard let plain = try? decoder.decode(FuzzRule<Plain>.self, from: value),
        let stored = try? decoder.decode(FuzzRule<Stored>.self, from: value)
    else { return }
    let encoder = Broker.ValueEncoder()
    guard let plainValue = try? encoder.encode(plain), let storedValue = try? encoder.encode(stored),
        plainValue == storedValue
    else { fatalError("a stored record is written unlike its encode(to:): \(Broker.JSON.encode(value))") }
}

/// Checks one input.
func brokerJSONFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = Array(input)

    if let value = try? Broker.JSON.decode(utf8: bytes) {
        let text = Broker.JSON.encode(value)
        guard let again = try? Broker.JSON.decode(text) else { fatalError("re-encoded value does not decode: \(text)") }
        guard Broker.JSON.encode(again) == text else { fatalError("value changed on a round trip: \(text)") }
        bridgeRoundTrip(FuzzRule<Plain>.self, value)
        bridgeRoundTrip(FuzzRule<Stored>.self, value)
        bridgeRoundTrip([FuzzPort<Stored>].self, value)
        storedMatchesPlain(value)
        bridgeRoundTrip([String: [Int]].self, value)
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

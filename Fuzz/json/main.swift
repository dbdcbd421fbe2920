// libFuzzer target `json` (Docs/fuzzing.md): the JSON scanner and value parser.
//
// Checks, beyond not crashing: what parses serializes to text that parses to an equal value (numbers that overflow
// a double excepted), and the `String` and UTF-8 entry points agree.
import ClusterKitModel
import FuzzSupport

/// Checks one input.
func jsonFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = Array(input)
    let parsed = try? JSONValue.parse(utf8: bytes)
    if let text = String(validating: bytes, as: UTF8.self) {
        let fromString = try? JSONValue.parse(text)
        guard fromString == parsed else { fatalError("String and UTF-8 entry points disagree") }
    } else if parsed != nil {
        fatalError("text that is not UTF-8 parsed")
    }
    // A number too large for a double reads as infinity, as Python's json reads it, and has no JSON text to go
    // back to; such values are left out of the round trip.
    if let parsed, parsed.isFinite {
        let text = parsed.text()
        guard let again = try? JSONValue.parse(text) else { fatalError("serialized value does not parse: \(text)") }
        guard again == parsed else { fatalError("value changed on a round trip: \(text)") }
    }
}

extension JSONValue {
    /// Whether every number in the value is finite.
    var isFinite: Bool {
        switch self {
        case .double(let number): number.isFinite
        case .array(let elements): elements.allSatisfy { $0.isFinite }
        case .object(let members): members.allSatisfy { $0.value.isFinite }
        default: true
        }
    }
}

runFuzzer(jsonFuzz)

import Testing

@testable import ClusterKitModel

/// `String(validatingUTF8Bytes:)` must agree with the standard library's validator on every input.
@Suite struct UTF8ValidationTests {
    /// Checks one input against `String(validating:as:)`.
    private func agrees(_ bytes: [UInt8]) -> Bool {
        String(validatingUTF8Bytes: bytes) == String(validating: bytes, as: UTF8.self)
    }

    @Test func everyOneAndTwoByteInputAgrees() {
        var disagreements: [[UInt8]] = []
        for first in 0...255 {
            if !agrees([UInt8(first)]) { disagreements.append([UInt8(first)]) }
            for second in 0...255 where !agrees([UInt8(first), UInt8(second)]) {
                disagreements.append([UInt8(first), UInt8(second)])
            }
        }
        #expect(disagreements.isEmpty)
    }

    @Test func threeAndFourByteLeadsAgreeAtEveryOffset() {
        // Each multi-byte lead with a spread of continuation bytes, placed at every offset of a 17-byte ASCII run so
        // that both the eight-byte and the byte-by-byte parts of the ASCII check see it.
        let continuations: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF]
        var disagreements: [[UInt8]] = []
        for lead in UInt8(0xC0)...0xFF {
            for second in continuations {
                for third in continuations {
                    for offset in [0, 3, 7, 8, 9, 15, 16] {
                        var bytes = [UInt8](repeating: 0x61, count: 17)
                        bytes.insert(contentsOf: [lead, second, third, 0x80], at: offset)
                        if !agrees(bytes) { disagreements.append(bytes) }
                    }
                }
            }
        }
        #expect(disagreements.isEmpty)
    }

    @Test func asciiAndMultiByteTextDecodes() {
        #expect(String(validatingUTF8Bytes: Array("".utf8)) == "")
        #expect(String(validatingUTF8Bytes: Array("{\"type\":\"data-message\"}".utf8)) == "{\"type\":\"data-message\"}")
        #expect(String(validatingUTF8Bytes: Array("zeek → 集群 🦓 done".utf8)) == "zeek → 集群 🦓 done")
        #expect(String(validatingUTF8Bytes: [0x61, 0xED, 0xA0, 0x80]) == nil)  // a surrogate
        #expect(String(validatingUTF8Bytes: [0xC0, 0xAF]) == nil)  // an overlong '/'
        #expect(String(validatingUTF8Bytes: [UInt8](repeating: 0x61, count: 64) + [0xF4, 0x90, 0x80, 0x80]) == nil)
    }
}

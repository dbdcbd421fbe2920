import ClusterKit
import Testing

@Suite struct WebSocketFrameTests {
    private static let hello = Array("Hello".utf8)
    private static let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    private struct Example: Sendable, CustomTestStringConvertible {
        var name: String
        var frame: WebSocketFrame
        var bytes: [UInt8]
        var testDescription: String { name }
    }

    private static let examples: [Example] = [
        Example(
            name: "unmasked text 'Hello'",
            frame: WebSocketFrame(opcode: .text, payload: hello),
            bytes: [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        ),
        Example(
            name: "masked text 'Hello'",
            frame: WebSocketFrame(opcode: .text, maskingKey: key, payload: hello),
            bytes: [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        ),
        Example(
            name: "first fragment 'Hel'",
            frame: WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)),
            bytes: [0x01, 0x03, 0x48, 0x65, 0x6C]
        ),
        Example(
            name: "last fragment 'lo'",
            frame: WebSocketFrame(opcode: .continuation, payload: Array("lo".utf8)),
            bytes: [0x80, 0x02, 0x6C, 0x6F]
        ),
        Example(
            name: "unmasked ping 'Hello'",
            frame: WebSocketFrame(opcode: .ping, payload: hello),
            bytes: [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        ),
        Example(
            name: "masked pong 'Hello'",
            frame: WebSocketFrame(opcode: .pong, maskingKey: key, payload: hello),
            bytes: [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        ),
        Example(
            name: "256-byte binary",
            frame: WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 7, count: 256)),
            bytes: [0x82, 0x7E, 0x01, 0x00] + [UInt8](repeating: 7, count: 256)
        ),
        Example(
            name: "65536-byte binary",
            frame: WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 9, count: 65536)),
            bytes: [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + [UInt8](repeating: 9, count: 65536)
        ),
    ]

    @Test(arguments: examples)
    private func encodesRFC6455Examples(example: Example) {
        #expect(example.frame.encoded() == example.bytes)
    }

    @Test(arguments: examples)
    private func decodesRFC6455Examples(example: Example) throws {
        let decoded = try #require(WebSocketFrame.decode(example.bytes + [0xFF]))
        #expect(decoded.frame == example.frame)
        #expect(decoded.byteCount == example.bytes.count)
    }

    @Test func incompleteFramesDecodeToNothing() {
        let bytes = WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 1, count: 300)).encoded()
        for length in [0, 1, 3, 100, bytes.count - 1] {
            #expect(WebSocketFrame.decode(Array(bytes.prefix(length))) == nil)
        }
    }

    @Test func headerReportsReservedBitsAndUnknownOpcodes() throws {
        let bytes = WebSocketFrame(reserved: 0b100, opcode: 0x3, payload: [1]).encoded()
        #expect(bytes[0] == 0xC3)
        let decoded = try #require(WebSocketFrame.decode(bytes))
        #expect(decoded.frame.reserved == 0b100)
        #expect(decoded.frame.opcode == 3)
    }

    @Test func maskingRoundTripsAtEveryLength() {
        for length in 0..<40 {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let frame = WebSocketFrame(opcode: .binary, maskingKey: [1, 2, 3, 4], payload: payload)
            #expect(WebSocketFrame.decode(frame.encoded())?.frame == frame)
        }
    }
}

import ClusterKit
import ClusterKitModel
import Testing

@Suite struct WebSocketMaskingKeysTests {
    @Test func keysComeFromTheRandomSourceInBatchesAndAreUsedOnce() {
        let calls = Guarded(0)
        // A source that counts up, so every key shows which bytes it came from.
        let counter = Guarded<UInt8>(0)
        var keys = MaskingKeys { buffer in
            calls.withLock { $0 += 1 }
            counter.withLock { next in
                for index in buffer.indices {
                    buffer[index] = next
                    next &+= 1
                }
            }
        }
        #expect(calls.withLock { $0 } == 0)
        let taken = (0..<(MaskingKeys.batchSize * 2 + 1)).map { _ in keys.next() }
        #expect(calls.withLock { $0 } == 3)
        var expected = [UInt8](repeating: 0, count: taken.count * 4)
        for index in expected.indices { expected[index] = UInt8(truncatingIfNeeded: index) }
        #expect(taken.flatMap { key in withUnsafeBytes(of: key) { Array($0) } } == expected)
    }

    @Test func systemSourceFillsTheBuffer() {
        var first = [UInt8](repeating: 0, count: 1024)
        var second = [UInt8](repeating: 0, count: 1024)
        first.withUnsafeMutableBytes { MaskingKeys.systemRandom($0) }
        second.withUnsafeMutableBytes { MaskingKeys.systemRandom($0) }
        // 1 KiB of zeros, or twice the same 1 KiB, from the kernel's source has probability 2^-8192.
        #expect(first != [UInt8](repeating: 0, count: 1024))
        #expect(first != second)
    }

    @Test func clientFramesCarryFreshKeys() async throws {
        let listener = try RawListener()
        async let connecting = WebSocketClient.connect(to: "ws://127.0.0.1:\(listener.port)/")
        let server = try await listener.accept()
        _ = try await server.acceptUpgrade()
        let client = try await connecting
        for index in 0..<600 { try await client.send(text: "\(index)") }
        var keys: [[UInt8]] = []
        for _ in 0..<600 { keys.append(try #require(try await server.readFrame()?.maskingKey)) }
        // 600 random 32-bit keys collide with probability below 1e-4; a repeating or stuck source would not.
        #expect(Set(keys).count >= 599)
        server.close()
    }
}

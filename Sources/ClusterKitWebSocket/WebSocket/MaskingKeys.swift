import CClusterKitSupport

/// Masking keys for the frames a client sends (RFC 6455 §5.3), from the kernel's random source.
///
/// RFC 6455 wants each key unpredictable to the application and to anyone who has seen earlier keys, so keys
/// come from `getrandom(2)` rather than a fast generator. To keep sending fast they are read in batches of
/// ``batchSize`` (one system call per 256 frames) and each is used once. Nothing is read until the first key
/// is needed, so server connections, which never mask, never call the kernel.
package struct MaskingKeys: Sendable {
    /// How many keys one refill reads.
    package static let batchSize = 256

    /// Fills a buffer with random bytes.
    package typealias Source = @Sendable (UnsafeMutableRawBufferPointer) -> Void

    private var keys: [UInt32] = []
    private var index = 0
    private let source: Source

    /// Creates an empty source that reads from `source` when the first key is wanted.
    ///
    /// - Parameter source: Where the bytes come from (default: the kernel, ``systemRandom(_:)``).
    package init(source: @escaping Source = MaskingKeys.systemRandom) {
        self.source = source
    }

    /// The next key, never handed out before.
    package mutating func next() -> UInt32 {
        if index == keys.count { refill() }
        let key = keys[index]
        index += 1
        return key
    }

    private mutating func refill() {
        let source = self.source
        keys = [UInt32](unsafeUninitializedCapacity: Self.batchSize) { buffer, count in
            source(UnsafeMutableRawBufferPointer(buffer))
            count = Self.batchSize
        }
        index = 0
    }

    /// Fills the buffer from `getrandom(2)`; if the kernel has none (before Linux 3.17), from the standard
    /// library's system generator, which reads the same kernel source another way.
    package static func systemRandom(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        if ck_random_bytes(base, buffer.count) == 0 { return }
        var generator = SystemRandomNumberGenerator()
        for offset in 0..<buffer.count { buffer[offset] = generator.next() }
    }
}

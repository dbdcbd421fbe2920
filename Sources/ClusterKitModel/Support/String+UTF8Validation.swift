extension String {
    /// Creates a string from `bytes` when they are valid UTF-8, and `nil` otherwise, as `String(validating:as:)`
    /// does, but without its unspecialized generic path for the common all-ASCII case.
    ///
    /// `String(validating:as: UTF8.self)` looks up generic metadata for every call (about 1% of the time of a
    /// WebSocket event in the events benchmark); ASCII needs no validation beyond its high bits, so text made only
    /// of ASCII bytes is checked eight bytes at a time and decoded directly. Anything else goes to the standard
    /// library's validator, so the result is the same for every input.
    ///
    /// - Parameter bytes: The UTF-8 bytes.
    package init?(validatingUTF8Bytes bytes: UnsafeBufferPointer<UInt8>) {
        if Self.isASCII(UnsafeRawBufferPointer(bytes)) {
            self = String(decoding: bytes, as: UTF8.self)
        } else if let text = String(validating: bytes, as: UTF8.self) {
            self = text
        } else {
            return nil
        }
    }

    /// Creates a string from `bytes` when they are valid UTF-8, and `nil` otherwise.
    ///
    /// - Parameter bytes: The UTF-8 bytes.
    package init?(validatingUTF8Bytes bytes: [UInt8]) {
        guard let text = bytes.withUnsafeBufferPointer({ String(validatingUTF8Bytes: $0) }) else { return nil }
        self = text
    }

    /// A Boolean value indicating whether every byte is below 0x80.
    private static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var offset = 0
        while offset + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) & highBits != 0 { return false }
            offset += 8
        }
        while offset < bytes.count {
            if bytes[offset] & 0x80 != 0 { return false }
            offset += 1
        }
        return true
    }
}

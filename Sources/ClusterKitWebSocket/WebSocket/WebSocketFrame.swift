/// One WebSocket frame (RFC 6455 §5.2) with its payload unmasked.
///
/// The connection's hot paths encode and parse frames in place with ``WebSocketFrame/encode(fin:opcode:maskingKey:payload:into:)``
/// and ``WebSocketFrame/Header/parse(_:)``; this value form is for tests and tools.
package struct WebSocketFrame: Sendable, Hashable {
    /// The frame opcodes RFC 6455 defines.
    package enum Opcode: UInt8, Sendable, Hashable {
        /// Continues a fragmented message.
        case continuation = 0x0
        /// The first frame of a text message.
        case text = 0x1
        /// The first frame of a binary message.
        case binary = 0x2
        /// Starts or answers the close handshake.
        case close = 0x8
        /// Asks the peer for a pong.
        case ping = 0x9
        /// Answers a ping, or is a one-way heartbeat.
        case pong = 0xA

        /// Whether this is a control opcode (close, ping, pong).
        package var isControl: Bool { rawValue & 0x8 != 0 }
    }

    /// Whether this is the final fragment of a message.
    package var fin: Bool
    /// The three reserved bits, as the low three bits (RSV1 is 0b100).
    package var reserved: UInt8
    /// The opcode as sent, which may be one RFC 6455 does not define.
    package var opcode: UInt8
    /// The masking key as its four wire bytes, or `nil` for an unmasked frame.
    package var maskingKey: [UInt8]?
    /// The payload, unmasked.
    package var payload: [UInt8]

    /// Creates a frame.
    ///
    /// - Parameters:
    ///   - fin: Whether this is the final fragment.
    ///   - reserved: The reserved bits (normally 0).
    ///   - opcode: The opcode number.
    ///   - maskingKey: The four-byte masking key, or `nil`.
    ///   - payload: The unmasked payload.
    package init(fin: Bool = true, reserved: UInt8 = 0, opcode: UInt8, maskingKey: [UInt8]? = nil, payload: [UInt8]) {
        self.fin = fin
        self.reserved = reserved
        self.opcode = opcode
        self.maskingKey = maskingKey
        self.payload = payload
    }

    /// Creates a frame with a defined opcode.
    ///
    /// - Parameters:
    ///   - fin: Whether this is the final fragment.
    ///   - opcode: The opcode.
    ///   - maskingKey: The four-byte masking key, or `nil`.
    ///   - payload: The unmasked payload.
    package init(fin: Bool = true, opcode: Opcode, maskingKey: [UInt8]? = nil, payload: [UInt8]) {
        self.init(fin: fin, reserved: 0, opcode: opcode.rawValue, maskingKey: maskingKey, payload: payload)
    }

    /// The frame's wire bytes, the payload masked when there is a key.
    ///
    /// - Returns: The encoded frame.
    package func encoded() -> [UInt8] {
        var output: [UInt8] = []
        let key = maskingKey.map { Self.maskWord($0) }
        payload.withUnsafeBytes { bytes in
            Self.encode(fin: fin, opcode: opcode, maskingKey: key, payload: bytes, into: &output)
        }
        if reserved != 0, !output.isEmpty { output[0] |= (reserved & 0x7) << 4 }
        return output
    }

    /// Decodes the first frame in some bytes.
    ///
    /// No validation beyond the wire format is done (reserved bits, opcodes and sizes are the connection's job).
    ///
    /// - Parameter bytes: Wire bytes starting at a frame boundary.
    /// - Returns: The frame and the number of bytes it took, or `nil` when the bytes hold no complete frame.
    package static func decode(_ bytes: [UInt8]) -> (frame: WebSocketFrame, byteCount: Int)? {
        var copy = bytes
        return copy.withUnsafeMutableBytes { buffer -> (WebSocketFrame, Int)? in
            guard let header = Header.parse(UnsafeRawBufferPointer(buffer)),
                header.payloadLength <= UInt64(buffer.count)
            else { return nil }
            let total = header.headerLength + Int(header.payloadLength)
            guard buffer.count >= total else { return nil }
            let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[header.headerLength..<total])
            var key: [UInt8]?
            if let maskingKey = header.maskingKey {
                applyMask(maskingKey, to: payload)
                key = withUnsafeBytes(of: maskingKey) { Array($0) }
            }
            let frame = WebSocketFrame(
                fin: header.fin,
                reserved: header.reserved,
                opcode: header.opcode,
                maskingKey: key,
                payload: Array(payload)
            )
            return (frame, total)
        }
    }
}

extension WebSocketFrame {
    /// The fixed part of a frame: flags, opcode, length and masking key.
    package struct Header: Sendable, Hashable {
        /// Whether this is the final fragment.
        package var fin: Bool
        /// The reserved bits, as the low three bits.
        package var reserved: UInt8
        /// The opcode number.
        package var opcode: UInt8
        /// The masking key in memory order (as loaded from the wire bytes), or `nil` when unmasked.
        package var maskingKey: UInt32?
        /// The declared payload length.
        package var payloadLength: UInt64
        /// The header's own size in bytes (2 to 14).
        package var headerLength: Int

        /// Parses a frame header at the start of some bytes.
        ///
        /// A 64-bit length with its top bit set is reported as is; the caller rejects it as too big.
        ///
        /// - Parameter bytes: Bytes starting at a frame boundary.
        /// - Returns: The header, or `nil` when the bytes do not hold a whole header yet.
        package static func parse(_ bytes: UnsafeRawBufferPointer) -> Header? {
            guard bytes.count >= 2 else { return nil }
            let first = bytes[0]
            let second = bytes[1]
            let isMasked = second & 0x80 != 0
            var length = UInt64(second & 0x7F)
            var offset = 2
            if length == 126 {
                guard bytes.count >= 4 else { return nil }
                length = UInt64(bytes[2]) << 8 | UInt64(bytes[3])
                offset = 4
            } else if length == 127 {
                guard bytes.count >= 10 else { return nil }
                length = 0
                for index in 2..<10 { length = length << 8 | UInt64(bytes[index]) }
                offset = 10
            }
            var key: UInt32?
            if isMasked {
                guard bytes.count >= offset + 4 else { return nil }
                key = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
                offset += 4
            }
            return Header(
                fin: first & 0x80 != 0,
                reserved: (first >> 4) & 0x7,
                opcode: first & 0x0F,
                maskingKey: key,
                payloadLength: length,
                headerLength: offset
            )
        }
    }

    /// Appends one encoded frame to a buffer, masking the payload when a key is given.
    ///
    /// - Parameters:
    ///   - fin: Whether this is the final fragment.
    ///   - opcode: The opcode number.
    ///   - maskingKey: The masking key in memory order, or `nil` for an unmasked (server) frame.
    ///   - payload: The unmasked payload.
    ///   - output: The buffer to append to.
    package static func encode(
        fin: Bool,
        opcode: UInt8,
        maskingKey: UInt32?,
        payload: UnsafeRawBufferPointer,
        into output: inout [UInt8]
    ) {
        let count = payload.count
        output.append((fin ? 0x80 : 0) | (opcode & 0x0F))
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        if count < 126 {
            output.append(maskBit | UInt8(count))
        } else if count <= 0xFFFF {
            output.append(maskBit | 126)
            output.append(UInt8(truncatingIfNeeded: count >> 8))
            output.append(UInt8(truncatingIfNeeded: count))
        } else {
            output.append(maskBit | 127)
            let length = UInt64(count)
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
        }
        guard let maskingKey else {
            output.append(contentsOf: payload)
            return
        }
        withUnsafeBytes(of: maskingKey) { output.append(contentsOf: $0) }
        let start = output.count
        output.append(contentsOf: payload)
        output.withUnsafeMutableBytes { buffer in
            applyMask(maskingKey, to: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// XORs a payload with a masking key in place (masking and unmasking are the same operation).
    ///
    /// - Parameters:
    ///   - key: The masking key in memory order.
    ///   - buffer: The payload, starting at key offset 0.
    package static func applyMask(_ key: UInt32, to buffer: UnsafeMutableRawBufferPointer) {
        let count = buffer.count
        let wide = UInt64(key) | UInt64(key) << 32
        var index = 0
        while index + 8 <= count {
            let word = buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            buffer.storeBytes(of: word ^ wide, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        withUnsafeBytes(of: key) { keyBytes in
            var keyIndex = 0
            while index < count {
                buffer[index] ^= keyBytes[keyIndex & 3]
                keyIndex += 1
                index += 1
            }
        }
    }

    /// The memory-order masking key for four wire bytes.
    ///
    /// - Parameter bytes: The key's four wire bytes.
    /// - Returns: The key as ``applyMask(_:to:)`` wants it.
    package static func maskWord(_ bytes: [UInt8]) -> UInt32 {
        var key: UInt32 = 0
        withUnsafeMutableBytes(of: &key) { keyBytes in
            for index in 0..<min(4, bytes.count) { keyBytes[index] = bytes[index] }
        }
        return key
    }
}

import ClusterKitModel

/// Splits a byte stream into lines of bounded length.
///
/// Lines end at `\n` (which is not part of the line). A line longer than `maximumLineLength` bytes is passed on in
/// pieces of that size, so memory stays bounded whatever a node writes.
struct LineSplitter: Sendable {
    /// The longest line kept in memory, in bytes (at least 1).
    let maximumLineLength: Int
    private var buffer: [UInt8] = []

    /// Creates a splitter.
    ///
    /// - Parameter maximumLineLength: The longest line in bytes, at least 1.
    init(maximumLineLength: Int) {
        precondition(maximumLineLength >= 1, "maximumLineLength must be at least 1")
        self.maximumLineLength = maximumLineLength
    }

    /// Adds bytes and returns the lines they complete, in order.
    ///
    /// - Parameter bytes: The bytes read.
    /// - Returns: The complete lines, without their newlines.
    mutating func append(_ bytes: ArraySlice<UInt8>) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var rest = bytes
        while !rest.isEmpty {
            // Invariant: buffer.count < maximumLineLength, so there is room for at least one byte.
            let window = rest.prefix(maximumLineLength - buffer.count)
            if let newline = window.firstIndex(of: UInt8(ascii: "\n")) {
                buffer.append(contentsOf: rest[rest.startIndex..<newline])
                lines.append(buffer)
                buffer.removeAll(keepingCapacity: true)
                rest = rest[(newline + 1)...]
            } else {
                buffer.append(contentsOf: window)
                rest = rest.dropFirst(window.count)
                if buffer.count == maximumLineLength {
                    lines.append(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
        }
        return lines
    }

    /// Returns the unterminated last line, if any, and empties the splitter.
    ///
    /// - Returns: The remaining bytes, or `nil` when there are none.
    mutating func finish() -> [UInt8]? {
        guard !buffer.isEmpty else { return nil }
        defer { buffer = [] }
        return buffer
    }
}

extension String {
    /// A Boolean value indicating whether the text is a variable name, `[A-Za-z_][A-Za-z0-9_]*`: what node
    /// environment keys must be (staging checks them, and the supervisor again before it starts a process).
    package var isVariableName: Bool {
        var bytes = utf8.makeIterator()
        guard let first = bytes.next(), first == UInt8(ascii: "_") || Self.isLetter(first) else { return false }
        while let byte = bytes.next() {
            guard
                byte == UInt8(ascii: "_") || Self.isLetter(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            else { return false }
        }
        return true
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}

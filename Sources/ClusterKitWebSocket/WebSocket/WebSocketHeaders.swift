/// HTTP header fields of a WebSocket handshake, in order, with case-insensitive lookup by name.
///
/// Names keep the spelling they were sent with; lookups compare names without regard to ASCII case.
/// Repeated fields are kept, in order.
public struct WebSocketHeaders: Sendable, Hashable {
    /// The fields as name and value pairs, in order.
    public private(set) var fields: [Field]

    /// One header field.
    public struct Field: Sendable, Hashable {
        /// The field name as sent.
        public var name: String
        /// The field value with surrounding whitespace removed.
        public var value: String

        /// Creates a field.
        ///
        /// - Parameters:
        ///   - name: The field name.
        ///   - value: The field value.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Creates headers from fields, in order.
    ///
    /// - Parameter fields: The fields.
    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    /// The value of the first field with this name, compared without regard to ASCII case.
    ///
    /// - Parameter name: The field name.
    /// - Returns: The value, or `nil` when there is no such field.
    public subscript(name: String) -> String? {
        fields.first { Self.namesMatch($0.name, name) }?.value
    }

    /// Every value of fields with this name, in order.
    ///
    /// - Parameter name: The field name, compared without regard to ASCII case.
    /// - Returns: The values, possibly empty.
    public func values(for name: String) -> [String] {
        fields.filter { Self.namesMatch($0.name, name) }.map(\.value)
    }

    /// Whether any field with this name has a comma-separated token equal to `token`, ignoring ASCII case.
    ///
    /// This is how `Connection: keep-alive, Upgrade` is read.
    ///
    /// - Parameters:
    ///   - name: The field name.
    ///   - token: The token to look for.
    /// - Returns: Whether the token is present.
    public func contains(_ name: String, token: String) -> Bool {
        values(for: name).contains { value in
            value.split(separator: ",").contains { Self.namesMatch(String($0).trimmed(), token) }
        }
    }

    /// Appends a field.
    ///
    /// - Parameters:
    ///   - name: The field name.
    ///   - value: The field value.
    public mutating func append(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// The number of fields.
    public var count: Int { fields.count }

    static func namesMatch(_ left: String, _ right: String) -> Bool {
        let left = left.utf8
        let right = right.utf8
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { lowercasedASCII($0) == lowercasedASCII($1) }
    }

    private static func lowercasedASCII(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}

extension WebSocketHeaders: ExpressibleByDictionaryLiteral {
    /// Creates headers from a literal, keeping the literal's order.
    ///
    /// - Parameter elements: Name and value pairs.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements.map { Field(name: $0.0, value: $0.1) })
    }
}

extension String {
    /// The string without leading and trailing spaces and horizontal tabs.
    func trimmed() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

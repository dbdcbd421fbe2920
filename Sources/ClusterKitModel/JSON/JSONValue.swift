/// A plain JSON document: the shape of `zeek-client` output, Zeek's `to_json` text, and `--set` values.
///
/// Objects keep their members in order, so text written from a `JSONValue` is reproducible. Numbers keep
/// the distinction between integers and reals that both Zeek and Python make.
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits in `Int64`.
    case integer(Int64)
    /// An integer above `Int64.max` that fits in `UInt64`.
    case unsignedInteger(UInt64)
    /// A number with a fraction or an exponent, or an integer too large for 64 bits.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, members in order.
    case object([Member])

    /// One member of an object.
    public struct Member: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: JSONValue

        /// Creates a member.
        ///
        /// - Parameters:
        ///   - key: The key.
        ///   - value: The value.
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Limits that keep parsing bounded.
    public struct Limits: Sendable, Hashable {
        /// The largest input accepted, in bytes.
        ///
        /// Default: 64 MiB.
        public var maximumInputSize: Int
        /// The deepest nesting of arrays and objects accepted.
        ///
        /// Default: 128.
        public var maximumDepth: Int

        /// Creates limits.
        ///
        /// - Parameters:
        ///   - maximumInputSize: The largest input in bytes.
        ///   - maximumDepth: The deepest nesting of arrays and objects.
        public init(maximumInputSize: Int = 64 << 20, maximumDepth: Int = 128) {
            self.maximumInputSize = maximumInputSize
            self.maximumDepth = maximumDepth
        }

        /// The defaults: 64 MiB and 128 levels.
        public static let standard = Limits()
    }

    /// Parses JSON text.
    ///
    /// - Parameters:
    ///   - text: The JSON text.
    ///   - limits: Size and depth limits.
    /// - Returns: The document.
    /// - Throws: ``JSONError`` naming the problem and its byte offset.
    public static func parse(_ text: String, limits: Limits = .standard) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { buffer in try parse(buffer, validatesUTF8: false, limits: limits) }
    }

    /// Parses JSON text given as UTF-8 bytes.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 bytes; invalid UTF-8 inside strings is an error.
    ///   - limits: Size and depth limits.
    /// - Returns: The document.
    /// - Throws: ``JSONError`` naming the problem and its byte offset.
    public static func parse(utf8 bytes: [UInt8], limits: Limits = .standard) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer in try parse(buffer, validatesUTF8: true, limits: limits) }
    }

    private static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>,
        validatesUTF8: Bool,
        limits: Limits
    ) throws(JSONError) -> JSONValue {
        guard buffer.count <= limits.maximumInputSize else {
            throw JSONError(
                .inputTooLarge,
                "input of \(buffer.count) bytes exceeds the limit of \(limits.maximumInputSize) bytes",
                at: 0
            )
        }
        var scanner = JSONScanner(bytes: buffer, validatesUTF8: validatesUTF8)
        let value = try parseValue(&scanner, depth: 0, maximumDepth: limits.maximumDepth)
        try scanner.expectEnd()
        return value
    }

    private static func parseValue(
        _ scanner: inout JSONScanner,
        depth: Int,
        maximumDepth: Int
    ) throws(JSONError) -> JSONValue {
        switch scanner.peekToken() {
        case UInt8(ascii: "{"):
            guard depth < maximumDepth else { throw scanner.nestingTooDeep(maximumDepth) }
            scanner.index += 1
            var members: [Member] = []
            if scanner.consume(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                let key = try scanner.parseString()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                members.append(Member(key, try parseValue(&scanner, depth: depth + 1, maximumDepth: maximumDepth)))
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return .object(members)
        case UInt8(ascii: "["):
            guard depth < maximumDepth else { throw scanner.nestingTooDeep(maximumDepth) }
            scanner.index += 1
            var elements: [JSONValue] = []
            if scanner.consume(UInt8(ascii: "]")) { return .array(elements) }
            repeat {
                elements.append(try parseValue(&scanner, depth: depth + 1, maximumDepth: maximumDepth))
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "]"), "',' or ']' in an array")
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try scanner.parseString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .bool(try scanner.parseBool())
        case UInt8(ascii: "n"):
            try scanner.parseNull()
            return .null
        case UInt8(ascii: "-"), .some(UInt8(ascii: "0")...UInt8(ascii: "9")):
            let number = try scanner.scanNumber()
            if number.isInteger, let magnitude = number.magnitude {
                if number.isNegative {
                    if magnitude <= UInt64(Int64.max) { return .integer(-Int64(magnitude)) }
                    if magnitude == UInt64(Int64.max) + 1 { return .integer(.min) }
                } else if magnitude <= UInt64(Int64.max) {
                    return .integer(Int64(magnitude))
                } else {
                    return .unsignedInteger(magnitude)
                }
            }
            return .double(scanner.double(of: number))
        default:
            throw scanner.unexpected(expected: "a JSON value")
        }
    }
}

// MARK: - Access

extension JSONValue {
    /// The member value for `key` of an object, or `nil` when absent or not an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The members, when this is an object.
    public var objectMembers: [Member]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// Creates an object from members given as key-value pairs, in order.
    ///
    /// - Parameter pairs: The keys and values.
    /// - Returns: The object.
    public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { Member($0.key, $0.value) })
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral
{
    /// Creates a string value.
    ///
    /// - Parameter value: The string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Creates a Boolean value.
    ///
    /// - Parameter value: The Boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Creates an integer value.
    ///
    /// - Parameter value: The integer.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// Creates a real value.
    ///
    /// - Parameter value: The number.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// Creates `null`.
    ///
    /// - Parameter nilLiteral: Nothing.
    public init(nilLiteral: ()) { self = .null }
    /// Creates an array.
    ///
    /// - Parameter elements: The elements.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

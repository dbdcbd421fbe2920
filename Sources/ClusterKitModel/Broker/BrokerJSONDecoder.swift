/// Reads Broker JSON v1 values and WebSocket envelopes from UTF-8 bytes.
///
/// Key order and whitespace do not matter, and neither costs more than one pass: a `data` member that comes
/// before its `@data-type` is skipped once, and while it is skipped the position of the `@data-type` of every
/// Broker value object inside it is remembered (``typeMemo``). When the type arrives the `data` is read
/// again, and the objects inside it find their type in the memo instead of being skipped again. So every
/// byte is skipped at most once and read at most once, whatever the nesting (a skip at every level would
/// make deep input quadratic).
package struct BrokerJSONDecoder {
    var scanner: JSONScanner
    let maximumDepth: Int
    /// Where the `@data-type` string of each object inside a skipped `data` member is, by its `{` offset.
    ///
    /// Filled only by ``skipRecordingTypes(depth:)``; entries are removed when used.
    /// Made with `init()`, not a literal: a decoder is made per event on the WebSocket path, and the empty
    /// dictionary then costs nothing.
    var typeMemo = [Int: JSONScanner.RawString]()
    /// The bytes passed over by ``skipRecordingTypes(depth:)``: at most the input's size (for tests).
    private(set) var deferredBytesSkipped = 0

    init(bytes: UnsafeBufferPointer<UInt8>, validatesUTF8: Bool, limits: JSONValue.Limits) throws(JSONError) {
        guard bytes.count <= limits.maximumInputSize else {
            throw JSONError(
                .inputTooLarge,
                "input of \(bytes.count) bytes exceeds the limit of \(limits.maximumInputSize) bytes",
                at: 0
            )
        }
        scanner = JSONScanner(bytes: bytes, validatesUTF8: validatesUTF8)
        maximumDepth = limits.maximumDepth
    }

    // MARK: - Values

    /// Reads one `{"@data-type": …, "data": …}` object.
    mutating func decodeValue(depth: Int) throws(JSONError) -> Broker.Value {
        let start = scanner.index
        guard scanner.peekToken() == UInt8(ascii: "{") else {
            let kind = scanner.kindOfNextValue()
            if kind == "invalid JSON" || kind == "end of input" { throw scanner.unexpected(expected: "a Broker value") }
            throw JSONError(
                .wrongPayloadType,
                "expected a Broker value object with '@data-type' and 'data', got \(kind)",
                at: scanner.index
            )
        }
        guard depth < maximumDepth else { throw scanner.nestingTooDeep(maximumDepth) }
        var parts = ValueParts(brace: scanner.index)
        scanner.index += 1
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                guard try decodeValueMember(key, into: &parts, depth: depth) else {
                    throw JSONError(
                        .unexpectedKey,
                        "unexpected key '\(try scanner.string(key))' in a Broker value (expected '@data-type' and 'data')",
                        at: key.quote
                    )
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}' in a Broker value")
        }
        return try parts.finish(at: start)
    }

    /// The `@data-type` and `data` members of an object as they are read.
    struct ValueParts {
        /// The offset of the object's `{`, the key of ``BrokerJSONDecoder/typeMemo``.
        var brace: Int
        var type: Broker.DataType?
        var value: Broker.Value?
        var sawType = false
        var sawData = false
        /// Where a `data` member seen before `@data-type` starts.
        var deferredData: Int?

        func finish(at offset: Int) throws(JSONError) -> Broker.Value {
            guard let type else { throw JSONError(.missingKey, "Broker value has no '@data-type'", at: offset) }
            if let value { return value }
            guard type == Broker.DataType.none else {
                throw JSONError(.missingKey, "Broker value of type '\(type.rawValue)' has no 'data'", at: offset)
            }
            return .none
        }
    }

    /// Handles `@data-type` and `data`; returns `false` for any other key.
    mutating func decodeValueMember(
        _ key: JSONScanner.RawString,
        into parts: inout ValueParts,
        depth: Int
    ) throws(JSONError) -> Bool {
        if scanner.rawString(key, equals: "@data-type") {
            guard !parts.sawType else { throw JSONError(.duplicateKey, "duplicate key '@data-type'", at: key.quote) }
            parts.sawType = true
            let typeName = try scanner.scanString()
            // Known already when `data` came first and found this member in the memo.
            if parts.type != nil { return true }
            guard let type = dataType(typeName) else {
                throw JSONError(
                    .unknownDataType,
                    "unknown @data-type '\(try scanner.string(typeName))'",
                    at: typeName.quote
                )
            }
            parts.type = type
            if let deferred = parts.deferredData {
                let resume = scanner.index
                scanner.index = deferred
                parts.value = try decodePayload(type, depth: depth + 1)
                scanner.index = resume
            }
            return true
        }
        if scanner.rawString(key, equals: "data") {
            guard !parts.sawData else { throw JSONError(.duplicateKey, "duplicate key 'data'", at: key.quote) }
            parts.sawData = true
            if parts.type == nil, !typeMemo.isEmpty, let typeName = typeMemo.removeValue(forKey: parts.brace) {
                guard let type = dataType(typeName) else {
                    throw JSONError(
                        .unknownDataType,
                        "unknown @data-type '\(try scanner.string(typeName))'",
                        at: typeName.quote
                    )
                }
                parts.type = type
            }
            if let type = parts.type {
                parts.value = try decodePayload(type, depth: depth + 1)
            } else {
                parts.deferredData = scanner.index
                let before = scanner.index
                try skipRecordingTypes(depth: depth + 1)
                deferredBytesSkipped += scanner.index - before
            }
            return true
        }
        return false
    }

    private func dataType(_ raw: JSONScanner.RawString) -> Broker.DataType? {
        guard !raw.hasEscapes, raw.range.count >= 3 else { return nil }
        // Dispatch on the first byte, then compare the whole name.
        switch scanner.bytes[raw.range.lowerBound] {
        case UInt8(ascii: "s"):
            if scanner.rawString(raw, equals: "string") { return .string }
            if scanner.rawString(raw, equals: "set") { return .set }
            if scanner.rawString(raw, equals: "subnet") { return .subnet }
        case UInt8(ascii: "c"): if scanner.rawString(raw, equals: "count") { return .count }
        case UInt8(ascii: "v"): if scanner.rawString(raw, equals: "vector") { return .vector }
        case UInt8(ascii: "b"): if scanner.rawString(raw, equals: "boolean") { return .boolean }
        case UInt8(ascii: "i"): if scanner.rawString(raw, equals: "integer") { return .integer }
        case UInt8(ascii: "n"): if scanner.rawString(raw, equals: "none") { return Broker.DataType.none }
        case UInt8(ascii: "r"): if scanner.rawString(raw, equals: "real") { return .real }
        case UInt8(ascii: "e"): if scanner.rawString(raw, equals: "enum-value") { return .enumValue }
        case UInt8(ascii: "a"): if scanner.rawString(raw, equals: "address") { return .address }
        case UInt8(ascii: "p"): if scanner.rawString(raw, equals: "port") { return .port }
        case UInt8(ascii: "t"):
            if scanner.rawString(raw, equals: "table") { return .table }
            if scanner.rawString(raw, equals: "timestamp") { return .timestamp }
            if scanner.rawString(raw, equals: "timespan") { return .timespan }
        default: break
        }
        return nil
    }

    /// Skips a `data` member read before its `@data-type`, as ``JSONScanner/skipValue(depth:maximumDepth:)``
    /// does, and records in ``typeMemo`` where the first `@data-type` string of every object inside it is.
    ///
    /// It also passes over Zeek's `nan`, `inf` and `-inf`, which a `real` payload may hold.
    private mutating func skipRecordingTypes(depth: Int) throws(JSONError) {
        switch scanner.peekToken() {
        case UInt8(ascii: "{"):
            guard depth < maximumDepth else { throw scanner.nestingTooDeep(maximumDepth) }
            let brace = scanner.index
            scanner.index += 1
            if scanner.consume(UInt8(ascii: "}")) { return }
            var recorded = false
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                if !recorded, scanner.rawString(key, equals: "@data-type"),
                    scanner.peekToken() == UInt8(ascii: "\"")
                {
                    let typeName = try scanner.scanString()
                    if scanner.validatesUTF8 || typeName.hasEscapes { _ = try scanner.string(typeName) }
                    typeMemo[brace] = typeName
                    recorded = true
                } else {
                    try skipRecordingTypes(depth: depth + 1)
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}' in an object")
        case UInt8(ascii: "["):
            guard depth < maximumDepth else { throw scanner.nestingTooDeep(maximumDepth) }
            scanner.index += 1
            if scanner.consume(UInt8(ascii: "]")) { return }
            repeat {
                try skipRecordingTypes(depth: depth + 1)
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "]"), "',' or ']' in an array")
        case UInt8(ascii: "n"), UInt8(ascii: "i"), UInt8(ascii: "-"):
            if scanNonFiniteReal() != nil { return }
            try scanner.skipValue(depth: depth, maximumDepth: maximumDepth)
        default:
            try scanner.skipValue(depth: depth, maximumDepth: maximumDepth)
        }
    }

    // MARK: - Payloads

    private mutating func wrongPayload(_ type: Broker.DataType, expected: String) -> JSONError {
        let kind = scanner.kindOfNextValue()
        return JSONError(
            .wrongPayloadType,
            "'\(type.rawValue)' data must be \(expected), got \(kind)",
            at: scanner.index
        )
    }

    private mutating func decodePayload(_ type: Broker.DataType, depth: Int) throws(JSONError) -> Broker.Value {
        switch type {
        case .none:
            // Zeek writes `{}` and ignores whatever is there.
            try scanner.skipValue(depth: depth, maximumDepth: maximumDepth)
            return .none
        case .boolean:
            let next = scanner.peekToken()
            guard next == UInt8(ascii: "t") || next == UInt8(ascii: "f") else {
                throw wrongPayload(type, expected: "a JSON boolean")
            }
            return .boolean(try scanner.parseBool())
        case .count:
            let number = try scanNumber(for: type)
            guard !number.isNegative || number.magnitude == 0 else {
                throw JSONError(
                    .invalidNumber,
                    "count must not be negative: \(scanner.text(of: number))",
                    at: number.start
                )
            }
            guard number.isInteger else {
                throw JSONError(
                    .invalidNumber,
                    "count must be an integer: \(scanner.text(of: number))",
                    at: number.start
                )
            }
            guard let magnitude = number.magnitude else {
                throw JSONError(
                    .invalidNumber,
                    "count out of range (0 to \(UInt64.max)): \(scanner.text(of: number))",
                    at: number.start
                )
            }
            return .count(magnitude)
        case .integer:
            let number = try scanNumber(for: type)
            guard number.isInteger else {
                throw JSONError(.invalidNumber, "integer must be whole: \(scanner.text(of: number))", at: number.start)
            }
            if let magnitude = number.magnitude {
                if !number.isNegative, magnitude <= UInt64(Int64.max) { return .integer(Int64(magnitude)) }
                if number.isNegative, magnitude <= UInt64(Int64.max) + 1 {
                    return .integer(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude))
                }
            }
            throw JSONError(
                .invalidNumber,
                "integer out of range (\(Int64.min) to \(Int64.max)): \(scanner.text(of: number))",
                at: number.start
            )
        case .real:
            if let special = scanNonFiniteReal() { return .real(special) }
            let number = try scanNumber(for: type)
            return .real(scanner.double(of: number))
        case .string:
            guard scanner.peekToken() == UInt8(ascii: "\"") else { throw wrongPayload(type, expected: "a JSON string") }
            return .string(try scanner.parseString())
        case .enumValue:
            guard scanner.peekToken() == UInt8(ascii: "\"") else { throw wrongPayload(type, expected: "a JSON string") }
            let raw = try scanner.scanString()
            let name = try scanner.string(raw)
            guard !name.isEmpty else { throw JSONError(.invalidMessage, "enum value must not be empty", at: raw.quote) }
            return .enumValue(name)
        case .address:
            let raw = try scanPayloadString(for: type)
            guard !raw.hasEscapes,
                let address = Broker.Address.parse(UnsafeBufferPointer(rebasing: scanner.bytes[raw.range]))
            else {
                throw JSONError(.invalidAddress, "malformed address '\(try scanner.string(raw))'", at: raw.quote)
            }
            return .address(address)
        case .subnet:
            let raw = try scanPayloadString(for: type)
            let text = try scanner.string(raw)
            guard let subnet = Broker.Subnet(text) else {
                throw JSONError(.invalidSubnet, "malformed subnet '\(text)' (expected address/length)", at: raw.quote)
            }
            return .subnet(subnet)
        case .port:
            let raw = try scanPayloadString(for: type)
            guard !raw.hasEscapes, let port = Broker.Port.parse(UnsafeBufferPointer(rebasing: scanner.bytes[raw.range]))
            else {
                throw JSONError(
                    .invalidPort,
                    "malformed port '\(try scanner.string(raw))' (expected number/protocol, 0-65535)",
                    at: raw.quote
                )
            }
            return .port(port)
        case .timestamp:
            let raw = try scanPayloadString(for: type)
            guard !raw.hasEscapes,
                let timestamp = Broker.Timestamp.parse(UnsafeBufferPointer(rebasing: scanner.bytes[raw.range]))
            else {
                throw JSONError(
                    .invalidTimestamp,
                    "malformed timestamp '\(try scanner.string(raw))' (expected YYYY-MM-DDThh:mm:ss[.fff][zone])",
                    at: raw.quote
                )
            }
            return .timestamp(timestamp)
        case .timespan:
            let raw = try scanPayloadString(for: type)
            guard !raw.hasEscapes,
                let timespan = Broker.Timespan.parse(UnsafeBufferPointer(rebasing: scanner.bytes[raw.range]))
            else {
                throw JSONError(
                    .invalidTimespan,
                    "malformed timespan '\(try scanner.string(raw))' (expected an integer and ns, us, ms, s, min or h)",
                    at: raw.quote
                )
            }
            return .timespan(timespan)
        case .vector:
            return .vector(try decodeElements(for: type, depth: depth))
        case .set:
            return .set(Broker.ValueSet(try decodeElements(for: type, depth: depth)))
        case .table:
            return .table(Broker.ValueTable(entries: try decodeTableEntries(depth: depth)))
        }
    }

    private mutating func scanNumber(for type: Broker.DataType) throws(JSONError) -> JSONScanner.Number {
        switch scanner.peekToken() {
        case UInt8(ascii: "-"), .some(UInt8(ascii: "0")...UInt8(ascii: "9")): return try scanner.scanNumber()
        default: throw wrongPayload(type, expected: "a JSON number")
        }
    }

    private mutating func scanPayloadString(for type: Broker.DataType) throws(JSONError) -> JSONScanner.RawString {
        guard scanner.peekToken() == UInt8(ascii: "\"") else { throw wrongPayload(type, expected: "a JSON string") }
        return try scanner.scanString()
    }

    /// Reads Zeek's `nan`, `inf` and `-inf`, which are not JSON but what Zeek writes for such reals.
    private mutating func scanNonFiniteReal() -> Double? {
        scanner.skipWhitespace()
        let bytes = scanner.bytes
        var position = scanner.index
        var sign = 1.0
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
            sign = -1
            position += 1
        }
        func matches(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[position + offset] != word.utf8Start[offset] { return false }
            return true
        }
        if matches("inf") {
            scanner.index = position + 3
            return sign * .infinity
        }
        if sign > 0, matches("nan") {
            scanner.index = position + 3
            return .nan
        }
        return nil
    }

    private mutating func decodeElements(for type: Broker.DataType, depth: Int) throws(JSONError) -> [Broker.Value] {
        guard scanner.peekToken() == UInt8(ascii: "[") else { throw wrongPayload(type, expected: "a JSON array") }
        guard depth < maximumDepth else { throw scanner.nestingTooDeep(maximumDepth) }
        scanner.index += 1
        var elements: [Broker.Value] = []
        if scanner.consume(UInt8(ascii: "]")) { return elements }
        // Most vectors are records of a handful of fields: one allocation instead of growing 1, 2, 4, 8.
        elements.reserveCapacity(8)
        repeat {
            elements.append(try decodeValue(depth: depth + 1))
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "]"), "',' or ']' in '\(type.rawValue)' data")
        return elements
    }

    private mutating func decodeTableEntries(depth: Int) throws(JSONError) -> [Broker.ValueTable.Entry] {
        guard scanner.peekToken() == UInt8(ascii: "[") else { throw wrongPayload(.table, expected: "a JSON array") }
        guard depth < maximumDepth else { throw scanner.nestingTooDeep(maximumDepth) }
        scanner.index += 1
        var entries: [Broker.ValueTable.Entry] = []
        if scanner.consume(UInt8(ascii: "]")) { return entries }
        repeat {
            let start = scanner.index
            guard scanner.peekToken() == UInt8(ascii: "{") else {
                throw JSONError(
                    .wrongPayloadType,
                    "table entries must be objects with 'key' and 'value', got \(scanner.kindOfNextValue())",
                    at: scanner.index
                )
            }
            guard depth + 1 < maximumDepth else { throw scanner.nestingTooDeep(maximumDepth) }
            scanner.index += 1
            var key: Broker.Value?
            var value: Broker.Value?
            if !scanner.consume(UInt8(ascii: "}")) {
                repeat {
                    let name = try scanner.scanString()
                    try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                    if scanner.rawString(name, equals: "key") {
                        guard key == nil else { throw JSONError(.duplicateKey, "duplicate key 'key'", at: name.quote) }
                        key = try decodeValue(depth: depth + 2)
                    } else if scanner.rawString(name, equals: "value") {
                        guard value == nil else {
                            throw JSONError(.duplicateKey, "duplicate key 'value'", at: name.quote)
                        }
                        value = try decodeValue(depth: depth + 2)
                    } else {
                        throw JSONError(
                            .unexpectedKey,
                            "unexpected key '\(try scanner.string(name))' in a table entry (expected 'key' and 'value')",
                            at: name.quote
                        )
                    }
                } while scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "}"), "',' or '}' in a table entry")
            }
            guard let key else { throw JSONError(.missingKey, "table entry has no 'key'", at: start) }
            guard let value else { throw JSONError(.missingKey, "table entry has no 'value'", at: start) }
            entries.append(Broker.ValueTable.Entry(key: key, value: value))
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "]"), "',' or ']' in 'table' data")
        return entries
    }

    // MARK: - Envelopes

    /// Reads one WebSocket frame: a data message, an ack or an error.
    mutating func decodeMessage() throws(JSONError) -> Broker.Message {
        let start = scanner.index
        guard scanner.peekToken() == UInt8(ascii: "{") else {
            if scanner.isAtEnd || scanner.kindOfNextValue() == "invalid JSON" {
                throw scanner.unexpected(expected: "a JSON object")
            }
            throw JSONError(.invalidMessage, "expected a JSON object, got \(scanner.kindOfNextValue())", at: start)
        }
        var parts = ValueParts(brace: scanner.index)
        scanner.index += 1
        var strings: [String: String] = [:]
        var versionText: String?
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                if try decodeValueMember(key, into: &parts, depth: 0) { continue }
                let name = try scanner.string(key)
                guard strings[name] == nil, !(name == "version" && versionText != nil) else {
                    throw JSONError(.duplicateKey, "duplicate key '\(name)'", at: key.quote)
                }
                switch name {
                case "type", "topic", "endpoint", "code", "context":
                    guard scanner.peekToken() == UInt8(ascii: "\"") else {
                        throw JSONError(
                            .wrongPayloadType,
                            "'\(name)' must be a string, got \(scanner.kindOfNextValue())",
                            at: scanner.index
                        )
                    }
                    strings[name] = try scanner.parseString()
                case "version":
                    // zeek-client accepts any JSON type here; keep strings as they are, anything else as JSON text.
                    if scanner.peekToken() == UInt8(ascii: "\"") {
                        versionText = try scanner.parseString()
                    } else {
                        let valueStart = scanner.index
                        try scanner.skipValue(depth: 1, maximumDepth: maximumDepth)
                        versionText = String(
                            decoding: UnsafeBufferPointer(rebasing: scanner.bytes[valueStart..<scanner.index]),
                            as: UTF8.self
                        )
                    }
                default:
                    try scanner.skipValue(depth: 1, maximumDepth: maximumDepth)  // unknown keys are ignored
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}' in a message")
        }
        let type = strings["type"] ?? (parts.type != nil || strings["topic"] != nil ? "data-message" : nil)
        switch type {
        case "data-message":
            guard let topic = strings["topic"] else {
                throw JSONError(.missingKey, "no topic in top-level JSON object", at: start)
            }
            return .data(Broker.DataMessage(topic: topic, value: try parts.finish(at: start)))
        case "ack":
            guard let endpoint = strings["endpoint"] else {
                throw JSONError(.missingKey, "ack has no 'endpoint'", at: start)
            }
            guard let versionText else { throw JSONError(.missingKey, "ack has no 'version'", at: start) }
            return .ack(Broker.Ack(endpoint: endpoint, version: versionText))
        case "error":
            return .error(Broker.ErrorMessage(code: strings["code"] ?? "", context: strings["context"] ?? ""))
        case nil:
            throw JSONError(.missingKey, "message has no 'type'", at: start)
        case let other?:
            throw JSONError(.invalidMessage, "unknown message type '\(other)'", at: start)
        }
    }

    /// Reads the first client frame of Zeek's WebSocket API: an array of topic strings.
    ///
    /// The messages are Zeek's own error contexts, so a server can send them back unchanged.
    mutating func decodeSubscriptions() throws(JSONError) -> [String] {
        guard scanner.peekToken() == UInt8(ascii: "[") else {
            let start = scanner.index
            try scanner.skipValue(depth: 0, maximumDepth: maximumDepth)
            try scanner.expectEnd()
            throw JSONError(.invalidMessage, "subscriptions not an array", at: start)
        }
        scanner.index += 1
        var topics: [String] = []
        if !scanner.consume(UInt8(ascii: "]")) {
            repeat {
                guard scanner.peekToken() == UInt8(ascii: "\"") else {
                    let start = scanner.index
                    try scanner.skipValue(depth: 1, maximumDepth: maximumDepth)
                    throw JSONError(.invalidMessage, "individual subscription not a string", at: start)
                }
                topics.append(try scanner.parseString())
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "]"), "',' or ']' in the subscription array")
        }
        try scanner.expectEnd()
        return topics
    }
}

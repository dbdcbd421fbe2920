extension ZeekValue {
    /// The value as Zeek's `to_json()` BIF builds it, before it is written as text.
    ///
    /// Ports become `{"port": N, "proto": "tcp"}`; addresses, subnets, patterns and intervals become their
    /// text (`"10.0 secs"`); enums their full name; times and doubles plain numbers (NaN and infinities
    /// `null`); sets and vectors arrays; tables objects keyed by the index's text; records objects without
    /// their unset fields, a leading `_` removed from field names (`field_escape_pattern=/^_/`).
    ///
    /// - Note: Zeek writes set and table elements in hash order; ClusterKit keeps the order it was given.
    ///
    /// - Returns: The JSON value.
    public func toJSON() -> JSONValue {
        switch self {
        case .bool(let flag): .bool(flag)
        case .int(let number): .integer(number)
        case .count(let number): number <= UInt64(Int64.max) ? .integer(Int64(number)) : .unsignedInteger(number)
        case .double(let number): number.isFinite ? .double(number) : .null
        case .time(let timestamp): .double(timestamp.secondsSinceEpoch)
        case .interval, .pattern, .addr, .subnet, .string, .enumValue, .function: .string(formatted)
        case .port(let port):
            .object([
                JSONValue.Member("port", .integer(Int64(port.number))),
                JSONValue.Member(
                    "proto",
                    .string(port.transportProtocol == .unknown ? "unknown" : port.transportProtocol.text)
                ),
            ])
        case .set(let elements): .array(elements.map { $0.toJSON() })
        case .list(let elements): .array(elements.map { $0.toJSON() })
        case .vector(let elements): .array(elements.map { $0?.toJSON() ?? .null })
        case .table(let entries):
            .object(
                entries.map { entry in
                    let key = entry.key.toJSON()
                    return JSONValue.Member(key.stringValue ?? key.text(), entry.value.toJSON())
                }
            )
        case .record(let record):
            .object(
                record.fields.compactMap { field in
                    guard let value = field.value else { return nil }
                    let name = field.name.hasPrefix("_") ? String(field.name.dropFirst()) : field.name
                    return JSONValue.Member(name, value.toJSON())
                }
            )
        case .json(let json): json
        }
    }

    /// The text Zeek's `to_json()` returns: compact JSON.
    public var json: String { toJSON().text(style: .zeek) }

    /// The value as `fmt("%s", value)` writes it (what the Control framework's `id_value` returns).
    ///
    /// Strings raw; booleans `T`/`F`; doubles with at most six decimals (`1.5`, `3.0`); intervals in units
    /// (`1.0 day 2.0 hrs`, `0 secs`); sets and tables one element per TAB-indented line; vectors and records
    /// in brackets (`[a=1, b=<uninitialized>]`).
    public var formatted: String {
        var text = ""
        describe(into: &text, indent: 0)
        return text
    }

    private func describe(into text: inout String, indent: Int) {
        switch self {
        case .bool(let flag): text += flag ? "T" : "F"
        case .int(let number): text += String(number)
        case .count(let number): text += String(number)
        case .double(let number): text += Self.zeekDouble(number)
        case .time(let timestamp): text += Self.zeekDouble(timestamp.secondsSinceEpoch)
        case .interval(let timespan): text += Self.interval(timespan)
        case .string(let string): text += string
        case .pattern(let pattern): text += "/\(pattern)/"
        case .port(let port):
            text += "\(port.number)/\(port.transportProtocol == .unknown ? "unknown" : port.transportProtocol.text)"
        case .addr(let address): text += address.description
        case .subnet(let subnet): text += subnet.description
        case .enumValue(let name): text += name
        case .function(let name): text += name
        case .json(let json): text += json.text()
        case .list(let elements):
            for (position, element) in elements.enumerated() {
                if position > 0 { text += ", " }
                element.describe(into: &text, indent: indent)
            }
        case .vector(let elements):
            text += "["
            for (position, element) in elements.enumerated() {
                if position > 0 { text += ", " }
                element?.describe(into: &text, indent: indent)
            }
            text += "]"
        case .record(let record):
            text += "["
            for (position, field) in record.fields.enumerated() {
                if position > 0 { text += ", " }
                text += field.name + "="
                if let value = field.value {
                    value.describe(into: &text, indent: indent)
                } else {
                    text += "<uninitialized>"
                }
            }
            text += "]"
        case .set(let elements):
            describeContainer(elements.count, into: &text, indent: indent) { position, text in
                elements[position].describe(into: &text, indent: indent + 1)
            }
        case .table(let entries):
            describeContainer(entries.count, into: &text, indent: indent) { position, text in
                text += "["
                entries[position].key.describe(into: &text, indent: indent + 1)
                text += "] = "
                entries[position].value.describe(into: &text, indent: indent + 1)
            }
        }
    }

    /// Zeek's `TableVal::Describe`: `{`, then each element on its own line indented by TABs, `,` between,
    /// then a line with `}`.
    private func describeContainer(
        _ count: Int,
        into text: inout String,
        indent: Int,
        element: (Int, inout String) -> Void
    ) {
        let inner = "\n" + String(repeating: "\t", count: indent + 1)
        text += "{" + inner
        for position in 0..<count {
            if position > 0 { text += "," + inner }
            element(position, &text)
        }
        text += "\n" + String(repeating: "\t", count: indent) + "}"
    }

    /// Zeek's `ODesc::Add(double)`: `modp_dtoa2` with six decimals, trailing zeros stripped, `.0` added to
    /// integral values, `%e` above 2147483647.
    static func zeekDouble(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        if abs(value) > 2_147_483_647 { return Self.cScientific(value) }
        let scaled = (abs(value) * 1_000_000).rounded()
        let whole = UInt64(scaled / 1_000_000)
        var fraction = UInt64(scaled) - whole * 1_000_000
        var text = (value < 0 && scaled != 0 ? "-" : "") + String(whole)
        if fraction > 0 {
            var digits = 6
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let fractionText = String(fraction)
            text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        } else {
            text += ".0"
        }
        return text
    }

    /// C's `%e`: one digit, six decimals, a signed two-digit exponent.
    private static func cScientific(_ value: Double) -> String {
        var exponent = 0
        var mantissa = abs(value)
        while mantissa >= 10 {
            mantissa /= 10
            exponent += 1
        }
        var scaled = (mantissa * 1_000_000).rounded()
        if scaled >= 10_000_000 {
            scaled /= 10
            exponent += 1
        }
        let digits = String(UInt64(scaled))
        return (value < 0 ? "-" : "") + digits.prefix(1) + "." + digits.dropFirst() + "e+"
            + (exponent < 10 ? "0" : "") + String(exponent)
    }

    /// Zeek's `IntervalVal::ValDescribe`: whole days, hrs, mins, secs, msecs, usecs, greedy, each as a double.
    static func interval(_ timespan: Broker.Timespan) -> String {
        let units: [(Int64, String)] = [
            (86_400_000_000_000, "day"), (3_600_000_000_000, "hr"), (60_000_000_000, "min"),
            (1_000_000_000, "sec"), (1_000_000, "msec"), (1000, "usec"),
        ]
        var remaining = timespan.nanoseconds
        guard remaining != 0 else { return "0 secs" }
        var parts: [String] = []
        for (size, name) in units where remaining >= size || remaining <= -size {
            let count = remaining / size
            guard count != 0 else { continue }
            parts.append("\(count).0 \(name)\(count == 1 || count == -1 ? "" : "s")")
            remaining -= count * size
        }
        return parts.joined(separator: " ")
    }
}

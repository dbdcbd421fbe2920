public import Foundation

/// Turns log lines into the bytes Zeek's ASCII log writer (`Log::WRITER_ASCII`) writes for them, with Zeek's
/// default settings, in either of its formats.
///
/// **ASCII** (``ZeekLogFormat/ascii``), as `src/logging/writers/ascii/Ascii.cc` and the ASCII formatter write it:
///
/// ```
/// #separator \x09
/// #set_separator	,
/// #empty_field	(empty)
/// #unset_field	-
/// #path	cluster
/// #open	2026-12-04-20-41-00
/// #fields	ts	node	message
/// #types	time	string	string
/// 1796416860.123456	controller	got hello from worker-1 (…)
/// #close	2026-12-04-20-45-10
/// ```
///
/// Values are separated by tabs. A time or interval is seconds with six decimals; an unset value is `-`; an
/// empty string is `(empty)`; a string that is exactly `-` or `(empty)` has its first byte written as `\x2d` or
/// `\x28`. In strings a tab becomes `\x09` and a backslash `\\`; control characters, C1 controls, private-use
/// and U+FFF0–U+FFFF characters, and bytes that are not UTF-8 become `\xNN` escapes — and when a run of text
/// between tabs and backslashes holds one of them, every non-ASCII byte of that run is escaped too, as Zeek
/// does (`escape_utf8`). A line that would start with `#` starts with `\x23` instead. The `#open` and `#close`
/// times are local times (`%Y-%m-%d-%H-%M-%S`) in the given time zone.
///
/// **JSON** (``ZeekLogFormat/json``, `LogAscii::use_json=T`): one object per line in column order, with no
/// header and no close line; unset values are left out; times are seconds since the epoch as RapidJSON
/// writes a double (`JSON::TS_EPOCH`); strings are UTF-8, with control characters other than `\b`, `\f`,
/// `\n`, `\r` and `\t` written as the text `\xNN` (hence `\\xNN` in JSON), Zeek's
/// `JSON::STRING_ESCAPE_POLICY_HEX`.
///
/// As Zeek's logging framework does, every string value is cut to ``maximumFieldBytes`` (4,096, Zeek's
/// `Log::default_max_field_string_bytes`) and the strings of one line together to ``maximumTotalStringBytes``
/// (256,000, `Log::default_max_total_string_bytes`), in bytes, so that no line can grow without bound.
public struct ZeekLogEncoder: Sendable, Hashable {
    /// The log's path, such as `cluster` (the file is `<path>.log`).
    public var path: String
    /// The columns.
    public var fields: [ZeekLogField]
    /// The format.
    public var format: ZeekLogFormat
    /// The most bytes of one string value; default 4,096.
    public var maximumFieldBytes: Int
    /// The most bytes of all string values of one line; default 256,000.
    public var maximumTotalStringBytes: Int

    /// Creates an encoder with Zeek's default limits.
    ///
    /// - Parameters:
    ///   - path: The log's path, such as `cluster`.
    ///   - fields: The columns.
    ///   - format: The format.
    public init(path: String, fields: [ZeekLogField], format: ZeekLogFormat) {
        self.path = path
        self.fields = fields
        self.format = format
        self.maximumFieldBytes = 4_096
        self.maximumTotalStringBytes = 256_000
    }

    /// The file name: the path followed by `.log`, as in `cluster.log`.
    public var fileName: String { path + ".log" }

    /// The header lines (ASCII), or nothing (JSON).
    ///
    /// - Parameters:
    ///   - openedAt: When the file was opened, for `#open`.
    ///   - timeZone: The time zone of `#open`.
    /// - Returns: The bytes, each line ending with a newline.
    public func header(openedAt: Broker.Timestamp, timeZone: TimeZone) -> [UInt8] {
        guard format == .ascii else { return [] }
        var text = "#separator \\x09\n"
        text += "#set_separator\t,\n"
        text += "#empty_field\t(empty)\n"
        text += "#unset_field\t-\n"
        text += "#path\t" + Self.headerEscaped(path) + "\n"
        text += "#open\t" + Self.localTime(openedAt, timeZone: timeZone) + "\n"
        text += "#fields\t" + fields.map(\.name).joined(separator: "\t") + "\n"
        text += "#types\t" + fields.map(\.type.rawValue).joined(separator: "\t") + "\n"
        return Array(text.utf8)
    }

    /// The close line (ASCII), or nothing (JSON).
    ///
    /// - Parameters:
    ///   - closedAt: When the file was closed, for `#close`.
    ///   - timeZone: The time zone of `#close`.
    /// - Returns: The bytes, ending with a newline.
    public func footer(closedAt: Broker.Timestamp, timeZone: TimeZone) -> [UInt8] {
        guard format == .ascii else { return [] }
        return Array(("#close\t" + Self.localTime(closedAt, timeZone: timeZone) + "\n").utf8)
    }

    /// One line, ending with a newline.
    ///
    /// A value missing at the end counts as unset; values beyond the columns are ignored.
    ///
    /// - Parameter values: One value per column, in order.
    /// - Returns: The bytes.
    public func line(_ values: [ZeekLogValue]) -> [UInt8] {
        var budget = maximumTotalStringBytes
        var out: [UInt8] = []
        out.reserveCapacity(128)
        switch format {
        case .ascii:
            for index in fields.indices {
                if index > 0 { out.append(UInt8(ascii: "\t")) }
                let value = index < values.count ? values[index] : .unset
                appendASCII(value, to: &out, budget: &budget)
            }
            if out.first == UInt8(ascii: "#") {
                out.replaceSubrange(0..<1, with: Array("\\x23".utf8))
            }
        case .json:
            out.append(UInt8(ascii: "{"))
            var first = true
            for index in fields.indices {
                let value = index < values.count ? values[index] : .unset
                if value == .unset { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                var name = fields[index].name
                name.withUTF8 { ZeekLogText.appendRapidJSONString($0, to: &out) }
                out.append(UInt8(ascii: ":"))
                appendJSON(value, to: &out, budget: &budget)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// One record's line.
    ///
    /// - Parameter record: The record.
    /// - Returns: The bytes.
    public func line(_ record: some ZeekLogRecord) -> [UInt8] {
        line(record.zeekLogValues)
    }

    // MARK: - Values

    /// Calls `body` with the string's UTF-8 bytes cut to the field and line limits, and charges them to `budget`.
    private func withTruncatedBytes(
        _ text: String,
        budget: inout Int,
        _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        let allowed = max(0, min(maximumFieldBytes, budget))
        var text = text
        text.withUTF8 { bytes in
            let count = min(bytes.count, allowed)
            body(UnsafeBufferPointer(rebasing: bytes[0..<count]))
            budget -= count
        }
    }

    private func appendASCII(_ value: ZeekLogValue, to out: inout [UInt8], budget: inout Int) {
        switch value {
        case .unset: out.append(UInt8(ascii: "-"))
        case .bool(let flag): out.append(UInt8(ascii: flag ? "T" : "F"))
        case .count(let number): out += String(number).utf8
        case .int(let number): out += String(number).utf8
        case .time(let time): ZeekLogText.appendFixedSixDecimals(nanoseconds: time.nanosecondsSinceEpoch, to: &out)
        case .interval(let duration):
            ZeekLogText.appendFixedSixDecimals(nanoseconds: ZeekLogText.nanoseconds(duration), to: &out)
        case .string(let text):
            withTruncatedBytes(text, budget: &budget) { ZeekLogText.appendASCIIString($0, to: &out) }
        }
    }

    private func appendJSON(_ value: ZeekLogValue, to out: inout [UInt8], budget: inout Int) {
        switch value {
        case .unset: out += "null".utf8
        case .bool(let flag): out += (flag ? "true" : "false").utf8
        case .count(let number): out += String(number).utf8
        case .int(let number): out += String(number).utf8
        case .time(let time):
            Self.appendJSONSeconds(ZeekLogText.seconds(nanoseconds: time.nanosecondsSinceEpoch), to: &out)
        case .interval(let duration):
            Self.appendJSONSeconds(ZeekLogText.seconds(nanoseconds: ZeekLogText.nanoseconds(duration)), to: &out)
        case .string(let text):
            withTruncatedBytes(text, budget: &budget) { ZeekLogText.appendJSONString($0, to: &out) }
        }
    }

    /// Appends a number of seconds as RapidJSON's `Writer::Double` writes it.
    ///
    /// From 1 up to 2^53 Swift's `description` is already that text (the shortest digits, positional, `.0` for
    /// whole numbers), the case of every time since 1970; other values take ``RealText/rapidJSON(_:)``.
    private static func appendJSONSeconds(_ seconds: Double, to out: inout [UInt8]) {
        if seconds.magnitude >= 1, seconds.magnitude < 9_007_199_254_740_992 {
            out += seconds.description.utf8
        } else {
            out += RealText.rapidJSON(seconds).utf8
        }
    }

    // MARK: - Header texts

    /// Zeek's `get_escaped_string(s, false)`: spaces, control characters and non-ASCII bytes as `\xNN`.
    private static func headerEscaped(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else if byte == UInt8(ascii: "\\") {
                out += "\\"
            } else {
                out += "\\x" + ZeekLogText.hex(byte)
            }
        }
        return out
    }

    /// `%Y-%m-%d-%H-%M-%S` of the whole seconds of `time` in `timeZone`, as Zeek's `#open` and `#close`.
    ///
    /// - Parameters:
    ///   - time: The time.
    ///   - timeZone: The time zone.
    /// - Returns: The text, such as `2026-12-04-20-41-00`.
    public static func localTime(_ time: Broker.Timestamp, timeZone: TimeZone) -> String {
        let (seconds, _) = time.nanosecondsSinceEpoch.dividingFloor(by: 1_000_000_000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second],
            from: Date(timeIntervalSince1970: TimeInterval(seconds))
        )
        func padded(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return [
            padded(parts.year, 4), padded(parts.month, 2), padded(parts.day, 2), padded(parts.hour, 2),
            padded(parts.minute, 2), padded(parts.second, 2),
        ].joined(separator: "-")
    }
}

extension Int64 {
    /// Floor division: the quotient rounded toward negative infinity and a remainder in `0..<divisor`.
    fileprivate func dividingFloor(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}

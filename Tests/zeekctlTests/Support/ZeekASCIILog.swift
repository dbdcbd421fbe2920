import Foundation

/// A log file in Zeek's ASCII format, read as `zeek-cut` reads it, strictly: the header lines in Zeek's order,
/// rows with one value per field, and a `#close` line at the end.
struct ZeekASCIILog {
    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    var path: String
    var open: String
    var fields: [String]
    var types: [String]
    /// The rows, each a field name → value map, values unescaped (`\xNN`, `\\`).
    var rows: [[String: String]]
    var close: String?

    init(parsing text: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.last == "" else { throw FormatError(description: "the file does not end with a newline") }
        lines.removeLast()
        let expected = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-"]
        guard lines.count >= 8, Array(lines[0..<4]) == expected else {
            throw FormatError(description: "not Zeek's header: \(lines.prefix(4))")
        }
        func header(_ index: Int, _ key: String) throws -> [String] {
            let parts = lines[index].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard parts.first == "#" + key, parts.count >= 2 else {
                throw FormatError(description: "line \(index + 1) is not #\(key): \(lines[index])")
            }
            return Array(parts.dropFirst())
        }
        path = try header(4, "path").joined()
        open = try header(5, "open").joined()
        fields = try header(6, "fields")
        types = try header(7, "types")
        guard fields.count == types.count else { throw FormatError(description: "#fields and #types differ in length") }
        var body = Array(lines.dropFirst(8))
        if let last = body.last, last.hasPrefix("#close\t") {
            close = String(last.dropFirst("#close\t".count))
            body.removeLast()
        }
        rows = []
        for line in body {
            guard !line.hasPrefix("#") else { throw FormatError(description: "unexpected meta line: \(line)") }
            let values = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard values.count == fields.count else {
                throw FormatError(description: "\(values.count) values for \(fields.count) fields: \(line)")
            }
            rows.append(Dictionary(uniqueKeysWithValues: zip(fields, values.map(Self.unescaped))))
        }
    }

    /// Zeek's `get_unescaped_string`: `\xNN` is the byte NN, `\\` a backslash.
    static func unescaped(_ value: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(value.utf8)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "\\"), index + 3 < input.count, input[index + 1] == UInt8(ascii: "x"),
                let byte = UInt8(String(decoding: input[(index + 2)..<(index + 4)], as: UTF8.self), radix: 16)
            {
                bytes.append(byte)
                index += 4
            } else if input[index] == UInt8(ascii: "\\"), index + 1 < input.count,
                input[index + 1] == UInt8(ascii: "\\")
            {
                bytes.append(UInt8(ascii: "\\"))
                index += 2
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads a file.
    static func read(_ path: String) throws -> ZeekASCIILog {
        try ZeekASCIILog(parsing: String(contentsOfFile: path, encoding: .utf8))
    }
}

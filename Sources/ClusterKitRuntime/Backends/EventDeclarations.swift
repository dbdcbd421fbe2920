import ClusterKitModel

/// Event declarations read from Zeek script (`global NAME: event(arg: type, ...);`), for a hub's
/// ``EventCatalog``: what `zeekctl controller --declare FILE.zeek` reads, so that clients of Zeek's WebSocket API
/// can exchange their own events through a ClusterKit hub as through Zeek.
///
/// What is read: `module NAME;` (it qualifies the names declared after it that have no `::`), `export { … }`,
/// `#` comments, and `global NAME: event(…)` declarations with their parameters' attributes (`&default=…`,
/// `&optional`) and the declaration's. Everything else in the file is skipped, as a script may hold more than
/// declarations. A parameter's type gives the Broker type its argument must arrive as (the catalog checks the top
/// level only):
///
/// | Zeek | Broker |
/// | --- | --- |
/// | `bool`, `count`, `int`, `double`, `string`, `addr`, `subnet`, `port`, `time`, `interval`, `pattern` | `boolean`, `count`, `integer`, `real`, `string`, `address`, `subnet`, `port`, `timestamp`, `timespan`, `string` |
/// | `vector of T`, `record { … }` | `vector` |
/// | `set[T, …]`, `table[T, …] of U` | `set`, `table` |
/// | `any`, and a type of the script's own (qualified `Site::Rule`, or capitalized `Rule`) | any |
///
/// A declaration that cannot be read, or a lowercase type that is none of Zeek's (`strng`), is an issue with its
/// file and line; nothing of that declaration is kept.
public struct EventDeclarations: Sendable, Hashable {
    /// A problem with one declaration.
    public struct Issue: Error, Sendable, Hashable, CustomStringConvertible {
        /// The file, as given.
        public var file: String
        /// The line, from 1.
        public var line: Int
        /// What is wrong.
        public var message: String

        /// `FILE:LINE: MESSAGE`.
        public var description: String { "\(file):\(line): \(message)" }
    }

    /// The declarations read, in order.
    public var signatures: [EventCatalog.Signature]
    /// The declarations that could not be read.
    public var issues: [Issue]

    /// Reads the declarations of a Zeek script.
    ///
    /// - Parameters:
    ///   - text: The script.
    ///   - file: Its name, for issues.
    public init(reading text: String, file: String) {
        var reader = DeclarationReader(tokens: DeclarationTokens.tokens(of: text), file: file)
        reader.read()
        signatures = reader.signatures
        issues = reader.issues
    }
}

extension EventDeclarations {
    /// Reads the declarations of a Zeek script file: a regular file of at most 1 MiB.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - name: The file's name in issues, such as the path a user gave; default `path`.
    /// - Throws: An error naming the file when it cannot be read, is not a regular file, or is larger.
    public init(readingFile path: String, named name: String? = nil) throws {
        let bytes = try LocalFile.readRegularFile(path, maximumSize: 1 << 20)
        self.init(reading: String(decoding: bytes, as: UTF8.self), file: name ?? path)
    }
}

/// One token of a Zeek script, with its line.
struct DeclarationToken: Equatable {
    enum Kind: Equatable { case word, symbol, string }
    var kind: Kind
    var text: String
    var line: Int
}

enum DeclarationTokens {
    static func tokens(of text: String) -> [DeclarationToken] {
        var tokens: [DeclarationToken] = []
        var line = 1
        let characters = Array(text.unicodeScalars)
        var index = 0
        func isWord(_ c: Unicode.Scalar) -> Bool {
            c == "_" || (c.value < 128 && (c.properties.isAlphabetic || ("0"..."9").contains(c)))
        }
        while index < characters.count {
            let c = characters[index]
            if c == "\n" {
                line += 1
                index += 1
            } else if c == "#" {
                while index < characters.count, characters[index] != "\n" { index += 1 }
            } else if c == "\"" {
                var text = ""
                let start = line
                index += 1
                while index < characters.count, characters[index] != "\"" {
                    if characters[index] == "\\", index + 1 < characters.count { index += 1 }
                    if characters[index] == "\n" { line += 1 }
                    text.unicodeScalars.append(characters[index])
                    index += 1
                }
                index += 1
                tokens.append(DeclarationToken(kind: .string, text: text, line: start))
            } else if isWord(c) || (c == ":" && index + 1 < characters.count && characters[index + 1] == ":") {
                var word = ""
                while index < characters.count {
                    let d = characters[index]
                    if isWord(d) {
                        word.unicodeScalars.append(d)
                        index += 1
                    } else if d == ":", index + 1 < characters.count, characters[index + 1] == ":" {
                        word += "::"
                        index += 2
                    } else {
                        break
                    }
                }
                tokens.append(DeclarationToken(kind: .word, text: word, line: line))
            } else if c.properties.isWhitespace {
                index += 1
            } else {
                tokens.append(DeclarationToken(kind: .symbol, text: String(c), line: line))
                index += 1
            }
        }
        return tokens
    }
}

/// Reads `module` statements and `global NAME: event(…)` declarations from tokens.
struct DeclarationReader {
    struct Failure: Error {
        var message: String
    }

    let tokens: [DeclarationToken]
    let file: String
    var position = 0
    var module = ""
    var signatures: [EventCatalog.Signature] = []
    var issues: [EventDeclarations.Issue] = []

    init(tokens: [DeclarationToken], file: String) {
        self.tokens = tokens
        self.file = file
    }

    static let zeekTypes: [String: Broker.DataType?] = [
        "bool": .boolean, "count": .count, "int": .integer, "double": .real, "string": .string,
        "addr": .address, "subnet": .subnet, "port": .port, "time": .timestamp, "interval": .timespan,
        "pattern": .string, "any": nil, "enum": .enumValue,
    ]

    private var current: DeclarationToken? { position < tokens.count ? tokens[position] : nil }

    private func isWord(_ text: String, at offset: Int = 0) -> Bool {
        position + offset < tokens.count && tokens[position + offset].kind == .word
            && tokens[position + offset].text == text
    }

    private func isSymbol(_ text: String, at offset: Int = 0) -> Bool {
        position + offset < tokens.count && tokens[position + offset].kind == .symbol
            && tokens[position + offset].text == text
    }

    mutating func read() {
        while let token = current {
            if isWord("module"), position + 1 < tokens.count, tokens[position + 1].kind == .word {
                module = tokens[position + 1].text == "GLOBAL" ? "" : tokens[position + 1].text
                position += 2
            } else if isWord("global"), position + 3 < tokens.count, tokens[position + 1].kind == .word,
                isSymbol(":", at: 2), isWord("event", at: 3)
            {
                let name = tokens[position + 1].text
                position += 4
                do {
                    let parameters = try readParameters()
                    skipAttributes()
                    let qualified = name.contains("::") || module.isEmpty ? name : "\(module)::\(name)"
                    signatures.append(EventCatalog.Signature(qualified, parameters: parameters))
                } catch {
                    issues.append(
                        .init(
                            file: file,
                            line: token.line,
                            message: "cannot read the declaration of event '\(name)': \(error.message)"
                        )
                    )
                    skipStatement()
                }
            } else {
                position += 1
            }
        }
    }

    private mutating func readParameters() throws(Failure) -> [EventCatalog.Parameter] {
        guard isSymbol("(") else { throw Failure(message: "expected '(' after 'event'") }
        position += 1
        var parameters: [EventCatalog.Parameter] = []
        while !isSymbol(")") {
            guard let name = current, name.kind == .word, isSymbol(":", at: 1) else {
                throw Failure(message: "expected a parameter 'name: type'\(near)")
            }
            position += 2
            let type = try readType(depth: 0)
            let hasDefault = isSymbol("&") && isWord("default", at: 1)
            skipAttributes()
            parameters.append(EventCatalog.Parameter(name.text, type, hasDefault: hasDefault))
            if isSymbol(",") {
                position += 1
            } else if !isSymbol(")") {
                throw Failure(message: "expected ',' or ')' after parameter '\(name.text)'\(near)")
            }
        }
        position += 1
        return parameters
    }

    private var near: String {
        guard let current else { return " at the end of the file" }
        return ", found '\(current.text)'"
    }

    private mutating func readType(depth: Int) throws(Failure) -> Broker.DataType? {
        guard depth < 64 else { throw Failure(message: "a type nested deeper than 64") }
        guard let token = current, token.kind == .word else { throw Failure(message: "expected a type\(near)") }
        position += 1
        switch token.text {
        case "vector":
            guard isWord("of") else { throw Failure(message: "expected 'of' after 'vector'\(near)") }
            position += 1
            _ = try readType(depth: depth + 1)
            return .vector
        case "set", "table":
            try skipBracketed(open: "[", close: "]")
            if token.text == "table" {
                guard isWord("of") else { throw Failure(message: "expected 'of' after 'table[…]'\(near)") }
                position += 1
                _ = try readType(depth: depth + 1)
                return .table
            }
            return .set
        case "record":
            try skipBracketed(open: "{", close: "}")
            return .vector
        case "opaque":
            guard isWord("of"), position + 1 < tokens.count else { throw Failure(message: "expected 'opaque of NAME'") }
            position += 2
            return nil
        default:
            if let known = Self.zeekTypes[token.text] { return known }
            // A type of the script's own: a record or enum declared elsewhere.
            if token.text.contains("::") || token.text.first?.isUppercase == true { return nil }
            throw Failure(message: "unknown type '\(token.text)'")
        }
    }

    private mutating func skipBracketed(open: String, close: String) throws(Failure) {
        guard isSymbol(open) else { throw Failure(message: "expected '\(open)'\(near)") }
        var depth = 0
        while let token = current {
            position += 1
            if token.kind == .symbol, token.text == open { depth += 1 }
            if token.kind == .symbol, token.text == close {
                depth -= 1
                if depth == 0 { return }
            }
        }
        throw Failure(message: "no '\(close)' before the end of the file")
    }

    /// Skips `&name` and `&name=value` attributes (a value up to the next `,`, `)`, `;` or attribute).
    private mutating func skipAttributes() {
        while isSymbol("&") {
            position += 1
            var depth = 0
            while let token = current {
                if token.kind == .symbol, ["(", "[", "{"].contains(token.text) { depth += 1 }
                if token.kind == .symbol, [")", "]", "}"].contains(token.text) {
                    if depth == 0 { break }
                    depth -= 1
                }
                if depth == 0, token.kind == .symbol, [",", ";", "&"].contains(token.text), position > 0,
                    tokens[position - 1].text != "&"
                {
                    break
                }
                position += 1
            }
        }
        if isSymbol(";") { position += 1 }
    }

    private mutating func skipStatement() {
        while let token = current {
            position += 1
            if token.kind == .symbol, token.text == ";" { return }
        }
    }
}

public import ClusterKitModel

/// A `cluster-layout.zeek` (or, from Bro 2.x, `cluster-layout.bro`) as read without running Zeek.
///
/// The reader understands what layouts of every Zeek and Bro version contain: `redef Cluster::nodes = {…};`
/// and `+= {…};`, `redef Cluster::manager_is_logger = T|F;`, `#` comments, `@pragma` lines, the
/// `event zeek_init()` block ZeekControl appends (skipped), and what Zeek 9's layout generator writes: the
/// `Cluster::hosts` table, `$ip=hosts["HOST"]$ip`, and its telemetry `@if` block. Record fields are the union of every version's
/// `Cluster::Node`; fields no current Zeek has are kept and reported. Values it cannot evaluate statically
/// (such as `$p=to_port(getenv("BROKER_PORT1"))`) are reported as such and left unset, never guessed.
public struct ClusterLayoutScript: Sendable, Hashable {
    /// The file name used in locations.
    public var file: String
    /// The nodes and `manager_is_logger` the script defines.
    public var layout: Cluster.Layout
    /// Where each node's entry starts (the first entry when a name repeats).
    public var locations: [String: SourceLocation]
    /// Nodes whose port (`$p`) is an expression that could not be evaluated.
    public var unevaluatedPorts: Set<String>
    /// A Boolean value indicating whether the script sets `Cluster::manager_is_logger`.
    public var setsManagerIsLogger: Bool
    /// The `Cluster::hosts` table of a layout written by Zeek 9's generator: host name to address, `nil`
    /// for a host Zeek looks up by name when it loads the layout.
    public var hosts: [String: Broker.Address?]
    /// The host of each node whose `$ip` is `hosts["HOST"]$ip`.
    public var nodeHosts: [String: String]
    /// Problems found while reading.
    public var issues: [ValidationIssue]

    /// Every field name any version's `Cluster::Node` (or a pre-release branch) has had.
    public static let knownFields: Set<String> = [
        "node_type", "ip", "zone_id", "p", "manager", "id", "metrics_port", "interface", "proxy", "logger",
        "workers", "time_machine", "lb_filter", "node_roles", "datanode", "datanodes",
    ]

    /// Fields Zeek 8 no longer has, with the release that dropped them.
    static let legacyFields: [String: String] = [
        "interface": "Zeek 7.1", "time_machine": "Zeek 7.1", "proxy": "Bro 2.6", "logger": "Bro 2.6",
        "workers": "Bro 2.6", "lb_filter": "Zeek 7.1", "node_roles": "a pre-release Bro branch",
        "datanode": "a pre-release Bro branch", "datanodes": "a pre-release Bro branch",
    ]

    /// Reads a layout script.
    ///
    /// - Parameters:
    ///   - text: The script.
    ///   - file: The file name for locations; a name ending in `.bro` marks a Bro 2.x layout, whose legacy
    ///     fields are not reported.
    ///   - limits: The most entries read (``LayoutLimits/maximumNodes``); the entries past it are an error
    ///     and left out.
    /// - Returns: The layout and every problem found.
    public static func parse(_ text: String, file: String, limits: LayoutLimits = .standard) -> ClusterLayoutScript {
        var reader = Reader(bytes: Array(text.utf8), file: file, isBro: file.hasSuffix(".bro"))
        reader.maximumNodes = limits.maximumNodes
        reader.run()
        return ClusterLayoutScript(
            file: file,
            layout: reader.layout,
            locations: reader.locations,
            unevaluatedPorts: reader.unevaluatedPorts,
            setsManagerIsLogger: reader.setsManagerIsLogger,
            hosts: reader.hosts,
            nodeHosts: reader.nodeHosts,
            issues: reader.issues
        )
    }
}

// MARK: - Reader

extension ClusterLayoutScript {
    struct Reader {
        let bytes: [UInt8]
        let file: String
        let isBro: Bool
        var index = 0
        var line = 1
        var layout = Cluster.Layout()
        var locations: [String: SourceLocation] = [:]
        var unevaluatedPorts: Set<String> = []
        var setsManagerIsLogger = false
        var issues: [ValidationIssue] = []
        var hosts: [String: Broker.Address?] = [:]
        var nodeHosts: [String: String] = [:]
        /// The most entries kept; see ``LayoutLimits/maximumNodes``.
        var maximumNodes = LayoutLimits.standard.maximumNodes
        /// Entries read so far, kept or not.
        var entryCount = 0

        init(bytes: [UInt8], file: String, isBro: Bool) {
            self.bytes = bytes
            self.file = file
            self.isBro = isBro
        }

        var here: SourceLocation { SourceLocation(file: file, line: line) }
        var atEnd: Bool { index >= bytes.count }
        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func advance() {
            if bytes[index] == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }

        /// Skips white space, `#` comments and `@` directive lines.
        mutating func skipTrivia() {
            while let byte = current {
                if byte == UInt8(ascii: "#") {
                    while let next = current, next != UInt8(ascii: "\n") {
                        _ = next
                        advance()
                    }
                } else if byte == UInt8(ascii: "@") && isLineStart(index) {
                    let start = index
                    while let next = current, next != UInt8(ascii: "\n") {
                        _ = next
                        advance()
                    }
                    let directive = String(decoding: bytes[start..<index], as: UTF8.self)
                    if !directive.hasPrefix("@pragma") && !Self.generatorDirectives.contains(directive) {
                        issues.append(
                            .warning(
                                .unevaluableExpression,
                                "directive '\(directive)' is not evaluated; the layout is read as if it were absent",
                                at: SourceLocation(file: file, line: line)
                            )
                        )
                    }
                } else if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                    advance()
                } else {
                    return
                }
            }
        }

        /// The directives of the telemetry block Zeek 9's generator writes, which read the same either way for
        /// the nodes table.
        static let generatorDirectives: Set<String> = [
            "@load base/frameworks/telemetry/options", "@if ( |metrics_address_env| > 0 )", "@else",
            "@if ( Cluster::node in Cluster::nodes )", "@endif",
        ]

        func isLineStart(_ position: Int) -> Bool {
            var cursor = position - 1
            while cursor >= 0 {
                let byte = bytes[cursor]
                if byte == UInt8(ascii: "\n") { return true }
                if byte != 0x20 && byte != 0x09 { return false }
                cursor -= 1
            }
            return true
        }

        mutating func consume(_ text: String) -> Bool {
            skipTrivia()
            let utf8 = Array(text.utf8)
            guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
                return false
            }
            for _ in utf8 { advance() }
            return true
        }

        static func isIdentifierByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ":")
        }

        mutating func identifier() -> String {
            skipTrivia()
            let start = index
            while let byte = current, Self.isIdentifierByte(byte) { advance() }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// Skips to the end of the statement: the next `;` outside brackets, or a balanced `{…}` block.
        mutating func skipStatement() {
            var depth = 0
            while let byte = current {
                if byte == UInt8(ascii: "\"") {
                    _ = stringLiteral()
                    continue
                }
                if byte == UInt8(ascii: "#") {
                    skipTrivia()
                    continue
                }
                advance()
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "("), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: ")"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth <= 0 && byte == UInt8(ascii: "}") {
                        skipTrivia()
                        if current == UInt8(ascii: ";") { advance() }
                        return
                    }
                case UInt8(ascii: ";") where depth <= 0: return
                default: break
                }
            }
        }

        /// Reads a `"…"` literal at the current position, with Zeek's escapes; `nil` when unterminated.
        mutating func stringLiteral() -> String? {
            guard current == UInt8(ascii: "\"") else { return nil }
            advance()
            var out: [UInt8] = []
            while let byte = current {
                advance()
                if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if byte == UInt8(ascii: "\\"), let next = current {
                    advance()
                    switch next {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "x"):
                        var value: UInt8 = 0
                        for _ in 0..<2 {
                            guard let digit = current, let hex = Self.hexValue(digit) else { break }
                            value = value << 4 | hex
                            advance()
                        }
                        out.append(value)
                    default: out.append(next)
                    }
                    continue
                }
                if byte == UInt8(ascii: "\n") { return nil }
                out.append(byte)
            }
            return nil
        }

        static func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }

        /// Reads an expression up to a `,` or `]` outside brackets and strings; returns its trimmed text.
        mutating func expression() -> String {
            skipTrivia()
            var depth = 0
            var text: [UInt8] = []
            while let byte = current {
                if byte == UInt8(ascii: "\"") {
                    let start = index
                    _ = stringLiteral()
                    text += bytes[start..<index]
                    continue
                }
                if depth == 0 && (byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]")) { break }
                if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t") {
                    advance()
                    text.append(0x20)
                    continue
                }
                switch byte {
                case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
                if depth < 0 { break }
                text.append(byte)
                advance()
            }
            return String(decoding: text, as: UTF8.self).trimmingSpaces()
        }

        mutating func run() {
            while true {
                skipTrivia()
                guard !atEnd else { return }
                let statementLine = line
                let word = identifier()
                switch word {
                case "redef":
                    let target = identifier()
                    if target == "Cluster::nodes" {
                        skipTrivia()
                        let appends = consume("+=")
                        guard appends || consume("=") else {
                            syntaxError("expected '=' or '+=' after 'redef Cluster::nodes'")
                            skipStatement()
                            continue
                        }
                        if !appends { layout = Cluster.Layout(managerIsLogger: layout.managerIsLogger) }
                        readTable()
                    } else if target == "Cluster::hosts" || target == "hosts" {
                        guard consume("+=") || consume("=") else {
                            syntaxError("expected '=' or '+=' after 'redef \(target)'")
                            skipStatement()
                            continue
                        }
                        readTable(hostsTable: true)
                    } else if target == "Cluster::manager_is_logger" {
                        guard consume("=") else {
                            syntaxError("expected '=' after 'redef Cluster::manager_is_logger'")
                            skipStatement()
                            continue
                        }
                        let value = identifier()
                        switch value {
                        case "T": layout.managerIsLogger = true
                        case "F": layout.managerIsLogger = false
                        default:
                            issues.append(
                                .error(
                                    .unevaluableExpression,
                                    "Cluster::manager_is_logger is set to '\(value)…', which cannot be evaluated "
                                        + "without Zeek; reading it as T",
                                    at: SourceLocation(file: file, line: statementLine),
                                    key: "manager_is_logger"
                                )
                            )
                        }
                        setsManagerIsLogger = true
                        skipStatement()
                    } else {
                        skipStatement()
                    }
                case "event", "function", "hook", "module", "export", "global", "const", "option", "type":
                    skipStatement()
                case "":
                    syntaxError("unexpected '\(String(decoding: [current ?? 0x20], as: UTF8.self))'")
                    advance()
                    skipStatement()
                default:
                    skipStatement()
                }
            }
        }

        mutating func syntaxError(_ message: String) {
            issues.append(.error(.scriptSyntaxError, message, at: here))
        }

        /// Reads `{ ["name"] = [...], ... };` of `Cluster::nodes` (or of `Cluster::hosts`).
        mutating func readTable(hostsTable: Bool = false) {
            guard consume("{") else {
                issues.append(
                    .error(
                        .unevaluableExpression,
                        "Cluster::nodes is set to an expression that cannot be evaluated without Zeek",
                        at: here,
                        key: "nodes"
                    )
                )
                skipStatement()
                return
            }
            while true {
                skipTrivia()
                if consume("}") {
                    _ = consume(";")
                    return
                }
                guard !atEnd else {
                    syntaxError("the Cluster::nodes table is not closed with '}'")
                    return
                }
                let entryLine = line
                guard consume("["), skipTriviaThenString(), let name = stringLiteral(), consume("]"), consume("="),
                    consume("[")
                else {
                    syntaxError("expected an entry '[\"name\"] = [$field=value, ...]' in Cluster::nodes")
                    skipToNextEntry()
                    continue
                }
                if hostsTable { readHost(name: name, line: entryLine) } else { readEntry(name: name, line: entryLine) }
                skipTrivia()
                if consume(",") { continue }
                skipTrivia()
                if current != UInt8(ascii: "}") {
                    syntaxError("expected ',' or '}' after the entry of node '\(name)'")
                    skipToNextEntry()
                }
            }
        }

        /// Skips trivia and tells whether a string literal follows.
        mutating func skipTriviaThenString() -> Bool {
            skipTrivia()
            return current == UInt8(ascii: "\"")
        }

        /// Skips to the next `,` or `}` at the table's level.
        mutating func skipToNextEntry() {
            var depth = 0
            while let byte = current {
                if byte == UInt8(ascii: "\"") {
                    _ = stringLiteral()
                    continue
                }
                if depth == 0 && byte == UInt8(ascii: "}") { return }
                advance()
                switch byte {
                case UInt8(ascii: "["), UInt8(ascii: "("), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: ")"), UInt8(ascii: "}"): depth -= 1
                case UInt8(ascii: ",") where depth == 0: return
                default: break
                }
            }
        }

        /// Reads one `Cluster::hosts` entry after its `[`: `$ip=ADDRESS` or Zeek's name lookup.
        mutating func readHost(name: String, line entryLine: Int) {
            guard let fields = readFields(name: name) else { return }
            let location = SourceLocation(file: file, line: entryLine)
            guard let ip = fields.first(where: { $0.name == "ip" }) else {
                issues.append(.error(.missingField, "host '\(name)' has no $ip", at: location, key: "ip"))
                return
            }
            if let address = Self.address(ip.value) {
                hosts[name] = .some(address)
            } else if ip.value == "(blocking_lookup_hostname(\"\(name)\") as vector of addr)[0]" {
                hosts[name] = .some(nil)
            } else {
                issues.append(
                    .error(
                        .invalidValue,
                        "$ip of host '\(name)' is '\(ip.value)', neither an IP address nor a lookup of the host name",
                        at: SourceLocation(file: file, line: ip.line),
                        key: "ip"
                    )
                )
            }
        }

        /// Reads the fields of one entry after its `[`, through the closing `]`; `nil` after a syntax error.
        mutating func readFields(name: String) -> [(name: String, value: String, line: Int)]? {
            var fields: [(name: String, value: String, line: Int)] = []
            while true {
                skipTrivia()
                if consume("]") { break }
                guard !atEnd else {
                    syntaxError("the entry of node '\(name)' is not closed with ']'")
                    return nil
                }
                let fieldLine = line
                guard consume("$") else {
                    syntaxError("expected '$field=value' in the entry of node '\(name)'")
                    skipToNextEntry()
                    return nil
                }
                let field = identifier()
                guard consume("=") else {
                    syntaxError("expected '=' after '$\(field)' in the entry of node '\(name)'")
                    skipToNextEntry()
                    return nil
                }
                fields.append((field, expression(), fieldLine))
                skipTrivia()
                _ = consume(",")
            }
            return fields
        }

        /// Reads the fields of one entry after its `[`, through the closing `]`.
        mutating func readEntry(name: String, line entryLine: Int) {
            let location = SourceLocation(file: file, line: entryLine)
            guard let fields = readFields(name: name) else { return }
            entryCount += 1
            guard entryCount <= maximumNodes else {
                if entryCount == maximumNodes + 1 {
                    issues.append(
                        .error(
                            .tooManyNodes,
                            "more than \(maximumNodes) entries in Cluster::nodes (LayoutLimits.maximumNodes): node "
                                + "'\(name)' and the entries after it are left out",
                            at: location,
                            node: name
                        )
                    )
                }
                return
            }
            if let node = makeNode(name: name, fields: fields, location: location) {
                if locations[name] == nil { locations[name] = location }
                layout.append(Cluster.NamedNode(name: name, node: node))
            }
        }

    }
}

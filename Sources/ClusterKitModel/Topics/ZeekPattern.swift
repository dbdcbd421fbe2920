/// A Zeek (and Bro) `pattern` literal such as `/Drop::.*/`, matched the way `==` matches a pattern and a string.
///
/// Zeek patterns use flex's regular-expression syntax. This type reads the part used for event names and
/// topics: literals, `.` (any byte but newline), `[...]` classes with ranges, negation and `[:alpha:]`-style
/// names, `"..."` quoted literals, groups, `|`, `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, the anchors `^` and
/// `$`, flex escapes (`\n`, `\t`, `\x2a`, `\101`; any other escaped character is itself), and the `i` flag
/// after the closing slash. Named definitions (`{name}`) and `(?...)` groups are not supported.
///
/// ``matches(_:)`` is an exact match of the whole string, as Zeek's `pattern == string` and Bro's
/// `$events` filters are: `/Drop::.*/` matches `Drop::drop_address` but not `XDrop::a`. Matching runs a
/// Thompson automaton over the UTF-8 bytes, in time linear in the length of the string.
///
/// ``+(_:_:)`` and `+=` join patterns the way Zeek's `redef p += /.../` does: the result matches what
/// either matches, and its text is `(a)|(b)`. `/EMPTY/` is an ordinary pattern: it matches only a name
/// that is literally `EMPTY`, which Bro scripts used to mean "no events".
public struct ZeekPattern: Sendable {
    /// The regular expression between the slashes, such as `Drop::.*`.
    public let source: String
    /// A Boolean value indicating whether the pattern ignores ASCII letter case (the `i` flag).
    public let isCaseInsensitive: Bool

    private let program: Program

    /// Reads a pattern literal with its slashes, such as `/Drop::.*/` or `/foo/i`.
    ///
    /// - Parameter literal: The literal as written in a Zeek script.
    /// - Throws: ``ZeekPatternError`` when the text is not a pattern literal or the expression is invalid.
    public init(_ literal: String) throws {
        let bytes = Array(literal.utf8)
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "/") else {
            throw ZeekPatternError(.missingSlashes, "a pattern literal starts and ends with '/'", pattern: literal)
        }
        var end = bytes.count
        var caseInsensitive = false
        if bytes[end - 1] == UInt8(ascii: "i"), end >= 3, bytes[end - 2] == UInt8(ascii: "/") {
            caseInsensitive = true
            end -= 1
        }
        guard bytes[end - 1] == UInt8(ascii: "/"), end >= 2 else {
            throw ZeekPatternError(.missingSlashes, "a pattern literal starts and ends with '/'", pattern: literal)
        }
        let source = String(decoding: bytes[1..<end - 1], as: UTF8.self)
        try self.init(regex: source, caseInsensitive: caseInsensitive)
    }

    /// Creates a pattern from the expression between the slashes.
    ///
    /// - Parameters:
    ///   - source: The regular expression, such as `Drop::.*`.
    ///   - caseInsensitive: Whether to ignore ASCII letter case, as the `i` flag does.
    /// - Throws: ``ZeekPatternError`` when the expression is invalid.
    public init(regex source: String, caseInsensitive: Bool = false) throws {
        self.source = source
        self.isCaseInsensitive = caseInsensitive
        var parser = Parser(bytes: Array(source.utf8), source: source)
        let tree = try parser.parse()
        program = try Program(tree, caseInsensitive: caseInsensitive, source: source)
    }

    /// Whether the whole of `text` matches, as Zeek's `pattern == text`.
    ///
    /// - Parameter text: The string, such as an event name.
    /// - Returns: `true` for an exact match.
    public func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { program.matches($0) }
    }

    /// A pattern matching what either pattern matches, as Zeek's `a | b` and `redef a += b`.
    ///
    /// - Parameters:
    ///   - lhs: A pattern.
    ///   - rhs: Another pattern.
    /// - Returns: The disjunction, whose source is `(lhs)|(rhs)`.
    public static func + (lhs: ZeekPattern, rhs: ZeekPattern) -> ZeekPattern {
        ZeekPattern(
            source: "(\(lhs.source))|(\(rhs.source))",
            isCaseInsensitive: lhs.isCaseInsensitive && rhs.isCaseInsensitive,
            program: Program(either: lhs.program, or: rhs.program)
        )
    }

    /// Adds the alternatives of `rhs` to `lhs`, as Zeek's `redef lhs += rhs`.
    ///
    /// - Parameters:
    ///   - lhs: The pattern to extend.
    ///   - rhs: The pattern to add.
    public static func += (lhs: inout ZeekPattern, rhs: ZeekPattern) {
        lhs = lhs + rhs
    }

    private init(source: String, isCaseInsensitive: Bool, program: Program) {
        self.source = source
        self.isCaseInsensitive = isCaseInsensitive
        self.program = program
    }
}

extension ZeekPattern: Hashable {
    /// Whether two patterns have the same text and flag.
    ///
    /// - Parameters:
    ///   - lhs: A pattern.
    ///   - rhs: Another pattern.
    /// - Returns: `true` when source and flag are equal.
    public static func == (lhs: ZeekPattern, rhs: ZeekPattern) -> Bool {
        lhs.source == rhs.source && lhs.isCaseInsensitive == rhs.isCaseInsensitive
    }

    /// Hashes the text and flag.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
        hasher.combine(isCaseInsensitive)
    }
}

extension ZeekPattern: CustomStringConvertible {
    /// The pattern as a Zeek literal, such as `/Drop::.*/`.
    public var description: String { "/\(source)/" + (isCaseInsensitive ? "i" : "") }
}

/// An error thrown for text that is not a valid Zeek pattern.
public struct ZeekPatternError: Error, Sendable, Hashable {
    /// The broad kind of problem.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The literal does not start and end with `/`.
        case missingSlashes
        /// A `(` has no `)`, or a `)` has no `(`.
        case unbalancedParenthesis
        /// A `[` class has no closing `]`, or is empty.
        case invalidClass
        /// A `"` quoted literal has no closing `"`.
        case unterminatedQuote
        /// A `*`, `+`, `?` or `{...}` has nothing before it, or the bounds are malformed.
        case invalidRepetition
        /// The pattern uses syntax this reader does not support (`{name}`, `(?...)`).
        case unsupportedSyntax
        /// The pattern would need too many automaton states (huge repetition counts), nests groups more than
        /// 100 deep, or stacks more than 16 repetition operators on one atom.
        case tooComplex
    }

    /// The broad kind of problem.
    public var code: Code
    /// A short text for people.
    public var message: String
    /// The pattern text as given.
    public var pattern: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: A short text for people.
    ///   - pattern: The pattern text as given.
    public init(_ code: Code, _ message: String, pattern: String) {
        self.code = code
        self.message = message
        self.pattern = pattern
    }
}

extension ZeekPatternError: CustomStringConvertible {
    /// The pattern and the message, as in `pattern 'Drop::(': unbalanced '('`.
    public var description: String { "pattern '\(pattern)': \(message)" }
}

// MARK: - Syntax tree and parser

extension ZeekPattern {
    /// A set of bytes.
    struct ByteSet: Sendable, Hashable {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        static func == (lhs: ByteSet, rhs: ByteSet) -> Bool {
            lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
                && lhs.words.3 == rhs.words.3
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }

        init() {}

        init(_ byte: UInt8) { insert(byte) }

        func contains(_ byte: UInt8) -> Bool {
            let bit = UInt64(1) << (byte & 63)
            switch byte >> 6 {
            case 0: return words.0 & bit != 0
            case 1: return words.1 & bit != 0
            case 2: return words.2 & bit != 0
            default: return words.3 & bit != 0
            }
        }

        mutating func insert(_ byte: UInt8) {
            let bit = UInt64(1) << (byte & 63)
            switch byte >> 6 {
            case 0: words.0 |= bit
            case 1: words.1 |= bit
            case 2: words.2 |= bit
            default: words.3 |= bit
            }
        }

        mutating func insert(_ range: ClosedRange<UInt8>) {
            for byte in range { insert(byte) }
        }

        mutating func formUnion(_ other: ByteSet) {
            words.0 |= other.words.0
            words.1 |= other.words.1
            words.2 |= other.words.2
            words.3 |= other.words.3
        }

        func inverted() -> ByteSet {
            var result = ByteSet()
            result.words = (~words.0, ~words.1, ~words.2, ~words.3)
            return result
        }

        /// The set with the other case of every ASCII letter added.
        func caseFolded() -> ByteSet {
            var result = self
            for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") {
                if contains(byte) || contains(byte + 32) {
                    result.insert(byte)
                    result.insert(byte + 32)
                }
            }
            return result
        }

        /// Every byte except newline, as `.`.
        static let anyButNewline = ByteSet(UInt8(ascii: "\n")).inverted()
    }

    indirect enum Tree {
        case bytes(ByteSet)
        case sequence([Tree])
        case alternation([Tree])
        case repetition(Tree, minimum: Int, maximum: Int?)
        case startAnchor
        case endAnchor
    }

    struct Parser {
        let bytes: [UInt8]
        let source: String
        var position = 0
        /// How deep the groups being read nest.
        var depth = 0

        /// The deepest nesting of groups read: parsing and compiling recurse once per level.
        static let maximumDepth = 100
        /// The most repetition operators in a row on one atom (`a**` is `a*`; each one is a level of the tree).
        static let maximumRepetitions = 16

        init(bytes: [UInt8], source: String) {
            self.bytes = bytes
            self.source = source
        }

        func error(_ code: ZeekPatternError.Code, _ message: String) -> ZeekPatternError {
            ZeekPatternError(code, message, pattern: source)
        }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func parse() throws -> Tree {
            let tree = try parseAlternation()
            if position < bytes.count {
                throw error(.unbalancedParenthesis, "unbalanced ')' at offset \(position)")
            }
            return tree
        }

        mutating func parseAlternation() throws -> Tree {
            var branches = [try parseSequence()]
            while current == UInt8(ascii: "|") {
                position += 1
                branches.append(try parseSequence())
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func parseSequence() throws -> Tree {
            var items: [Tree] = []
            while let byte = current, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
                var atom = try parseAtom()
                var repetitions = 0
                while let (minimum, maximum) = try parseRepetition() {
                    repetitions += 1
                    guard repetitions <= Self.maximumRepetitions else {
                        throw error(
                            .tooComplex,
                            "more than \(Self.maximumRepetitions) repetition operators in a row at offset \(position)"
                        )
                    }
                    switch atom {
                    case .startAnchor, .endAnchor:
                        throw error(.invalidRepetition, "nothing to repeat at offset \(position)")
                    default:
                        atom = .repetition(atom, minimum: minimum, maximum: maximum)
                    }
                }
                items.append(atom)
            }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        mutating func parseRepetition() throws -> (Int, Int?)? {
            switch current {
            case UInt8(ascii: "*"):
                position += 1
                return (0, nil)
            case UInt8(ascii: "+"):
                position += 1
                return (1, nil)
            case UInt8(ascii: "?"):
                position += 1
                return (0, 1)
            case UInt8(ascii: "{"):
                let start = position
                position += 1
                guard let minimum = parseNumber() else {
                    if let byte = current, Self.isNameByte(byte) {
                        throw error(.unsupportedSyntax, "named definitions such as '{name}' are not supported")
                    }
                    throw error(.invalidRepetition, "malformed repetition at offset \(start)")
                }
                var maximum: Int? = minimum
                if current == UInt8(ascii: ",") {
                    position += 1
                    maximum = parseNumber()
                }
                guard current == UInt8(ascii: "}") else {
                    throw error(.invalidRepetition, "malformed repetition at offset \(start)")
                }
                position += 1
                if let maximum, maximum < minimum {
                    throw error(.invalidRepetition, "repetition bounds out of order at offset \(start)")
                }
                guard minimum <= 1000, (maximum ?? 0) <= 1000 else {
                    throw error(.tooComplex, "repetition count above 1000 at offset \(start)")
                }
                return (minimum, maximum)
            default:
                return nil
            }
        }

        mutating func parseNumber() -> Int? {
            var value = 0
            var digits = 0
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 6 {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                position += 1
            }
            return digits > 0 ? value : nil
        }

        static func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
        }

        mutating func parseAtom() throws -> Tree {
            guard let byte = current else { throw error(.invalidRepetition, "unexpected end of pattern") }
            let start = position
            position += 1
            switch byte {
            case UInt8(ascii: "("):
                if current == UInt8(ascii: "?") {
                    throw error(.unsupportedSyntax, "'(?' groups are not supported")
                }
                depth += 1
                defer { depth -= 1 }
                guard depth <= Self.maximumDepth else {
                    throw error(.tooComplex, "groups nest more than \(Self.maximumDepth) deep at offset \(start)")
                }
                let inner = current == UInt8(ascii: ")") ? Tree.sequence([]) : try parseAlternation()
                guard current == UInt8(ascii: ")") else {
                    throw error(.unbalancedParenthesis, "unbalanced '(' at offset \(start)")
                }
                position += 1
                return inner
            case UInt8(ascii: "["):
                return .bytes(try parseClass(start: start))
            case UInt8(ascii: "\""):
                var items: [Tree] = []
                while let next = current, next != UInt8(ascii: "\"") {
                    position += 1
                    let literal = next == UInt8(ascii: "\\") ? try parseEscape() : next
                    items.append(.bytes(ByteSet(literal)))
                }
                guard current == UInt8(ascii: "\"") else {
                    throw error(.unterminatedQuote, "unterminated '\"' at offset \(start)")
                }
                position += 1
                return .sequence(items)
            case UInt8(ascii: "."):
                return .bytes(.anyButNewline)
            case UInt8(ascii: "^"):
                return .startAnchor
            case UInt8(ascii: "$"):
                return .endAnchor
            case UInt8(ascii: "\\"):
                return .bytes(ByteSet(try parseEscape()))
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"):
                throw error(.invalidRepetition, "nothing to repeat at offset \(start)")
            default:
                return .bytes(ByteSet(byte))
            }
        }

        /// Reads the escape after a backslash, flex style.
        mutating func parseEscape() throws -> UInt8 {
            guard let byte = current else { throw error(.invalidRepetition, "pattern ends with '\\'") }
            position += 1
            switch byte {
            case UInt8(ascii: "n"): return 0x0A
            case UInt8(ascii: "t"): return 0x09
            case UInt8(ascii: "r"): return 0x0D
            case UInt8(ascii: "f"): return 0x0C
            case UInt8(ascii: "v"): return 0x0B
            case UInt8(ascii: "a"): return 0x07
            case UInt8(ascii: "b"): return 0x08
            case UInt8(ascii: "x"):
                var value = 0
                var digits = 0
                while digits < 2, let next = current, let digit = Self.hexValue(next) {
                    value = value * 16 + digit
                    digits += 1
                    position += 1
                }
                return digits > 0 ? UInt8(value) : UInt8(ascii: "x")
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(byte - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, let next = current, next >= UInt8(ascii: "0"), next <= UInt8(ascii: "7") {
                    value = value * 8 + Int(next - UInt8(ascii: "0"))
                    digits += 1
                    position += 1
                }
                return UInt8(truncatingIfNeeded: value)
            default:
                return byte
            }
        }

        static func hexValue(_ byte: UInt8) -> Int? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
            default: nil
            }
        }

        static let namedClasses: [String: @Sendable (UInt8) -> Bool] = [
            "alpha": { isNameByte($0) && $0 != UInt8(ascii: "_") },
            "digit": { $0 >= 0x30 && $0 <= 0x39 },
            "alnum": { (isNameByte($0) && $0 != UInt8(ascii: "_")) || ($0 >= 0x30 && $0 <= 0x39) },
            "upper": { $0 >= 0x41 && $0 <= 0x5A },
            "lower": { $0 >= 0x61 && $0 <= 0x7A },
            "space": { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) },
            "blank": { $0 == 0x20 || $0 == 0x09 },
            "xdigit": { hexValue($0) != nil },
            "punct": {
                ($0 >= 0x21 && $0 <= 0x2F) || ($0 >= 0x3A && $0 <= 0x40) || ($0 >= 0x5B && $0 <= 0x60)
                    || ($0 >= 0x7B && $0 <= 0x7E)
            },
            "print": { $0 >= 0x20 && $0 <= 0x7E },
            "graph": { $0 >= 0x21 && $0 <= 0x7E },
            "cntrl": { $0 < 0x20 || $0 == 0x7F },
        ]

        mutating func parseClass(start: Int) throws -> ByteSet {
            var set = ByteSet()
            var isNegated = false
            if current == UInt8(ascii: "^") {
                isNegated = true
                position += 1
            }
            var isFirst = true
            while let byte = current, byte != UInt8(ascii: "]") || isFirst {
                isFirst = false
                position += 1
                if byte == UInt8(ascii: "["), current == UInt8(ascii: ":") {
                    let nameStart = position + 1
                    var nameEnd = nameStart
                    while nameEnd < bytes.count, bytes[nameEnd] != UInt8(ascii: ":") { nameEnd += 1 }
                    let name = String(decoding: bytes[nameStart..<min(nameEnd, bytes.count)], as: UTF8.self)
                    guard nameEnd + 1 < bytes.count, bytes[nameEnd + 1] == UInt8(ascii: "]"),
                        let test = Self.namedClasses[name]
                    else {
                        throw error(.invalidClass, "unknown character class '[:\(name):]'")
                    }
                    for candidate in UInt8.min...UInt8.max where test(candidate) { set.insert(candidate) }
                    position = nameEnd + 2
                    continue
                }
                let low = byte == UInt8(ascii: "\\") ? try parseEscape() : byte
                if current == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "]") {
                    position += 1
                    guard let next = current else { break }
                    position += 1
                    let high = next == UInt8(ascii: "\\") ? try parseEscape() : next
                    guard low <= high else {
                        throw error(.invalidClass, "class range out of order at offset \(start)")
                    }
                    set.insert(low...high)
                } else {
                    set.insert(low)
                }
            }
            guard current == UInt8(ascii: "]") else {
                throw error(.invalidClass, "unterminated '[' at offset \(start)")
            }
            position += 1
            return isNegated ? set.inverted() : set
        }
    }
}

// MARK: - Automaton

extension ZeekPattern {
    /// A Thompson automaton: states that read one byte, fork, or check an anchor.
    struct Program: Sendable {
        enum State: Sendable {
            case read(ByteSet, next: Int)
            case fork(Int, Int)
            case atStart(next: Int)
            case atEnd(next: Int)
            case accept
        }

        private(set) var states: [State]
        private(set) var start: Int

        static let maximumStates = 100_000

        init(_ tree: Tree, caseInsensitive: Bool, source: String) throws {
            states = [.accept]
            start = 0
            start = try compile(tree, next: 0, caseInsensitive: caseInsensitive, source: source)
        }

        /// An automaton accepting what either accepts.
        init(either first: Program, or second: Program) {
            states = [.accept]
            let firstStart = Self.append(first, to: &states)
            let secondStart = Self.append(second, to: &states)
            states.append(.fork(firstStart, secondStart))
            start = states.count - 1
        }

        /// Copies `program` after the states in `states`, its accepting state mapped to state 0.
        private static func append(_ program: Program, to states: inout [State]) -> Int {
            let offset = states.count - 1
            func map(_ index: Int) -> Int { index == 0 ? 0 : index + offset }
            for state in program.states.dropFirst() {
                switch state {
                case .read(let set, let next): states.append(.read(set, next: map(next)))
                case .fork(let first, let second): states.append(.fork(map(first), map(second)))
                case .atStart(let next): states.append(.atStart(next: map(next)))
                case .atEnd(let next): states.append(.atEnd(next: map(next)))
                case .accept: states.append(.accept)
                }
            }
            return map(program.start)
        }

        private mutating func add(_ state: State, source: String) throws -> Int {
            guard states.count < Self.maximumStates else {
                throw ZeekPatternError(
                    .tooComplex,
                    "pattern needs more than \(Self.maximumStates) states",
                    pattern: source
                )
            }
            states.append(state)
            return states.count - 1
        }

        /// Compiles `tree` so that, once it has matched, the automaton continues at `next`.
        private mutating func compile(_ tree: Tree, next: Int, caseInsensitive: Bool, source: String) throws -> Int {
            switch tree {
            case .bytes(let set):
                return try add(.read(caseInsensitive ? set.caseFolded() : set, next: next), source: source)
            case .sequence(let items):
                var entry = next
                for item in items.reversed() {
                    entry = try compile(item, next: entry, caseInsensitive: caseInsensitive, source: source)
                }
                return entry
            case .alternation(let branches):
                var entries: [Int] = []
                for branch in branches {
                    entries.append(try compile(branch, next: next, caseInsensitive: caseInsensitive, source: source))
                }
                var entry = entries[entries.count - 1]
                for other in entries.dropLast().reversed() {
                    entry = try add(.fork(other, entry), source: source)
                }
                return entry
            case .repetition(let inner, let minimum, let maximum):
                var entry: Int
                if let maximum {
                    entry = next
                    for _ in 0..<(maximum - minimum) {
                        let body = try compile(inner, next: entry, caseInsensitive: caseInsensitive, source: source)
                        entry = try add(.fork(body, next), source: source)
                    }
                } else {
                    let loop = try add(.fork(0, next), source: source)
                    let body = try compile(inner, next: loop, caseInsensitive: caseInsensitive, source: source)
                    states[loop] = .fork(body, next)
                    entry = loop
                }
                for _ in 0..<minimum {
                    entry = try compile(inner, next: entry, caseInsensitive: caseInsensitive, source: source)
                }
                return entry
            case .startAnchor:
                return try add(.atStart(next: next), source: source)
            case .endAnchor:
                return try add(.atEnd(next: next), source: source)
            }
        }

        /// Whether the automaton accepts exactly `text`.
        func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
            var marks = [Int](repeating: -1, count: states.count)
            var current: [Int] = []
            var following: [Int] = []
            var stack: [Int] = []
            var generation = 0

            /// Adds `state` and everything reachable from it without reading, at `position`.
            func close(_ state: Int, at position: Int, into set: inout [Int]) {
                stack.append(state)
                while let index = stack.popLast() {
                    guard marks[index] != generation else { continue }
                    marks[index] = generation
                    switch states[index] {
                    case .fork(let first, let second):
                        stack.append(second)
                        stack.append(first)
                    case .atStart(let next):
                        if position == 0 { stack.append(next) }
                    case .atEnd(let next):
                        if position == text.count { stack.append(next) }
                    case .read, .accept:
                        set.append(index)
                    }
                }
            }

            close(start, at: 0, into: &current)
            for position in 0..<text.count {
                generation += 1
                following.removeAll(keepingCapacity: true)
                let byte = text[position]
                for index in current {
                    if case .read(let set, let next) = states[index], set.contains(byte) {
                        close(next, at: position + 1, into: &following)
                    }
                }
                if following.isEmpty { return false }
                swap(&current, &following)
            }
            return current.contains { if case .accept = states[$0] { true } else { false } }
        }
    }
}

/// A hand-written parser for one command's arguments: `--key value`, `--key=value`, `--flag`, `-h`,
/// `--help`, `--` (everything after is positional), and positionals.
struct Arguments: Sendable, Equatable {
    /// One option a command accepts.
    struct Option: Sendable, Equatable {
        /// Every spelling, such as `["--output", "-o"]`.
        var names: [String]
        /// Whether it takes a value.
        var takesValue: Bool
        /// Whether it may be given more than once.
        var repeatable: Bool

        static func flag(_ names: String...) -> Option { Option(names: names, takesValue: false, repeatable: false) }
        static func value(_ names: String...) -> Option { Option(names: names, takesValue: true, repeatable: false) }
        static func repeated(_ names: String...) -> Option { Option(names: names, takesValue: true, repeatable: true) }

        var primaryName: String { names.first ?? "" }
    }

    private(set) var values: [String: [String]] = [:]
    private(set) var positionals: [String] = []
    /// Whether `-h` or `--help` was given.
    private(set) var wantsHelp = false

    /// Parses `tokens` against the options of `command`.
    init(_ tokens: [String], options: [Option], command: String) throws(UsageError) {
        var index = 0
        var onlyPositionals = false
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            if onlyPositionals || !token.hasPrefix("-") || token == "-" {
                positionals.append(token)
                continue
            }
            if token == "--" {
                onlyPositionals = true
                continue
            }
            if token == "-h" || token == "--help" {
                wantsHelp = true
                continue
            }
            var name = token
            var inlineValue: String?
            if token.hasPrefix("--"), let equals = token.firstIndex(of: "=") {
                name = String(token[..<equals])
                inlineValue = String(token[token.index(after: equals)...])
            }
            guard let option = options.first(where: { $0.names.contains(name) }) else {
                throw UsageError("unknown option '\(name)' for 'zeekctl \(command)'")
            }
            let key = option.primaryName
            if option.takesValue {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < tokens.count else { throw UsageError("option '\(name)' needs a value") }
                    value = tokens[index]
                    index += 1
                }
                if !option.repeatable, values[key] != nil {
                    throw UsageError("option '\(name)' given more than once")
                }
                values[key, default: []].append(value)
            } else {
                guard inlineValue == nil else { throw UsageError("option '\(name)' takes no value") }
                values[key] = [""]
            }
        }
    }

    /// Whether a flag was given.
    func flag(_ name: String) -> Bool { values[name] != nil }

    /// The value of a single-valued option, or `nil`.
    func value(_ name: String) -> String? { values[name]?.last }

    /// Every value of a repeatable option, in order.
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// The value of an option that must be one of `choices`.
    func choice(_ name: String, _ choices: [String]) throws(UsageError) -> String? {
        guard let value = value(name) else { return nil }
        guard choices.contains(value) else {
            throw UsageError(
                "invalid value '\(value)' for '\(name)' (expected \(choices.map { "'\($0)'" }.joined(separator: ", ")))"
            )
        }
        return value
    }
}

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

    /// The longest duration any option accepts: 24 hours.
    static let maximumDuration: Duration = .seconds(86_400)
    /// The shortest duration any option accepts: 1 millisecond (durations are kept in milliseconds).
    static let minimumDuration: Duration = .milliseconds(1)

    /// The value of a duration option given in seconds (`10`, `0.5`), or `nil` when absent.
    ///
    /// Only plain decimal numbers are accepted (no sign, exponent, `inf` or `nan`), from
    /// ``minimumDuration`` (0.001) to `maximum` (default ``maximumDuration``, 86400), rounded to milliseconds.
    func seconds(_ name: String, maximum: Duration = maximumDuration) throws(UsageError) -> Duration? {
        guard let text = value(name) else { return nil }
        let maximumSeconds = maximum.components.seconds
        let invalid = UsageError(
            "invalid value '\(text)' for '\(name)' (expected a number of seconds from 0.001 to \(maximumSeconds))"
        )
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.allSatisfy({ part in part.allSatisfy { $0.isASCII && $0.isNumber } }),
            parts.contains(where: { !$0.isEmpty }), let seconds = Double(text), seconds.isFinite,
            seconds <= Double(maximumSeconds)
        else { throw invalid }
        let milliseconds = Int64((seconds * 1000).rounded())
        guard milliseconds >= 1 else { throw invalid }
        return .milliseconds(milliseconds)
    }

    /// The value of an integer option, which must lie in `range`; `nil` when absent.
    ///
    /// Only plain decimal digits are accepted (no sign).
    func integer(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(text),
            range.contains(number)
        else {
            throw UsageError(
                "invalid value '\(text)' for '\(name)' (expected an integer from \(range.lowerBound) to \(range.upperBound))"
            )
        }
        return number
    }

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

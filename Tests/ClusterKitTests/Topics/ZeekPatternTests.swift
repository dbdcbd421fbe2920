import ClusterKit
import Testing

@Suite struct ZeekPatternTests {
    struct Case: Sendable, CustomStringConvertible {
        var pattern: String
        var matching: [String]
        var notMatching: [String]
        var description: String { pattern }
    }

    static let cases: [Case] = [
        Case(
            pattern: "/Drop::.*/",
            matching: ["Drop::", "Drop::drop_address", "Drop::a::b"],
            notMatching: ["XDrop::a", "Drop:", "drop::a", "Drop::a\nb"]
        ),
        Case(
            pattern: "/(TimeMachine::command|Drop::.*)/",
            matching: ["TimeMachine::command", "Drop::x"],
            notMatching: ["TimeMachine::commands", "TimeMachine::", "x"]
        ),
        Case(
            pattern: "/Control::.*_request/",
            matching: ["Control::id_value_request", "Control::_request"],
            notMatching: ["Control::id_value_response", "Control::id_value_request_x"]
        ),
        Case(pattern: "/EMPTY/", matching: ["EMPTY"], notMatching: ["", "EMPTYX", "empty", "Drop::x"]),
        Case(
            pattern: "/^Intel::(cluster_new_item|purge_item)$/",
            matching: ["Intel::cluster_new_item", "Intel::purge_item"],
            notMatching: ["Intel::remove_item", "xIntel::purge_item"]
        ),
        Case(pattern: "/a+b?c*/", matching: ["a", "aab", "abccc", "aaccc"], notMatching: ["", "b", "abb"]),
        Case(pattern: "/x{2,3}/", matching: ["xx", "xxx"], notMatching: ["x", "xxxx"]),
        Case(pattern: "/x{2}/", matching: ["xx"], notMatching: ["x", "xxx"]),
        Case(pattern: "/x{2,}/", matching: ["xx", "xxxxx"], notMatching: ["x"]),
        Case(pattern: "/[a-c]+[^a-c]/", matching: ["abz", "c-"], notMatching: ["abc", "z"]),
        Case(pattern: "/[[:digit:]]+/", matching: ["0", "123"], notMatching: ["", "1a"]),
        Case(pattern: "/[]x]/", matching: ["]", "x"], notMatching: ["y"]),
        Case(pattern: "/[a-]/", matching: ["a", "-"], notMatching: ["b"]),
        // A quoted string is one unit, as in flex: `+` repeats all of it.
        Case(pattern: #"/"a.b"+/"#, matching: ["a.b", "a.ba.b"], notMatching: ["axb", "a.bb"]),
        Case(pattern: #"/a\.b\x41\101\d/"#, matching: ["a.bAAd"], notMatching: ["axbAAd", "a.bAA1"]),
        Case(pattern: "/foo/i", matching: ["foo", "FOO", "fOo"], notMatching: ["fo"]),
        Case(pattern: "//", matching: [""], notMatching: ["a"]),
        Case(pattern: "/(a|)b/", matching: ["ab", "b"], notMatching: ["a"]),
        Case(pattern: "/(a*)*/", matching: ["", "aaa"], notMatching: ["b"]),
    ]

    @Test(arguments: cases)
    func matchesTheWholeNameExactly(_ testCase: Case) throws {
        let pattern = try ZeekPattern(testCase.pattern)
        for text in testCase.matching {
            #expect(pattern.matches(text), "\(testCase.pattern) should match '\(text)'")
        }
        for text in testCase.notMatching {
            #expect(!pattern.matches(text), "\(testCase.pattern) should not match '\(text)'")
        }
        #expect(pattern.description == testCase.pattern)
    }

    @Test func plusMatchesEitherAndWritesZeeksDisjunction() throws {
        var pattern = try ZeekPattern("/Drop::.*/")
        pattern += try ZeekPattern("/Notice::begin_suppression/")

        #expect(pattern.source == "(Drop::.*)|(Notice::begin_suppression)")
        #expect(pattern.matches("Drop::x"))
        #expect(pattern.matches("Notice::begin_suppression"))
        #expect(!pattern.matches("Notice::cluster_notice"))
    }

    @Test func equalityComparesTheText() throws {
        #expect(try ZeekPattern("/a|b/") == ZeekPattern(regex: "a|b"))
        #expect(try ZeekPattern("/a/") != ZeekPattern("/a/i"))
    }

    struct Invalid: Sendable, CustomStringConvertible {
        var text: String
        var code: ZeekPatternError.Code
        var description: String { text.count > 40 ? String(text.prefix(40)) + "…" : text }
    }

    @Test(arguments: [
        Invalid(text: "Drop::.*", code: .missingSlashes),
        Invalid(text: "/", code: .missingSlashes),
        Invalid(text: "/(a/", code: .unbalancedParenthesis),
        Invalid(text: "/a)/", code: .unbalancedParenthesis),
        Invalid(text: "/[ab/", code: .invalidClass),
        Invalid(text: "/[z-a]/", code: .invalidClass),
        Invalid(text: "/[[:nope:]]/", code: .invalidClass),
        Invalid(text: #"/"ab/"#, code: .unterminatedQuote),
        Invalid(text: "/*a/", code: .invalidRepetition),
        Invalid(text: "/a{3,2}/", code: .invalidRepetition),
        Invalid(text: "/a{name}/", code: .unsupportedSyntax),
        Invalid(text: "/(?i:a)/", code: .unsupportedSyntax),
        Invalid(text: "/a{5000}/", code: .tooComplex),
        // Deep nesting and stacked operators would recurse once per level: refused, not a stack overflow.
        Invalid(
            text: "/" + String(repeating: "(", count: 100_000) + "a" + String(repeating: ")", count: 100_000) + "/",
            code: .tooComplex
        ),
        Invalid(text: "/a" + String(repeating: "*", count: 100_000) + "/", code: .tooComplex),
    ])
    func invalidPatternsThrowWithACode(_ invalid: Invalid) {
        let error = #expect(throws: ZeekPatternError.self) { try ZeekPattern(invalid.text) }
        #expect(error?.code == invalid.code)
    }

    @Test func nestingJustInsideTheLimitsStillWorks() throws {
        let nested = try ZeekPattern(
            "/" + String(repeating: "(", count: 100) + "ab" + String(repeating: ")", count: 100) + "/"
        )
        #expect(nested.matches("ab"))
        #expect(try ZeekPattern("/a" + String(repeating: "?", count: 16) + "/").matches(""))
    }

    @Test func errorDescriptionNamesThePattern() {
        let error = #expect(throws: ZeekPatternError.self) { try ZeekPattern("/Drop::(/") }
        #expect(error?.description == "pattern 'Drop::(': unbalanced '(' at offset 6")
    }
}

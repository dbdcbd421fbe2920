import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct JSONValueTests {
    static let document: JSONValue = .object([
        "errors": [.object(["source": nil, "error": "unknown id"])],
        "results": .object([
            "worker-1": 96,
            "manager": .object([
                "a": [1.5, 1e-05, 1e16, 1e15, 0.0001, .double(-0.0), 123_456_789_012_345_678.0],
                "é": "x\u{2028}\u{1}😀",
            ]),
        ]),
    ])

    @Test func pythonStyleMatchesJSONDumpsWithIndent() {
        // Expected text produced by Python 3.11: json.dumps(v, sort_keys=True, indent=2).
        let expected = #"""
            {
              "errors": [
                {
                  "error": "unknown id",
                  "source": null
                }
              ],
              "results": {
                "manager": {
                  "a": [
                    1.5,
                    1e-05,
                    1e+16,
                    1000000000000000.0,
                    0.0001,
                    -0.0,
                    1.2345678901234568e+17
                  ],
                  "\u00e9": "x\u2028\u0001\ud83d\ude00"
                },
                "worker-1": 96
              }
            }
            """#
        #expect(Self.document.text(style: .python(indent: 2, sortKeys: true)) == expected)
    }

    @Test func pythonStyleMatchesJSONDumpsOnOneLine() {
        let expected =
            #"{"errors": [{"error": "unknown id", "source": null}], "results": {"manager": {"a": [1.5, 1e-05, 1e+16, 1000000000000000.0, 0.0001, -0.0, 1.2345678901234568e+17], "\u00e9": "x\u2028\u0001\ud83d\ude00"}, "worker-1": 96}}"#
        #expect(Self.document.text(style: .python(sortKeys: true)) == expected)
        #expect(
            JSONValue.array([1.0, 3.0e-7, 2.5e21, 1e100]).text(style: .python()) == "[1.0, 3e-07, 2.5e+21, 1e+100]"
        )
        #expect(JSONValue.array([]).text(style: .python(indent: 2)) == "[]")
        #expect(JSONValue.object([]).text(style: .python(indent: 2)) == "{}")
    }

    @Test func zeekStyleIsCompactRawUTF8WithRapidJSONReals() {
        let value: JSONValue = .object([
            "port": 80, "proto": "tcp", "x": [1.0, 1.5, 1e-7, 0.001234, 1e21, 1e20, -2.0], "s": "é\u{1}",
        ])
        #expect(
            value.text()
                == #"{"port":80,"proto":"tcp","x":[1.0,1.5,1e-7,0.001234,1e21,100000000000000000000.0,-2.0],"s":"é\u0001"}"#
        )
        #expect(JSONValue.double(.nan).text() == "null")
    }

    @Test func parsingKeepsIntegersRealsAndMemberOrder() throws {
        let parsed = try JSONValue.parse(
            #" {"b": [1, -2, 1.5, 18446744073709551615, 1e400, true, null], "a": "\u00e9"} "#
        )
        #expect(
            parsed
                == .object([
                    "b": [1, -2, 1.5, .unsignedInteger(.max), .double(.infinity), true, nil],
                    "a": "é",
                ])
        )
        #expect(parsed["a"]?.stringValue == "é")
        #expect(parsed["missing"] == nil)
        #expect(parsed.objectMembers?.map(\.key) == ["b", "a"])
    }

    @Test(arguments: [
        ("", "byte 0: unexpected end of input, expected a JSON value"),
        ("[1,]", "byte 3: unexpected ']', expected a JSON value"),
        (#"{"a" 1}"#, "byte 5: unexpected '1', expected ':' after an object key"),
        (#"{a: 1}"#, "byte 1: unexpected 'a', expected a string"),
        ("[1] [2]", "byte 4: unexpected '[' after the value"),
        ("truth", "byte 0: unexpected 't', expected 'true' or 'false'"),
    ])
    func malformedTextIsRejectedWithOffsets(text: String, description: String) {
        let error = #expect(throws: JSONError.self) { try JSONValue.parse(text) }
        #expect(error?.description == description)
    }

    @Test func depthLimitHolds() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = #expect(throws: JSONError.self) { try JSONValue.parse(deep) }
        #expect(error?.code == .nestingTooDeep)
    }
}

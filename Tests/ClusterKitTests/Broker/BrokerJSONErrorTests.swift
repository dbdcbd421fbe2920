import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct BrokerJSONErrorTests {
    /// A malformed input and the exact error it must produce.
    struct Case: Sendable, CustomTestStringConvertible {
        var input: String
        var code: JSONError.Code
        var description: String
        var testDescription: String { input }

        init(_ input: String, _ code: JSONError.Code, _ description: String) {
            self.input = input
            self.code = code
            self.description = description
        }
    }

    static let cases: [Case] = [
        // Not JSON at all.
        Case("", .invalidJSON, "byte 0: unexpected end of input, expected a Broker value"),
        Case("   ", .invalidJSON, "byte 3: unexpected end of input, expected a Broker value"),
        Case("nope", .invalidJSON, "byte 0: unexpected 'n', expected a Broker value"),
        Case(
            #"{"@data-type":"count","data":1"#,
            .invalidJSON,
            "byte 30: unexpected end of input, expected ',' or '}' in a Broker value"
        ),
        Case(
            #"{"@data-type":"count" "data":1}"#,
            .invalidJSON,
            "byte 22: unexpected '\"', expected ',' or '}' in a Broker value"
        ),
        Case(#"{"@data-type":"count","data":1}x"#, .invalidJSON, "byte 31: unexpected 'x' after the value"),
        Case(#"{"@data-type":"count","data":01}"#, .invalidJSON, "byte 29: number has a leading zero"),
        Case(#"{"@data-type":"real","data":1.}"#, .invalidJSON, "byte 28: number has no digits after '.'"),
        Case(#"{"@data-type":"real","data":1e}"#, .invalidJSON, "byte 28: number has no digits in its exponent"),
        Case(#"{"@data-type":"string","data":"abc}"#, .invalidJSON, "byte 30: unterminated string"),
        Case(#"{"@data-type":"string","data":"a\qb"}"#, .invalidJSON, #"byte 32: invalid escape '\q'"#),
        Case(#"{"@data-type":"string","data":"\u12G4"}"#, .invalidJSON, "byte 35: invalid hex digit in \\u escape"),
        Case(
            #"{"@data-type":"string","data":"\ud800x"}"#,
            .invalidJSON,
            "byte 31: unpaired UTF-16 surrogate in \\u escape"
        ),
        Case(
            #"{"@data-type":"vector","data":[{"@data-type":"count","data":1},]}"#,
            .invalidJSON,
            "byte 63: unexpected ']', expected a Broker value"
        ),
        Case(
            #"{"@data-type":"vector","data":[{"@data-type":"count","data":1}"#,
            .invalidJSON,
            "byte 62: unexpected end of input, expected ',' or ']' in 'vector' data"
        ),
        Case(
            #"{"@data-type":"boolean","data":tru}"#,
            .invalidJSON,
            "byte 31: unexpected 't', expected 'true' or 'false'"
        ),
        // Shape of the value object.
        Case(
            #"[1,2]"#,
            .wrongPayloadType,
            "byte 0: expected a Broker value object with '@data-type' and 'data', got array"
        ),
        Case(
            #""count""#,
            .wrongPayloadType,
            "byte 0: expected a Broker value object with '@data-type' and 'data', got string"
        ),
        Case(#"{}"#, .missingKey, "byte 0: Broker value has no '@data-type'"),
        Case(#"{"data":1}"#, .missingKey, "byte 0: Broker value has no '@data-type'"),
        Case(#"{"@data-type":"count"}"#, .missingKey, "byte 0: Broker value of type 'count' has no 'data'"),
        Case(#"{"@data-type":"cnt","data":1}"#, .unknownDataType, "byte 14: unknown @data-type 'cnt'"),
        Case(#"{"@data-type":"Count","data":1}"#, .unknownDataType, "byte 14: unknown @data-type 'Count'"),
        Case(#"{"@data-type":"count","data":1,"data":2}"#, .duplicateKey, "byte 31: duplicate key 'data'"),
        Case(
            #"{"@data-type":"count","@data-type":"count","data":1}"#,
            .duplicateKey,
            "byte 22: duplicate key '@data-type'"
        ),
        Case(
            #"{"@data-type":"count","data":1,"extra":true}"#,
            .unexpectedKey,
            "byte 31: unexpected key 'extra' in a Broker value (expected '@data-type' and 'data')"
        ),
        // Payloads of the wrong JSON type.
        Case(
            #"{"@data-type":"count","data":"42"}"#,
            .wrongPayloadType,
            "byte 29: 'count' data must be a JSON number, got string"
        ),
        Case(
            #"{"@data-type":"boolean","data":1}"#,
            .wrongPayloadType,
            "byte 31: 'boolean' data must be a JSON boolean, got number"
        ),
        Case(
            #"{"@data-type":"string","data":42}"#,
            .wrongPayloadType,
            "byte 30: 'string' data must be a JSON string, got number"
        ),
        Case(
            #"{"@data-type":"address","data":[]}"#,
            .wrongPayloadType,
            "byte 31: 'address' data must be a JSON string, got array"
        ),
        Case(
            #"{"@data-type":"vector","data":{}}"#,
            .wrongPayloadType,
            "byte 30: 'vector' data must be a JSON array, got object"
        ),
        Case(
            #"{"@data-type":"set","data":"x"}"#,
            .wrongPayloadType,
            "byte 27: 'set' data must be a JSON array, got string"
        ),
        Case(
            #"{"@data-type":"table","data":[1]}"#,
            .wrongPayloadType,
            "byte 30: table entries must be objects with 'key' and 'value', got number"
        ),
        Case(
            #"{"@data-type":"table","data":[{"key":{"@data-type":"count","data":1}}]}"#,
            .missingKey,
            "byte 30: table entry has no 'value'"
        ),
        Case(
            #"{"@data-type":"table","data":[{"k":{"@data-type":"count","data":1}}]}"#,
            .unexpectedKey,
            "byte 31: unexpected key 'k' in a table entry (expected 'key' and 'value')"
        ),
        Case(#"{"@data-type":"enum-value","data":""}"#, .invalidMessage, "byte 34: enum value must not be empty"),
        // Numbers out of range or of the wrong kind.
        Case(#"{"@data-type":"count","data":-1}"#, .invalidNumber, "byte 29: count must not be negative: -1"),
        Case(#"{"@data-type":"count","data":1.5}"#, .invalidNumber, "byte 29: count must be an integer: 1.5"),
        Case(#"{"@data-type":"count","data":1e3}"#, .invalidNumber, "byte 29: count must be an integer: 1e3"),
        Case(
            #"{"@data-type":"count","data":18446744073709551616}"#,
            .invalidNumber,
            "byte 29: count out of range (0 to 18446744073709551615): 18446744073709551616"
        ),
        Case(
            #"{"@data-type":"integer","data":9223372036854775808}"#,
            .invalidNumber,
            "byte 31: integer out of range (-9223372036854775808 to 9223372036854775807): 9223372036854775808"
        ),
        Case(
            #"{"@data-type":"integer","data":-9223372036854775809}"#,
            .invalidNumber,
            "byte 31: integer out of range (-9223372036854775808 to 9223372036854775807): -9223372036854775809"
        ),
        Case(#"{"@data-type":"integer","data":2.0}"#, .invalidNumber, "byte 31: integer must be whole: 2.0"),
        // Malformed scalars in strings.
        Case(
            #"{"@data-type":"address","data":"256.1.1.1"}"#,
            .invalidAddress,
            "byte 31: malformed address '256.1.1.1'"
        ),
        Case(#"{"@data-type":"address","data":"1.2.3"}"#, .invalidAddress, "byte 31: malformed address '1.2.3'"),
        Case(#"{"@data-type":"address","data":"01.2.3.4"}"#, .invalidAddress, "byte 31: malformed address '01.2.3.4'"),
        Case(#"{"@data-type":"address","data":"1::2::3"}"#, .invalidAddress, "byte 31: malformed address '1::2::3'"),
        Case(
            #"{"@data-type":"address","data":"fe80::1%eth0"}"#,
            .invalidAddress,
            "byte 31: malformed address 'fe80::1%eth0'"
        ),
        Case(#"{"@data-type":"address","data":"12345::"}"#, .invalidAddress, "byte 31: malformed address '12345::'"),
        Case(
            #"{"@data-type":"subnet","data":"10.0.0.0"}"#,
            .invalidSubnet,
            "byte 30: malformed subnet '10.0.0.0' (expected address/length)"
        ),
        Case(
            #"{"@data-type":"subnet","data":"10.0.0.0/33"}"#,
            .invalidSubnet,
            "byte 30: malformed subnet '10.0.0.0/33' (expected address/length)"
        ),
        Case(
            #"{"@data-type":"subnet","data":"::/129"}"#,
            .invalidSubnet,
            "byte 30: malformed subnet '::/129' (expected address/length)"
        ),
        Case(
            #"{"@data-type":"port","data":"65536/tcp"}"#,
            .invalidPort,
            "byte 28: malformed port '65536/tcp' (expected number/protocol, 0-65535)"
        ),
        Case(
            #"{"@data-type":"port","data":"/tcp"}"#,
            .invalidPort,
            "byte 28: malformed port '/tcp' (expected number/protocol, 0-65535)"
        ),
        Case(
            #"{"@data-type":"port","data":"http"}"#,
            .invalidPort,
            "byte 28: malformed port 'http' (expected number/protocol, 0-65535)"
        ),
        Case(
            #"{"@data-type":"timestamp","data":"2022-13-10T07:00:00.000"}"#,
            .invalidTimestamp,
            "byte 33: malformed timestamp '2022-13-10T07:00:00.000' (expected YYYY-MM-DDThh:mm:ss[.fff][zone])"
        ),
        Case(
            #"{"@data-type":"timestamp","data":"2023-02-29T00:00:00"}"#,
            .invalidTimestamp,
            "byte 33: malformed timestamp '2023-02-29T00:00:00' (expected YYYY-MM-DDThh:mm:ss[.fff][zone])"
        ),
        Case(
            #"{"@data-type":"timestamp","data":"2022-04-10 07:00:00"}"#,
            .invalidTimestamp,
            "byte 33: malformed timestamp '2022-04-10 07:00:00' (expected YYYY-MM-DDThh:mm:ss[.fff][zone])"
        ),
        Case(
            #"{"@data-type":"timestamp","data":"2022-04-10T07:00:00.1234567890"}"#,
            .invalidTimestamp,
            "byte 33: malformed timestamp '2022-04-10T07:00:00.1234567890' (expected YYYY-MM-DDThh:mm:ss[.fff][zone])"
        ),
        Case(
            #"{"@data-type":"timestamp","data":"2022-04-10T07:00:00+25:00"}"#,
            .invalidTimestamp,
            "byte 33: malformed timestamp '2022-04-10T07:00:00+25:00' (expected YYYY-MM-DDThh:mm:ss[.fff][zone])"
        ),
        Case(
            #"{"@data-type":"timespan","data":"1d"}"#,
            .invalidTimespan,
            "byte 32: malformed timespan '1d' (expected an integer and ns, us, ms, s, min or h)"
        ),
        Case(
            #"{"@data-type":"timespan","data":"1.5s"}"#,
            .invalidTimespan,
            "byte 32: malformed timespan '1.5s' (expected an integer and ns, us, ms, s, min or h)"
        ),
        Case(
            #"{"@data-type":"timespan","data":"10"}"#,
            .invalidTimespan,
            "byte 32: malformed timespan '10' (expected an integer and ns, us, ms, s, min or h)"
        ),
        Case(
            #"{"@data-type":"timespan","data":"ms"}"#,
            .invalidTimespan,
            "byte 32: malformed timespan 'ms' (expected an integer and ns, us, ms, s, min or h)"
        ),
        Case(
            #"{"@data-type":"timespan","data":"9999999999999999999ns"}"#,
            .invalidTimespan,
            "byte 32: malformed timespan '9999999999999999999ns' (expected an integer and ns, us, ms, s, min or h)"
        ),
        Case(
            #"{"@data-type":"timespan","data":"999999999999h"}"#,
            .invalidTimespan,
            "byte 32: malformed timespan '999999999999h' (expected an integer and ns, us, ms, s, min or h)"
        ),
        // Errors deep inside keep the offset of the offending byte.
        Case(
            #"{"@data-type":"vector","data":[{"@data-type":"vector","data":[{"@data-type":"port","data":"x"}]}]}"#,
            .invalidPort,
            "byte 90: malformed port 'x' (expected number/protocol, 0-65535)"
        ),
        Case(
            #"{"data":{"@data-type":"count","data":-2},"@data-type":"vector"}"#,
            .wrongPayloadType,
            "byte 8: 'vector' data must be a JSON array, got object"
        ),
    ]

    @Test(arguments: cases)
    func malformedInputIsRejectedWithItsOffset(_ testCase: Case) {
        let error = #expect(throws: JSONError.self) { try Broker.JSON.decode(testCase.input) }
        #expect(error?.code == testCase.code)
        #expect(error?.description == testCase.description)
    }

    @Test func thereAreAtLeastFortyMalformedCases() {
        #expect(Self.cases.count >= 40)
    }

    @Test func nestingDeeperThanTheLimitIsAnErrorNotACrash() {
        let depth = 100_000
        let text =
            String(repeating: #"{"@data-type":"vector","data":["#, count: depth) + String(repeating: "]}", count: depth)
        let error = #expect(throws: JSONError.self) { try Broker.JSON.decode(text) }
        #expect(error?.code == .nestingTooDeep)
        #expect(error?.message == "nesting deeper than the limit of 128 levels")
        let shallow =
            String(repeating: #"{"@data-type":"vector","data":["#, count: 10) + String(repeating: "]}", count: 10)
        #expect(throws: JSONError.self) { try Broker.JSON.decode(shallow, limits: .init(maximumDepth: 5)) }
        #expect((try? Broker.JSON.decode(shallow, limits: .init(maximumDepth: 30))) != nil)
    }

    @Test func inputLargerThanTheLimitIsRejectedBeforeParsing() {
        let text = #"{"@data-type":"string","data":""# + String(repeating: "x", count: 1000) + #""}"#
        let error = #expect(throws: JSONError.self) {
            try Broker.JSON.decode(text, limits: .init(maximumInputSize: 512))
        }
        #expect(error?.description == "byte 0: input of 1033 bytes exceeds the limit of 512 bytes")
        #expect(error?.code == .inputTooLarge)
    }

    @Test func invalidUTF8InByteInputIsRejected() {
        var bytes = Array(#"{"@data-type":"string","data":"ab"}"#.utf8)
        bytes.insert(0xFF, at: 32)
        let error = #expect(throws: JSONError.self) { try Broker.JSON.decode(utf8: bytes) }
        #expect(error?.description == "byte 30: string is not valid UTF-8")
    }
}

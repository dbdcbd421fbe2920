import Foundation
import Testing

@testable import ClusterKitModel

/// Zeek's ASCII and JSON log formats, byte for byte (Zeek 8's `Ascii.cc`, ASCII and JSON formatters).
@Suite struct ZeekLogEncoderTests {
    static let utc = TimeZone(secondsFromGMT: 0) ?? .current
    /// 2026-12-04 20:41:00 UTC.
    static let opened = Broker.Timestamp(nanosecondsSinceEpoch: 1_796_416_860_000_000_000)
    static let ts = Broker.Timestamp(nanosecondsSinceEpoch: 1_796_416_860_123_456_000)

    let cluster = ZeekLogEncoder(path: "cluster", fields: Cluster.Info.zeekLogFields, format: .ascii)
    let clusterJSON = ZeekLogEncoder(path: "cluster", fields: Cluster.Info.zeekLogFields, format: .json)

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    func message(_ message: String) -> String {
        text(cluster.line(Cluster.Info(ts: Self.ts, node: "controller", message: message)))
    }

    @Test func asciiHeaderAndCloseAreZeeksLines() {
        #expect(
            text(cluster.header(openedAt: Self.opened, timeZone: Self.utc))
                == "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tcluster\n"
                + "#open\t2026-12-04-20-41-00\n#fields\tts\tnode\tmessage\n#types\ttime\tstring\tstring\n"
        )
        let later = Broker.Timestamp(nanosecondsSinceEpoch: 1_796_416_865_999_000_000)
        #expect(text(cluster.footer(closedAt: later, timeZone: Self.utc)) == "#close\t2026-12-04-20-41-05\n")
        let paris = TimeZone(secondsFromGMT: 3_600) ?? .current
        #expect(ZeekLogEncoder.localTime(Self.opened, timeZone: paris) == "2026-12-04-21-41-00")
    }

    @Test func managementLogColumns() {
        let encoder = ZeekLogEncoder(
            path: "management-controller",
            fields: Management.Log.Info.zeekLogFields,
            format: .ascii
        )
        let header = text(encoder.header(openedAt: Self.opened, timeZone: Self.utc))
        #expect(header.contains("\n#path\tmanagement-controller\n"))
        #expect(
            header.hasSuffix("#fields\tts\tnode\tlevel\trole\tmessage\n#types\ttime\tstring\tstring\tstring\tstring\n")
        )
        let info = Management.Log.Info(
            ts: Self.ts,
            node: "controller",
            level: Management.Log.Level.warning.name,
            role: Management.Role.controller.logName,
            message: "rx Management::Controller::API::get_nodes_request 7"
        )
        #expect(
            text(encoder.line(info))
                == "1796416860.123456\tcontroller\tWARNING\tCONTROLLER\trx Management::Controller::API::get_nodes_request 7\n"
        )
    }

    @Test(arguments: [
        ("plain text", "plain text"),
        ("", "(empty)"),
        ("-", "\\x2d"),
        ("(empty)", "\\x28empty)"),
        ("a\tb", "a\\x09b"),
        ("back\\slash", "back\\\\slash"),
        ("line\nbreak", "line\\x0abreak"),
        ("h\u{E9}llo", "h\u{E9}llo"),
        ("h\u{E9}llo\n", "h\\xc3\\xa9llo\\x0a"),
        ("\u{E9}\t\u{F6}\n", "\u{E9}\\x09\\xc3\\xb6\\x0a"),
        ("\u{85}", "\\xc2\\x85"),
        ("\u{E000}", "\\xee\\x80\\x80"),
        ("\u{FFF0}", "\\xef\\xbf\\xb0"),
        ("\u{1F600}", "\u{1F600}"),
        ("\u{7F}", "\\x7f"),
        ("\u{1B}[31m", "\\x1b[31m"),
    ])
    func asciiStringsAreEscapedAsZeekEscapesThem(value: String, written: String) {
        #expect(message(value) == "1796416860.123456\tcontroller\t\(written)\n")
    }

    @Test func asciiValuesOfEveryType() {
        let encoder = ZeekLogEncoder(
            path: "x",
            fields: [
                ZeekLogField("a", .time), ZeekLogField("b", .interval), ZeekLogField("c", .bool),
                ZeekLogField("d", .count), ZeekLogField("e", .int), ZeekLogField("f", .string),
                ZeekLogField("g", .string),
            ],
            format: .ascii
        )
        let line = encoder.line([
            .time(Broker.Timestamp(nanosecondsSinceEpoch: 1_796_416_860_123_456_789)),
            .interval(.milliseconds(2_500)), .bool(true), .count(42), .int(-7), .unset,
        ])
        // Six decimals, rounded; a missing trailing value is unset.
        #expect(text(line) == "1796416860.123457\t2.500000\tT\t42\t-7\t-\t-\n")
        let negative = encoder.line([
            .time(Broker.Timestamp(nanosecondsSinceEpoch: -1_500_000_000)), .interval(.milliseconds(-250)),
            .bool(false),
        ])
        #expect(text(negative) == "-1.500000\t-0.250000\tF\t-\t-\t-\t-\n")
    }

    @Test func aLineThatWouldStartWithAHashStartsWithItsEscape() {
        let encoder = ZeekLogEncoder(path: "x", fields: [ZeekLogField("s", .string)], format: .ascii)
        #expect(text(encoder.line([.string("#fields")])) == "\\x23fields\n")
    }

    @Test func stringsAreCutToZeeksLimits() {
        #expect(
            message(String(repeating: "a", count: 5_000))
                == "1796416860.123456\tcontroller\t\(String(repeating: "a", count: 4_096))\n"
        )
        // Cutting inside a character leaves a byte that is not UTF-8: escaped, as Zeek writes it.
        #expect(
            message(String(repeating: "a", count: 4_095) + "\u{E9}")
                == "1796416860.123456\tcontroller\t\(String(repeating: "a", count: 4_095))\\xc3\n"
        )
        var encoder = ZeekLogEncoder(
            path: "x",
            fields: [ZeekLogField("a", .string), ZeekLogField("b", .string), ZeekLogField("c", .string)],
            format: .ascii
        )
        encoder.maximumTotalStringBytes = 10
        #expect(
            text(encoder.line([.string("12345678"), .string("abcdef"), .string("z")])) == "12345678\tab\t(empty)\n"
        )
    }

    @Test func jsonLinesHaveNoHeaderAndEpochTimes() {
        #expect(clusterJSON.header(openedAt: Self.opened, timeZone: Self.utc).isEmpty)
        #expect(clusterJSON.footer(closedAt: Self.opened, timeZone: Self.utc).isEmpty)
        #expect(
            text(clusterJSON.line(Cluster.Info(ts: Self.ts, node: "controller", message: "got hello from w (1)")))
                == "{\"ts\":1796416860.123456,\"node\":\"controller\",\"message\":\"got hello from w (1)\"}\n"
        )
        #expect(
            text(clusterJSON.line(Cluster.Info(ts: Self.opened, node: "", message: "-")))
                == "{\"ts\":1796416860.0,\"node\":\"\",\"message\":\"-\"}\n"
        )
    }

    @Test func jsonStringsAndValues() {
        #expect(
            text(clusterJSON.line([.time(Self.ts), .string("q\"b\\t\tn\n\u{E9}"), .unset]))
                == "{\"ts\":1796416860.123456,\"node\":\"q\\\"b\\\\t\\tn\\n\u{E9}\"}\n"
        )
        // A control character other than \b \f \n \r \t turns the string into Zeek's \xNN text.
        #expect(
            text(clusterJSON.line([.time(Self.ts), .string("bell\u{07}\u{E9}\n")]))
                == "{\"ts\":1796416860.123456,\"node\":\"bell\\\\x07\\\\xc3\\\\xa9\\n\"}\n"
        )
        let typed = ZeekLogEncoder(
            path: "x",
            fields: [ZeekLogField("b", .bool), ZeekLogField("c", .count), ZeekLogField("i", .interval)],
            format: .json
        )
        #expect(
            text(typed.line([.bool(true), .count(3), .interval(.milliseconds(1_500))]))
                == "{\"b\":true,\"c\":3,\"i\":1.5}\n"
        )
        #expect(text(typed.line([.unset, .unset, .interval(.milliseconds(250))])) == "{\"i\":0.25}\n")
        #expect(text(typed.line([.unset, .unset, .interval(.seconds(-3))])) == "{\"i\":-3.0}\n")
    }

    @Test func levelsAndRolesAreNamedAsZeekNamesThem() {
        #expect(Management.Log.Level.allCases.map(\.name) == ["DEBUG", "INFO", "WARNING", "ERROR"])
        #expect(Management.Log.Level.allCases.map(\.rawValue) == [10, 20, 30, 40])
        #expect(Management.Log.Level(name: "warning") == .warning)
        #expect(Management.Log.Level(name: "verbose") == nil)
        #expect(Management.Log.Level.debug < .error)
        #expect([Management.Role.controller, .agent, .node].map(\.logName) == ["CONTROLLER", "AGENT", "NODE"])
    }
}

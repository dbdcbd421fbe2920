import ClusterKit
import Foundation
import Testing

extension Layouts {
    /// Every `zeek-client-ini` case gives the same configuration (INI and JSON forms) or the same error.
    @Suite struct ZeekClientINITests {
        static let cases = fixtureEntries("zeek-client-ini").filter { $0.hasSuffix(".ini") }.map {
            String($0.dropLast(4))
        }

        @Test(arguments: cases)
        func readsAsZeekClientDoes(_ name: String) throws {
            let base = "zeek-client-ini/\(name)"
            let ini = ManagementINI.parse(fixture("\(base).ini"), file: "\(name).ini", configurationID: "<uuid>")
            let exit = fixture("\(base).exit").trimmingCharacters(in: .whitespacesAndNewlines)
            let errorLines = fixture("\(base).err").split(separator: "\n").map(String.init)
            switch exit {
            case "0":
                let configuration = try #require(ini.configuration, "\(ini.issues)")
                let json = ManagementINI.json(of: configuration, instancePortsAsText: true)
                let text =
                    ManagementINI.text(of: configuration) + "# JSON:\n"
                    + json.text(style: .python(indent: 2, sortKeys: true)) + "\n"
                #expect(text == fixture("\(base).out"))
                #expect(ini.issues.map { "\($0.severity): \($0.message)" } == errorLines)
            case "1":
                #expect(ini.configuration == nil)
                #expect(
                    ini.issues.filter { $0.severity == .error }.map { "error: \($0.message)" }
                        == Array(errorLines.dropLast())
                )
                #expect(errorLines.last == "error: configuration has errors, not sending")
            default:
                #expect(ini.configuration == nil)
                let issue = try #require(ini.issues.first)
                #expect(issue.code == .duplicateSection)
                #expect(issue.node == "worker")
                #expect(issue.location.line == 10)
            }
        }
    }
}

import ClusterKit
import Foundation
import Testing

extension Layouts {
    @Suite struct ZeekctlOracleTests {
        static let cases = fixtureEntries("zeekctl-oracle/cases")

        static func settings(_ name: String) -> ZeekctlSettings {
            let extra = ZeekctlCfg.parse(fixture("zeekctl-oracle/cases/\(name)/zeekctl.cfg.extra"), file: "zeekctl.cfg")
            return ZeekctlSettings.resolved(from: extra).settings
        }

        @Test(arguments: cases)
        func generatedLayoutMatchesZeekControl(_ name: String) throws {
            let nodeCfg = NodeCfg.parse(fixture("zeekctl-oracle/cases/\(name)/node.cfg"), file: "node.cfg")
            let (cluster, issues, _) = ZeekctlCluster.build(
                from: nodeCfg,
                settings: Self.settings(name),
                resolver: fixtureResolver
            )
            let expectedExit = fixture("zeekctl-oracle/cases/\(name)/exit-code.txt").trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            if expectedExit == "0" {
                #expect(!issues.containsErrors, "\(issues)")
                let generated = try LayoutGenerator.generate(cluster)
                let expected = fixture("zeekctl-oracle/cases/\(name)/\(generated.fileName)")
                #expect(!expected.isEmpty)
                #expect(generated.text == expected)
                let nodes = cluster.nodes.sorted { ($0.type, $0.count) < ($1.type, $1.count) }
                #expect(
                    nodes.map(\.zeekctlDescription).joined(separator: "\n") + "\n"
                        == fixture("zeekctl-oracle/cases/\(name)/nodes.txt")
                )
            }
        }
    }
}

import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel

/// Regression tests for what the fuzz targets found (Docs/fuzzing.md); each names its target.
@Suite struct FuzzFindingsTests {
    /// management-ini: a configuration survives its Broker value.
    ///
    /// `instances` and `nodes` are sets in Zeek's record, so they come back in Broker's set order, not the file's: the target compares them as sets.
    @Test func configurationSurvivesItsBrokerValueAsSets() throws {
        let text = fixture("zeek-client-ini/01-two-instances.ini")
        try #require(!text.isEmpty)
        let loaded = LayoutLoader().load(text: text, file: "cluster.ini", format: .ini)
        let configuration = try #require(loaded.configuration)
        let again = try Management.Configuration(brokerValue: configuration.brokerValue)
        #expect(again.id == configuration.id)
        #expect(Set(again.instances) == Set(configuration.instances))
        #expect(Set(again.nodes) == Set(configuration.nodes))
        #expect(again.instances.map(\.name) == ["agent-hub", "agent-sensor1"])
    }

    /// node-cfg: an issue quoting a value that holds a line break stays one line.
    ///
    /// configparser continues a value on a line that starts with whitespace, and `\u{1f}` is whitespace to Python,
    /// so a node type can hold a line break.
    @Test func issueQuotingAContinuedValueIsOneLine() {
        let text = "[manager]\ntype=manage1]\n\u{1f}\u{1f}type=worker\nhost=localhost\n"
        let loaded = LayoutLoader().load(text: text, file: "node.cfg", format: .nodeCfg)
        let issue = loaded.issues.first { $0.message.contains("unknown node type") }
        #expect(issue?.message.contains("\n") == true)
        #expect(issue?.description.contains("\n") == false)
        #expect(issue?.description.contains("manage1]\\ntype=worker") == true)
    }

    /// layout-script: a value with control characters quoted in an issue stays one line.
    @Test func issueQuotingALayoutValueIsOneLine() {
        let text =
            "redef Cluster::nodes = {\n\t[\"control\"] = [$node_type=Cluster::CONTROL, $ip=10.0.0.1, "
            + "$p=27762/t\u{1b}[31m\n\rcp],\n};\n"
        let loaded = LayoutLoader().load(text: text, file: "cluster-layout.zeek", format: .layout)
        #expect(!loaded.issues.isEmpty)
        for issue in loaded.issues {
            #expect(!issue.description.contains("\n") && !issue.description.contains("\u{1b}"))
        }
    }
}

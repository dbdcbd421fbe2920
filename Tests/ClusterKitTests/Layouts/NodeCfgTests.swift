import ClusterKit
import Testing

extension Layouts {
    @Suite struct NodeCfgTests {
        @Test func readsAsPythonConfigparser() {
            let nodeCfg = NodeCfg.parse(
                """
                # comment
                [DEFAULT]
                host=10.0.0.%(last)s
                last=9

                [tap worker]  
                TYPE : worker
                interface=eth0 # tap
                lb.procs=2
                lb_method=custom
                env_vars=A=1,
                  B=2
                ; comment
                aux_scripts=50%% done
                """,
                file: "node.cfg"
            )
            #expect(nodeCfg.issues.isEmpty)
            let section = nodeCfg.sections[0]
            #expect(section.name == "tap worker")
            #expect(section.line == 6)
            #expect(section["type"] == "worker")
            #expect(section["host"] == "10.0.0.9")
            #expect(section["interface"] == "eth0 # tap")
            #expect(section["lb_procs"] == "2")
            #expect(section["env_vars"] == "A=1,\nB=2")
            #expect(section["aux_scripts"] == "50% done")
            #expect(section.line(of: "host") == 3)
            #expect(section.line(of: "type") == 7)
            // `last` is a DEFAULT key ZeekControl does not know: warned once per node.
            #expect(
                section.issues.map(\.description) == [
                    "node.cfg:4: warning: ignoring unrecognized node config option 'last' given for node 'tap worker'"
                ]
            )
        }

        @Test func tracebackInputsBecomeLocatedErrors() {
            let nodeCfg = NodeCfg.parse(
                """
                [a]
                type=worker
                type=proxy
                bogus line
                =value
                [a]
                [b]
                host=5%
                """,
                file: "node.cfg"
            )
            #expect(
                nodeCfg.issues.map(\.description) == [
                    "node.cfg:3: error: key 'type' in section 'a' already given on line 2",
                    "node.cfg:4: error: line 'bogus line' is not a '[section]' header, a 'key = value' line or a comment",
                    "node.cfg:5: error: line '=value' has no key before '='",
                    "node.cfg:6: error: section 'a' already exists (first defined on line 1)",
                ]
            )
            #expect(nodeCfg.sections.map(\.name) == ["a", "b"])
            #expect(
                nodeCfg.sections[1].issues.map(\.description) == [
                    "node.cfg:8: error: bad '%' in value of key 'host' in section 'b': '%' must be followed by '%' or '(', "
                        + "found '%' (write a literal '%' as '%%')"
                ]
            )
        }

        @Test func missingSectionHeaderIsReportedOnce() {
            let nodeCfg = NodeCfg.parse("type=manager\nhost=x\n[m]\ntype=manager\n", file: "node.cfg")
            #expect(nodeCfg.issues.map(\.code) == [.missingSectionHeader])
            #expect(nodeCfg.sections.map(\.name) == ["m"])
        }

        @Test func unusedKeysWarn() {
            let nodeCfg = NodeCfg.parse("[m]\ntype=manager\nhost=1.2.3.4\nzone_id=eth0\n", file: "node.cfg")
            #expect(nodeCfg.sections[0].issues.map(\.code) == [.unusedKey])
        }
    }
}

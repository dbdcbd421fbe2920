import ClusterKit
import Foundation
import Testing

extension Validation {
    /// Every input of `zeekctl-oracle/errors/` is rejected (or accepted, where ZeekControl accepts it) with an
    /// issue naming the same node and problem, under the fixtures' conditions (machine checks on).
    @Suite struct ZeekctlErrorCatalogTests {
        struct Row: Sendable, CustomStringConvertible {
            var name: String
            var exit: Int
            var message: String
            var description: String { name }
        }

        static let rows: [Row] = fixture("zeekctl-oracle/errors/catalog.tsv")
            .split(separator: "\n").dropFirst()
            .compactMap { line in
                let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3, let exit = Int(fields[1]) else { return nil }
                return Row(name: String(fields[0]), exit: exit, message: String(fields[2]))
            }

        static let loader = LayoutLoader(
            options: LayoutValidator.Options(
                hostResolver: fixtureResolver,
                localAddresses: StaticLocalAddresses(fixtureLocalAddresses.compactMap(Broker.Address.init)),
                checksLocalhostRule: true
            )
        )

        /// The code, node and line each case must report.
        static let expected: [String: (code: ValidationIssue.Code, node: String?, line: Int?)] = [
            "af-packet-prefix": (.afPacketPrefix, "worker-1-1", 7),
            "bad-type": (.unknownType, "manager", 2),
            "dup-exact": (.duplicateSection, "worker-1", 10),
            "dup-key": (.duplicateKey, "worker-1", 10),
            "env-empty-name": (.envVarsEmptyName, "w", 10),
            "lb-interfaces-count": (.lbInterfacesCountMismatch, "w", 12),
            "lb-method-bad": (.unknownLBMethod, "w", 11),
            "lb-on-proxy": (.loadBalancingOnNonWorker, "proxy-2", 10),
            "lb-procs-without-method": (.missingLBMethod, "w", 10),
            "localhost-mix": (.localhostMix, "p", 4),
            "no-host": (.missingHost, "manager", 1),
            "no-proxy": (.noProxy, nil, nil),
            "nosection": (.missingSectionHeader, nil, 1),
            "pin-cpus-bad": (.invalidPinCPUs, "w", 10),
            "standalone-not-local": (.managerNotLocal, "zeek", 1),
            "two-managers": (.multipleManagers, "m2", 4),
            "unknown-key": (.missingLBMethod, "worker-1", 11),
        ]

        @Test func catalogHasEveryCase() {
            #expect(Self.rows.count == 17)
            #expect(Set(Self.rows.map(\.name)) == Set(Self.expected.keys))
        }

        @Test(arguments: rows)
        func rejectedOrAcceptedLikeZeekControl(_ row: Row) throws {
            let loaded = Self.loader.load(
                text: fixture("zeekctl-oracle/errors/\(row.name).node.cfg"),
                file: "node.cfg",
                format: .nodeCfg
            )
            let expected = try #require(Self.expected[row.name])
            #expect(loaded.hasErrors == (row.exit != 0), "\(loaded.issues)")
            let issue = try #require(loaded.issues.first { $0.code == expected.code }, "\(loaded.issues)")
            #expect(issue.node == expected.node)
            #expect(issue.location == SourceLocation(file: "node.cfg", line: expected.line))
            if row.exit != 0 {
                // The first error is ZeekControl's error (for tracebacks: the problem configparser raised).
                let first = try #require(loaded.issues.first { $0.severity == .error })
                #expect(first == issue)
                let lines = row.message.components(separatedBy: "\\n")
                if let zeekctl = lines.last(where: { $0.hasPrefix("Error: ") }) {
                    let text = String(zeekctl.dropFirst("Error: ".count))
                    if expected.code == .missingSectionHeader {
                        #expect(issue.message.lowercased().hasPrefix("file contains no section headers"))
                    } else {
                        #expect(issue.message.hasPrefix(text), "\(issue.message) vs \(text)")
                    }
                }
            } else {
                #expect(issue.message.hasPrefix(row.message.replacingOccurrences(of: "error: ", with: "")))
            }
            if row.name == "unknown-key" {
                #expect(loaded.issues.first?.code == .unknownKey)
                #expect(
                    loaded.issues.first?.message
                        == "ignoring unrecognized node config option 'foo' given for node 'worker-1'"
                )
            }
        }
    }
}

import ClusterKit
import Foundation
import Testing

extension Layouts {
    /// `zeekctl migrate`: what Zeek's generator makes of the migrated zeek.conf files has the same hosts, the
    /// same number of nodes of each type on each, the same interfaces and the same worker CPU pinning.
    @Suite struct ZeekConfMigrationTests {
        /// Per host: the node types in a fixed order and the workers' (interface, CPU) pairs, sorted.
        typealias Shape = [String: [String]]

        static func shape(of cluster: ZeekctlCluster) -> Shape {
            var shape: Shape = [:]
            for node in cluster.nodes {
                let host = ZeekConfMigrationTests.hostKey(node.host, node.address?.description)
                let entry =
                    node.type == .worker
                    ? "worker \(node.interface) \(node.pinCPU.map(String.init) ?? "-")" : node.type.rawValue
                shape[host, default: []].append(entry)
            }
            return shape.mapValues { $0.sorted() }
        }

        static func shape(of cluster: ZeekConfCluster) -> Shape {
            var shape: Shape = [:]
            for node in cluster.nodes {
                let host = cluster.hosts[node.host]
                let key = hostKey(host.hostName ?? "", host.address.map { $0.trimmingCharacters(in: ["[", "]"]) })
                var entry = String(node.nodeType.rawValue.dropFirst("Cluster::".count)).lowercased()
                if node.nodeType == .worker, let interface = host.interfaces.first(where: { $0.name == node.interface })
                {
                    let cpus = interface.cpuList.map { $0.split(separator: ",").map(String.init) } ?? []
                    let cpu = cpus.isEmpty ? "-" : cpus[(node.workerIndex ?? 0) % cpus.count]
                    entry = "worker \(interface.source) \(cpu)"
                }
                shape[key, default: []].append(entry)
            }
            return shape.mapValues { $0.sorted() }
        }

        /// Hosts are compared by address when there is one.
        static func hostKey(_ name: String, _ address: String?) -> String { address ?? name }

        static func migrated(_ migration: ZeekConfMigration) -> LoadedLayout {
            if migration.files.count == 1, let file = migration.files.first {
                return LayoutLoader().load(text: file.text, file: file.name, format: .zeekConf)
            }
            let reader = InMemoryLayoutReader(
                Dictionary(uniqueKeysWithValues: migration.files.map { ("m/" + $0.name, $0.text) })
            )
            return LayoutLoader(reader: reader).loadZeekConf(path: "m")
        }

        static let nodeCfgCases: [String] =
            fixtureEntries("zeekctl-oracle/cases").map { fixture("zeekctl-oracle/cases/\($0)/node.cfg") } + [
                """
                [manager]
                type=manager
                host=10.1.0.1
                env_vars=A=1
                [logger-1]
                type=logger
                host=10.1.0.1
                [proxy-1]
                type=proxy
                host=10.1.0.2
                [w]
                type=worker
                host=10.1.0.2
                interface=eth0
                lb_method=af_packet
                lb_procs=3
                pin_cpus=4,5,6
                [w2]
                type=worker
                host=10.1.0.2
                interface=eth0
                aux_scripts=local.zeek
                [w3]
                type=worker
                host=2001:db8::7
                interface=eth1
                """
            ]

        @Test(arguments: nodeCfgCases.indices)
        func nodeCfgMigratesToTheSameHostsNodesInterfacesAndPinning(_ index: Int) throws {
            let options = LayoutValidator.Options(hostResolver: fixtureResolver)
            let loaded = LayoutLoader(options: options).load(
                text: Self.nodeCfgCases[index],
                file: "node.cfg",
                format: .nodeCfg
            )
            // The inline case (the last) must load; ZeekControl's own rejected cases have nothing to migrate.
            #expect(index < Self.nodeCfgCases.count - 1 || !loaded.hasErrors, "\(loaded.issues)")
            guard !loaded.hasErrors, let cluster = loaded.zeekctlCluster, !cluster.isStandalone else { return }
            let migration = try ZeekConfMigration.zeekConf(from: loaded)
            let result = Self.migrated(migration)
            #expect(!result.hasErrors, "\(result.issues)\n\(migration.files)")
            let zeekConf = try #require(result.zeekConf)
            #expect(Self.shape(of: zeekConf) == Self.shape(of: cluster))
            #expect(migration.files.count == Set(cluster.nodes.map(\.host)).count)
        }

        @Test func whatZeekConfCannotExpressIsAWarningWithItsLine() throws {
            let options = LayoutValidator.Options(hostResolver: fixtureResolver)
            let loaded = LayoutLoader(options: options).load(
                text: Self.nodeCfgCases.last ?? "",
                file: "node.cfg",
                format: .nodeCfg
            )
            let migration = try ZeekConfMigration.zeekConf(from: loaded)
            #expect(
                migration.warnings.map(\.description).contains(
                    "node.cfg:18: warning: node 'w2': aux_scripts 'local.zeek' cannot be expressed in zeek.conf and is "
                        + "not migrated"
                )
            )
            #expect(
                migration.files.map(\.name) == ["10-1-0-1.zeek.conf", "10-1-0-2.zeek.conf", "2001-db8--7.zeek.conf"]
            )
            #expect(migration.files.first?.text.contains("manager_env =\n  A=1\n") == true)
            #expect(migration.files.last?.text.contains("address = [2001:db8::7]\n") == true)
        }

        @Test(arguments: fixtureEntries("zeek-client-ini").filter { $0.hasSuffix(".ini") })
        func managementINIMigratesToTheSameInstancesAndNodes(_ name: String) throws {
            let loaded = LayoutLoader().load(text: fixture("zeek-client-ini/\(name)"), file: name, format: .ini)
            guard !loaded.hasErrors, let configuration = loaded.readyConfiguration else { return }
            let migration = try ZeekConfMigration.zeekConf(from: loaded)
            let result = Self.migrated(migration)
            #expect(!result.hasErrors, "\(result.issues)")
            let zeekConf = try #require(result.zeekConf)
            func count(_ types: [Cluster.NodeType]) -> [String] { types.map(\.rawValue).sorted() }
            #expect(count(zeekConf.nodes.map(\.nodeType)) == count(configuration.nodes.map { $0.role.nodeType }))
            let sources = zeekConf.nodes.compactMap { node in
                zeekConf.hosts[node.host].interfaces.first { $0.name == node.interface }?.source
            }
            #expect(sources.sorted() == configuration.nodes.compactMap(\.interface).sorted())
        }

        @Test(arguments: ZeekConfOracleCase.all.filter { $0.expectedExit == 0 && $0.inputPath != nil })
        func zeekConfMigratesToANodeCfgWithTheSameNodes(_ oracle: ZeekConfOracleCase) throws {
            let path = try #require(oracle.inputPath)
            let loaded = LayoutLoader().loadZeekConf(path: oracle.directory + "/" + path, displayName: path)
            guard !loaded.hasErrors else { return }
            let migration = try ZeekConfMigration.nodeCfg(from: loaded)
            let nodeCfg = try #require(migration.files.first)
            let options = LayoutValidator.Options(hostResolver: StaticHostResolver(["localhost": ["127.0.0.1"]]))
            let back = LayoutLoader(options: options).load(text: nodeCfg.text, file: "node.cfg", format: .nodeCfg)
            let cluster = try #require(back.zeekctlCluster)
            func types(_ names: [(String, String)]) -> [String] { names.map { "\($0.0) \($0.1)" }.sorted() }
            #expect(
                types(cluster.nodes.map { ($0.name, $0.type.rawValue) })
                    == types(
                        loaded.layout.nodes.map {
                            ($0.name, String($0.node.nodeType.rawValue.dropFirst(9)).lowercased())
                        }
                    )
            )
        }
    }
}

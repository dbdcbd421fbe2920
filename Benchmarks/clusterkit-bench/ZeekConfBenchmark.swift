import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The zeek.conf part of `clusterkit-bench layouts` (`--zeek-conf`).
///
/// Folders of HOSTS host files with 100 workers each (the first host also runs the manager, a logger and a
/// proxy), read, checked and generated in process, and `zeekctl layout DIR` timed as a whole process (optionally
/// beside Zeek's own generator, `--zeek-generator PATH`, run as `PATH -C DIR`). Median of `--runs` runs;
/// `--hosts 1,10,100` picks the sizes.
enum ZeekConfBenchmark {
    static func run(_ arguments: [String], runs: Int) throws {
        let hostCounts =
            value(of: "--hosts", in: arguments)?.split(separator: ",").compactMap { Int($0) } ?? [1, 10, 100]
        let benchDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let zeekctl = value(of: "--zeekctl", in: arguments) ?? benchDirectory + "/zeekctl"
        let generator = value(of: "--zeek-generator", in: arguments)
        if arguments.contains("--breakdown") {
            breakdown(hosts: hostCounts.last ?? 100)
            return
        }
        print("layouts: zeek.conf folders, 100 workers per host (median of \(runs) runs, release build expected)")
        print(
            "hosts".leftAligned(7) + "workers".leftAligned(9) + "nodes".leftAligned(8) + "load+check ms".leftAligned(15)
                + "generate ms".leftAligned(13) + "ns/node".leftAligned(9) + "zeekctl layout ms".leftAligned(19)
                + (generator == nil ? "" : "zeek generator ms".leftAligned(19)) + "bytes"
        )
        for hosts in hostCounts {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "clusterkit-bench-zeek-conf-\(getpid())-\(hosts)"
            ).path
            try? FileManager.default.removeItem(atPath: directory)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            for (name, text) in folder(hosts: hosts, workersPerHost: 100) {
                try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
            }
            var loads: [Double] = []
            var generates: [Double] = []
            var bytes = 0
            var nodes = 0
            for _ in 0..<runs {
                let start = LayoutsBenchmark.now()
                let loaded = LayoutLoader().loadZeekConf(path: directory)
                let afterLoad = LayoutsBenchmark.now()
                let text = try loaded.generatedLayout().text
                let end = LayoutsBenchmark.now()
                precondition(!loaded.hasErrors, "\(loaded.issues.prefix(3))")
                loads.append(afterLoad - start)
                generates.append(end - afterLoad)
                bytes = text.utf8.count
                nodes = loaded.layout.nodes.count
            }
            var processes: [Double] = []
            var generators: [Double] = []
            for _ in 0..<runs {
                let start = LayoutsBenchmark.now()
                let status = try SpawnedProcess.run(zeekctl, ["layout", directory])
                processes.append(LayoutsBenchmark.now() - start)
                precondition(status == 0, "zeekctl layout exited \(status)")
                if let generator {
                    let start = LayoutsBenchmark.now()
                    _ = try SpawnedProcess.run(generator, ["-C", directory])
                    generators.append(LayoutsBenchmark.now() - start)
                }
            }
            let load = LayoutsBenchmark.median(loads)
            let generate = LayoutsBenchmark.median(generates)
            print(
                String(hosts).leftAligned(7) + String(hosts * 100).leftAligned(9) + String(nodes).leftAligned(8)
                    + LayoutsBenchmark.format(load).leftAligned(15) + LayoutsBenchmark.format(generate).leftAligned(13)
                    + String(Int((load + generate) * 1_000_000 / Double(max(nodes, 1)))).leftAligned(9)
                    + LayoutsBenchmark.format(LayoutsBenchmark.median(processes)).leftAligned(19)
                    + (generator == nil
                        ? "" : LayoutsBenchmark.format(LayoutsBenchmark.median(generators)).leftAligned(19))
                    + String(bytes)
            )
        }
    }

    /// Times the steps of loading a folder of `hosts` host files from memory, three times.
    static func breakdown(hosts: Int) {
        let files = folder(hosts: hosts, workersPerHost: 100).map {
            (name: $0.name, text: Result<String, LayoutLoadError>.success($0.text))
        }
        for _ in 0..<3 {
            let t0 = LayoutsBenchmark.now()
            let cluster = ZeekConfCluster.parse(folder: files, path: "c")
            let t1 = LayoutsBenchmark.now()
            let layout = cluster.layout
            let t2 = LayoutsBenchmark.now()
            _ = cluster.locations
            _ = cluster.nodeHosts
            let t3 = LayoutsBenchmark.now()
            let issues = LayoutValidator().validate(cluster, layout: layout)
            let t4 = LayoutsBenchmark.now()
            let text = cluster.generatedText ?? ""
            let t5 = LayoutsBenchmark.now()
            print(
                "parse+checks \(LayoutsBenchmark.format(t1 - t0)) layout \(LayoutsBenchmark.format(t2 - t1)) "
                    + "locations+hosts \(LayoutsBenchmark.format(t3 - t2)) cross-node \(LayoutsBenchmark.format(t4 - t3)) "
                    + "text \(LayoutsBenchmark.format(t5 - t4)) (\(issues.count) issues, \(text.utf8.count) bytes)"
            )
        }
    }

    /// Host files `host-NNN.zeek.conf`, each with an address and 100 workers on one interface pinned to CPUs.
    static func folder(hosts: Int, workersPerHost: Int) -> [(name: String, text: String)] {
        (0..<hosts).map { index in
            var text = "[zeek]\n"
            if index == 0 { text += "manager = 1\nloggers = 1\nproxies = 1\n" }
            text += "address = 10.\(index / 256).\(index % 256).1\n\n"
            text += "[interface eth0]\ninterface = af_packet::eth0\nworkers = \(workersPerHost)\n"
            text += "workers_cpu_list = 0-\(workersPerHost - 1)\n"
            return (name: "host-\(String(index + 1000).dropFirst()).zeek.conf", text: text)
        }
    }
}

extension String {
    fileprivate func leftAligned(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

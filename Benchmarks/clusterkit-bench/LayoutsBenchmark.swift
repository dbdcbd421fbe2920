import ClusterKit

#if canImport(Glibc)
import Glibc
#endif

/// `clusterkit-bench layouts [--runs N] [--sizes 1000,10000,100000] [--breakdown] [--zeek-conf ...]`.
///
/// Reads, checks and generates a generated node.cfg of each size (about one section per four nodes, workers with
/// `lb_procs=4`) and prints the median time of each step and per node; `--breakdown` times the build,
/// layout and cross-node steps of the first size separately. `--zeek-conf [--hosts 1,10,100] [--zeekctl PATH]
/// [--zeek-generator PATH]` does the same for Zeek 9 folders of host files (``ZeekConfBenchmark``).
enum LayoutsBenchmark {
    static func run(_ arguments: [String]) async throws {
        var runs = 9
        var sizes = [1_000, 10_000, 100_000]
        var index = 0
        while index < arguments.count {
            switch arguments[index] {
            case "--runs":
                index += 1
                runs = arguments.indices.contains(index) ? Int(arguments[index]) ?? runs : runs
            case "--sizes":
                index += 1
                if arguments.indices.contains(index) {
                    sizes = arguments[index].split(separator: ",").compactMap { Int($0) }
                }
            default: break
            }
            index += 1
        }
        // The generated files go past the default node limit (10,000) on purpose: raise it to fit.
        func limits(_ nodes: Int) -> LayoutLimits {
            var limits = LayoutLimits.standard
            limits.maximumNodes = max(limits.maximumNodes, 2 * nodes)
            return limits
        }
        if arguments.contains("--zeek-conf") {
            try ZeekConfBenchmark.run(arguments, runs: runs)
            return
        }
        if arguments.contains("--breakdown") {
            let size = sizes.first ?? 10_000
            let (text, _) = nodeCfg(nodes: size)
            let parsed = NodeCfg.parse(text, file: "node.cfg")
            for _ in 0..<3 {
                let t0 = now()
                let built = ZeekctlCluster.build(from: parsed, settings: .standard, resolver: nil, limits: limits(size))
                let t1 = now()
                let layout = built.cluster.layout
                let t2 = now()
                let issues = LayoutValidator().validate(layout, file: "x")
                let t3 = now()
                print("build \(format(t1 - t0)) layout \(format(t2 - t1)) cross \(format(t3 - t2)) \(issues.count)")
            }
            return
        }
        print("layouts: read + check + generate a node.cfg (median of \(runs) runs, release build expected)")
        print(
            "nodes".leftPadded(8) + "sections".leftPadded(10) + "read ms".leftPadded(10) + "check ms".leftPadded(10)
                + "generate ms".leftPadded(13) + "total ms".leftPadded(10) + "cpu ms".leftPadded(9)
                + "cpu ns/node".leftPadded(12)
                + "issues".leftPadded(8)
        )
        for size in sizes {
            let (text, sections) = nodeCfg(nodes: size)
            var reads: [Double] = []
            var checks: [Double] = []
            var generates: [Double] = []
            var totals: [Double] = []
            var cpus: [Double] = []
            var issueCount = 0
            var nodeCount = 0
            for _ in 0..<runs {
                let cpuStart = cpuTime()
                let start = now()
                let parsed = NodeCfg.parse(text, file: "node.cfg")
                let afterRead = now()
                let result = LayoutValidator(options: .init(limits: limits(size))).validate(parsed)
                let afterCheck = now()
                let generated = try LayoutGenerator.generate(result.cluster)
                let end = now()
                cpus.append(cpuTime() - cpuStart)
                precondition(!generated.text.isEmpty)
                issueCount = result.issues.count
                nodeCount = result.cluster.nodes.count
                reads.append(afterRead - start)
                checks.append(afterCheck - afterRead)
                generates.append(end - afterCheck)
                totals.append(end - start)
            }
            let total = median(totals)
            print(
                String(nodeCount).leftPadded(8) + String(sections).leftPadded(10) + format(median(reads)).leftPadded(10)
                    + format(median(checks)).leftPadded(10) + format(median(generates)).leftPadded(13)
                    + format(total).leftPadded(10) + format(median(cpus)).leftPadded(9)
                    + String(Int(median(cpus) * 1_000_000 / Double(max(nodeCount, 1)))).leftPadded(12)
                    + String(issueCount).leftPadded(8)
            )
        }
    }

    /// A node.cfg with one manager, a logger per 500 nodes, a proxy per 100 nodes and worker sections with
    /// `lb_procs=4` (plus single workers for the remainder), each worker section on its own address.
    static func nodeCfg(nodes: Int) -> (text: String, sections: Int) {
        let loggers = max(1, nodes / 500)
        let proxies = max(1, nodes / 100)
        let workerNodes = max(0, nodes - 1 - loggers - proxies)
        let lbSections = workerNodes / 4
        let singles = workerNodes % 4
        var text =
            "# generated by clusterkit-bench\n[DEFAULT]\nenv_vars=SITE=bench\n\n[manager]\ntype=manager\nhost=10.0.0.1\n\n"
        text.reserveCapacity(nodes * 40)
        for number in 1...loggers { text += "[logger-\(number)]\ntype=logger\nhost=10.0.0.1\n\n" }
        for number in 1...proxies { text += "[proxy-\(number)]\ntype=proxy\nhost=10.0.1.\(number % 250 + 1)\n\n" }
        for number in 0..<(lbSections + singles) {
            let host = "10.\(1 + number / 65_536).\(number / 256 % 256).\(number % 256)"
            text += "[worker-\(number)]\ntype=worker\nhost=\(host)\ninterface=eth\(number % 4)\n"
            if number < lbSections { text += "lb_method=af_packet\nlb_procs=4\npin_cpus=0,1,2,3\n" }
            text += "\n"
        }
        return (text, 1 + loggers + proxies + lbSections + singles)
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000
    }

    /// This thread's CPU time in milliseconds (excludes time spent waiting for a core on a busy machine).
    static func cpuTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func format(_ milliseconds: Double) -> String {
        let hundredths = Int((milliseconds * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}

import ClusterKit

/// `clusterkit-bench topics [--publishes N] [--runs N] [--sizes 1000,100000,1000000]`: TopicRouter matching speed at 1k, 100k and 1M
/// subscriptions.
///
/// Each router holds one node topic per subscriber (`zeek/cluster/node/worker-<i>/`, `<i>` zero-padded to
/// seven digits so every topic has the same length at every size), plus a fixed
/// handful of broad subscriptions (a tap on the empty prefix, ten subscribers of `zeek/cluster/worker`),
/// so every publish matches the same number of subscribers whatever the router's size:
///
/// - `hot`: publishes cycle over 1,024 node topics (cache-resident paths), the steady state of a cluster;
/// - `uniform`: publishes pick any of the router's node topics at random (cold paths, mostly cache misses);
/// - `broad`: publishes on `zeek/cluster/worker` (12 matches).
enum TopicsBenchmark {
    static func run(_ arguments: [String]) async throws {
        let publishes = option("--publishes", in: arguments) ?? 5_000_000
        let runs = option("--runs", in: arguments) ?? 5
        print("topics: \(publishes) publishes per measurement, median of \(runs) runs")
        print("subscriptions  build(s)  workload  matches  publishes/s  ns/publish")
        let sizes = list("--sizes", in: arguments) ?? [1000, 100_000, 1_000_000]
        for size in sizes {
            let clock = ContinuousClock()
            let router = TopicRouter<Int>()
            let built = clock.measure {
                for index in 0..<size { router.subscribe(nodeTopic(index), index) }
                router.subscribe(.all, -1)
                for index in 0..<10 { router.subscribe("zeek/cluster/worker", -2 - index) }
            }
            var generator = SystemRandomNumberGenerator()
            let hot = (0..<1024).map { _ in nodeTopic(Int.random(in: 0..<size, using: &generator)) }
            let uniform = (0..<min(size, 1 << 20)).map { _ in nodeTopic(Int.random(in: 0..<size, using: &generator)) }
            let workloads: [(String, [Topic])] = [
                ("hot", hot), ("uniform", uniform), ("broad", ["zeek/cluster/worker"]),
            ]
            for (name, topics) in workloads {
                var rates: [Double] = []
                var matches = 0
                for _ in 0..<runs {
                    let (rate, matched) = measure(router, topics, publishes: publishes)
                    rates.append(rate)
                    matches = matched
                }
                let rate = rates.sorted()[rates.count / 2]
                print(
                    pad(size, 13),
                    pad(format(built.seconds, 2), 9),
                    pad(name, 9),
                    pad(matches, 8),
                    pad(format(rate, 0), 12),
                    pad(format(1e9 / rate, 1), 11)
                )
            }
        }
    }

    /// Publishes `publishes` times, cycling over `topics`; returns publishes per second and matches per publish.
    static func measure(_ router: TopicRouter<Int>, _ topics: [Topic], publishes: Int) -> (Double, Int) {
        var delivered = 0
        let elapsed = ContinuousClock().measure {
            var index = 0
            for _ in 0..<publishes {
                delivered &+= router.subscribers(matching: topics[index]).count
                index += 1
                if index == topics.count { index = 0 }
            }
        }
        return (Double(publishes) / elapsed.seconds, delivered / publishes)
    }

    /// `zeek/cluster/node/worker-0000042/`.
    static func nodeTopic(_ index: Int) -> Topic {
        let digits = String(index)
        return Topic(
            "zeek/cluster/node/worker-" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits + "/"
        )
    }

    static func option(_ name: String, in arguments: [String]) -> Int? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        return Int(arguments[index + 1])
    }

    static func list(_ name: String, in arguments: [String]) -> [Int]? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        return arguments[index + 1].split(separator: ",").compactMap { Int($0) }
    }

    static func format(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return decimals == 0 ? String(Int(rounded)) : String(rounded)
    }

    static func pad(_ value: some CustomStringConvertible, _ width: Int) -> String {
        let text = value.description
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

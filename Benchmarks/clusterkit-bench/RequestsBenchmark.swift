import ClusterKit

/// `clusterkit-bench requests [--requests N] [--runs N] [--spread-ms N]`: how late RequestTracker timeouts fire.
///
/// Each run starts N requests (default 100,000) on a real `ContinuousClock`, with timeouts spread at
/// random over `[500 ms, 500 ms + spread)` (default spread 2,000 ms), all pending at once, swept by the
/// tracker's one `run()` task. Every finish callback records how long after its deadline it ran; the
/// deadline is taken just before `start`, so the figure can only overstate the lateness.
enum RequestsBenchmark {
    struct Stats {
        var start: Duration
        var p50: Duration
        var p99: Duration
        var maximum: Duration
        var minimum: Duration
    }

    static func run(_ arguments: [String]) async throws {
        let count = TopicsBenchmark.option("--requests", in: arguments) ?? 100_000
        let runs = TopicsBenchmark.option("--runs", in: arguments) ?? 5
        let spread = Duration.milliseconds(TopicsBenchmark.option("--spread-ms", in: arguments) ?? 2000)
        print("requests: \(count) pending requests, timeouts 500 ms + up to \(spread), \(runs) runs")
        print("run  start(ms)  p50 late(ms)  p99 late(ms)  max late(ms)  min late(ms)")
        var all: [Stats] = []
        for run in 1...runs {
            let stats = try await measure(count: count, spread: spread)
            all.append(stats)
            printRow("\(run)", stats)
        }
        func median(_ key: (Stats) -> Duration) -> Duration { all.map(key).sorted()[all.count / 2] }
        printRow(
            "med",
            Stats(
                start: median(\.start),
                p50: median(\.p50),
                p99: median(\.p99),
                maximum: median(\.maximum),
                minimum: median(\.minimum)
            )
        )
    }

    static func measure(count: Int, spread: Duration) async throws -> Stats {
        let clock = ContinuousClock()
        let tracker = RequestTracker<Int>(
            options: RequestTrackerOptions(maximumPendingRequests: count),
            clock: clock,
            makeID: .sequential(prefix: "r-")
        )
        let spreadNanoseconds = Int64(spread.seconds * 1e9)
        let timeouts = (0..<count).map { _ in
            Duration.milliseconds(500) + .nanoseconds(Int64.random(in: 0..<max(1, spreadNanoseconds)))
        }
        let ids = (0..<count).map { RequestID("bench-\($0)") }
        let lateness = Guarded<[Duration]>([])
        lateness.withLock { $0.reserveCapacity(count) }
        let (finished, allFinished) = AsyncStream<Void>.makeStream()

        var startTime = Duration.zero
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await tracker.run() }
            let began = clock.now
            for index in 0..<count {
                let deadline = clock.now.advanced(by: timeouts[index])
                try tracker.start(ids[index], timeout: timeouts[index]) { _, _ in
                    let late = deadline.duration(to: clock.now)
                    let isLast = lateness.withLock {
                        $0.append(late)
                        return $0.count == count
                    }
                    if isLast { allFinished.finish() }
                }
            }
            startTime = began.duration(to: clock.now)
            for await _ in finished {}
            group.cancelAll()
        }
        let sorted = lateness.withLock { $0 }.sorted()
        return Stats(
            start: startTime,
            p50: sorted[sorted.count / 2],
            p99: sorted[min(sorted.count - 1, sorted.count * 99 / 100)],
            maximum: sorted[sorted.count - 1],
            minimum: sorted[0]
        )
    }

    static func printRow(_ label: String, _ stats: Stats) {
        func milliseconds(_ duration: Duration) -> String { TopicsBenchmark.format(duration.seconds * 1000, 3) }
        print(
            TopicsBenchmark.pad(label, 3),
            TopicsBenchmark.pad(TopicsBenchmark.format(stats.start.seconds * 1000, 1), 10),
            TopicsBenchmark.pad(milliseconds(stats.p50), 13),
            TopicsBenchmark.pad(milliseconds(stats.p99), 13),
            TopicsBenchmark.pad(milliseconds(stats.maximum), 13),
            TopicsBenchmark.pad(milliseconds(stats.minimum), 13)
        )
    }
}

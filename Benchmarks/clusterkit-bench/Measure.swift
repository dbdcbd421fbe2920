/// Small timing helpers shared by the benchmark suites.
enum Measure {
    /// Runs `body` repeatedly for about `duration`, `runs` times, and returns the per-run rates
    /// (iterations per second), sorted.
    static func rates(
        runs: Int = 7,
        duration: Duration = .milliseconds(700),
        _ body: () throws -> Void
    ) rethrows -> [Double] {
        let clock = ContinuousClock()
        var rates: [Double] = []
        for _ in 0..<runs {
            var iterations = 0
            let start = clock.now
            var elapsed = Duration.zero
            repeat {
                for _ in 0..<16 { try body() }
                iterations += 16
                elapsed = clock.now - start
            } while elapsed < duration
            rates.append(Double(iterations) / seconds(elapsed))
        }
        return rates.sorted()
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    static func median(_ sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let values = sorted.sorted()
        return values.count % 2 == 1
            ? values[values.count / 2] : (values[values.count / 2 - 1] + values[values.count / 2]) / 2
    }

    /// The value at quantile `q` (0...1) of `values`.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let position = min(sorted.count - 1, max(0, Int((Double(sorted.count - 1) * q).rounded())))
        return sorted[position]
    }

    static func format(_ value: Double, digits: Int = 1) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return String(rounded)
    }
}

import ClusterKit
import Foundation

/// `clusterkit-bench codec-profile FILE N`: decodes one message N times (for callgrind or perf).
func runCodecProfile(arguments: [String]) async throws {
    guard arguments.count == 2, let count = Int(arguments[1]) else {
        throw BenchmarkFailure(message: "usage: clusterkit-bench codec-profile FILE N")
    }
    let text = try String(contentsOfFile: arguments[0], encoding: .utf8)
    var total = 0
    for _ in 0..<count {
        if case .data(let message) = try Broker.JSON.decodeMessage(text), case .vector(let elements) = message.value {
            total += elements.count
        }
    }
    print("decoded \(count) messages (\(total) top-level elements)")
}

import ClusterKit

#if canImport(Glibc)
import Glibc
#endif

/// `clusterkit-bench <suite> [options]`: each suite lives in its own file and registers here.
let suites: [String: ([String]) async throws -> Void] = [
    "codec": runCodecBenchmark,
    "controller": runControllerBenchmark,
    "bridge": BridgeBenchmark.run,
    "cluster": runClusterBenchmark,
    "codec-profile": runCodecProfile,
    "dispatch": runDispatchBenchmark,
    "events": runEventsBenchmark,
    "layouts": LayoutsBenchmark.run,
    "load": runLoadBenchmark,
    "logs": LogsBenchmark.run,
    "membership": MembershipBenchmark.run,
    "agents": AgentsBenchmark.run,
    "requests": RequestsBenchmark.run,
    "supervised": SupervisedBenchmark.run,
    "topics": TopicsBenchmark.run,
    "websocket": runWebSocketBenchmark,
]

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let suite = suites[name] else {
    let names = suites.keys.sorted().joined(separator: ", ")
    FileHandleOutput.standardError("usage: clusterkit-bench SUITE [options]\nsuites: \(names)\n")
    exit(64)
}
try await suite(Array(arguments.dropFirst()))

// swift-tools-version: 6.2
import PackageDescription

// `scripts/tsan.sh` builds with CLUSTERKIT_TSAN=1 and `--sanitize thread`: `Guarded` then tells ThreadSanitizer
// about its mutex (Sources/ClusterKitModel/Support/Guarded.swift).
let threadSanitizerSettings: [SwiftSetting] =
    Context.environment["CLUSTERKIT_TSAN"] == "1" ? [.define("CLUSTERKIT_TSAN")] : []

let strictSwiftSettings: [SwiftSetting] =
    [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
        .treatWarning("ExplicitSendable", as: .error),
    ] + threadSanitizerSettings

let package = Package(
    name: "ClusterKit",
    products: [
        .library(name: "ClusterKit", targets: ["ClusterKit"]),
        .executable(name: "zeekctl", targets: ["zeekctl"]),
        .executable(name: "clusterkit-bench", targets: ["clusterkit-bench"]),
    ],
    targets: [
        // Library, in layers whose dependencies only point down (Docs/architecture.md, "Layers").
        .target(name: "CClusterKitSupport"),
        .target(name: "ClusterKitModel", dependencies: ["CClusterKitSupport"], swiftSettings: strictSwiftSettings),
        .target(name: "ClusterKitLayouts", dependencies: ["ClusterKitModel"], swiftSettings: strictSwiftSettings),
        .target(
            name: "ClusterKitWebSocket",
            dependencies: ["ClusterKitModel", "CClusterKitSupport"],
            swiftSettings: strictSwiftSettings
        ),
        .target(
            name: "ClusterKitProcesses",
            dependencies: ["ClusterKitModel", "CClusterKitSupport"],
            swiftSettings: strictSwiftSettings
        ),
        .target(
            name: "ClusterKitRuntime",
            dependencies: ["ClusterKitModel", "ClusterKitLayouts", "ClusterKitWebSocket", "ClusterKitProcesses"],
            swiftSettings: strictSwiftSettings
        ),
        .target(
            name: "ClusterKit",
            dependencies: [
                "ClusterKitModel", "ClusterKitLayouts", "ClusterKitWebSocket", "ClusterKitProcesses",
                "ClusterKitRuntime",
            ],
            swiftSettings: strictSwiftSettings
        ),
        // Command-line tool: the commands, their rendering and what only the CLI uses; the executable calls it.
        .target(
            name: "ZeekctlCLI",
            dependencies: ["ClusterKit", "CClusterKitSupport"],
            swiftSettings: strictSwiftSettings
        ),
        .executableTarget(name: "zeekctl", dependencies: ["ZeekctlCLI"], swiftSettings: strictSwiftSettings),
        // Benchmarks, and the load clients that the benchmark and the CI load test share.
        .target(
            name: "ClusterKitLoad",
            dependencies: ["ClusterKit"],
            path: "Benchmarks/ClusterKitLoad",
            swiftSettings: strictSwiftSettings
        ),
        .executableTarget(
            name: "clusterkit-bench",
            dependencies: ["ClusterKit", "ZeekctlCLI", "ClusterKitLoad"],
            path: "Benchmarks/clusterkit-bench",
            swiftSettings: strictSwiftSettings
        ),
        // Tests
        .testTarget(
            name: "ClusterKitTests",
            dependencies: [
                "ClusterKit", "ClusterKitModel", "ClusterKitLayouts", "ClusterKitWebSocket", "ClusterKitProcesses",
                "ClusterKitRuntime",
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSwiftSettings
        ),
        .testTarget(
            name: "zeekctlTests",
            dependencies: ["ZeekctlCLI", "zeekctl", "ClusterKit", "ClusterKitLoad"],
            swiftSettings: strictSwiftSettings
        ),
    ]
)

// Fuzz targets (Docs/fuzzing.md), outside the normal build: `scripts/fuzz.sh` sets CLUSTERKIT_FUZZ=1 and builds
// one of them with `-sanitize=fuzzer,address`. Each reads untrusted bytes through one parser of the library.
if Context.environment["CLUSTERKIT_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("broker-json", ["ClusterKitModel"]),
        ("json", ["ClusterKitModel"]),
        ("node-cfg", ["ClusterKitModel", "ClusterKitLayouts"]),
        ("management-ini", ["ClusterKitModel", "ClusterKitLayouts"]),
        ("layout-script", ["ClusterKitModel", "ClusterKitLayouts"]),
        ("zeek-conf", ["ClusterKitModel", "ClusterKitLayouts"]),
        ("websocket-handshake", ["ClusterKitWebSocket"]),
        ("websocket-frames", ["ClusterKitWebSocket"]),
        ("broker-scalars", ["ClusterKitModel"]),
    ]
    package.targets += [
        .target(name: "CFuzzSupport", path: "Fuzz/Support/CFuzzSupport"),
        .target(
            name: "FuzzSupport",
            dependencies: ["CFuzzSupport", "ClusterKitLayouts"],
            path: "Fuzz/Support/FuzzSupport"
        ),
    ]
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: "fuzz-\(target.name)",
                dependencies: target.dependencies + ["FuzzSupport"],
                path: "Fuzz/\(target.name)",
                swiftSettings: strictSwiftSettings
            )
        )
    }
}

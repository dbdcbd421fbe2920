// swift-tools-version: 6.2
import PackageDescription

let strictSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatWarning("ExplicitSendable", as: .error),
]

let package = Package(
    name: "ClusterKit",
    products: [
        .library(name: "ClusterKit", targets: ["ClusterKit"]),
        .executable(name: "zeekctl", targets: ["zeekctl"]),
        .executable(name: "clusterkit-bench", targets: ["clusterkit-bench"]),
    ],
    targets: [
        // Library
        .target(name: "ClusterKit", dependencies: ["CClusterKitSupport"], swiftSettings: strictSwiftSettings),
        .target(name: "CClusterKitSupport"),
        // Command-line tool
        .executableTarget(name: "zeekctl", dependencies: ["ClusterKit"], swiftSettings: strictSwiftSettings),
        // Benchmarks
        .executableTarget(
            name: "clusterkit-bench",
            dependencies: ["ClusterKit"],
            path: "Benchmarks/clusterkit-bench",
            swiftSettings: strictSwiftSettings
        ),
        // Tests
        .testTarget(
            name: "ClusterKitTests",
            dependencies: ["ClusterKit"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSwiftSettings
        ),
        .testTarget(
            name: "zeekctlTests",
            dependencies: ["zeekctl", "ClusterKit"],
            swiftSettings: strictSwiftSettings
        ),
    ]
)

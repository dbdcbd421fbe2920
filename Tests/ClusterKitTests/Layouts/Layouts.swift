import Testing

/// The tests of `Sources/ClusterKit/Layouts/`, grouped so that `swift test --filter Layouts` runs them.
@Suite enum Layouts {}

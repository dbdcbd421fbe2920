import Testing

/// The tests of `Sources/ClusterKit/Validation/`, grouped so that `swift test --filter Validation` runs them.
@Suite enum Validation {}

public import ClusterKitLayouts

extension LayoutLimits {
    /// Small limits for the layout targets, so that every input is cheap to read; that the limits hold is itself
    /// one of the checks.
    public static let fuzzing = LayoutLimits(
        maximumFileSize: 1 << 20,
        maximumNodes: 300,
        maximumProcessesPerSection: 32,
        maximumInterpolatedValueSize: 4 << 10,
        maximumInterpolatedTotalSize: 64 << 10
    )
}

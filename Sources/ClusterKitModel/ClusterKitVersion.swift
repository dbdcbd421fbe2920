/// The version of ClusterKit.
public enum ClusterKitVersion: Sendable {
    /// The version text, such as `0.1.0`.
    public static let current = "0.1.0"
}

/// Zeek's cluster framework (`Cluster::`): the layout, its records and options, and the cluster functions.
public enum Cluster: Sendable {}

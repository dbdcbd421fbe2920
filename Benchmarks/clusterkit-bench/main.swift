import ClusterKit

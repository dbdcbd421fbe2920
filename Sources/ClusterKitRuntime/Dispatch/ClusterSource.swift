public import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
import Foundation

/// Where the cluster of an embedded run comes from when no layout is given, and how to load one that is.
public enum ClusterSource: Sendable, Hashable {
    /// A layout file.
    case file(String)
    /// ClusterKit's built-in example (``EmbeddedCluster/example``).
    case example

    /// The default: `cluster-layout.zeek` in `directory`, else `node.cfg` there, else the built-in example.
    ///
    /// - Parameters:
    ///   - directory: The directory to look in.
    ///   - fileExists: Whether a path exists (injected); `nil` asks the file system.
    /// - Returns: The source.
    public static func `default`(in directory: String, fileExists: ((String) -> Bool)? = nil) -> ClusterSource {
        let exists = fileExists ?? { FileManager.default.fileExists(atPath: $0) }
        for name in ["cluster-layout.zeek", "node.cfg"] {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            if exists(path) { return .file(path) }
        }
        return .example
    }

    /// Loads the layout, with every issue the loader found.
    ///
    /// - Parameter loader: The layout loader (file reading and checks).
    /// - Returns: The layout, and the issues (the caller refuses to run on errors).
    /// - Throws: ``LayoutLoadError`` when the file cannot be read.
    public func load(
        with loader: LayoutLoader = LayoutLoader()
    ) throws -> (layout: Cluster.Layout, issues: [ValidationIssue]) {
        switch self {
        case .example:
            return (EmbeddedCluster.example, [])
        case .file(let path):
            let loaded = try loader.load(path: path)
            return (loaded.layout, loaded.issues)
        }
    }
}

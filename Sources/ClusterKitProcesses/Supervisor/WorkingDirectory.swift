import ClusterKitModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Zeek's `ensure_intermediate_dirs`: creates a directory and its missing parents.
enum WorkingDirectory {
    /// Creates `path` and every missing parent, as Zeek's supervisor does for a node's `directory`.
    ///
    /// The path is normalised first (empty and `.` components dropped, `..` removes the component before it);
    /// each prefix is then created with `mode` (less the umask) unless it is already a directory. An empty path
    /// fails, as in Zeek.
    ///
    /// - Parameters:
    ///   - path: The directory.
    ///   - mode: The mode for created directories; Zeek uses 0777.
    /// - Returns: Whether the directory exists afterwards.
    static func ensureIntermediateDirectories(_ path: String, mode: mode_t = 0o777) -> Bool {
        guard !path.isEmpty else { return false }
        let isAbsolute = path.hasPrefix("/")
        var current = ""
        for (index, component) in normalizedComponents(path, isAbsolute: isAbsolute).enumerated() {
            if index > 0 || isAbsolute { current += "/" }
            current += component
            guard ensureDirectory(current, mode: mode) else { return false }
        }
        return true
    }

    /// The node directory `path` as the supervisor uses it, or `nil` when it escapes `root`.
    ///
    /// A relative `path` is read against `root` (joined with `/`, not normalised, so that it is still entered
    /// as given). The result must, once normalised lexically (``ensureIntermediateDirectories(_:mode:)``'s
    /// rule), be `root` or lie below it, `root` normalised the same way. An absolute path under a relative
    /// root, or the other way round, cannot be shown to lie inside and is refused. Symbolic links are not
    /// followed: the runtime directory is the supervisor's own.
    ///
    /// - Parameters:
    ///   - path: The node's `directory`.
    ///   - root: The supervisor's runtime directory.
    /// - Returns: The path to create and enter, or `nil`.
    static func resolve(_ path: String, within root: String) -> String? {
        guard !path.isEmpty else { return path }  // Creating it fails later, with Zeek's text.
        let resolved = path.hasPrefix("/") ? path : (root.hasSuffix("/") ? root : root + "/") + path
        let rootIsAbsolute = root.hasPrefix("/")
        guard resolved.hasPrefix("/") == rootIsAbsolute else { return nil }
        let base = normalizedComponents(root, isAbsolute: rootIsAbsolute)
        let target = normalizedComponents(resolved, isAbsolute: rootIsAbsolute)
        // A relative root that climbs (`..`) cannot be compared lexically.
        guard !base.contains(".."), target.count >= base.count, Array(target.prefix(base.count)) == base else {
            return nil
        }
        return resolved
    }

    private static func normalizedComponents(_ path: String, isAbsolute: Bool) -> [String] {
        var components: [String] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".":
                continue
            case "..":
                if let last = components.last, last != ".." {
                    components.removeLast()
                } else if !isAbsolute {
                    components.append("..")
                }
            default:
                components.append(String(component))
            }
        }
        return components
    }

    private static func ensureDirectory(_ path: String, mode: mode_t) -> Bool {
        if mkdir(path, mode) == 0 { return true }
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return info.st_mode & S_IFMT == S_IFDIR
    }
}

import ClusterKitModel

extension LayoutLoader {
    /// Reads a zeek.conf or a folder of `<host>.zeek.conf` files as Zeek's generator does with `-C PATH`, with
    /// the generator's checks and ClusterKit's checks of what Zeek cannot run, without building a
    /// ``LoadedLayout`` (what `zeekctl layout` needs).
    ///
    /// A path that is neither a file nor a folder is the error `neither file nor directory: PATH`; a file or
    /// folder that cannot be read (or is over the limits) is an error as well, never a throw.
    ///
    /// - Parameters:
    ///   - path: The path to read.
    ///   - displayName: The name used in issues; default `path`.
    /// - Returns: The hosts, nodes and issues.
    public func readZeekConf(path: String, displayName: String? = nil) -> ZeekConfCluster {
        let name = displayName ?? path
        let limits = options.limits
        func failed(_ message: String) -> ZeekConfCluster { ZeekConfCluster.unreadable(path: name, message: message) }
        switch reader.kind(ofPath: path) {
        case .other:
            return failed("neither file nor directory: \(name)")
        case .regularFile:
            do {
                let text = try reader.text(ofFile: path, maximumSize: limits.maximumFileSize)
                return ZeekConfCluster.parse(text, file: name, limits: limits)
            } catch let error as LayoutLoadError {
                return failed(error.naming(name).message)
            } catch {
                return failed("cannot read file: \(name)")
            }
        case .directory:
            let names: [String]
            do {
                names = try reader.fileNames(inDirectory: path, maximumCount: limits.maximumNodes)
            } catch let error as LayoutLoadError {
                return failed(error.naming(name).message)
            } catch {
                return failed("cannot read folder: \(name)")
            }
            let separator = path.hasSuffix("/") ? "" : "/"
            var files: [(name: String, text: Result<String, LayoutLoadError>)] = []
            var total = 0
            for file in names where ZeekConfCluster.hostName(ofFileName: file) != nil {
                let filePath = path + separator + file
                do {
                    let text = try reader.text(ofFile: filePath, maximumSize: limits.maximumFileSize)
                    total += text.utf8.count
                    guard total <= limits.maximumFileSize * 4 else {
                        throw LayoutLoadError.tooLarge(filePath, limit: limits.maximumFileSize * 4)
                    }
                    files.append((file, .success(text)))
                } catch let error as LayoutLoadError {
                    files.append((file, .failure(error.naming(name + separator + file))))
                } catch {
                    files.append((file, .failure(LayoutLoadError.unreadable(name + separator + file))))
                }
            }
            return ZeekConfCluster.parse(folder: files, path: name, limits: limits)
        }
    }

    /// Reads and checks a zeek.conf or a folder of `<host>.zeek.conf` files (``readZeekConf(path:displayName:)``),
    /// then makes ClusterKit's cross-node checks of the nodes.
    ///
    /// - Parameters:
    ///   - path: The path to read.
    ///   - displayName: The name used in issues; default `path`.
    /// - Returns: The layout and every issue; a file or folder that cannot be read is an issue, not a throw.
    public func loadZeekConf(path: String, displayName: String? = nil) -> LoadedLayout {
        loaded(readZeekConf(path: path, displayName: displayName), file: displayName ?? path)
    }

    func loaded(_ cluster: ZeekConfCluster, file: String) -> LoadedLayout {
        let layout = cluster.layout
        let issues =
            cluster.isRejected
            ? cluster.issues : cluster.issues + LayoutValidator(options: options).validate(cluster, layout: layout)
        return LoadedLayout(
            format: .zeekConf,
            file: file,
            layout: layout,
            locations: cluster.locations,
            zeekConf: cluster,
            nodeHosts: cluster.nodeHosts,
            issues: issues
        )
    }
}

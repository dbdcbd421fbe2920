public import ClusterKitModel

/// A Zeek 9 deployment read as Zeek's `zeek-cluster-layout-generator -C PATH` reads it: one `zeek.conf`, or
/// a folder of `<host>.zeek.conf` files, one per host.
///
/// Every file of a folder is read and every error reported (the generator stops at the first file with an
/// error). ``generatorIssues`` are what the generator reports; ``issues`` adds ClusterKit's checks of what
/// the generator writes but Zeek cannot run (a node name twice across hosts, two listeners on one port of
/// one address, a port outside 0-65535), each on the line of the input that causes it.
public struct ZeekConfCluster: Sendable, Hashable {
    /// The path as given (named in `too many manager nodes (N) from PATH`).
    public var path: String
    /// The hosts in the generator's order (file names in byte order).
    public var hosts: [ZeekConfHost]
    /// The nodes the generator makes, in its order; empty when there are generator errors.
    public var nodes: [ZeekLayoutGenerator.Node]
    /// The errors (and the deprecation warning) Zeek's generator reports, each with its file and line, and
    /// ClusterKit's refusal of a configuration past ``LayoutLimits/maximumNodes``.
    public var generatorIssues: [ValidationIssue]
    /// Every issue: ``generatorIssues``, then ClusterKit's own checks.
    public var issues: [ValidationIssue]

    /// A Boolean value indicating whether the generator rejects the input.
    public var isRejected: Bool { generatorIssues.containsErrors }

    /// The generator's view of the hosts.
    public var generatorHosts: [ZeekLayoutGenerator.Host] {
        hosts.map { host in
            ZeekLayoutGenerator.Host(
                name: host.hostName,
                address: host.address,
                hasManager: host.hasManager,
                loggers: host.loggers,
                proxies: host.proxies,
                workers: host.interfaces.map { .init(interface: $0.name, count: $0.workers) },
                prefix: host.prefix,
                port: host.port,
                metricsPort: host.metricsPort
            )
        }
    }

    /// The `cluster-layout.zeek` Zeek's generator writes, or `nil` when it rejects the input.
    public var generatedText: String? {
        guard !isRejected else { return nil }
        return ZeekLayoutGenerator.text(hosts: generatorHosts, nodes: nodes, managerField: true)
    }

    /// Reads one zeek.conf text.
    ///
    /// A file named `HOST.zeek.conf` (`HOST` of `[a-z0-9][-a-z0-9_]*`) is a one-host cluster with a hosts
    /// table, as in Zeek; any other name is a single host without one.
    ///
    /// - Parameters:
    ///   - text: The text.
    ///   - file: The file name for locations and for the host name.
    ///   - limits: The most nodes (``LayoutLimits/maximumNodes``).
    /// - Returns: The cluster and every issue.
    public static func parse(_ text: String, file: String, limits: LayoutLimits = .standard) -> ZeekConfCluster {
        let base = file.split(separator: "/").last.map(String.init) ?? file
        // Zeek treats a single file named HOST.zeek.conf as a host file whatever HOST is.
        let suffix = ".zeek.conf"
        let name =
            base.hasSuffix(suffix) && base.utf8.count > suffix.utf8.count ? String(base.dropLast(suffix.count)) : nil
        let host = ZeekConfHost.read(ZeekConf.parse(text, file: file), hostName: name)
        return make(path: file, hosts: [host], folderIssues: [], limits: limits)
    }

    /// Reads a folder of host files: every `HOST.zeek.conf` directly in it, in byte order of the file names.
    ///
    /// - Parameters:
    ///   - files: The file names in the folder and their text, or the error reading each.
    ///   - path: The folder as given, for messages.
    ///   - limits: The most nodes (``LayoutLimits/maximumNodes``).
    /// - Returns: The cluster and every issue.
    public static func parse(
        folder files: [(name: String, text: Result<String, LayoutLoadError>)],
        path: String,
        limits: LayoutLimits = .standard
    ) -> ZeekConfCluster {
        var hosts: [ZeekConfHost] = []
        var folderIssues: [ValidationIssue] = []
        let separator = path.hasSuffix("/") ? "" : "/"
        for file in files.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            guard let host = hostName(ofFileName: file.name) else { continue }
            let shown = path + separator + file.name
            switch file.text {
            case .success(let text):
                hosts.append(ZeekConfHost.read(ZeekConf.parse(text, file: shown), hostName: host))
            case .failure(let error):
                folderIssues.append(
                    .error(.fileTooLarge, "cannot read host file: \(error.message)", at: SourceLocation(file: shown))
                )
            }
        }
        if hosts.isEmpty && folderIssues.isEmpty {
            folderIssues.append(
                .error(.noNodes, "no <hostname>.zeek.conf files in \(path) found", at: SourceLocation(file: path))
            )
        }
        return make(path: path, hosts: hosts, folderIssues: folderIssues, limits: limits)
    }

    /// A path that could not be read: no hosts, one error.
    static func unreadable(path: String, message: String) -> ZeekConfCluster {
        let issue = ValidationIssue.error(.syntaxError, message, at: SourceLocation(file: path))
        return ZeekConfCluster(path: path, hosts: [], nodes: [], generatorIssues: [issue], issues: [issue])
    }

    /// The issues that decide whether the generator writes a layout, as `zeekctl layout` shows them.
    ///
    /// The generator's (``generatorIssues``), then ClusterKit's own errors as warnings: the generator writes
    /// the layout anyway; ``issues`` keeps them as errors.
    public var generationIssues: [ValidationIssue] {
        generatorIssues
            + issues.dropFirst(generatorIssues.count).map { issue in
                var issue = issue
                if issue.severity == .error {
                    issue.severity = .warning
                    issue.message += " (the generator writes it; 'zeekctl check' reports it as an error)"
                }
                return issue
            }
    }

    /// The host name of a file named `HOST.zeek.conf`, or `nil`.
    ///
    /// - Parameter fileName: The file name (without folders).
    /// - Returns: `HOST`.
    public static func hostName(ofFileName fileName: String) -> String? {
        let suffix = ".zeek.conf"
        guard fileName.hasSuffix(suffix), fileName.utf8.count > suffix.utf8.count else { return nil }
        let host = String(fileName.dropLast(suffix.count))
        guard let first = host.utf8.first, ZeekConfSyntax.isLower(first) || ZeekConfSyntax.isDigit(first),
            host.utf8.allSatisfy({ ZeekConfSyntax.isNameByte($0) })
        else { return nil }
        return host
    }

    private static func make(
        path: String,
        hosts: [ZeekConfHost],
        folderIssues: [ValidationIssue],
        limits: LayoutLimits
    ) -> ZeekConfCluster {
        var generatorIssues = folderIssues + hosts.flatMap(\.issues)
        let managers = hosts.filter(\.hasManager)
        if managers.count > 1 {
            let places = managers.map { "\($0.file):\($0.keyLines["manager"] ?? 1)" }.joined(separator: ", ")
            generatorIssues.append(
                .error(
                    .multipleManagers,
                    "too many manager nodes (\(managers.count)) from \(path) (manager = 1 in \(places))",
                    at: SourceLocation(file: path)
                )
            )
        }
        var cluster = ZeekConfCluster(
            path: path,
            hosts: hosts,
            nodes: [],
            generatorIssues: generatorIssues,
            issues: generatorIssues
        )
        guard !generatorIssues.containsErrors else { return cluster }
        cluster.nodes = ZeekLayoutGenerator.nodes(of: cluster.generatorHosts, limit: limits.maximumNodes + 1)
        if cluster.nodes.count > limits.maximumNodes {
            cluster.nodes.removeLast(cluster.nodes.count - limits.maximumNodes)
            cluster.generatorIssues.append(
                .error(
                    .tooManyNodes,
                    "the configuration makes more than \(limits.maximumNodes) nodes (LayoutLimits.maximumNodes); "
                        + "the nodes past it are left out",
                    at: SourceLocation(file: path)
                )
            )
            cluster.issues = cluster.generatorIssues
            return cluster
        }
        cluster.issues += cluster.clusterKitIssues()
        return cluster
    }
}

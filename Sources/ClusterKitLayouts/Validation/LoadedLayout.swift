public import ClusterKitModel

/// A layout file read and checked: the `Cluster::nodes` it describes, the format's own model, and every
/// issue.
public struct LoadedLayout: Sendable {
    /// The format it was read as.
    public var format: LayoutFormat
    /// The file name used in issues.
    public var file: String
    /// The cluster it describes, as Zeek would see `Cluster::nodes`: for node.cfg the generated layout
    /// (with `control`; empty for a standalone setup), for a script what it defines, for INI what the
    /// Supervisor builds from the READY configuration (after the controller's port assignment).
    public var layout: Cluster.Layout
    /// Where each node is defined.
    public var locations: [String: SourceLocation]
    /// For node.cfg: ZeekControl's expanded nodes, in its order, with ports.
    public var zeekctlCluster: ZeekctlCluster?
    /// For INI: the configuration as read (STAGED), or `nil` when `zeek-client` rejects the file.
    public var configuration: Management.Configuration?
    /// For INI: the configuration with the controller's ports (READY), or `nil` when rejected.
    public var readyConfiguration: Management.Configuration?
    /// For zeek.conf: the hosts and nodes as Zeek's layout generator reads and makes them.
    public var zeekConf: ZeekConfCluster?
    /// The host each node runs on, where the layout names hosts (zeek.conf host files, a generated layout's
    /// `Cluster::hosts` table).
    public var nodeHosts: [String: String] = [:]
    /// Every issue, each format's own first.
    public var issues: [ValidationIssue]

    /// A Boolean value indicating whether any issue is an error.
    public var hasErrors: Bool { issues.containsErrors }

    /// The issues that decide whether ``generatedLayout()`` writes a layout, as `zeekctl layout` shows them.
    ///
    /// For zeek.conf these are the errors Zeek's generator reports; ClusterKit's own errors (what the
    /// generator writes but Zeek cannot run) become warnings here, since the generator writes the layout
    /// anyway, and stay errors in ``issues``. For the other formats, every issue.
    public var generationIssues: [ValidationIssue] {
        guard let zeekConf else { return issues }
        let generation = zeekConf.generationIssues
        return generation
            + issues.dropFirst(generation.count).map { issue in
                var issue = issue
                if issue.severity == .error { issue.severity = .warning }
                return issue
            }
    }

    /// The layout file ZeekControl would write for a node.cfg, or Zeek 9's generator for a zeek.conf.
    ///
    /// - Returns: The generated file.
    /// - Throws: ``LayoutGenerationError`` when the input is not a node.cfg or zeek.conf, has errors (for
    ///   zeek.conf: errors Zeek's generator reports), or cannot be written (no manager, unresolved hosts,
    ///   unsupported version).
    public func generatedLayout() throws -> GeneratedLayout {
        if let zeekConf {
            guard let text = zeekConf.generatedText else {
                throw LayoutGenerationError(
                    .invalidConfiguration,
                    "\(file): Zeek's generator rejects the configuration"
                )
            }
            return GeneratedLayout(fileName: "cluster-layout.zeek", text: text)
        }
        guard let zeekctlCluster else {
            throw LayoutGenerationError(.notNodeCfg, "\(file): only a node.cfg can be turned into a generated layout")
        }
        guard !hasErrors else {
            throw LayoutGenerationError(.invalidConfiguration, "\(file): the node configuration has errors")
        }
        return try LayoutGenerator.generate(zeekctlCluster)
    }
}

/// Reads a layout in any of the three formats, from a path or from text, and checks it: the one entry
/// point for `zeekctl check`, `layout`, `nodes`, `dispatch --layout` and a Management controller.
public struct LayoutLoader: Sendable {
    /// How files are read.
    public var reader: any LayoutFileReader
    /// What the checks use (zeekctl.cfg settings, resolver, machine checks, controller settings).
    public var options: LayoutValidator.Options

    /// Creates a loader.
    ///
    /// - Parameters:
    ///   - reader: How files are read; default the file system.
    ///   - options: The validator's options; default no machine-dependent checks.
    public init(reader: any LayoutFileReader = FileSystemLayoutReader(), options: LayoutValidator.Options = .standard) {
        self.reader = reader
        self.options = options
    }

    /// Reads and checks a file; the format comes from the file name unless given.
    ///
    /// A folder and a `*.conf` file are read as Zeek 9 zeek.conf with ``loadZeekConf(path:displayName:)``,
    /// which reports unreadable paths as issues (`neither file nor directory: PATH`, as Zeek's generator).
    ///
    /// - Parameters:
    ///   - path: The path to read.
    ///   - format: The format, or `nil` to take it from the name (``LayoutFormat/init(fileName:)``).
    ///   - displayName: The name used in issues; default `path`.
    /// - Returns: The layout and every issue.
    /// - Throws: ``LayoutLoadError`` when the format is unknown, or the file cannot be read, is not a regular
    ///   file, or is larger than ``LayoutLimits/maximumFileSize`` of the options' limits.
    public func load(path: String, format: LayoutFormat? = nil, displayName: String? = nil) throws -> LoadedLayout {
        let name = displayName ?? path
        let named = format ?? LayoutFormat(fileName: path)
        // A folder is a Zeek 9 folder of host files.
        if named == .zeekConf || (named == nil && reader.kind(ofPath: path) == .directory) {
            return loadZeekConf(path: path, displayName: name)
        }
        guard let format = format ?? LayoutFormat(fileName: path) else {
            throw LayoutLoadError(
                .unknownFormat,
                "cannot tell the format of '\(name)' from its name (expected *.cfg, *.zeek, *.bro, *.ini or *.conf)",
                path: name
            )
        }
        let text: String
        do {
            text = try reader.text(ofFile: path, maximumSize: options.limits.maximumFileSize)
        } catch let error as LayoutLoadError {
            throw error.naming(name)
        } catch {
            throw LayoutLoadError.unreadable(name)
        }
        return load(text: text, file: name, format: format)
    }

    /// Reads and checks text.
    ///
    /// Text larger than ``LayoutLimits/maximumFileSize`` of the options' limits is not read: the result has
    /// an empty layout and one ``ValidationIssue/Code/fileTooLarge`` error.
    ///
    /// - Parameters:
    ///   - text: The file's text.
    ///   - file: The file name for issues (and, for layout scripts, `.bro` marks a Bro layout).
    ///   - format: The format.
    /// - Returns: The layout and every issue.
    public func load(text: String, file: String, format: LayoutFormat) -> LoadedLayout {
        let validator = LayoutValidator(options: options)
        let limits = options.limits
        guard text.utf8.count <= limits.maximumFileSize else {
            let issue = ValidationIssue.error(
                .fileTooLarge,
                "the text is \(text.utf8.count) bytes, more than the limit of \(limits.maximumFileSize) bytes; "
                    + "it is not read",
                at: SourceLocation(file: file)
            )
            return LoadedLayout(format: format, file: file, layout: Cluster.Layout(), locations: [:], issues: [issue])
        }
        switch format {
        case .nodeCfg:
            let result = validator.validate(NodeCfg.parse(text, file: file, limits: limits))
            var locations: [String: SourceLocation] = [:]
            for node in result.cluster.nodes { locations[node.name] = node.location }
            return LoadedLayout(
                format: format,
                file: file,
                layout: result.layout,
                locations: locations,
                zeekctlCluster: result.cluster,
                issues: result.issues
            )
        case .layout:
            let script = ClusterLayoutScript.parse(text, file: file, limits: limits)
            return LoadedLayout(
                format: format,
                file: file,
                layout: script.layout,
                locations: script.locations,
                nodeHosts: script.nodeHosts,
                issues: validator.validate(script)
            )
        case .zeekConf:
            return loaded(ZeekConfCluster.parse(text, file: file, limits: limits), file: file)
        case .ini:
            let ini = ManagementINI.parse(text, file: file, hostName: options.hostName, limits: limits)
            let result = validator.validate(ini)
            return LoadedLayout(
                format: format,
                file: file,
                layout: result.layout,
                locations: ini.locations,
                configuration: result.configuration,
                readyConfiguration: result.readyConfiguration,
                issues: result.issues
            )
        }
    }
}

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
    /// Every issue, each format's own first.
    public var issues: [ValidationIssue]

    /// A Boolean value indicating whether any issue is an error.
    public var hasErrors: Bool { issues.containsErrors }

    /// The layout file ZeekControl would write for a node.cfg.
    ///
    /// - Returns: The generated file.
    /// - Throws: ``LayoutGenerationError`` when the input is not a node.cfg, has errors, or cannot be
    ///   written (no manager, unresolved hosts, unsupported version).
    public func generatedLayout() throws -> GeneratedLayout {
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
    /// - Parameters:
    ///   - path: The path to read.
    ///   - format: The format, or `nil` to take it from the name (``LayoutFormat/init(fileName:)``).
    ///   - displayName: The name used in issues; default `path`.
    /// - Returns: The layout and every issue.
    /// - Throws: ``LayoutLoadError`` when the format is unknown, or the file cannot be read, is not a regular
    ///   file, or is larger than ``LayoutLimits/maximumFileSize`` of the options' limits.
    public func load(path: String, format: LayoutFormat? = nil, displayName: String? = nil) throws -> LoadedLayout {
        let name = displayName ?? path
        guard let format = format ?? LayoutFormat(fileName: path) else {
            throw LayoutLoadError(
                .unknownFormat,
                "cannot tell the format of '\(name)' from its name (expected *.cfg, *.zeek, *.bro or *.ini)",
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
                issues: validator.validate(script)
            )
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

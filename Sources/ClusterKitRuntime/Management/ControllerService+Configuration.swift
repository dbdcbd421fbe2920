public import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

#if canImport(Glibc)
import Glibc
#endif

extension ControllerService {
    /// What a controller deploys at start for a layout file.
    public struct StartupConfiguration: Sendable {
        /// The configuration, or `nil` when the file has errors.
        public var configuration: Management.Configuration?
        /// Every issue the file's checks found (the caller refuses to start on errors).
        public var issues: [ValidationIssue]
    }

    /// Reads a layout file in any format and turns it into the configuration to deploy at start.
    ///
    /// A Management INI gives its configuration as `zeek-client deploy-config` would send it (its instances,
    /// ports assigned by the controller). A `node.cfg` or `cluster-layout.zeek` gives one instance,
    /// `agent-<hostName>` as Zeek names its agents, running every node of the layout
    /// (``Management/Configuration/init(layout:instance:host:id:)``); for a `node.cfg` each node also keeps
    /// its interface, `env_vars` and `pin_cpus`.
    ///
    /// The configuration then gets the checks the controller makes when staging
    /// (``Management/Configuration/stagingErrors(options:)``: names, node environments, size limits), each an
    /// error at the node's or instance's line, so that a file the controller would refuse stops the start
    /// instead of being refused after it.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - format: The format, or `nil` to tell it from the name (`*.ini`, `*.cfg`, `*.zeek`, `*.bro`).
    ///   - hostName: The host name for the default instance name; `nil` asks the system.
    ///   - loader: How files are read and checked.
    ///   - controllerOptions: The controller's settings the staging checks use.
    /// - Returns: The configuration and the issues.
    /// - Throws: ``LayoutLoadError`` when the file cannot be read or its format is unknown.
    public static func startupConfiguration(
        loading path: String,
        format: LayoutFormat? = nil,
        hostName: String? = nil,
        loader: LayoutLoader = LayoutLoader(),
        controllerOptions: Management.ControllerOptions = .standard
    ) throws -> StartupConfiguration {
        let loaded = try loader.load(path: path, format: format)
        guard !loaded.hasErrors else { return StartupConfiguration(configuration: nil, issues: loaded.issues) }
        let configuration = startupConfiguration(of: loaded, hostName: hostName)
        guard let configuration else { return StartupConfiguration(configuration: nil, issues: loaded.issues) }
        let fileLocation = SourceLocation(file: loaded.file)
        let stagingIssues = configuration.stagingErrors(options: controllerOptions).map { error in
            ValidationIssue.error(
                error.code,
                error.message,
                at: (error.node ?? error.instance).flatMap { loaded.locations[$0] } ?? fileLocation,
                node: error.node
            )
        }
        guard stagingIssues.isEmpty else {
            return StartupConfiguration(configuration: nil, issues: loaded.issues + stagingIssues)
        }
        return StartupConfiguration(configuration: configuration, issues: loaded.issues)
    }

    /// The configuration a loaded file without errors deploys at start.
    private static func startupConfiguration(
        of loaded: LoadedLayout,
        hostName: String?
    ) -> Management.Configuration? {
        if loaded.format == .ini { return loaded.configuration }
        let instance = "agent-" + (hostName ?? localHostName())
        var configuration = Management.Configuration(layout: loaded.layout, instance: instance)
        if let zeekctl = loaded.zeekctlCluster {
            // node.cfg knows more than Cluster::nodes holds: interfaces, environment, CPU pinning.
            let byName = Dictionary(zeekctl.nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for index in configuration.nodes.indices {
                guard let node = byName[configuration.nodes[index].name] else { continue }
                if !node.interface.isEmpty { configuration.nodes[index].interface = node.interface }
                configuration.nodes[index].env = node.envVars
                configuration.nodes[index].cpuAffinity = node.pinCPU
            }
        }
        if let zeekConf = loaded.zeekConf {
            // zeek.conf's workers capture on their [interface NAME] section's `interface` value (`${...}` templates
            // as written); Cluster::nodes no longer carries it.
            let interfaces = Dictionary(
                zeekConf.nodes.compactMap { node -> (String, String)? in
                    guard let section = node.interface, zeekConf.hosts.indices.contains(node.host),
                        let source = zeekConf.hosts[node.host].interfaces.first(where: { $0.name == section })?.source
                    else { return nil }
                    return (node.name, source)
                },
                uniquingKeysWith: { first, _ in first }
            )
            for index in configuration.nodes.indices {
                if let interface = interfaces[configuration.nodes[index].name], !interface.isEmpty {
                    configuration.nodes[index].interface = interface
                }
            }
        }
        return configuration
    }

    /// The system's host name (`gethostname`), `localhost` when it has none.
    package static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}

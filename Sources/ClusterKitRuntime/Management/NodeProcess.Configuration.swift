public import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension NodeProcess {
    /// Everything a ``NodeProcess`` needs: who the node is, which cluster it belongs to, and where the hub is.
    ///
    /// Build one with ``resolve(name:layoutFile:hub:settings:environment:loader:)`` from what a person or a
    /// supervisor gives, or directly.
    public struct Configuration: Sendable, Hashable {
        /// The node's name (`Cluster::node`); it is one of ``layout``'s nodes.
        public var name: String
        /// The hub's URL, such as `ws://127.0.0.1:27759/v1/messages/json`.
        public var hubURL: String
        /// The cluster the node belongs to (`Cluster::nodes`).
        public var layout: Cluster.Layout
        /// Identifiers to set on the node beside the cluster framework's; `nil` declares one without a value.
        public var settings: [String: ZeekValue?]
        /// The cluster options of the node (``Cluster/Options/node`` is set to ``name``); default
        /// ``Cluster/Options/standard``.
        public var clusterOptions: Cluster.Options
        /// Topic naming of the cluster backend (the node's own topic); default ``TopicScheme/broker``.
        public var scheme: TopicScheme
        /// How the node connects to the hub.
        ///
        /// The default, from ``NodeProcess/backendOptions(name:)``, names the connection
        /// `zeekctl-node-<name>` and reconnects with ``WebSocketBackend/Options/Reconnect/standard``.
        public var backend: WebSocketBackend.Options
        /// The hub's node token, sent in ``WebSocketAPIServer/nodeTokenHeader`` on every connection so that the hub
        /// counts the node as one of its cluster's nodes and lets it publish what only nodes may; `nil` (the
        /// default) connects as a client.
        ///
        /// ``resolve(name:layoutFile:hub:settings:environment:loader:)`` takes it from
        /// `CLUSTERKIT_NODE_TOKEN` (``NodeProcess/nodeTokenEnvironmentKey``), never from the command line, which
        /// every local user can read.
        public var nodeToken: String?
        /// The node's id (`Cluster::node_id()`) for membership, or `nil` (the default) for a fresh UUID per run.
        public var nodeID: String?

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - name: The node's name.
        ///   - hubURL: The hub's URL.
        ///   - layout: The cluster layout.
        ///   - settings: Extra identifiers; default none.
        ///   - clusterOptions: Cluster options; default ``Cluster/Options/standard``.
        ///   - scheme: Topic naming; default ``TopicScheme/broker``.
        ///   - backend: Connection options, or `nil` (the default) for ``NodeProcess/backendOptions(name:)``.
        ///   - nodeToken: The hub's node token, or `nil` (the default) to connect as a client.
        public init(
            name: String,
            hubURL: String,
            layout: Cluster.Layout,
            settings: [String: ZeekValue?] = [:],
            clusterOptions: Cluster.Options = .standard,
            scheme: TopicScheme = .broker,
            backend: WebSocketBackend.Options? = nil,
            nodeToken: String? = nil
        ) {
            self.nodeToken = nodeToken
            self.name = name
            self.hubURL = hubURL
            self.layout = layout
            self.settings = settings
            self.clusterOptions = clusterOptions
            self.scheme = scheme
            self.backend = backend ?? NodeProcess.backendOptions(name: name)
        }

        /// Resolves a node's configuration from a layout file or, without one, from the supervised node
        /// configuration in the environment.
        ///
        /// With `layoutFile`, the layout is that file's (any format ``LayoutLoader`` reads; warnings are ignored,
        /// errors refuse), and the name is `name`, else `CLUSTER_NODE` from `environment`. Without it, the file
        /// named by `CLUSTERKIT_NODE_CONFIG` (``Supervisor/nodeConfigurationEnvironmentKey``) gives the cluster
        /// table, turned into `Cluster::nodes` by ``Supervisor/clusterLayout(for:)``, and its node name is
        /// used unless `name` is given. `hub` is normalised by ``WebSocketAPIServer/url(normalizing:defaultPort:allowsPortZero:)`` (default port 27759).
        /// Reconnecting starts after `Cluster::retry_interval` (1 s), or `ZEEK_DEFAULT_CONNECT_RETRY` seconds when that is
        /// set (0: no reconnecting), doubling up to 30 s, 10 attempts.
        /// A non-empty `CLUSTERKIT_NODE_TOKEN` in `environment` becomes ``nodeToken``; a non-empty
        /// `CLUSTERKIT_HUB_TOKEN` (``NodeProcess/hubTokenEnvironmentKey``) is sent as `Authorization: Bearer TOKEN`.
        ///
        /// - Parameters:
        ///   - name: The node's name, or `nil` to take it from the environment or the node configuration.
        ///   - layoutFile: A layout file, or `nil` to use the supervised node configuration.
        ///   - hub: The hub: `ws://HOST:PORT`, `ws://HOST:PORT/v1/messages/json` or `HOST:PORT`.
        ///   - settings: Extra identifiers for the node.
        ///   - environment: The process environment.
        ///   - loader: Reads and checks the layout file and reads the node configuration file.
        /// - Returns: The configuration, with the default options.
        /// - Throws: ``NodeProcessError``: `invalidHubAddress`, `missingLayout`, `invalidLayout`,
        ///   `invalidNodeConfiguration`, `missingName`, or `unknownNode` (`node 'x' is not in the layout FILE`).
        public static func resolve(
            name: String?,
            layoutFile: String?,
            hub: String,
            settings: [String: ZeekValue?] = [:],
            environment: [String: String],
            loader: LayoutLoader = LayoutLoader()
        ) throws -> Configuration {
            let hubURL: String
            do {
                hubURL = try WebSocketAPIServer.url(
                    normalizing: hub,
                    defaultPort: WebSocketServer.Options.standard.port
                )
            } catch {
                throw NodeProcessError(.invalidHubAddress, error.description)
            }
            let layout: Cluster.Layout
            let source: String
            var nodeName = name ?? environment[Supervisor.clusterNodeEnvironmentKey]
            if let layoutFile {
                (layout, source) = (try Self.layout(of: layoutFile, loader: loader), layoutFile)
            } else {
                let config: Supervisor.NodeConfig?
                do {
                    config = try Supervisor.supervisedNodeConfig(environment: environment) {
                        try loader.reader.text(ofFile: $0)
                    }
                } catch let error as SupervisorError {
                    throw NodeProcessError(.invalidNodeConfiguration, error.message)
                }
                let key = Supervisor.nodeConfigurationEnvironmentKey
                guard let config, let path = environment[key] else {
                    throw NodeProcessError(.missingLayout, "no layout file given and \(key) is not set")
                }
                guard let supervised = Supervisor.clusterLayout(for: config) else {
                    throw NodeProcessError(
                        .missingLayout,
                        "the node configuration has no cluster table",
                        location: path
                    )
                }
                (layout, source) = (supervised, path)
                nodeName = name ?? config.name
            }
            guard let nodeName, !nodeName.isEmpty else {
                throw NodeProcessError(
                    .missingName,
                    "no node name given and \(Supervisor.clusterNodeEnvironmentKey) is not set"
                )
            }
            guard layout[nodeName] != nil else {
                throw NodeProcessError(.unknownNode, "node '\(nodeName)' is not in the layout \(source)")
            }
            let token = environment[NodeProcess.nodeTokenEnvironmentKey].flatMap { $0.isEmpty ? nil : $0 }
            var configuration = Configuration(
                name: nodeName,
                hubURL: hubURL,
                layout: layout,
                settings: settings,
                nodeToken: token
            )
            // Reconnections start after Broker's retry interval: `Cluster::retry_interval`, or
            // `ZEEK_DEFAULT_CONNECT_RETRY` when set (0: a lost hub is not retried), doubling up to 30 s.
            let retry = configuration.clusterOptions.connectRetryInterval(environment: environment)
            configuration.backend.reconnect =
                retry > .zero
                ? WebSocketBackend.Options.Reconnect(initialDelay: retry, maximumDelay: max(retry, .seconds(30)))
                : nil
            if let hubToken = environment[NodeProcess.hubTokenEnvironmentKey], !hubToken.isEmpty {
                configuration.backend.headers.append(name: "Authorization", value: "Bearer \(hubToken)")
            }
            return configuration
        }

        /// Runs the node under a cluster backend's topic naming, with `Cluster::backend` saying which backend that is.
        ///
        /// - Parameter scheme: The backend's scheme (``TopicScheme/broker`` or ``TopicScheme/zeroMQ``).
        public mutating func useClusterBackend(_ scheme: TopicScheme) {
            self.scheme = scheme
            clusterOptions.backend = scheme.backend == .broker ? .broker : .zeroMQ
        }

        private static func layout(of file: String, loader: LayoutLoader) throws -> Cluster.Layout {
            let loaded: LoadedLayout
            do {
                loaded = try loader.load(path: file)
            } catch {
                throw NodeProcessError(.invalidLayout, "\(error)")
            }
            let errors = loaded.issues.filter { $0.severity == .error }
            if let first = errors.first {
                let more = errors.count > 1 ? " (and \(errors.count - 1) more errors)" : ""
                throw NodeProcessError(.invalidLayout, first.description + more)
            }
            return loaded.layout
        }
    }
}

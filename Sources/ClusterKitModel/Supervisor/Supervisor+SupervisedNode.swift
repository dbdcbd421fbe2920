import Foundation

extension Supervisor {
    /// The environment variable naming the file with a supervised node's configuration: `CLUSTERKIT_NODE_CONFIG`.
    ///
    /// ``ProcessSupervisor`` sets it for every node it starts; the file holds the node's ``NodeConfig`` as Broker
    /// JSON (one line). Zeek hands a forked node its configuration in memory; a program started by ClusterKit reads
    /// it with ``supervisedNodeConfig(environment:readFile:)``.
    public static let nodeConfigurationEnvironmentKey = "CLUSTERKIT_NODE_CONFIG"

    /// The environment variable naming a cluster node: `CLUSTER_NODE` (Zeek's `Cluster::node`).
    ///
    /// ``ProcessSupervisor`` sets it, as Zeek's supervisor does, only for a node whose cluster table is not empty.
    public static let clusterNodeEnvironmentKey = "CLUSTER_NODE"

    /// Reads the configuration of the supervised node this process is, or `nil` when it is not supervised.
    ///
    /// Zeek's `Supervisor::node()` for a process started by ``ProcessSupervisor``: the file named by
    /// ``nodeConfigurationEnvironmentKey`` decoded from Broker JSON. Use ``clusterLayout(for:)`` on the result to get
    /// the node's `Cluster::nodes`.
    ///
    /// - Parameters:
    ///   - environment: The process environment.
    ///   - readFile: Reads a file's text.
    /// - Returns: The configuration, or `nil` when ``nodeConfigurationEnvironmentKey`` is unset.
    /// - Throws: ``SupervisorError`` with code ``SupervisorError/Code/invalidNodeConfiguration`` when the file
    ///   cannot be read or does not hold a `Supervisor::NodeConfig`.
    public static func supervisedNodeConfig(
        environment: [String: String],
        readFile: (String) throws -> String
    ) throws -> NodeConfig? {
        guard let path = environment[nodeConfigurationEnvironmentKey] else { return nil }
        let text: String
        do {
            text = try readFile(path)
        } catch {
            throw SupervisorError(.invalidNodeConfiguration, "cannot read node configuration '\(path)': \(error)")
        }
        do {
            return try NodeConfig(brokerValue: Broker.JSON.decode(text))
        } catch {
            throw SupervisorError(.invalidNodeConfiguration, "invalid node configuration in '\(path)': \(error)")
        }
    }

    /// Reads the configuration of the supervised node this process is from disk, or `nil` when it is not
    /// supervised.
    ///
    /// The same as ``supervisedNodeConfig(environment:readFile:)`` reading the file as UTF-8 text; it must be a
    /// regular file of at most 16 MiB.
    ///
    /// - Parameter environment: The process environment.
    /// - Returns: The configuration, or `nil` when ``nodeConfigurationEnvironmentKey`` is unset.
    /// - Throws: ``SupervisorError`` with code ``SupervisorError/Code/invalidNodeConfiguration`` when the file
    ///   cannot be read or does not hold a `Supervisor::NodeConfig`.
    public static func supervisedNodeConfig(environment: [String: String]) throws -> NodeConfig? {
        try supervisedNodeConfig(environment: environment) { path in
            String(decoding: try LocalFile.readRegularFile(path), as: UTF8.self)
        }
    }
}

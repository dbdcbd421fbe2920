import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
import Foundation

/// One cluster node as the job of a whole process: a ``NodeRuntime`` connected to a hub over a
/// ``WebSocketBackend``.
///
/// ``run(until:)`` connects to the hub (``Configuration/hubURL``), announces the node with
/// `Management::Node::API::notify_node_hello`, and answers Management node dispatches and Control framework
/// requests until the task is cancelled, `stop` returns, or a `Control::shutdown_request` arrives; then it
/// closes the connection. A lost connection is made again with the backend's back-off (see
/// ``Configuration/backend``), and the node says hello again on the new one, as a Zeek node does on every
/// peering with its agent. With a ``Configuration/nodeToken`` every connection carries it, so that the hub counts
/// the process among its cluster's nodes (apart from its clients) and lets it publish what only nodes may. This is what `zeekctl node` runs, and what a ``ProcessNodeHost`` starts for each
/// node.
///
/// ```swift
/// let configuration = try NodeProcess.Configuration.resolve(
///     name: "worker-1", layoutFile: "cluster-layout.zeek", hub: "127.0.0.1:27759", environment: environment)
/// try TerminationSignals.install()
/// try await NodeProcess(configuration: configuration).run(until: { _ = await TerminationSignals.next() })
/// ```
public struct NodeProcess: Sendable {
    /// What the node is and where it connects.
    public let configuration: Configuration
    private let clock: any Clock<Duration>
    private let log: (@Sendable (String) -> Void)?
    /// The node's `cluster.log` (membership: hellos and departures), or `nil`.
    private let clusterLog: ClusterLog?

    /// Creates a node process; nothing happens until ``run(until:)``.
    ///
    /// - Parameters:
    ///   - configuration: The node, its cluster and the hub.
    ///   - clock: The clock for the backend's ack limit and reconnection delays; default `ContinuousClock()`.
    ///   - log: Gets the backend's lines (skipped messages, error frames, lost connections, reconnections).
    ///   - clusterLog: Gets the node's `cluster.log` records (`got hello from worker-1 (<id>)`,
    ///     `node down: worker-1`) besides `log`; default none.
    public init(
        configuration: Configuration,
        clock: any Clock<Duration> = ContinuousClock(),
        log: (@Sendable (String) -> Void)? = nil,
        clusterLog: ClusterLog? = nil
    ) {
        self.configuration = configuration
        self.clock = clock
        self.log = log
        self.clusterLog = clusterLog
    }

    /// The environment variable that hands a node process its hub's node token: `CLUSTERKIT_NODE_TOKEN`.
    ///
    /// A ``ProcessNodeHost`` sets it; the environment, unlike the command line, is visible to the same user only.
    public static let nodeTokenEnvironmentKey = "CLUSTERKIT_NODE_TOKEN"
    /// The environment variable that carries the hub's bearer token to a node process (sent as
    /// `Authorization: Bearer TOKEN`), kept out of the arguments, which every local user can read.
    public static let hubTokenEnvironmentKey = "CLUSTERKIT_HUB_TOKEN"

    /// The backend options a node process uses by default: the `X-Application-Name` `zeekctl-node-<name>`
    /// (bytes outside Zeek's `[-/_.=:*@a-zA-Z0-9]` become `_`), and reconnecting with
    /// ``WebSocketBackend/Options/Reconnect/standard``.
    ///
    /// - Parameter name: The node's name.
    /// - Returns: The options.
    public static func backendOptions(name: String) -> WebSocketBackend.Options {
        WebSocketBackend.Options(applicationName: applicationName("zeekctl-node-", name), reconnect: .standard)
    }

    /// `prefix` and `name` as an `X-Application-Name`: bytes of `name` outside Zeek's `[-/_.=:*@a-zA-Z0-9]` become `_`.
    static func applicationName(_ prefix: String, _ name: String) -> String {
        let allowed = Set("-/_.=:*@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".unicodeScalars)
        return prefix + String(String.UnicodeScalarView(name.unicodeScalars.map { allowed.contains($0) ? $0 : "_" }))
    }

    /// The node's identifiers: the cluster framework's for its name and layout, then the settings.
    public var registry: IDRegistry {
        var options = configuration.clusterOptions
        options.node = configuration.name
        var registry = IDRegistry.clusterNode(name: configuration.name, layout: configuration.layout, options: options)
        for (id, value) in configuration.settings { registry.set(id, value) }
        return registry
    }

    /// Runs the node until the task is cancelled, `stop` returns, or a shutdown request arrives.
    ///
    /// Returns normally in each of those cases, after closing the connection (code 1000).
    ///
    /// - Parameter stop: Returns when the node should stop, such as
    ///   `{ _ = await TerminationSignals.next() }`; it must return when its task is cancelled. `nil` (the
    ///   default) runs until cancelled or asked to shut down.
    /// - Throws: ``NodeProcessError``: `hubUnreachable` when the first connection fails (the message is the
    ///   backend's, as in `ws://127.0.0.1:27759/v1/messages/json: connection refused`), `connectionLost` when
    ///   the connection is lost and reconnecting fails.
    public func run(until stop: (@Sendable () async -> Void)? = nil) async throws {
        let hello = NodeRuntime.hello(configuration.name)
        // The node's own id for its lifetime, kept across reconnections (each connection's endpoint id differs, and
        // the subscriptions naming the id go out before the first ack).
        let nodeID = configuration.nodeID ?? UUID().uuidString.lowercased()
        let member = Guarded<ClusterMember?>(nil)
        var options = configuration.backend
        if let token = configuration.nodeToken {
            // Sent with every upgrade request, reconnections included.
            options.headers.append(name: WebSocketAPIServer.nodeTokenHeader, value: token)
        }
        let backend = WebSocketBackend(
            url: configuration.hubURL,
            options: options,
            clock: clock,
            log: log,
            onReconnect: { backend in
                do {
                    try await member.withLock { $0 }?.reconnected()
                    try await backend.publish(hello, to: NodeRuntime.API.topic)
                } catch {
                    // The connection is gone again; the next reconnection says hello, or the node stops.
                    log?("no hello after reconnecting: \(error)")
                }
            }
        )
        let clusterMember = try makeMember(backend: backend, nodeID: nodeID)
        member.withLock { $0 = clusterMember }
        let runtime = NodeRuntime(
            name: configuration.name,
            registry: registry,
            backend: backend,
            scheme: configuration.scheme,
            member: clusterMember
        )
        // Connecting and serving race `stop`, so that a stop during a slow connect is prompt too.
        let failure = await NodeProcessError.first(
            of: {
                do {
                    try await runtime.start()
                } catch let error as BackendError {
                    return NodeProcessError(.hubUnreachable, error.message, location: error.endpoint)
                } catch {
                    return nil  // Cancelled while connecting.
                }
                do {
                    try await runtime.serve()
                } catch let error as BackendError {
                    return NodeProcessError(.connectionLost, error.message, location: error.endpoint)
                } catch {
                    return nil
                }
                return nil
            },
            orStop: stop
        )
        await backend.close()
        guard let failure, !Task.isCancelled else { return }
        throw failure
    }

    private func makeMember(backend: any ClusterBackend, nodeID: String) throws -> ClusterMember {
        let log = self.log
        let clusterLog = self.clusterLog
        do {
            return try ClusterMember(
                layout: configuration.layout,
                node: configuration.name,
                options: configuration.clusterOptions,
                scheme: configuration.scheme,
                nodeID: nodeID,
                backend: backend,
                clusterLog: { info in
                    log?("cluster: \(info.message)")
                    clusterLog?.write(info)
                },
                report: { message in log?(message) }
            )
        } catch {
            throw NodeProcessError(.invalidLayout, "cannot set up the cluster's pools: \(error)")
        }
    }
}

import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// An error that keeps a ``NodeProcess`` from being set up or from running.
public struct NodeProcessError: Error, Sendable, Hashable {
    /// The broad kind of problem.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// No node name was given and none could be found in the environment.
        case missingName
        /// No layout file was given and the process is not a supervised node.
        case missingLayout
        /// The layout could not be read or has errors.
        case invalidLayout
        /// The supervised node configuration could not be read.
        case invalidNodeConfiguration
        /// The node's name is not in the layout.
        case unknownNode
        /// The hub's address is not a WebSocket address.
        case invalidHubAddress
        /// The hub could not be reached, or refused the node.
        case hubUnreachable
        /// The connection to the hub was lost and could not be made again.
        case connectionLost
    }

    /// The broad kind of problem, for programs to branch on.
    public var code: Code
    /// A short text for people, naming the offending value.
    public var message: String
    /// Where: a file or a URL; `nil` when the message says it all.
    public var location: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: A short text for people.
    ///   - location: A file or URL, or `nil`.
    public init(_ code: Code, _ message: String, location: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }
}

extension NodeProcessError: CustomStringConvertible {
    /// `location: message`, or the message alone, as in
    /// `ws://127.0.0.1:27759/v1/messages/json: connection refused` or `node 'x' is not in the layout node.cfg`.
    public var description: String { location.map { "\($0): \(message)" } ?? message }
}

extension NodeProcessError {
    /// Runs `work` until it ends or `stop` returns, whichever comes first (the other is cancelled): how a node or
    /// agent process runs its connection against its stop signal, so that a stop during a slow connect is prompt too.
    ///
    /// - Parameters:
    ///   - work: The process's job; returns why it failed, or `nil`.
    ///   - stop: Returns when the process should stop; `nil` runs `work` until it ends or the task is cancelled.
    /// - Returns: `work`'s failure, or `nil` when it ended without one or `stop` came first.
    static func first(
        of work: @escaping @Sendable () async -> NodeProcessError?,
        orStop stop: (@Sendable () async -> Void)?
    ) async -> NodeProcessError? {
        await withTaskGroup(of: NodeProcessError?.self) { group in
            group.addTask { await work() }
            if let stop {
                group.addTask {
                    await stop()
                    return nil
                }
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }
}

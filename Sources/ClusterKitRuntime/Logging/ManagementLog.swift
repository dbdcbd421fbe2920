import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// The management log of one controller or agent: Zeek's `Management::Log` (`management-<node>.log`, columns
/// `ts`, `node`, `level`, `role`, `message`).
///
/// ``debug(_:)``, ``info(_:)``, ``warning(_:)`` and ``error(_:)`` write a line when its level is at least
/// ``level`` (Zeek's `Management::Log::level`, default `INFO`); below it the message is not even built. Messages
/// are written as given: the log format escapes what needs escaping.
public final class ManagementLog: Sendable {
    /// The writing node's name, such as `controller` or `agent-host1`.
    public let node: String
    /// The writer's role.
    public let role: Management.Role
    /// The least important level written.
    public let level: Management.Log.Level
    private let writer: ZeekLogWriter
    private let now: @Sendable () -> Broker.Timestamp
    /// ``role``'s ``Management/Role/logName``, made once.
    private let roleName: String

    /// Creates a management log over a writer.
    ///
    /// - Parameters:
    ///   - node: The writing node's name.
    ///   - role: Its role.
    ///   - level: The least important level written.
    ///   - writer: The file, whose columns must be ``Management/Log/Info``'s.
    ///   - now: The time of each line.
    package init(
        node: String,
        role: Management.Role,
        level: Management.Log.Level,
        writer: ZeekLogWriter,
        now: @escaping @Sendable () -> Broker.Timestamp
    ) {
        self.node = node
        self.role = role
        self.roleName = role.logName
        self.level = level
        self.writer = writer
        self.now = now
    }

    /// Writes a line of the given level, when the level is at least ``level``.
    ///
    /// - Parameters:
    ///   - level: The line's level.
    ///   - message: The message, built only when written.
    public func log(_ level: Management.Log.Level, _ message: @autoclosure () -> String) {
        guard level >= self.level else { return }
        writer.write(
            Management.Log.Info(ts: now(), node: node, level: level.name, role: roleName, message: message())
        )
    }

    /// Writes a `DEBUG` line.
    ///
    /// - Parameter message: The message.
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }

    /// Writes an `INFO` line.
    ///
    /// - Parameter message: The message.
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }

    /// Writes a `WARNING` line.
    ///
    /// - Parameter message: The message.
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }

    /// Writes an `ERROR` line (it only logs, as Zeek's `Management::Log::error`).
    ///
    /// - Parameter message: The message.
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
}

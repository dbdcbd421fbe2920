import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
public import Foundation

/// The log files of one program, in one directory, in Zeek's ASCII or JSON format: the management logs of a
/// controller and its agents (``managementLog(node:role:)``, `management-<node>.log`, as Zeek names them) and a
/// hub's cluster log (``clusterLog(node:)``, `cluster.log`).
///
/// Asking twice for the same file gives the same writer, so an agent started again in the same process goes on
/// writing its log. ``run()`` writes the buffered lines out every ``Options/flushInterval``; ``close()``
/// writes the rest and each file's `#close` line.
///
/// A file that cannot be opened or written (a directory that does not exist or is not writable, a full disk)
/// is reported once through `onError`, naming the file, and its lines are dropped from then on; the program
/// goes on.
///
/// ```swift
/// let logs = LogDirectory(options: .init(directory: "/var/lib/zeekctl")) { error in
///     FileHandle.standardError.write(Data("error: \(error)\n".utf8))
/// }
/// let log = logs.managementLog(node: "controller", role: .controller)
/// log.info("controller is live")
/// logs.close()
/// ```
public final class LogDirectory: Sendable {
    /// Where and how the logs are written.
    public struct Options: Sendable {
        /// The directory the files go in; it must exist.
        public var directory: String
        /// The format; default ``ZeekLogFormat/ascii``.
        public var format: ZeekLogFormat
        /// The least important management log level written; default ``Management/Log/Level/info`` (Zeek's).
        public var level: Management.Log.Level
        /// How often buffered lines are written out by ``LogDirectory/run()``; default 1 s.
        public var flushInterval: Duration
        /// The buffered bytes of one file that make its writer write at once; default 64 KiB.
        public var bufferLimit: Int
        /// The time zone of the `#open` and `#close` times; default the system's.
        public var timeZone: TimeZone

        /// Creates options; every argument but the directory has the documented default.
        ///
        /// - Parameters:
        ///   - directory: The directory.
        ///   - format: The format.
        ///   - level: The least important management log level written.
        ///   - flushInterval: How often buffered lines are written out.
        ///   - bufferLimit: The buffered bytes of one file that make it write.
        ///   - timeZone: The time zone of `#open` and `#close`.
        public init(
            directory: String,
            format: ZeekLogFormat = .ascii,
            level: Management.Log.Level = .info,
            flushInterval: Duration = .seconds(1),
            bufferLimit: Int = ZeekLogWriter.defaultBufferLimit,
            timeZone: TimeZone = .current
        ) {
            self.directory = directory
            self.format = format
            self.level = level
            self.flushInterval = flushInterval
            self.bufferLimit = bufferLimit
            self.timeZone = timeZone
        }
    }

    /// The options.
    public let options: Options
    private let fileSystem: any LogFileSystem
    private let time: TimeSource
    private let now: @Sendable () -> Broker.Timestamp
    private let onError: @Sendable (ZeekLogError) -> Void
    private let state = Guarded(State())

    private struct State {
        var writers: [String: ZeekLogWriter] = [:]
        var isClosed = false
    }

    /// Creates the logs of a directory; no file is opened before its first line.
    ///
    /// - Parameters:
    ///   - options: The directory, format, level and buffering.
    ///   - onError: Gets the first failure of each file, once.
    public convenience init(options: Options, onError: @escaping @Sendable (ZeekLogError) -> Void = { _ in }) {
        self.init(
            options: options,
            fileSystem: LocalLogFileSystem(),
            clock: ContinuousClock(),
            now: Self.systemTime,
            onError: onError
        )
    }

    /// Creates the logs of a directory over any file system and clocks.
    ///
    /// - Parameters:
    ///   - options: The directory, format, level and buffering.
    ///   - fileSystem: Where the files are.
    ///   - clock: The clock of ``run()``'s flushes.
    ///   - now: The wall-clock time of lines, `#open` and `#close`.
    ///   - onError: Gets the first failure of each file, once.
    package init(
        options: Options,
        fileSystem: any LogFileSystem,
        clock: any Clock<Duration>,
        now: @escaping @Sendable () -> Broker.Timestamp,
        onError: @escaping @Sendable (ZeekLogError) -> Void
    ) {
        self.options = options
        self.fileSystem = fileSystem
        self.time = TimeSource(clock)
        self.now = now
        self.onError = onError
    }

    /// The system's wall-clock time, to the microsecond (Zeek's `network_time()` when no packets are read).
    public static let systemTime: @Sendable () -> Broker.Timestamp = {
        let microseconds = (Date().timeIntervalSince1970 * 1_000_000).rounded()
        return Broker.Timestamp(nanosecondsSinceEpoch: Int64(microseconds) * 1_000)
    }

    /// The management log of a controller or agent, `management-<node>.log` (the node's name with characters
    /// other than `[A-Za-z0-9._-]` written as `_`).
    ///
    /// - Parameters:
    ///   - node: The controller's or agent's name.
    ///   - role: Its role.
    /// - Returns: The log.
    public func managementLog(node: String, role: Management.Role) -> ManagementLog {
        let writer = writer(path: "management-" + Self.fileNameSafe(node), fields: Management.Log.Info.zeekLogFields)
        return ManagementLog(node: node, role: role, level: options.level, writer: writer, now: now)
    }

    /// The cluster log, `cluster.log`.
    ///
    /// - Parameter node: The node its lines name.
    /// - Returns: The log.
    public func clusterLog(node: String) -> ClusterLog {
        ClusterLog(node: node, writer: writer(path: "cluster", fields: Cluster.Info.zeekLogFields), now: now)
    }

    /// The writer of `<path>.log` in the directory, made at the first call for the path.
    ///
    /// - Parameters:
    ///   - path: The log's path, such as `cluster`.
    ///   - fields: Its columns (those of the first call for the path count).
    /// - Returns: The writer.
    public func writer(path: String, fields: [ZeekLogField]) -> ZeekLogWriter {
        let encoder = ZeekLogEncoder(path: path, fields: fields, format: options.format)
        let file = options.directory + "/" + encoder.fileName
        let (writer, isClosed) = state.withLock { state in
            if let existing = state.writers[file] { return (existing, state.isClosed) }
            let writer = ZeekLogWriter(
                path: file,
                encoder: encoder,
                bufferLimit: options.bufferLimit,
                timeZone: options.timeZone,
                fileSystem: fileSystem,
                now: now,
                onError: onError
            )
            state.writers[file] = writer
            return (writer, state.isClosed)
        }
        if isClosed { writer.close() }
        return writer
    }

    /// Writes every file's buffered lines out every ``Options/flushInterval`` until the task is cancelled.
    public func run() async {
        var next = time.now()
        while !Task.isCancelled {
            next += options.flushInterval
            do {
                try await time.sleep(next)
            } catch {
                return
            }
            flush()
        }
    }

    /// Writes every file's buffered lines out.
    public func flush() {
        for writer in state.withLock({ Array($0.writers.values) }) { writer.flush() }
    }

    /// Writes every file's buffered lines and `#close` line, and closes the files; later lines are dropped.
    public func close() {
        let writers = state.withLock { state in
            state.isClosed = true
            return Array(state.writers.values)
        }
        for writer in writers { writer.close() }
    }

    /// A name made safe for a file name: characters other than `[A-Za-z0-9._-]` become `_`.
    static func fileNameSafe(_ name: String) -> String {
        let safe = String(
            name.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": Character(scalar)
                default: "_"
                }
            }
        )
        return safe.isEmpty ? "_" : String(safe.prefix(200))
    }
}

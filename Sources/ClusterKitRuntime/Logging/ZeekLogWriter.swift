import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket
public import Foundation

/// One log file in Zeek's ASCII or JSON format (``ZeekLogEncoder``), written through a bounded buffer.
///
/// The file is opened at the first line, as Zeek's writers are, so a log with no lines leaves no file; an
/// existing file is appended to, each run adding its own header block (concatenated Zeek logs, which
/// `zeek-cut` reads). Lines collect in a buffer that is written out when it holds ``bufferLimit`` bytes, on
/// ``flush()`` (``LogDirectory`` calls it every second) and on ``close()``, which also writes `#close`.
///
/// A file that cannot be opened or written is reported once, through the `onError` given at creation, and its
/// lines are dropped from then on: logging never throws, blocks for long, or stops the program. Each call
/// takes one lock, and writes to the file only when the buffer is full.
public final class ZeekLogWriter: Sendable {
    /// The default of ``bufferLimit``: 64 KiB.
    public static let defaultBufferLimit = 65_536

    /// The file's path.
    public let path: String
    /// How lines are written.
    public let encoder: ZeekLogEncoder
    /// The buffered bytes that make the writer write to its file.
    public let bufferLimit: Int
    private let fileSystem: any LogFileSystem
    private let now: @Sendable () -> Broker.Timestamp
    private let timeZone: TimeZone
    private let onError: @Sendable (ZeekLogError) -> Void
    private let state = Guarded(State())

    private struct State {
        enum Phase {
            case notOpened
            case open(any LogFileHandle)
            case failed
            case closed
        }

        var phase = Phase.notOpened
        var buffer: [UInt8] = []
        var lines = 0
        var droppedLines = 0
    }

    /// What the writer did so far.
    package struct Statistics: Sendable, Hashable {
        /// The lines taken into the file's buffer.
        package var lines: Int
        /// The lines dropped because the file failed or was closed.
        package var droppedLines: Int
    }

    /// Creates a writer; nothing is opened before the first line.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - encoder: The log's path, columns and format.
    ///   - bufferLimit: The buffered bytes that make the writer write; default 64 KiB.
    ///   - timeZone: The time zone of the `#open` and `#close` times; default the system's.
    ///   - onError: Gets the first failure to open or write the file.
    public convenience init(
        path: String,
        encoder: ZeekLogEncoder,
        bufferLimit: Int = ZeekLogWriter.defaultBufferLimit,
        timeZone: TimeZone = .current,
        onError: @escaping @Sendable (ZeekLogError) -> Void = { _ in }
    ) {
        self.init(
            path: path,
            encoder: encoder,
            bufferLimit: bufferLimit,
            timeZone: timeZone,
            fileSystem: LocalLogFileSystem(),
            now: LogDirectory.systemTime,
            onError: onError
        )
    }

    /// Creates a writer over any file system and clock.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - encoder: The log's path, columns and format.
    ///   - bufferLimit: The buffered bytes that make the writer write.
    ///   - timeZone: The time zone of the `#open` and `#close` times.
    ///   - fileSystem: Where the file is.
    ///   - now: The wall-clock time of `#open` and `#close`.
    ///   - onError: Gets the first failure to open or write the file.
    package init(
        path: String,
        encoder: ZeekLogEncoder,
        bufferLimit: Int,
        timeZone: TimeZone,
        fileSystem: any LogFileSystem,
        now: @escaping @Sendable () -> Broker.Timestamp,
        onError: @escaping @Sendable (ZeekLogError) -> Void
    ) {
        self.path = path
        self.encoder = encoder
        self.bufferLimit = max(bufferLimit, 0)
        self.timeZone = timeZone
        self.fileSystem = fileSystem
        self.now = now
        self.onError = onError
    }

    /// What the writer did so far.
    package var statistics: Statistics {
        state.withLock { Statistics(lines: $0.lines, droppedLines: $0.droppedLines) }
    }

    /// Writes one record.
    ///
    /// - Parameter record: The record, whose columns must be the encoder's.
    public func write(_ record: some ZeekLogRecord) {
        write(record.zeekLogValues)
    }

    /// Writes one line.
    ///
    /// - Parameter values: One value per column, in order.
    public func write(_ values: [ZeekLogValue]) {
        let line = encoder.line(values)
        let failure = state.withLock { state -> ZeekLogError? in
            switch state.phase {
            case .failed, .closed:
                state.droppedLines += 1
                return nil
            case .notOpened:
                do throws(ZeekLogError) {
                    state.phase = .open(try fileSystem.openForAppending(path))
                } catch {
                    state.phase = .failed
                    state.droppedLines += 1
                    return error
                }
                state.buffer += encoder.header(openedAt: now(), timeZone: timeZone)
            case .open:
                break
            }
            state.buffer += line
            state.lines += 1
            return state.buffer.count >= bufferLimit ? Self.writeBuffer(&state) : nil
        }
        if let failure { onError(failure) }
    }

    /// Writes the buffered lines to the file.
    public func flush() {
        let failure = state.withLock { state in Self.writeBuffer(&state) }
        if let failure { onError(failure) }
    }

    /// Writes the buffered lines and `#close` (ASCII), and closes the file; later lines are dropped.
    public func close() {
        let failure = state.withLock { state -> ZeekLogError? in
            guard case .open(let file) = state.phase else {
                state.phase = .closed
                return nil
            }
            state.buffer += encoder.footer(closedAt: now(), timeZone: timeZone)
            let failure = Self.writeBuffer(&state)
            file.close()
            state.phase = .closed
            return failure
        }
        if let failure { onError(failure) }
    }

    /// Writes the buffer to an open file and empties it; a failure closes the file and fails the writer.
    private static func writeBuffer(_ state: inout State) -> ZeekLogError? {
        guard case .open(let file) = state.phase, !state.buffer.isEmpty else { return nil }
        defer { state.buffer.removeAll(keepingCapacity: state.buffer.count <= 1 << 20) }
        do throws(ZeekLogError) {
            try file.write(state.buffer)
            return nil
        } catch {
            file.close()
            state.phase = .failed
            return error
        }
    }
}

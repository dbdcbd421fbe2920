import CClusterKitSupport
import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

/// One I/O thread running a ``Reactor``, and the mailbox other threads use to reach it.
///
/// The server owns one loop for all its connections; each client connection owns one. Any thread may
/// ``post(_:)`` a command; the reactor takes commands after every `poll(2)` wake-up. A pipe wakes the thread
/// when a command arrives while it sleeps. The loop stops itself (see ``Reactor``), closes every descriptor
/// it owns, and then no longer takes commands: ``post(_:)`` returns `false`.
final class EventLoop: Sendable {
    /// Work for the reactor, posted from any thread.
    ///
    /// The rare, large cases are `indirect`, so that the frequent ones (flush, resume) stay small to copy.
    enum Command: Sendable {
        /// Data was queued on a connection that had nothing queued: write it.
        case flush(UInt64)
        /// The application took messages from a connection whose reading was paused: read again.
        case resumeReading(UInt64)
        /// The application (or a dropped handle) asked to close a connection.
        case close(UInt64)
        /// A sender started waiting for room in a connection's send queue: arm the stall timer.
        case sendStalled(UInt64)
        /// A sender found the send queue full and the policy is not to wait: fail the connection.
        case sendQueueFull(UInt64)
        /// A client's host name lookup finished (on its own thread).
        indirect case resolved(UInt64, Result<[SocketAddress], WebSocketError>)
        /// Report the server's counts.
        case statistics(CheckedContinuation<WebSocketServer.Statistics, Never>)
        /// Start a client connection.
        indirect case startClient(ClientStart)
        /// Start serving on a listening socket.
        indirect case startServer(ServerStart)
        /// Shut the server down: close the listener and every connection.
        case shutdownServer
    }

    private struct Mailbox {
        var commands: [Command] = []
        var isWakePending = false
        var isStopped = false
    }

    private let mailbox = Guarded(Mailbox())
    /// The read end of the wake-up pipe, polled by the reactor.
    let wakeReader: Int32
    private let wakeWriter: Int32

    /// Creates the loop and starts its thread.
    ///
    /// - Parameter stopsWhenIdle: Whether the loop stops once its last connection is gone (client loops).
    /// - Throws: ``WebSocketError`` with code `ioError` when the pipe or the thread cannot be created.
    init(stopsWhenIdle: Bool) throws(WebSocketError) {
        var descriptors: [Int32] = [-1, -1]
        guard ck_wake_pipe(&descriptors) == 0 else { throw .systemCall("pipe2", errno: errno) }
        wakeReader = descriptors[0]
        wakeWriter = descriptors[1]
        do {
            try startDetachedThread { [self] in Reactor(loop: self, stopsWhenIdle: stopsWhenIdle).run() }
        } catch {
            close(wakeReader)
            close(wakeWriter)
            throw error
        }
    }

    /// Hands a command to the reactor and wakes it if it sleeps.
    ///
    /// - Parameter command: The command.
    /// - Returns: `false` when the loop has stopped and the command was dropped.
    @discardableResult
    func post(_ command: Command) -> Bool {
        mailbox.withLock { mailbox in
            guard !mailbox.isStopped else { return false }
            mailbox.commands.append(command)
            if !mailbox.isWakePending {
                mailbox.isWakePending = true
                var byte: UInt8 = 1
                _ = write(wakeWriter, &byte, 1)
            }
            return true
        }
    }

    /// Takes the queued commands; called by the reactor after draining the wake-up pipe.
    func takeCommands() -> [Command] {
        mailbox.withLock { mailbox in
            mailbox.isWakePending = false
            guard !mailbox.commands.isEmpty else { return [] }
            let commands = mailbox.commands
            mailbox.commands.removeAll(keepingCapacity: true)
            return commands
        }
    }

    /// Whether commands are waiting; lets the reactor skip the lock-free fast path check.
    var hasCommands: Bool { mailbox.withLock { !$0.commands.isEmpty } }

    /// Marks the loop stopped and closes the wake-up pipe; returns commands that were never taken.
    func stop() -> [Command] {
        mailbox.withLock { mailbox in
            mailbox.isStopped = true
            close(wakeReader)
            close(wakeWriter)
            let commands = mailbox.commands
            mailbox.commands = []
            return commands
        }
    }
}

/// Runs `body` on a new detached POSIX thread: an event loop, or a client's host name lookup.
///
/// - Throws: ``WebSocketError`` with code `ioError` when the thread cannot be created.
func startDetachedThread(_ body: @escaping @Sendable () -> Void) throws(WebSocketError) {
    let start = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(
        &thread,
        nil,
        { argument in
            guard let argument else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().body()
            return nil
        },
        start
    )
    guard status == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(start).release()
        throw .systemCall("pthread_create", errno: status)
    }
    pthread_detach(thread)
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
    }
}

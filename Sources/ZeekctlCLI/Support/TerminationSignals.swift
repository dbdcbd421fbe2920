import CClusterKitSupport
import ClusterKit
import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM as an async wait, for programs that shut down cleanly on either.
///
/// ``install()`` replaces the default dispositions with a handler that writes the signal's number to a
/// pipe, and starts one reader thread for the life of the process. Each signal wakes one waiting
/// ``next()``; a signal that arrives while nobody waits is kept and returned by the next call, so none is
/// lost.
package enum TerminationSignals: Sendable {
    /// An error setting up the handlers.
    package struct SetupError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The system's error number.
        package var errno: Int32

        /// `cannot install signal handlers: <reason>`.
        package var description: String { "cannot install signal handlers: \(String(cString: strerror(errno)))" }
    }

    /// Installs the handlers and starts the reader thread.
    ///
    /// From then on SIGINT and SIGTERM no longer end the process by themselves. Calling it again does nothing.
    ///
    /// - Throws: ``SetupError`` when they cannot be installed.
    package static func install() throws {
        try SignalInbox.shared.start()
    }

    /// Waits for the next SIGINT or SIGTERM and returns its number; `nil` when the task is cancelled first
    /// or ``install()`` was not called.
    ///
    /// - Returns: The signal number, or `nil`.
    package static func next() async -> Int32? {
        await SignalInbox.shared.next()
    }
}

/// The signals read from the pipe, and the tasks waiting for them.
private final class SignalInbox: Sendable {
    static let shared = SignalInbox()

    private struct State {
        var started = false
        var pending: [Int32] = []
        var waiters: [UInt64: CheckedContinuation<Int32?, Never>] = [:]
        var cancelled: Set<UInt64> = []
        var nextWaiter: UInt64 = 0
    }

    private let state = Guarded(State())

    func start() throws {
        let alreadyStarted = state.withLock { state in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { return }
        let descriptor = ck_termination_signal_fd()
        guard descriptor >= 0 else {
            let code = errno
            state.withLock { $0.started = false }
            throw TerminationSignals.SetupError(errno: code)
        }
        let context = Unmanaged.passRetained(ReaderContext(inbox: self, descriptor: descriptor)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread,
            nil,
            { argument in
                guard let argument else { return nil }
                let context = Unmanaged<ReaderContext>.fromOpaque(argument).takeRetainedValue()
                var byte: UInt8 = 0
                while true {
                    let count = read(context.descriptor, &byte, 1)
                    if count == 1 {
                        context.inbox.deliver(Int32(byte))
                    } else if count < 0 && errno == EINTR {
                        continue
                    } else {
                        return nil
                    }
                }
            },
            context
        )
        guard status == 0 else {
            Unmanaged<ReaderContext>.fromOpaque(context).release()
            state.withLock { $0.started = false }
            throw TerminationSignals.SetupError(errno: status)
        }
        pthread_detach(thread)
    }

    func next() async -> Int32? {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                let resume: Int32?? = state.withLock { state in
                    if state.cancelled.remove(id) != nil || !state.started { return .some(nil) }
                    if !state.pending.isEmpty { return .some(state.pending.removeFirst()) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let resume { continuation.resume(returning: resume) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Int32?, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume(returning: nil)
        }
    }

    private func deliver(_ signal: Int32) {
        let waiter = state.withLock { state -> CheckedContinuation<Int32?, Never>? in
            guard let first = state.waiters.keys.min() else {
                state.pending.append(signal)
                return nil
            }
            return state.waiters.removeValue(forKey: first)
        }
        waiter?.resume(returning: signal)
    }
}

/// What the reader thread needs.
private final class ReaderContext: Sendable {
    let inbox: SignalInbox
    let descriptor: Int32

    init(inbox: SignalInbox, descriptor: Int32) {
        self.inbox = inbox
        self.descriptor = descriptor
    }
}

import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

/// Where `zeekctl` writes: results to standard output, diagnostics to standard error.
protocol Terminal: Sendable {
    /// Writes text to standard output as is.
    func writeOutput(_ text: String)
    /// Writes text to standard error as is.
    func writeError(_ text: String)
    /// Whether standard output is a terminal (for colour and layout decisions).
    var isOutputTerminal: Bool { get }
    /// Whether a write to standard output failed (a closed pipe, a full disk); output is dropped from then on.
    var hasOutputFailed: Bool { get }
}

extension Terminal {
    /// Writes one `error: …` line to standard error.
    func error(_ message: String) { writeError("error: \(message)\n") }
    /// Writes one `warning: …` line to standard error.
    func warning(_ message: String) { writeError("warning: \(message)\n") }
    /// Never, unless the terminal says otherwise.
    var hasOutputFailed: Bool { false }
}

/// The process's standard output and error.
///
/// SIGPIPE is ignored by `zeekctl` (see ``Zeekctl``), so a closed pipe is an `EPIPE` error here. The first failed
/// write to a stream ends writing to it: later text for it is dropped, and the process keeps running. A failure on
/// standard output is reported once on standard error (`error: cannot write to standard output: Broken pipe`),
/// and `zeekctl` then exits 1 instead of 0. A non-blocking descriptor that is full is waited for with `poll`.
final class StandardTerminal: Terminal {
    /// The `errno` of the first failed write, by descriptor.
    private let failures = Guarded<[Int32: Int32]>([:])

    func writeOutput(_ text: String) {
        guard let failure = write(text, to: STDOUT_FILENO) else { return }
        error("cannot write to standard output: \(String(cString: strerror(failure)))")
    }

    func writeError(_ text: String) { _ = write(text, to: STDERR_FILENO) }

    var isOutputTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    var hasOutputFailed: Bool { failures.withLock { $0[STDOUT_FILENO] != nil } }

    /// Writes everything, or stops at the first error; returns that error's `errno` when it is the stream's
    /// first failure.
    private func write(_ text: String, to descriptor: Int32) -> Int32? {
        guard failures.withLock({ $0[descriptor] == nil }) else { return nil }
        var text = text
        let failure: Int32? = text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress?.advanced(by: offset), bytes.count - offset)
                if written > 0 {
                    offset += written
                    continue
                }
                guard written < 0 else { return EIO }
                switch errno {
                case EINTR:
                    continue
                case EAGAIN, EWOULDBLOCK:
                    var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    if poll(&ready, 1, -1) < 0, errno != EINTR { return errno }
                default:
                    return errno
                }
            }
            return nil
        }
        guard let failure else { return nil }
        let isFirst = failures.withLock { failures in
            guard failures[descriptor] == nil else { return false }
            failures[descriptor] = failure
            return true
        }
        return isFirst ? failure : nil
    }
}

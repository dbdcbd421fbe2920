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
}

extension Terminal {
    /// Writes one `error: …` line to standard error.
    func error(_ message: String) { writeError("error: \(message)\n") }
    /// Writes one `warning: …` line to standard error.
    func warning(_ message: String) { writeError("warning: \(message)\n") }
}

/// The process's standard output and error.
struct StandardTerminal: Terminal {
    func writeOutput(_ text: String) { Self.write(text, to: 1) }
    func writeError(_ text: String) { Self.write(text, to: 2) }
    var isOutputTerminal: Bool { isatty(1) == 1 }

    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress?.advanced(by: offset), bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}

import ClusterKitModel

extension ProcessSupervisor {
    /// The stream a line of node output came from.
    public enum OutputChannel: String, Sendable, Hashable, CaseIterable {
        /// Standard output (`Supervisor::stdout_hook`).
        case stdout
        /// Standard error (`Supervisor::stderr_hook`).
        case stderr

        /// The prefix Zeek's supervisor prints before a line it does not suppress: `[supervisor:STDOUT] ` or
        /// `[supervisor:STDERR] `.
        public var prefix: String {
            switch self {
            case .stdout: "[supervisor:STDOUT] "
            case .stderr: "[supervisor:STDERR] "
            }
        }
    }

    /// One line of a node's standard output or error, as Zeek's supervisor sees it.
    ///
    /// Zeek's stem prefixes every line of a node with `[<node>] ` before passing it on; the supervisor then splits
    /// that prefix off again for the hooks. ``line`` is the prefixed line, ``node`` and ``message`` are the parts
    /// the hooks get (Zeek's rule: a line starting with `[` and containing `]` gives the text between them as the
    /// node and the rest, minus one optional space, as the message; otherwise the node is empty).
    public struct OutputLine: Sendable, Hashable {
        /// The stream the line came from.
        public var channel: OutputChannel
        /// The node name parsed from the line's prefix (the hook's `node` argument).
        public var node: String
        /// The text after the prefix (the hook's `msg` argument).
        public var message: String
        /// The line as the supervisor received it, `[<node>] <text>`.
        public var line: String

        /// Creates a line from the text the supervisor received, parsing the `[node]` prefix as Zeek does.
        ///
        /// - Parameters:
        ///   - channel: The stream.
        ///   - line: The received line, normally `[<node>] <text>`.
        public init(channel: OutputChannel, line: String) {
            self.channel = channel
            self.line = line
            (node, message) = Self.split(line)
        }

        /// Creates the line a node's output line becomes: `[<node>] <text>`, then parsed as Zeek does.
        ///
        /// - Parameters:
        ///   - channel: The stream.
        ///   - node: The node that wrote the text.
        ///   - text: The text without its newline.
        public init(channel: OutputChannel, node: String, text: String) {
            self.init(channel: channel, line: "[\(node)] \(text)")
        }

        /// The text Zeek's supervisor prints for an unsuppressed line: the channel's prefix and ``line``, such as
        /// `[supervisor:STDOUT] [worker-1] hello`.
        public var text: String { channel.prefix + line }

        private static func split(_ line: String) -> (node: String, message: String) {
            let bytes = Array(line.utf8)
            guard bytes.first == UInt8(ascii: "["), let end = bytes.firstIndex(of: UInt8(ascii: "]")) else {
                return ("", line)
            }
            let node = String(decoding: bytes[1..<end], as: UTF8.self)
            var start = end + 1
            if start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
            return (node, String(decoding: bytes[start...], as: UTF8.self))
        }
    }

    /// What an output hook decides about a line.
    public enum OutputDisposition: Sendable, Hashable {
        /// Let the line go on to later hooks and then to the output sink.
        case deliver
        /// Drop the line, like `break` in `Supervisor::stdout_hook`; later hooks do not see it.
        case suppress
    }

    /// A hook run for every line of node output that is not written to a file, like Zeek's
    /// `Supervisor::stdout_hook` and `Supervisor::stderr_hook` (the line's ``OutputLine/channel`` tells which).
    ///
    /// Hooks run in order on the supervisor's monitor thread; they must return quickly and must not block.
    public typealias OutputHook = @Sendable (OutputLine) -> OutputDisposition

    /// Where lines go that no hook suppressed; print ``OutputLine/text`` to get Zeek's output.
    ///
    /// Called on the supervisor's monitor thread, in the order the lines were read; it must not block.
    public typealias OutputSink = @Sendable (OutputLine) -> Void
}

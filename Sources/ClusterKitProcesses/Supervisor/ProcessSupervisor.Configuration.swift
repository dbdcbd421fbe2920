import ClusterKitModel

extension ProcessSupervisor {
    /// The long-lived setup of a process supervisor.
    public struct Configuration: Sendable, Hashable {
        /// How a node is stopped by destroy, restart and shutdown.
        ///
        /// Zeek sends SIGTERM 13 times, 2 seconds apart, then SIGKILL every 2 seconds until the node is gone
        /// (≈ 26 s to the first SIGKILL); with `ZEEK_SUPERVISOR_NO_SIGKILL` set it only ever sends SIGTERM.
        public struct StopSequence: Sendable, Hashable {
            /// The number of SIGTERM signals before SIGKILL.
            ///
            /// Zeek's value is 13. At least 1.
            public var terminateAttempts: Int
            /// The wait between two signals; Zeek's value is 2 seconds.
            public var interval: Duration
            /// A Boolean value indicating whether SIGKILL follows the SIGTERM attempts; `false` is Zeek's
            /// `ZEEK_SUPERVISOR_NO_SIGKILL` (SIGTERM forever).
            public var sendsKill: Bool

            /// Creates a stop sequence.
            ///
            /// - Parameters:
            ///   - terminateAttempts: SIGTERM signals before SIGKILL; default 13, at least 1.
            ///   - interval: The wait between signals; default 2 seconds.
            ///   - sendsKill: Whether SIGKILL follows; default `true`.
            public init(terminateAttempts: Int = 13, interval: Duration = .seconds(2), sendsKill: Bool = true) {
                precondition(terminateAttempts >= 1, "terminateAttempts must be at least 1")
                self.terminateAttempts = terminateAttempts
                self.interval = interval
                self.sendsKill = sendsKill
            }

            /// Zeek's sequence: 13 × SIGTERM 2 seconds apart, then SIGKILL.
            public static let standard = StopSequence()

            /// The signal of a 0-based attempt: SIGTERM before `terminateAttempts`, SIGKILL from then on.
            ///
            /// - Parameter attempt: The attempt, 0 first.
            /// - Returns: The signal number.
            public func signal(forAttempt attempt: Int) -> Int32 {
                attempt < terminateAttempts || !sendsKill ? SupervisorSignal.terminate : SupervisorSignal.kill
            }
        }

        /// The directory for the files that hand each node its configuration (created, mode 0700, when missing).
        ///
        /// Each node gets `<runtimeDirectory>/<name>-<id>-<n>.json` (`<id>` unique per supervisor, `<n>` per node),
        /// the Broker JSON of its ``Supervisor/NodeConfig``, named by ``Supervisor/nodeConfigurationEnvironmentKey``
        /// in its environment. The file is rewritten before every spawn and removed when the node is destroyed.
        public var runtimeDirectory: String
        /// The environment every node starts from.
        ///
        /// ClusterKit does not read the supervisor's own environment; pass it here to inherit it. Default empty.
        public var environment: [String: String]
        /// How nodes are stopped; default Zeek's ``StopSequence/standard``.
        public var stopSequence: StopSequence
        /// The longest line of node output, in bytes.
        ///
        /// A longer line is passed on in pieces of this size. Default 65,536; at least 1.
        public var maximumLineLength: Int
        /// The number of events each ``ProcessSupervisor/events()`` subscription buffers.
        ///
        /// A subscription that falls further behind loses its oldest events. Default 4,096; at least 1.
        public var eventBufferLimit: Int
        /// The signal a node gets when the supervisor dies, or `nil` for none.
        ///
        /// Set in the child with Linux's `PR_SET_PDEATHSIG`. Default 9 (SIGKILL).
        public var parentDeathSignal: Int32?

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - runtimeDirectory: The directory for node configuration files.
        ///   - environment: The environment every node starts from; default empty.
        ///   - stopSequence: How nodes are stopped; default Zeek's.
        ///   - maximumLineLength: The longest output line in bytes; default 65,536.
        ///   - eventBufferLimit: Events buffered per subscription; default 4,096.
        ///   - parentDeathSignal: The signal nodes get when the supervisor dies; default 9 (SIGKILL).
        public init(
            runtimeDirectory: String,
            environment: [String: String] = [:],
            stopSequence: StopSequence = .standard,
            maximumLineLength: Int = 65_536,
            eventBufferLimit: Int = 4_096,
            parentDeathSignal: Int32? = 9
        ) {
            precondition(maximumLineLength >= 1, "maximumLineLength must be at least 1")
            precondition(eventBufferLimit >= 1, "eventBufferLimit must be at least 1")
            self.runtimeDirectory = runtimeDirectory
            self.environment = environment
            self.stopSequence = stopSequence
            self.maximumLineLength = maximumLineLength
            self.eventBufferLimit = eventBufferLimit
            self.parentDeathSignal = parentDeathSignal
        }
    }
}

/// The controller's side of the connection to one agent that listens (`zeekctl agent --listen`), as a state
/// machine: inputs in, actions out, no I/O.
///
/// Zeek's controller peers with every instance of its configuration that has a listening port
/// (`Broker::peer(host, port, Management::connect_retry)`), and Broker retries for as long as the instance stays.
/// Here the link connects (each attempt bounded by the connection's own limits: connect, handshake, ack), relays
/// while connected, and after a failed attempt waits before the next: ``initialDelay`` (Zeek's
/// `Management::connect_retry`, 1 s), doubling up to ``maximumDelay``. A connection that was up and is lost is
/// tried again after ``initialDelay``. ``Input/stop`` ends it in any phase.
package struct AgentLinkStateMachine: Sendable {
    /// Where the link is.
    package enum Phase: Sendable, Equatable {
        /// Not started.
        case idle
        /// An attempt is under way; `failures` attempts failed before it since the last connection.
        case connecting(failures: Int)
        /// Connected and relaying.
        case connected
        /// Waiting before the next attempt; `failures` attempts failed since the last connection.
        case waiting(failures: Int)
        /// Stopped for good.
        case stopped
    }

    /// What happened.
    package enum Input: Sendable, Equatable {
        /// Start linking.
        case start
        /// The attempt connected.
        case connected
        /// The attempt failed, for the reason given.
        case connectFailed(String)
        /// The connection was lost, for the reason given.
        case connectionLost(String)
        /// The wait before the next attempt is over.
        case retryDue
        /// Stop linking.
        case stop
    }

    /// What the driver does, in order.
    package enum Action: Sendable, Equatable {
        /// Attempt a connection, then report ``Input/connected`` or ``Input/connectFailed(_:)``.
        case connect
        /// Relay until the connection ends, then report ``Input/connectionLost(_:)``.
        case relay
        /// Wait, then report ``Input/retryDue``.
        case wait(Duration)
        /// Close whatever is open.
        case close
        /// Log a line.
        case log(String)
    }

    /// The instance the agent serves.
    package let instance: String
    /// The agent's URL.
    package let url: String
    /// The wait after a lost connection and after the first failed attempt.
    package let initialDelay: Duration
    /// The longest wait between attempts.
    package let maximumDelay: Duration
    /// Where the link is.
    package private(set) var phase = Phase.idle

    /// Creates an idle link.
    ///
    /// - Parameters:
    ///   - instance: The instance name.
    ///   - url: The agent's URL.
    ///   - initialDelay: The first wait; default 1 s (Zeek's `Management::connect_retry`).
    ///   - maximumDelay: The longest wait; default 30 s.
    package init(
        instance: String,
        url: String,
        initialDelay: Duration = .seconds(1),
        maximumDelay: Duration = .seconds(30)
    ) {
        self.instance = instance
        self.url = url
        self.initialDelay = initialDelay
        self.maximumDelay = max(initialDelay, maximumDelay)
    }

    /// The wait after `failures` failed attempts in a row: the initial delay, doubled for each failure after the
    /// first, at most the maximum.
    package func delay(afterFailures failures: Int) -> Duration {
        var delay = initialDelay
        var count = 1
        while count < failures, delay < maximumDelay {
            delay *= 2
            count += 1
        }
        return min(delay, maximumDelay)
    }

    /// Takes one input.
    ///
    /// - Parameter input: What happened.
    /// - Returns: What to do, in order; nothing for an input that does not fit the phase.
    package mutating func step(_ input: Input) -> [Action] {
        switch (phase, input) {
        case (_, .stop):
            guard phase != .stopped else { return [] }
            let wasStarted = phase != .idle
            phase = .stopped
            return wasStarted ? [.close] : []
        case (.idle, .start):
            phase = .connecting(failures: 0)
            return [.log("connecting to agent \(instance) at \(url)"), .connect]
        case (.connecting, .connected):
            phase = .connected
            return [.log("connected to agent \(instance) at \(url)"), .relay]
        case (.connecting(let failures), .connectFailed(let reason)):
            let count = failures + 1
            let delay = delay(afterFailures: count)
            phase = .waiting(failures: count)
            let line = "cannot reach agent \(instance) at \(url): \(reason); trying again in \(delay.wholeSecondsText)"
            return [.close, .log(line), .wait(delay)]
        case (.connected, .connectionLost(let reason)):
            phase = .waiting(failures: 0)
            let line = "lost agent \(instance) at \(url): \(reason); reconnecting in \(initialDelay.wholeSecondsText)"
            return [.close, .log(line), .wait(initialDelay)]
        case (.waiting(let failures), .retryDue):
            phase = .connecting(failures: failures)
            return [.connect]
        default:
            return []
        }
    }
}

extension Duration {
    /// The duration as `2 s`, or in milliseconds below a second (`500 ms`).
    fileprivate var wholeSecondsText: String {
        let milliseconds = Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}

import ClusterKitModel

/// Zeek's revival back-off for one node (`Stem::Revive` in `src/supervisor/Supervisor.cc`).
///
/// A dead node is respawned once `delay` has passed since its previous spawn. Each revival attempt counts; every
/// third attempt doubles the delay for the attempts after it, without a cap. So a node that dies at once is
/// respawned after 1, 1, 1, 2, 2, 2, 4, 4, 4, 8, … seconds. A node that has been up for more than 30 seconds
/// starts over. Restart and destroy leave the counters alone.
struct RevivalBackoff: Sendable, Hashable {
    /// Attempts between two doublings of the delay.
    static let attemptsBeforeDelayIncrease = 3
    /// The factor the delay grows by.
    static let delayIncreaseFactor: Int64 = 2
    /// The uptime after which the counters start over.
    static let resetAfter: Duration = .seconds(30)

    /// The revival attempts so far.
    private(set) var attempts = 0
    /// The delay before the next revival, in whole seconds.
    private(set) var delaySeconds: Int64 = 1

    /// The delay before the next revival, measured from the previous spawn.
    var delay: Duration { .seconds(delaySeconds) }

    /// Starts over when the node has been up for more than 30 seconds (Zeek checks this while the node runs).
    ///
    /// - Parameter uptime: The time since the node's last spawn.
    mutating func observe(uptime: Duration) {
        guard uptime > Self.resetAfter else { return }
        attempts = 0
        delaySeconds = 1
    }

    /// Counts a revival attempt, doubling the delay after every third one.
    mutating func recordAttempt() {
        attempts += 1
        guard attempts % Self.attemptsBeforeDelayIncrease == 0 else { return }
        let (doubled, overflow) = delaySeconds.multipliedReportingOverflow(by: Self.delayIncreaseFactor)
        delaySeconds = overflow ? Int64.max : doubled
    }
}

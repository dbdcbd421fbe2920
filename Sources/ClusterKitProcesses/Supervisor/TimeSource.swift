import ClusterKitModel

/// An injected clock reduced to what the supervisor needs: elapsed time since the supervisor was created, and
/// sleeping until a point in that time.
///
/// Wrapping the `any Clock<Duration>` once keeps instants of an unknown type out of the state machine, which only
/// sees `Duration`s since the origin.
struct TimeSource: Sendable {
    /// The time elapsed since the origin.
    let now: @Sendable () -> Duration
    /// Sleeps until the given time since the origin; throws `CancellationError` when cancelled.
    let sleep: @Sendable (_ until: Duration) async throws -> Void

    /// Creates a time source whose origin is the clock's current instant.
    ///
    /// - Parameter clock: The clock.
    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        now = { origin.duration(to: clock.now) }
        sleep = { deadline in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil) }
    }
}

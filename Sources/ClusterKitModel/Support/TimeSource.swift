/// An injected clock of any instant type, seen as durations since the moment the time source was made: what the
/// process supervisor's state machine and the request tracker work with.
///
/// Wrapping the `any Clock<Duration>` once keeps instants of an unknown type out of the state machines, which only
/// see `Duration`s since the origin; tests hand in a `ManualClock`.
package struct TimeSource: Sendable {
    /// The time elapsed since the origin.
    package let now: @Sendable () -> Duration
    /// Sleeps until the given time since the origin; throws `CancellationError` when cancelled.
    package let sleep: @Sendable (_ until: Duration) async throws -> Void
    /// The time since the origin of an instant of the same clock, or `nil` for an instant of another clock type.
    package let offset: @Sendable (any InstantProtocol<Duration>) -> Duration?

    /// Creates a time source whose origin is the clock's current instant.
    ///
    /// - Parameter clock: The clock.
    package init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        now = { origin.duration(to: clock.now) }
        sleep = { deadline in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil) }
        offset = { instant in (instant as? C.Instant).map { origin.duration(to: $0) } }
    }
}

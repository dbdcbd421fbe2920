import Synchronization

/// The events a ``ClusterBackend`` receives: a bounded, single-consumer asynchronous sequence.
///
/// A sequence works in one of two modes:
/// - **Channel** (``makeStream(limit:)``): a producer pushes events through a ``Source``. The producer never
///   blocks: when the buffer is full a new event is dropped and the producer learns so, which is how
///   backends report slow consumers. Iteration ends (returns `nil`) after the source finishes or the
///   consuming task is cancelled, and throws the error the source finished with, if any.
/// - **Pull** (``init(next:)``): each call of the iterator's `next()` calls a closure that fetches the next
///   event in the consumer's own task, for example by reading a network connection. Nothing is buffered
///   here, so nothing is dropped; the closure's own source bounds memory (a socket's receive queue), and a
///   consumer that stops reading slows the producer down instead of losing events.
public struct BackendEvents: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = TopicEvent

    /// What happened to an event given to ``Source/yield(_:)``.
    public enum YieldResult: Sendable, Hashable {
        /// The event is queued or was handed to the waiting consumer.
        case enqueued
        /// The buffer was full; the event was dropped.
        case dropped
        /// The sequence has finished; the event was discarded.
        case terminated
    }

    let channel: Channel?
    let pull: (@Sendable () async throws -> TopicEvent?)?

    init(channel: Channel) {
        self.channel = channel
        self.pull = nil
    }

    /// Creates a sequence that fetches each event by calling `next` in the consuming task.
    ///
    /// Every iterator of the sequence calls the same closure, so the sequence still has one consumer at a
    /// time. The closure decides what cancellation means; returning `nil` ends the iteration.
    ///
    /// - Parameter next: Returns the next event, `nil` at the end, or throws the error that ended the events.
    public init(next: @escaping @Sendable () async throws -> TopicEvent?) {
        self.channel = nil
        self.pull = next
    }

    /// Creates a sequence and the source that feeds it.
    ///
    /// - Parameter limit: The most events buffered before new ones are dropped.
    /// - Returns: The sequence and its source.
    public static func makeStream(limit: Int) -> (events: BackendEvents, source: Source) {
        precondition(limit > 0, "limit must be positive")
        let channel = Channel(limit: limit)
        return (BackendEvents(channel: channel), Source(channel: channel))
    }

    /// The producing side.
    public struct Source: Sendable {
        let channel: Channel

        /// Offers an event to the consumer.
        ///
        /// - Parameter event: The event.
        /// - Returns: Whether it was queued, dropped or discarded.
        @discardableResult
        public func yield(_ event: TopicEvent) -> YieldResult { channel.yield(event) }

        /// Ends the sequence; buffered events are still delivered first.
        ///
        /// - Parameter error: The error iteration throws after the buffered events, or `nil` for a normal end.
        public func finish(throwing error: (any Error)? = nil) { channel.finish(error) }

        /// The number of events waiting for the consumer.
        public var bufferedCount: Int { channel.bufferedCount }
    }

    /// Creates the iterator.
    ///
    /// - Returns: An iterator; use one per sequence.
    public func makeAsyncIterator() -> Iterator { Iterator(channel: channel, pull: pull) }

    /// The iterator.
    public struct Iterator: AsyncIteratorProtocol, Sendable {
        let channel: Channel?
        let pull: (@Sendable () async throws -> TopicEvent?)?

        /// The next event, or `nil` at the end.
        ///
        /// - Returns: The event.
        /// - Throws: The error the source finished with (channel mode) or the closure threw (pull mode).
        public mutating func next() async throws -> TopicEvent? {
            if let channel { return try await channel.next() }
            return try await pull?()
        }
    }

    final class Channel: Sendable {
        private struct State {
            var buffer: [TopicEvent] = []
            var head = 0
            var waiter: UnsafeContinuation<TopicEvent?, any Error>?
            var isFinished = false
            var error: (any Error)?

            var count: Int { buffer.count - head }

            mutating func popFirst() -> TopicEvent? {
                guard head < buffer.count else { return nil }
                let event = buffer[head]
                head += 1
                if head == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    head = 0
                } else if head >= 1024 && head * 2 >= buffer.count {
                    buffer.removeFirst(head)
                    head = 0
                }
                return event
            }
        }

        private enum Next {
            case event(TopicEvent)
            case end((any Error)?)
            case wait
        }

        let limit: Int
        private let state = Mutex(State())

        init(limit: Int) {
            self.limit = limit
        }

        var bufferedCount: Int { state.withLock { $0.count } }

        func yield(_ event: TopicEvent) -> YieldResult {
            let (result, waiter) = state.withLock {
                state -> (YieldResult, UnsafeContinuation<TopicEvent?, any Error>?) in
                if state.isFinished { return (.terminated, nil) }
                if let waiter = state.waiter {
                    state.waiter = nil
                    return (.enqueued, waiter)
                }
                guard state.count < limit else { return (.dropped, nil) }
                state.buffer.append(event)
                return (.enqueued, nil)
            }
            waiter?.resume(returning: event)
            return result
        }

        func finish(_ error: (any Error)?) {
            let waiter = state.withLock { state -> UnsafeContinuation<TopicEvent?, any Error>? in
                guard !state.isFinished else { return nil }
                state.isFinished = true
                state.error = error
                defer { state.waiter = nil }
                return state.count == 0 ? state.waiter : nil
            }
            if let waiter {
                if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
            }
        }

        private func take() -> Next {
            state.withLock { state in
                if let event = state.popFirst() { return .event(event) }
                if state.isFinished {
                    defer { state.error = nil }
                    return .end(state.error)
                }
                return .wait
            }
        }

        func next() async throws -> TopicEvent? {
            switch take() {
            case .event(let event): return event
            case .end(let error?): throw error
            case .end(nil): return nil
            case .wait: break
            }
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<TopicEvent?, any Error>) in
                    let next = state.withLock { state -> Next in
                        if let event = state.popFirst() { return .event(event) }
                        if state.isFinished {
                            defer { state.error = nil }
                            return .end(state.error)
                        }
                        state.waiter = continuation
                        return .wait
                    }
                    switch next {
                    case .event(let event): continuation.resume(returning: event)
                    case .end(let error?): continuation.resume(throwing: error)
                    case .end(nil): continuation.resume(returning: nil)
                    case .wait: break
                    }
                }
            } onCancel: {
                // As with AsyncStream, cancelling the consumer ends the sequence.
                finish(nil)
            }
        }
    }
}

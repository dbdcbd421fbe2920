import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

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

    /// The buffer behind a channel-mode sequence.
    ///
    /// Each buffered event carries a size in bytes (an estimate the hub computes; `0` for events given to
    /// ``Source/yield(_:)``), so that the channel can be bounded in events and in bytes. A channel is *full* when
    /// it holds ``limit`` events or ``byteLimit`` bytes; a push into a full channel is refused unless forced, so
    /// a channel holds at most ``limit`` events and ``byteLimit`` bytes plus one event's size, except for forced
    /// pushes (the hub's in-process publications into a reliable inbox, see ``InMemoryBackend/Hub``).
    ///
    /// A forced push into a full channel is an *overrun*: the channel counts it, and its hub's ``HubBacklog``,
    /// until the consumer has taken as many events (and bytes) back. Taking an event from a full channel also tells
    /// the backlog, which wakes publishers waiting for room. Nothing else touches shared state.
    final class Channel: Sendable {
        struct Entry {
            var event: TopicEvent
            var size: Int
            /// The event queue of the WebSocket client that published it, which counts it until it is handed out.
            var queue: ClientEventQueue?
        }

        private struct State {
            var buffer: [Entry] = []
            var head = 0
            var bytes = 0
            var waiter: UnsafeContinuation<TopicEvent?, any Error>?
            var isFinished = false
            var error: (any Error)?
            /// Whether overruns count in ``Channel/backlog``.
            var isAccounted: Bool
            /// Events pushed past the limits and not yet paid back by takes; never more than ``count``.
            var overrunEvents = 0
            /// Their bytes; never more than ``bytes``.
            var overrunBytes = 0

            var count: Int { buffer.count - head }

            mutating func popFirst() -> Entry? {
                guard head < buffer.count else { return nil }
                let entry = buffer[head]
                head += 1
                bytes -= entry.size
                if head == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    head = 0
                } else if head >= 1024 && head * 2 >= buffer.count {
                    buffer.removeFirst(head)
                    head = 0
                }
                return entry
            }
        }

        /// What a push did.
        enum PushResult: Equatable {
            /// Handed to the waiting consumer or buffered.
            case enqueued
            /// Buffered although the channel was full (a forced push).
            case overran
            /// Refused: the channel is full.
            case full
            /// The channel has finished; the event was discarded.
            case terminated
        }

        private enum Next {
            case event(Entry, payback: Payback?)
            case end((any Error)?)
            case wait
        }

        /// The most events buffered before the channel is full.
        let limit: Int
        /// The most bytes buffered before the channel is full.
        let byteLimit: Int
        /// The hub's backlog, told about overruns and about events taken while the channel is full.
        let backlog: HubBacklog?
        private let state: Guarded<State>

        init(limit: Int, byteLimit: Int = .max, backlog: HubBacklog? = nil) {
            self.limit = limit
            self.byteLimit = byteLimit
            self.backlog = backlog
            self.state = Guarded(State(isAccounted: backlog != nil))
        }

        var bufferedCount: Int { state.withLock { $0.count } }

        /// The events and bytes buffered.
        var buffered: (events: Int, bytes: Int) { state.withLock { ($0.count, $0.bytes) } }

        /// A Boolean value indicating whether the channel holds its limit of events or bytes.
        var isFull: Bool { state.withLock { $0.count >= limit || $0.bytes >= byteLimit } }

        func yield(_ event: TopicEvent) -> YieldResult {
            switch push(event, size: 0, force: false) {
            case .enqueued, .overran: .enqueued
            case .full: .dropped
            case .terminated: .terminated
            }
        }

        /// Hands the event to a waiting consumer or buffers it; a full channel refuses it unless `force`.
        ///
        /// The event is copied once, into the buffer or to the consumer. A buffered event counts in `queue` (its
        /// publishing client's) until it is handed out.
        func push(_ event: TopicEvent, size: Int, force: Bool, queue: ClientEventQueue? = nil) -> PushResult {
            let (result, waiter, accounted) = state.withLock {
                state -> (PushResult, UnsafeContinuation<TopicEvent?, any Error>?, Bool) in
                if state.isFinished { return (.terminated, nil, false) }
                if let waiter = state.waiter {
                    state.waiter = nil
                    return (.enqueued, waiter, false)
                }
                let isFull = state.count >= limit || state.bytes >= byteLimit
                if isFull && !force { return (.full, nil, false) }
                state.buffer.append(Entry(event: event, size: size, queue: queue))
                // Counted before the lock is let go, so that taking the event never comes first.
                queue?.queued()
                state.bytes += size
                guard isFull else { return (.enqueued, nil, false) }
                state.overrunEvents += 1
                state.overrunBytes += size
                return (.overran, nil, state.isAccounted)
            }
            if accounted { backlog?.overran(size: size) }
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

        /// Finishes with `error` at once: buffered events are discarded, so the consumer gets the error next.
        ///
        /// - Returns: How many buffered events were discarded.
        func abandon(throwing error: any Error) -> Int {
            let (discarded, waiter, queued) = state.withLock {
                state -> (Int, UnsafeContinuation<TopicEvent?, any Error>?, [(ClientEventQueue, Int)]) in
                guard !state.isFinished else { return (0, nil, []) }
                let discarded = state.count
                let queued = Self.takeQueueCounts(&state)
                state.buffer = []
                state.head = 0
                state.bytes = 0
                state.isFinished = true
                state.error = error
                defer { state.waiter = nil }
                return (discarded, state.waiter, queued)
            }
            for (queue, count) in queued { queue.handedOut(count) }
            waiter?.resume(throwing: error)
            return discarded
        }

        /// Takes the buffered events out of their clients' event queues (they will never be handed out), as
        /// (queue, count) pairs.
        private static func takeQueueCounts(_ state: inout State) -> [(ClientEventQueue, Int)] {
            var counts: [ObjectIdentifier: (ClientEventQueue, Int)] = [:]
            for index in state.head..<state.buffer.count {
                guard let queue = state.buffer[index].queue else { continue }
                state.buffer[index].queue = nil
                counts[ObjectIdentifier(queue), default: (queue, 0)].1 += 1
            }
            return Array(counts.values)
        }

        /// Stops counting this channel in the hub's backlog and in its clients' event queues (its endpoint left the
        /// hub) and takes its overrun back.
        func stopAccounting() {
            let (overrun, queued) = state.withLock { state -> ((events: Int, bytes: Int)?, [(ClientEventQueue, Int)]) in
                let queued = Self.takeQueueCounts(&state)
                guard state.isAccounted else { return (nil, queued) }
                state.isAccounted = false
                return ((state.overrunEvents, state.overrunBytes), queued)
            }
            for (queue, count) in queued { queue.handedOut(count) }
            guard let overrun, let backlog else { return }
            backlog.paidBack(events: overrun.events, bytes: overrun.bytes)
            backlog.madeRoom()
        }

        /// What taking an event from a full, accounted channel owes the backlog.
        private struct Payback {
            var events: Int
            var bytes: Int
        }

        private func take(_ state: inout State) -> Next {
            let wasFull = state.count >= limit || state.bytes >= byteLimit
            if let entry = state.popFirst() {
                guard wasFull, state.isAccounted else { return .event(entry, payback: nil) }
                let events = Swift.min(1, state.overrunEvents)
                let bytes = Swift.min(entry.size, state.overrunBytes)
                state.overrunEvents -= events
                state.overrunBytes -= bytes
                return .event(entry, payback: Payback(events: events, bytes: bytes))
            }
            if state.isFinished {
                defer { state.error = nil }
                return .end(state.error)
            }
            return .wait
        }

        /// Tells the publishing client's event queue that its event was handed out, and the backlog about an event
        /// taken from a full channel.
        private func settle(_ entry: Entry, _ payback: Payback?) {
            entry.queue?.handedOut()
            guard let payback, let backlog else { return }
            backlog.paidBack(events: payback.events, bytes: payback.bytes)
            backlog.madeRoom()
        }

        func next() async throws -> TopicEvent? {
            switch state.withLock({ take(&$0) }) {
            case .event(let entry, let payback):
                settle(entry, payback)
                return entry.event
            case .end(let error?): throw error
            case .end(nil): return nil
            case .wait: break
            }
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<TopicEvent?, any Error>) in
                    let next = state.withLock { state -> Next in
                        let next = take(&state)
                        if case .wait = next { state.waiter = continuation }
                        return next
                    }
                    switch next {
                    case .event(let entry, let payback):
                        settle(entry, payback)
                        continuation.resume(returning: entry.event)
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

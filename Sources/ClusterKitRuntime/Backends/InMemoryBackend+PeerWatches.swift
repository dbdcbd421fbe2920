package import ClusterKitModel

extension InMemoryBackend.Hub {
    /// The watches of ``peerSubscriptions(to:)``.
    struct PeerWatches: Sendable {
        var next: UInt64 = 0
        var watches: [UInt64: (topic: Topic, continuation: AsyncStream<String>.Continuation)] = [:]
    }

    /// The WebSocket clients that subscribe to `topic` (to it or a prefix of it), by their endpoint label, as they
    /// do; in-process endpoints are not reported.
    ///
    /// This is what a Zeek endpoint learns from `Broker::peer_added`, narrowed to the peers that would hear it: a
    /// listening agent says hello when a controller's connection subscribes to its topic. The stream keeps the
    /// latest 16 unread reports and ends when the task iterating it is cancelled or the watch is dropped.
    ///
    /// - Parameter topic: The topic.
    /// - Returns: The labels of the subscribing clients.
    package func peerSubscriptions(to topic: Topic) -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let key = peerWatches.withLock { state in
            defer { state.next += 1 }
            state.watches[state.next] = (topic, continuation)
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            self?.peerWatches.withLock { _ = $0.watches.removeValue(forKey: key) }
        }
        return stream
    }

    /// Reports a WebSocket client's subscription to the watches it concerns.
    func notePeerSubscription(_ prefix: Topic, by id: UInt64) {
        let watchers = peerWatches.withLock { state in
            state.watches.values.filter { $0.topic.hasPrefix(prefix) }.map(\.continuation)
        }
        guard !watchers.isEmpty else { return }
        let label = participants.withLock { $0[id].flatMap { $0.kind == .webSocketClient ? $0.label : nil } }
        guard let label else { return }
        for watcher in watchers { watcher.yield(label) }
    }
}

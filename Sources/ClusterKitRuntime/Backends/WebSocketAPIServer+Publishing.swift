import ClusterKitModel
import ClusterKitWebSocket

extension WebSocketAPIServer {
    // MARK: - Publishing, both ways

    private static let noTopic = Broker.ErrorMessage(
        code: "deserialization_failed",
        context: "no topic in top-level JSON object"
    )
    private static let notDecodable = Broker.ErrorMessage(
        code: "deserialization_failed",
        context: "failed to decode JSON object"
    )
    private static let notAnEvent = Broker.ErrorMessage(
        code: "deserialization_failed",
        context: "failed to create Zeek event"
    )

    /// Hub → client: every event for the client's endpoint, as a data message.
    func forwardEvents(of endpoint: InMemoryBackend, to connection: WebSocketConnection) async {
        do {
            for try await received in endpoint.events {
                try await connection.send(
                    utf8Text: BrokerJSONEncoder.dataMessage(received.event, topic: received.topic.name)
                )
            }
        } catch {
            return
        }
    }

    /// Client → hub: each frame in order; a bad one gets an error frame and the next one is read.
    func publishFrames(
        of connection: WebSocketConnection,
        through endpoint: InMemoryBackend,
        isNode: Bool
    ) async {
        do {
            while let message = try await connection.receive() {
                if let error = await publish(message, through: endpoint, isNode: isNode) {
                    try await connection.send(.error(error))
                }
            }
        } catch {
            return
        }
    }

    /// Publishes one client frame; returns the error frame to answer with, if any.
    private func publish(
        _ message: WebSocketMessage,
        through endpoint: InMemoryBackend,
        isNode: Bool
    ) async -> Broker.ErrorMessage? {
        if let (topic, event) = message.compactEvent() {
            return await publish(event, on: topic, size: message.byteCount, through: endpoint, isNode: isNode)
        }
        let decoded: Broker.Message
        do {
            decoded = try message.brokerMessage()
        } catch let error as JSONError where error.message == Self.noTopic.context {
            return Self.noTopic
        } catch {
            return Self.notDecodable
        }
        guard case .data(let data) = decoded else { return Self.notDecodable }
        guard let event = try? Broker.Event(data.value) else { return Self.notAnEvent }
        return await publish(event, on: data.topic, size: message.byteCount, through: endpoint, isNode: isNode)
    }

    private func publish(
        _ event: Broker.Event,
        on topic: String,
        size: Int,
        through endpoint: InMemoryBackend,
        isNode: Bool
    ) async -> Broker.ErrorMessage? {
        if hasNodeToken, let refusal = permission(for: event.name, isNode: isNode) {
            count(\.refusedEvents)
            return refusal
        }
        if let catalog = options.catalog, catalog.check(event) != nil { return Self.notAnEvent }
        let published = TopicEvent(topic: Topic(topic), event: event)
        do {
            guard let reason = try endpoint.tryPublish(published, size: size) else { return nil }
            // Zeek stalls a client whose event does not fit max_event_queue_size, silently; so does this, within
            // the publish timeout.
            if case .eventQueue = reason { count(\.eventQueueStalls) }
            if try await publishWhenRoom(published, size: size, through: endpoint) { return nil }
            count(\.publishTimeouts)
            return Broker.ErrorMessage(
                code: "broker_error",
                context:
                    "\(Self.notProcessed(topic)): \(reason) stayed full for \(options.publishTimeout.textForPeople)"
            )
        } catch {
            return Broker.ErrorMessage(code: "broker_error", context: Self.notProcessed(topic))
        }
    }

    /// Zeek's context of a `broker_error`: `Could not process remote event on topic '<topic>'`.
    private static func notProcessed(_ topic: String) -> String {
        "Could not process remote event on topic '\(topic)'"
    }

    /// Waits for room for a client's event at most ``Options/publishTimeout``; returns whether it was delivered.
    private func publishWhenRoom(
        _ event: TopicEvent,
        size: Int,
        through endpoint: InMemoryBackend
    ) async throws -> Bool {
        let clock = self.clock
        let limit = options.publishTimeout
        return try await withThrowingTaskGroup(of: Bool?.self) { group in
            group.addTask {
                try await endpoint.publishWhenRoom(event, size: size)
                return true
            }
            group.addTask {
                do {
                    try await clock.sleep(for: limit)
                } catch {
                    return nil
                }
                return false
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let next { return next }
            }
            throw CancellationError()
        }
    }
}

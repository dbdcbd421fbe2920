import ClusterKitModel
import ClusterKitWebSocket

extension WebSocketAPIServer {
    /// The most topic prefixes one subscription frame may hold: 1,024.
    ///
    /// A frame with more gets a `subscription_limit` error frame and close 1008. Zeek has no such limit; it
    /// bounds the subscription table one client can grow.
    public static let maximumSubscriptions = 1_024

    /// The longest topic prefix of a subscription frame, in bytes of UTF-8: 1,024 (same refusal as
    /// ``maximumSubscriptions``).
    public static let maximumSubscriptionLength = 1_024

    var subscriptionTimeoutText: String {
        "no subscriptions within \(options.subscriptionTimeout?.textForPeople ?? "the time limit")"
    }

    /// What the subscription phase gave.
    enum SubscriptionPhase: Sendable {
        case subscribed([String])
        /// The client left, or the server is stopping.
        case closed
        /// No valid subscription frame in time.
        case timedOut
    }

    /// Reads the subscription frame within the subscription timeout.
    ///
    /// A frame that is not a valid subscription array gets its error frame; the connection then stays open and
    /// its later frames are read and dropped (Zeek queues them for an ack that cannot come) until the client
    /// leaves or the time is up. A frame over the subscription limits gets its error frame and close 1008.
    func awaitSubscriptions(on connection: WebSocketConnection) async -> SubscriptionPhase {
        let read: @Sendable () async -> SubscriptionPhase = {
            do {
                guard let first = try await connection.receive() else { return .closed }
                switch Self.subscriptions(in: first) {
                case .success(let subscriptions):
                    return .subscribed(subscriptions)
                case .failure(let error) where error.code == "subscription_limit":
                    await self.reject(connection, code: error.code, context: error.context)
                    return .closed
                case .failure(let error):
                    try await connection.send(.error(error))
                    while try await connection.receive() != nil {}
                    return .closed
                }
            } catch {
                return .closed
            }
        }
        guard let limit = options.subscriptionTimeout else { return await read() }
        let clock = self.clock
        return await withTaskGroup(of: SubscriptionPhase?.self) { group in
            group.addTask { await read() }
            group.addTask {
                do {
                    try await clock.sleep(for: limit)
                } catch {
                    return nil
                }
                return .timedOut
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                if let next { return next }
            }
            return .closed
        }
    }

    /// What a subscription frame held.
    enum SubscriptionFrame: Equatable {
        /// The topic prefixes.
        case success([String])
        /// The error frame to answer with.
        case failure(Broker.ErrorMessage)
    }

    /// Reads the subscription frame as Zeek does.
    ///
    /// Anything that does not parse as a JSON array (invalid JSON included) is "not an array". Prefixes come
    /// back sorted by bytes and without duplicates, as Zeek keeps them. More than ``maximumSubscriptions``
    /// prefixes, or one longer than ``maximumSubscriptionLength`` bytes, is a `subscription_limit` failure.
    static func subscriptions(in message: WebSocketMessage) -> SubscriptionFrame {
        guard case .array(let elements)? = try? JSONValue.parse(message.textContent) else {
            return .failure(Broker.ErrorMessage(code: "deserialization_failed", context: "subscriptions not an array"))
        }
        var topics: Set<Topic> = []
        for element in elements {
            guard case .string(let topic) = element else {
                return .failure(
                    Broker.ErrorMessage(code: "deserialization_failed", context: "individual subscription not a string")
                )
            }
            guard topic.utf8.count <= maximumSubscriptionLength else {
                return .failure(
                    Broker.ErrorMessage(
                        code: "subscription_limit",
                        context: "subscription longer than \(maximumSubscriptionLength) bytes"
                    )
                )
            }
            topics.insert(Topic(topic))
        }
        guard topics.count <= maximumSubscriptions else {
            return .failure(
                Broker.ErrorMessage(
                    code: "subscription_limit",
                    context: "more than \(maximumSubscriptions) subscriptions"
                )
            )
        }
        return .success(topics.sorted().map(\.name))
    }
}

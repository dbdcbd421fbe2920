public import ClusterKitModel

extension ClusterBackend {
    /// Publishes an event whose arguments are Swift values, each encoded with ``Broker/ValueEncoder``.
    ///
    /// ```swift
    /// try await backend.publish("NetControl::pubsub_add_rules", (id, rules), to: topic)
    /// ```
    ///
    /// - Parameters:
    ///   - name: The event's name.
    ///   - arguments: The arguments, in order, as a tuple (one value alone for an event of one argument).
    ///   - topic: The topic.
    /// - Throws: ``Broker/ConversionError`` naming the argument (`[1].rules[0].priority: …`) when one cannot be
    ///   encoded; ``BackendError`` from the backend.
    public func publish<each Argument: Encodable>(
        _ name: String,
        _ arguments: (repeat each Argument),
        to topic: Topic
    ) async throws {
        var values: [Broker.Value] = []
        for argument in repeat each arguments {
            let index = values.count
            do {
                values.append(try Broker.ValueEncoder().encode(argument))
            } catch let error as Broker.ConversionError {
                throw error.within("[\(index)]")
            }
        }
        try await publish(Broker.Event(name, values), to: topic)
    }

    /// The events of one name that this backend receives, with their arguments decoded as Swift values by
    /// ``Broker/ValueDecoder``.
    ///
    /// It reads the backend's ``events`` as it is iterated (they have one reader; nothing is read ahead): events of
    /// other names are skipped, and so is an event whose arguments do not decode (with `onMismatch` told which and
    /// why). Subscribe to the topic first.
    ///
    /// ```swift
    /// for try await (id, rules) in backend.events(named: "NetControl::rule_added", as: (String, [Rule]).self) { … }
    /// ```
    ///
    /// - Parameters:
    ///   - name: The event's name.
    ///   - types: The arguments' types, as a tuple type.
    ///   - onMismatch: Told of each event of that name whose arguments do not decode; default nothing.
    /// - Returns: The decoded arguments of each event, in order; the sequence ends when the backend's events end.
    public func events<each Argument: Decodable & Sendable>(
        named name: String,
        as types: (repeat each Argument).Type,
        onMismatch: @escaping @Sendable (Broker.Event, Broker.ConversionError) -> Void = { _, _ in }
    ) -> TypedEvents<repeat each Argument> {
        TypedEvents(events: events, name: name, onMismatch: onMismatch)
    }
}

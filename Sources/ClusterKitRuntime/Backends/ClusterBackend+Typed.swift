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
    /// It reads the backend's ``events``, which have one reader: events of other names are skipped, and so is an
    /// event whose arguments do not decode (with `onMismatch` told which and why). Subscribe to the topic first.
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
    ) -> AsyncThrowingStream<(repeat each Argument), any Error> {
        let events = self.events
        return AsyncThrowingStream { continuation in
            let reader = Task {
                do {
                    for try await received in events where received.event.name == name {
                        let decoded: (repeat each Argument)
                        do throws(Broker.ConversionError) {
                            decoded = try TypedArguments.decode(received.event.arguments, as: types)
                        } catch {
                            onMismatch(received.event, error)
                            continue
                        }
                        continuation.yield(decoded)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reader.cancel() }
        }
    }
}

/// Decodes an event's arguments into a tuple of Swift values.
enum TypedArguments {
    static func decode<each Argument: Decodable>(
        _ arguments: [Broker.Value],
        as types: (repeat each Argument).Type
    ) throws(Broker.ConversionError) -> (repeat each Argument) {
        var expected = 0
        for _ in repeat (each Argument).self { expected += 1 }
        guard arguments.count == expected else {
            throw Broker.ConversionError(
                .tooFewFields,
                "expected \(expected) arguments, got \(arguments.count)"
            )
        }
        var index = 0
        func next<T: Decodable>(_ type: T.Type) throws(Broker.ConversionError) -> T {
            defer { index += 1 }
            do {
                return try Broker.ValueDecoder().decode(type, from: arguments[index])
            } catch let error as Broker.ConversionError {
                throw error.within("[\(index)]")
            } catch {
                throw Broker.ConversionError(.invalidValue, "\(error)", path: ["[\(index)]"])
            }
        }
        return (repeat try next((each Argument).self))
    }
}

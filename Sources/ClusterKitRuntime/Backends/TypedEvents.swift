import ClusterKitModel

/// The events of one name that a backend receives, their arguments decoded as Swift values by
/// ``Broker/ValueDecoder`` (``ClusterBackend/events(named:as:onMismatch:)``).
///
/// It reads the backend's ``ClusterBackend/events`` as it is iterated, in the iterating task: nothing is read
/// ahead or buffered here, so the backend's own bound on waiting events holds (and a consumer that stops
/// reading slows the producer down, as with the untyped events). Events of other names are skipped, and so is an
/// event whose arguments do not decode, after it is given to `onMismatch`. Like the backend's events, it has one
/// consumer.
public struct TypedEvents<each Argument: Decodable & Sendable>: AsyncSequence, Sendable {
    /// The decoded arguments of one event, in order.
    public typealias Element = (repeat each Argument)

    let events: BackendEvents
    let name: String
    let onMismatch: @Sendable (Broker.Event, Broker.ConversionError) -> Void

    /// Creates the iterator.
    ///
    /// - Returns: An iterator; use one per sequence.
    public func makeAsyncIterator() -> Iterator {
        Iterator(events: events.makeAsyncIterator(), name: name, onMismatch: onMismatch)
    }

    /// The iterator.
    public struct Iterator: AsyncIteratorProtocol, Sendable {
        var events: BackendEvents.Iterator
        let name: String
        let onMismatch: @Sendable (Broker.Event, Broker.ConversionError) -> Void

        /// The next event of the name whose arguments decode, or `nil` when the backend's events end.
        ///
        /// - Returns: The decoded arguments.
        /// - Throws: The error the backend's events end with.
        public mutating func next() async throws -> (repeat each Argument)? {
            while let received = try await events.next() {
                guard received.event.name == name else { continue }
                do throws(Broker.ConversionError) {
                    let decoded: (repeat each Argument) = try TypedArguments.decode(received.event.arguments)
                    return decoded
                } catch {
                    onMismatch(received.event, error)
                }
            }
            return nil
        }
    }
}

/// Decodes an event's arguments into a tuple of Swift values.
enum TypedArguments {
    static func decode<each Argument: Decodable>(
        _ arguments: [Broker.Value],
        as types: (repeat each Argument).Type
    ) throws(Broker.ConversionError) -> (repeat each Argument) {
        try decode(arguments)
    }

    static func decode<each Argument: Decodable>(
        _ arguments: [Broker.Value]
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

import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// Zeek event declarations that a ``WebSocketAPIServer`` checks its clients' events against.
///
/// Zeek's own WebSocket server turns every event a client publishes into a Zeek event before it forwards it,
/// so the event must be declared in the receiving Zeek, carry exactly as many arguments as it has
/// parameters (`&default` ones included), and each argument must convert to the parameter's type;
/// otherwise the client gets `failed to create Zeek event` (PROTOCOL.md §1.4, §3.2). A catalog holds what
/// that check needs: each event's name and, per parameter, the top-level Broker type its Zeek type arrives
/// as (a record as a `vector`, a `set[string]` as a `set`, `any` as any type).
///
/// The check is shallow on purpose: it looks at each argument's top-level type only, not inside records,
/// sets or vectors. ``standard`` declares the Management framework's controller, agent, node and
/// Supervisor events, the Control framework's events and `Cluster::hello`, with Zeek 8.0.10's signatures.
///
/// ```swift
/// var catalog = EventCatalog.standard
/// catalog.declare(EventCatalog.Signature("X::ping", [("n", .count)]))
/// ```
public struct EventCatalog: Sendable, Hashable {
    /// One declared parameter: its name and the Broker type its argument must have.
    public struct Parameter: Sendable, Hashable {
        /// The parameter's name in the Zeek declaration, for messages.
        public var name: String
        /// The Broker type the argument must have, or `nil` for Zeek's `any` (every type converts).
        public var type: Broker.DataType?
        /// Whether the parameter has a default (`&default`), so that an event may leave it out; only trailing
        /// parameters can.
        public var hasDefault: Bool

        /// Creates a parameter.
        ///
        /// - Parameters:
        ///   - name: The parameter's name.
        ///   - type: The Broker type its argument must have, or `nil` for any.
        ///   - hasDefault: Whether an event may leave it out; default `false`.
        public init(_ name: String, _ type: Broker.DataType?, hasDefault: Bool = false) {
            self.name = name
            self.type = type
            self.hasDefault = hasDefault
        }
    }

    /// One event's declaration: its fully qualified name and its parameters in order.
    public struct Signature: Sendable, Hashable {
        /// The fully qualified event name, such as `Control::id_value_request`.
        public var name: String
        /// The parameters, in declaration order.
        public var parameters: [Parameter]

        /// Creates a signature.
        ///
        /// - Parameters:
        ///   - name: The fully qualified event name.
        ///   - parameters: The parameters in order, as name and Broker type (`nil` for any).
        public init(_ name: String, _ parameters: [(String, Broker.DataType?)] = []) {
            self.name = name
            self.parameters = parameters.map { Parameter($0.0, $0.1) }
        }

        /// Creates a signature from parameters, some of which may have defaults.
        ///
        /// - Parameters:
        ///   - name: The fully qualified event name.
        ///   - parameters: The parameters in order.
        public init(_ name: String, parameters: [Parameter]) {
            self.name = name
            self.parameters = parameters
        }

        /// The fewest arguments an event may carry: the parameters before the trailing ones with defaults.
        public var requiredCount: Int {
            parameters.count - parameters.reversed().prefix { $0.hasDefault }.count
        }
    }

    /// Why an event does not fit the catalog.
    ///
    /// A client sees only Zeek's fixed context `failed to create Zeek event`; the issue's message is for
    /// logs and tests.
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        /// The broad kind of mismatch.
        public enum Code: String, Sendable, Hashable, CaseIterable {
            /// No event of that name is declared.
            case unknownEvent
            /// The number of arguments differs from the number of parameters.
            case wrongArgumentCount
            /// An argument's Broker type does not convert to its parameter's type.
            case wrongArgumentType
        }

        /// The broad kind of mismatch.
        public var code: Code
        /// A short text for people, naming the event and, where it applies, the parameter.
        public var message: String

        /// Creates an issue.
        ///
        /// - Parameters:
        ///   - code: The kind of mismatch.
        ///   - message: A short text for people.
        public init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        /// The message, as in `event 'X::ping' takes 1 argument, got 2`.
        public var description: String { message }
    }

    /// The declared events, by name.
    public private(set) var signatures: [String: Signature]

    /// Creates a catalog.
    ///
    /// - Parameter signatures: The declarations; a later one replaces an earlier one of the same name.
    public init(_ signatures: [Signature] = []) {
        self.signatures = [:]
        for signature in signatures { declare(signature) }
    }

    /// Declares an event, replacing any earlier declaration of the same name.
    ///
    /// - Parameter signature: The declaration.
    public mutating func declare(_ signature: Signature) {
        signatures[signature.name] = signature
    }

    /// A catalog with the declarations of both catalogs; `other`'s win on a clash.
    ///
    /// - Parameter other: Another catalog.
    /// - Returns: The combined catalog.
    public func merging(_ other: EventCatalog) -> EventCatalog {
        var result = self
        for signature in other.signatures.values { result.declare(signature) }
        return result
    }

    /// The declaration of an event.
    ///
    /// - Parameter name: The fully qualified event name.
    /// - Returns: The signature, or `nil` when the event is not declared.
    public subscript(name: String) -> Signature? { signatures[name] }

    /// Checks an event as Zeek's WebSocket server does before forwarding it.
    ///
    /// - Parameter event: The event a client published.
    /// - Returns: `nil` when the event is declared and every argument has its parameter's type, else the
    ///   first mismatch.
    public func check(_ event: Broker.Event) -> Issue? {
        guard let signature = signatures[event.name] else {
            return Issue(.unknownEvent, "unknown event '\(event.name)'")
        }
        let expected = signature.parameters.count
        let required = signature.requiredCount
        guard (required...expected).contains(event.arguments.count) else {
            let count = required == expected ? "\(expected)" : "\(required) to \(expected)"
            return Issue(
                .wrongArgumentCount,
                "event '\(event.name)' takes \(count) argument\(expected == 1 ? "" : "s"), got \(event.arguments.count)"
            )
        }
        for (parameter, argument) in zip(signature.parameters, event.arguments) {
            guard let type = parameter.type, argument.dataType != type else { continue }
            return Issue(
                .wrongArgumentType,
                "argument '\(parameter.name)' of '\(event.name)' must be \(type.rawValue), got \(argument.dataType.rawValue)"
            )
        }
        return nil
    }
}

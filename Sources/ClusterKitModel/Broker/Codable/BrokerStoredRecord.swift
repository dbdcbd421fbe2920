/// A struct whose Broker record is its stored properties in declaration order, each in its bridge form: what a
/// synthesized `Encodable` conformance writes through ``Broker/ValueEncoder``, written straight from the value.
///
/// The conformance has no requirements; it is a promise that the type's `encode(to:)` is the synthesized one (or
/// writes the same). ``Broker/ValueEncoder`` then reads the type's stored properties from its memory, with their
/// offsets and types learnt once from the Swift runtime's reflection metadata, instead of calling `encode(to:)`:
/// no `Encoder`, no keyed container, no key per field. A record of scalars encodes about as fast as a hand-written
/// ``BrokerRecord`` (`Docs/codable-bridge.md`, "Speed").
///
/// ```swift
/// struct Rule: Codable, BrokerStoredRecord {
///     var id: String
///     var priority: Int
///     var expires: Date?
/// }
/// ```
///
/// - Properties of the bridge's direct types (the standard library's numbers and strings, `[String]`, `Date`,
///   `Duration`, the Broker scalars, `Broker.Value`) and `Optional`s of them are read in place; any other property
///   (a nested record, a collection, an enum) is encoded by the bridge's rules, as a property of any `Codable`
///   type is.
/// - A type the bridge cannot read this way goes through its `encode(to:)` as before: a class, or a struct with a
///   property that is a class reference (`weak`, `unowned` or strong), `lazy`, or not `Encodable`.
/// - Decoding is unchanged: ``Broker/ValueDecoder`` reads the type through its `init(from:)`.
/// - Custom `CodingKeys` or a hand-written `encode(to:)` are not consulted: do not conform such a type.
public protocol BrokerStoredRecord: Encodable {}

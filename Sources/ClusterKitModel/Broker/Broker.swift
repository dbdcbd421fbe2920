/// Broker's data model and its JSON v1 encoding, plus the Zeek `Broker::` records ClusterKit needs.
///
/// ``Broker/Value`` holds any of Broker's fifteen data types; ``Broker/JSON`` reads and writes the JSON v1
/// form used by Zeek's WebSocket API; ``Broker/Event`` and ``Broker/Message`` are the event and envelope
/// shapes on top of it.
public enum Broker: Sendable {}

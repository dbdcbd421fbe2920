import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension TopicEvent {
    /// A cheap estimate, in bytes, of what the event holds, for bounding the hub's inboxes in bytes.
    ///
    /// Each value counts 16 bytes, strings (names, enum values and the topic included) their UTF-8 bytes on
    /// top. The walk looks at no more than ``estimateBudget`` values: containers beyond that count 16 bytes per
    /// element without being looked into, so the cost stays small for any event. Events from WebSocket clients
    /// use their frame's length instead.
    var estimatedSize: Int {
        var budget = Self.estimateBudget
        var size = 64 + topic.name.utf8.count + event.name.utf8.count
        for argument in event.arguments { size += Self.estimatedSize(of: argument, budget: &budget) }
        for entry in event.metadata ?? [] { size += 16 + Self.estimatedSize(of: entry.value, budget: &budget) }
        return size
    }

    /// How many values ``estimatedSize`` looks at, at most.
    static let estimateBudget = 256

    private static func estimatedSize(of value: Broker.Value, budget: inout Int) -> Int {
        budget -= 1
        switch value {
        case .string(let text), .enumValue(let text):
            return 16 + text.utf8.count
        case .vector(let elements):
            return 16 + estimatedSize(of: elements, budget: &budget)
        case .set(let elements):
            return 16 + estimatedSize(of: elements.elements, budget: &budget)
        case .table(let entries):
            var size = 16
            for (index, entry) in entries.entries.enumerated() {
                guard budget > 0 else { return size + 32 * (entries.count - index) }
                size += estimatedSize(of: entry.key, budget: &budget) + estimatedSize(of: entry.value, budget: &budget)
            }
            return size
        default:
            return 16
        }
    }

    /// The elements' sizes, walked while the budget lasts; the rest count 16 bytes each.
    private static func estimatedSize(of elements: [Broker.Value], budget: inout Int) -> Int {
        var size = 0
        for (index, element) in elements.enumerated() {
            guard budget > 0 else { return size + 16 * (elements.count - index) }
            size += estimatedSize(of: element, budget: &budget)
        }
        return size
    }
}

/// What performing one effect of the controller's or an agent's state machine at once did.
enum ImmediateEffect<Effect> {
    /// It was performed.
    case performed
    /// It needs waiting: the driver's `performWaiting` does it.
    case needsWaiting
    /// The tracker refused the request; these effects replace the rest of the step's.
    case trackingFailed([Effect])
}

/// How the controller's and the agents' drivers perform their state machines' effects, in order.
enum StateMachineEffects {
    /// Performs `effects` in order in the calling task: at once where possible, else waiting.
    ///
    /// - Parameters:
    ///   - effects: The effects of one step.
    ///   - atOnce: Performs an effect that needs no waiting, or says that it does.
    ///   - waiting: Performs an effect that needs waiting.
    /// - Throws: What `waiting` throws; the effects after it are not performed.
    static func perform<Effect>(
        _ effects: [Effect],
        atOnce: (Effect) -> ImmediateEffect<Effect>,
        waiting: (Effect) async throws -> Void
    ) async throws {
        for effect in effects {
            switch atOnce(effect) {
            case .performed:
                continue
            case .needsWaiting:
                try await waiting(effect)
            case .trackingFailed(let replacement):
                try await perform(replacement, atOnce: atOnce, waiting: waiting)
                return
            }
        }
    }

    /// Performs the effects that need no waiting at once, in order, up to the first one that does.
    ///
    /// - Parameters:
    ///   - effects: The effects of one step.
    ///   - atOnce: Performs an effect that needs no waiting, or says that it does.
    /// - Returns: The effects from the first one that needs waiting on, for a spawned task; empty when none does.
    static func performUntilWaiting<Effect>(
        _ effects: [Effect],
        atOnce: (Effect) -> ImmediateEffect<Effect>
    ) -> [Effect] {
        for (index, effect) in effects.enumerated() {
            switch atOnce(effect) {
            case .performed:
                continue
            case .needsWaiting:
                return Array(effects[index...])
            case .trackingFailed(let replacement):
                return performUntilWaiting(replacement, atOnce: atOnce)
            }
        }
        return []
    }
}

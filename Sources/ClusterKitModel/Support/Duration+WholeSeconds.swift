extension Duration {
    /// The duration in whole seconds, rounded up, and zero for a negative one: how Zeek's supervisor counts its
    /// revival delays, and how a wait is told to a person (`restarting in 1 s`).
    package var wholeSecondsRoundedUp: Int64 {
        guard self > .zero else { return 0 }
        return components.seconds + (components.attoseconds > 0 ? 1 : 0)
    }
}

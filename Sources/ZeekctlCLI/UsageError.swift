/// A mistake on the command line, reported as one line and exit status 64.
struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text, naming the bad token (`unknown option '--fromat' for 'zeekctl check'`).
    var message: String

    init(_ message: String) { self.message = message }

    var description: String { message }
}

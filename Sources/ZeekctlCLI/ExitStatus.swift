/// The exit statuses of `zeekctl`, in one place (listed in Docs/zeekctl.md).
package enum ExitStatus: Int32, Sendable, Equatable {
    /// Everything succeeded: every node replied, or no validation error.
    case success = 0
    /// Nothing succeeded, the operation could not run, or validation found errors.
    case failure = 1
    /// Some nodes replied and some failed or timed out.
    case partial = 2
    /// The command line was wrong (BSD `EX_USAGE`).
    case usage = 64
}

import ClusterKitModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The signal numbers the supervisor sends.
enum SupervisorSignal {
    /// SIGTERM: the polite stop request.
    static let terminate: Int32 = SIGTERM
    /// SIGKILL: the stop that cannot be ignored.
    static let kill: Int32 = SIGKILL
}

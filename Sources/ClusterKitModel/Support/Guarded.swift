public import Synchronization

#if CLUSTERKIT_TSAN
// Used only by `withLock`'s body, which other modules inline (the topic router's is public and inlinable).
public import CClusterKitSupport
#endif

/// Shared mutable state behind a `Synchronization.Mutex`, which ThreadSanitizer can see.
///
/// Every piece of state that more than one thread touches lives in one of these (STYLE: no hand-made locks).
/// It is a `Mutex` and nothing more, except in a ThreadSanitizer build (`scripts/tsan.sh`, which sets
/// `CLUSTERKIT_TSAN=1`): there the body of every `withLock` also tells ThreadSanitizer that it acquires and
/// releases the state, because TSan does not intercept the futex that `Mutex` is built on and would otherwise
/// report every access the mutex orders as a race (`Docs/load-and-faults.md`, "ThreadSanitizer").
@usableFromInline package struct Guarded<Value: ~Copyable>: ~Copyable {
    @usableFromInline let mutex: Mutex<Value>

    @usableFromInline package init(_ initialValue: consuming sending Value) {
        mutex = Mutex(initialValue)
    }

    /// Whether `withLock` tells ThreadSanitizer about the mutex: built with CLUSTERKIT_TSAN=1 and the C shim
    /// compiled with ThreadSanitizer (`scripts/tsan.sh` checks it, so that a run never passes by seeing nothing).
    package static var isVisibleToThreadSanitizer: Bool {
        #if CLUSTERKIT_TSAN
        ck_sanitizer_thread_enabled() == 1
        #else
        false
        #endif
    }

    /// Runs `body` with exclusive access to the state, as `Mutex.withLock` does.
    @inlinable
    package borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try mutex.withLock { (value) throws(E) -> sending Result in
            #if CLUSTERKIT_TSAN
            // The guard's own address names it for TSan (it holds the mutex, so it does not move). Only reads
            // of `self` here: an access to `value` before the acquire would itself be reported.
            withUnsafePointer(to: self) { ck_sanitizer_acquire(UnsafeRawPointer($0)) }
            defer { withUnsafePointer(to: self) { ck_sanitizer_release(UnsafeRawPointer($0)) } }
            #endif
            return try body(&value)
        }
    }
}

// Safe because all access to the value goes through the mutex, as for `Mutex` itself.
extension Guarded: @unchecked Sendable where Value: ~Copyable {}

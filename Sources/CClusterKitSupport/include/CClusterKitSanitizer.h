// CClusterKitSanitizer: tells ThreadSanitizer about the ordering that `Synchronization.Mutex` provides.
//
// Swift's `Mutex` on Linux is a futex that ThreadSanitizer does not intercept, so without help every pair of
// accesses the mutex orders is reported as a race. `Guarded` (ClusterKitModel) calls these around the body of
// every `withLock` when built with CLUSTERKIT_TSAN=1 (scripts/tsan.sh); in a build without `-fsanitize=thread`
// they do nothing.
#ifndef CCLUSTERKITSANITIZER_H
#define CCLUSTERKITSANITIZER_H

#ifdef __cplusplus
extern "C" {
#endif

/// After taking a lock: the calling thread acquires everything released at `address` before.
void ck_sanitizer_acquire(const void *address);

/// Before releasing a lock: everything the calling thread did is released at `address`.
void ck_sanitizer_release(const void *address);

/// 1 when this library was compiled with ThreadSanitizer, else 0.
int ck_sanitizer_thread_enabled(void);

#ifdef __cplusplus
}
#endif

#endif

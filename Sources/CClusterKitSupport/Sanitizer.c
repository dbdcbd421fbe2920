// See CClusterKitSanitizer.h.
#include "CClusterKitSanitizer.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CK_THREAD_SANITIZER 1
#endif
#endif

#ifdef CK_THREAD_SANITIZER
// From compiler-rt's sanitizer/tsan_interface.h (declared here so that no sanitizer headers are needed).
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

void ck_sanitizer_acquire(const void *address) { __tsan_acquire((void *)address); }
void ck_sanitizer_release(const void *address) { __tsan_release((void *)address); }
int ck_sanitizer_thread_enabled(void) { return 1; }
#else
void ck_sanitizer_acquire(const void *address) { (void)address; }
void ck_sanitizer_release(const void *address) { (void)address; }
int ck_sanitizer_thread_enabled(void) { return 0; }
#endif

#ifndef MULTIPRODIGY_CMEMORYTRIM_H
#define MULTIPRODIGY_CMEMORYTRIM_H

// <stdlib.h> first: it defines __GLIBC__ on glibc, which the test below needs.
#include <stdlib.h>
#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#endif

/// Returns the allocator's free memory to the system: glibc's `malloc_trim(0)`, which releases
/// the free pages of every arena. Returns 1 when memory was released, 0 otherwise (and always 0
/// where the C library has no such call).
static inline int multiprodigy_returnFreeMemory(void) {
#if defined(__linux__) && defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

#endif

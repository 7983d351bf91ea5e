// Counts malloc-family calls on the calling thread while enabled, for `sv2 bench`'s allocations-per-message
// figure, and keeps the largest size requested, for the fuzzer's bound on what a decoder may allocate. The
// executable's definitions interpose glibc's and forward to its __libc_* entry points. The counters are
// initial-exec thread-locals of the executable, so touching them never allocates.
#include "CAllocCounter.h"
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int counting;
static __thread unsigned long count;
static __thread size_t largest;

/* Records one request of `size` bytes while counting. */
static inline void note(size_t size) {
    if (counting) {
        count++;
        if (size > largest) largest = size;
    }
}

void sv2_alloc_counter_start(void) { count = 0; largest = 0; counting = 1; }
unsigned long sv2_alloc_counter_stop(void) { counting = 0; return count; }
size_t sv2_alloc_counter_largest(void) { return largest; }

void *malloc(size_t size) { note(size); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) {
    note(size != 0 && n > SIZE_MAX / size ? SIZE_MAX : n * size);
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t size) { note(size); return __libc_realloc(p, size); }
void free(void *p) { __libc_free(p); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    note(size);
    void *p = __libc_memalign(alignment, size);
    if (p == NULL) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
void *aligned_alloc(size_t alignment, size_t size) { note(size); return __libc_memalign(alignment, size); }
void *memalign(size_t alignment, size_t size) { note(size); return __libc_memalign(alignment, size); }

// Counts malloc-family calls on the calling thread while enabled, for `sv2 bench codec`'s allocations-per-message
// figure, and keeps the largest size requested, for the fuzzer's bound on what a decoder may allocate. These
// definitions interpose glibc's and forward to its __libc_* entry points. Two users: the fuzz executable links them
// in; `sv2 bench codec` loads them with LD_PRELOAD from the libsv2alloccount.so product (the shipping sv2 binary
// keeps glibc's allocator). The counters are initial-exec thread-locals (allowed for an executable and for a
// preloaded library), so touching them never allocates.
#include "CAllocCounter.h"
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#define SV2_TLS __thread __attribute__((tls_model("initial-exec")))
static SV2_TLS int counting;
static SV2_TLS unsigned long count;
static SV2_TLS size_t largest;

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

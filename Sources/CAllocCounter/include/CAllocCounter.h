#ifndef SV2_ALLOC_COUNTER_H
#define SV2_ALLOC_COUNTER_H

#include <stddef.h>

/// Starts counting heap allocations made by the calling thread (resets the count and the largest size).
void sv2_alloc_counter_start(void);
/// Stops counting on the calling thread and returns how many allocations were made since the start.
unsigned long sv2_alloc_counter_stop(void);
/// The largest size in bytes one allocation on the calling thread asked for since the last start (0 if none).
size_t sv2_alloc_counter_largest(void);

#endif

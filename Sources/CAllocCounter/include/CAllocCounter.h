#ifndef SV2_ALLOC_COUNTER_H
#define SV2_ALLOC_COUNTER_H

/// Starts counting heap allocations made by the calling thread (resets the count).
void sv2_alloc_counter_start(void);
/// Stops counting on the calling thread and returns how many allocations were made since the start.
unsigned long sv2_alloc_counter_stop(void);

#endif

/*
 * affinity.c -- pinning the calling thread to one CPU, for the CPU miner's hashing threads and `sv2 bench sha256d`
 * (declared in include/CSv2Native.h).
 */
#define _GNU_SOURCE
#include "CSv2Native.h"

#if defined(__linux__)
#include <sched.h>

int sv2_pin_current_thread(int cpu) {
    cpu_set_t set;
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -1;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -1;
}
#else
int sv2_pin_current_thread(int cpu) {
    (void)cpu;
    return -1;
}
#endif

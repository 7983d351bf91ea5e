/*
 * affinity.c -- placement of the CPU miner's hashing threads (declared in include/CSv2Native.h): pinning the calling
 * thread to one CPU, and giving it the idle scheduling class so that any other runnable thread (the miner's network
 * event loop, a pool on the same machine) runs first.
 */
#define _GNU_SOURCE
#include "CSv2Native.h"

#if defined(__linux__)
#include <sched.h>
#include <sys/resource.h>

int sv2_pin_current_thread(int index) {
    cpu_set_t allowed, set;
    int cpu, count = 0, seen = 0;
    if (index < 0 || sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
    count = CPU_COUNT(&allowed);
    if (count == 0) return -1;
    /* The (index mod count)-th CPU this thread may run on: under taskset or a cpuset they need not be 0..n-1. */
    for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        if (seen++ == index % count) {
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -1;
        }
    }
    return -1;
}
int sv2_idle_current_thread(void) {
    struct sched_param parameter;
    parameter.sched_priority = 0;
    if (sched_setscheduler(0, SCHED_IDLE, &parameter) == 0) return 0;
    /* Without SCHED_IDLE, the lowest nice value for this thread (Linux applies it per thread). */
    return setpriority(PRIO_PROCESS, 0, 19) == 0 ? 0 : -1;
}
#else
int sv2_pin_current_thread(int index) {
    (void)index;
    return -1;
}

int sv2_idle_current_thread(void) { return -1; }
#endif

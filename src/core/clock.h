/* SPDX-License-Identifier: MIT */
/* The monotonic clock every floor reads (compile times, cache ages, how
 * recently a connection heard its server). */
#ifndef CALX_CORE_CLOCK_H
#define CALX_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* The monotonic clock in nanoseconds. */
static inline uint64_t calx__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif

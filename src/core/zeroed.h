/* SPDX-License-Identifier: MIT */
/* Zeroed allocation for what is allocated once per statement (a future, a
 * result, a rowset, an operation). glibc's calloc (2.36, Debian 12) does
 * not take blocks from its per-thread cache as malloc does, and costs
 * about four times malloc plus the memset for a small struct (callgrind:
 * some 180 instructions against 40 and a few); a get by primary key made
 * four such blocks. calloc stays right for arrays (its overflow check).
 * GCC and clang turn malloc followed by memset back into calloc: the
 * empty asm between them hides that the block is malloc's. */
#ifndef CALX_CORE_ZEROED_H
#define CALX_CORE_ZEROED_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/sanitizers.h"

/* size bytes, all zero, owned by the caller (free); NULL on no memory. */
static inline void *calx__alloc_zeroed(size_t size)
{
    void *p = malloc(size);
    __asm__("" : "+r"(p));
    if (p)
        memset(p, 0, size);
    return p;
}

/* Spares: structs of one size (size) whose owner has freed them, kept on
 * a stack (spares, *n of them, at most max) for the next allocation, which
 * then costs a few instructions instead of malloc and free. The keeper
 * (an engine's ops, a thread's futures) makes sure nothing reaches a
 * struct it is given; under ASan a spare is poisoned until it is taken
 * again, so a use after the end still shows. */

/* A zeroed struct, a spare when there is one; NULL on no memory. */
static inline void *calx__spare_take(void **spares, size_t *n, size_t size)
{
    if (!*n)
        return calx__alloc_zeroed(size);
    void *p = spares[--*n];
#ifdef CALX_ASAN
    __asan_unpoison_memory_region(p, size);
#endif
    memset(p, 0, size);
    return p;
}

/* Keeps p as a spare: true, or false when there are max already (the
 * caller frees p). */
static inline bool calx__spare_give(void **spares, size_t *n, size_t max, void *p, size_t size)
{
    if (*n == max)
        return false;
#ifdef CALX_ASAN
    __asan_poison_memory_region(p, size);
#else
    (void)size;
#endif
    spares[(*n)++] = p;
    return true;
}

/* Frees every spare. */
static inline void calx__spares_free(void **spares, size_t *n, size_t size)
{
    while (*n) {
        void *p = spares[--*n];
#ifdef CALX_ASAN
        __asan_unpoison_memory_region(p, size);
#else
        (void)size;
#endif
        free(p);
    }
}

#endif

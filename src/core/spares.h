/* SPDX-License-Identifier: MIT */
/* Spares: structs of one size that were freed, kept for the next
 * allocation of the same kind, which then costs a few instructions where
 * glibc's malloc and free cost some 130 (a statement makes a future, an
 * operation and a rowset). Whoever gives a struct back makes sure nothing
 * reaches it any more; under ASan a spare is poisoned until it is taken
 * again, so a use after the end still shows.
 *
 * Two keepers: an owner's own stack (the helpers below, for an engine's
 * operations, connection handles and checkouts, and a pool's waiters: a
 * handle keeps its engine alive and outlives its operations), and the
 * thread that frees the struct
 * (spares.c: futures, rowsets and sessions, whose last owner may let go
 * after any engine or loop is gone, on any thread). */
#ifndef CALX_CORE_SPARES_H
#define CALX_CORE_SPARES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sanitizers.h"
#include "core/zeroed.h"

/* A keeper's own stack of spares (spares, *n of them, at most max), of
 * structs of one size: an engine's operations and connection handles
 * (connection.c) and checkouts (engine.c), a pool's waiters (pool.c). */

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

/* The kinds this thread keeps (at most CALX__THREAD_SPARES of each). */
typedef enum calx__spare_kind {
    CALX__SPARE_FUTURE,
    CALX__SPARE_ROWSET,
    CALX__SPARE_SESSION,
    CALX__SPARE_KINDS
} calx__spare_kind;
/* Enough for the sessions, futures and rowsets of some tens of tasks that
 * end together (B5's 50 clients: 8 kept let ~0.6 of a transaction's
 * structs go to glibc and back), ~100 KB a thread at most. */
#define CALX__THREAD_SPARES 32

/* A zeroed struct of size bytes (always the same for a kind), one this
 * thread kept when it has one; NULL on no memory. */
void *calx__thread_spare_take(calx__spare_kind kind, size_t size);
/* Like calx__thread_spare_take, without zeroing: the caller writes what it
 * reads. */
void *calx__thread_spare_take_raw(calx__spare_kind kind, size_t size);
/* Frees p (size bytes, of kind), or keeps it for this thread's next
 * allocation of the kind. A thread's spares are freed when it exits; the
 * main thread's stay reachable until the process ends. */
void calx__thread_spare_give(calx__spare_kind kind, void *p, size_t size);

#endif

/* SPDX-License-Identifier: MIT */
/* Failing chosen allocations, for out-of-memory sweeps: a test that
 * includes this is linked with --wrap for malloc, calloc and realloc (see
 * CMakeLists.txt), so every allocation of calx's code and the test's own
 * comes here (libc's own, strdup's, and the shared libraries' do not).
 * With fail_at set, the allocation of that number fails (and with
 * fail_rest, every one after it too); nalloc counts them. One test
 * program includes it once. */
#ifndef CALX_TEST_ALLOC_FAIL_H
#define CALX_TEST_ALLOC_FAIL_H

#include <stdbool.h>
#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

static long fail_at = -1;
static bool fail_rest;
static long nalloc;

static bool fail_now(void)
{
    if (fail_at < 0)
        return false;
    long k = nalloc++;
    return k == fail_at || (fail_rest && k > fail_at);
}

void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

static long alloc_used;   /* allocations the attempt under test made */

/* Ends the failing: call it in an attempt right after the code under
 * test, before checking what it gave. */
static inline void alloc_fail_stop(void)
{
    if (fail_at >= 0)
        alloc_used = nalloc;
    fail_at = -1;
}

/* Calls attempt(arg, k) with allocation k failing (with rest, every one after
 * it too), for k = 0, 1, ... until the attempt no longer reaches
 * allocation k. Returns that k: how many allocations the sweep covered.
 * attempt checks that the failure came out as an error, and frees. */
static inline long alloc_fail_sweep(bool rest, void (*attempt)(void *arg, long k), void *arg)
{
    for (long k = 0;; k++) {
        nalloc = 0;
        fail_at = k;
        fail_rest = rest;
        attempt(arg, k);
        alloc_fail_stop();
        if (k >= alloc_used)
            return k;
    }
}

#endif

/* SPDX-License-Identifier: MIT */
/* Spares kept by the thread that frees them (spares.h): futures, rowsets
 * and sessions, whose last owner may let go after the engine or the loop
 * that made them is gone, and on another thread than the one that made
 * them (a rowset a worker filled). Per thread, so no lock; at most
 * CALX__THREAD_SPARES of a kind. A thread's spares are freed at its exit
 * (core/thread_exit.h, watched from its first spare); where that cannot be
 * arranged, nothing is kept. */
#include <stdlib.h>
#include <string.h>

#include "core/spares.h"
#include "core/thread_exit.h"

static _Thread_local void *kept[CALX__SPARE_KINDS][CALX__THREAD_SPARES];
static _Thread_local size_t nkept[CALX__SPARE_KINDS];
static _Thread_local size_t kept_size[CALX__SPARE_KINDS];

void calx__spares_thread_exit(void)
{
    for (size_t k = 0; k < CALX__SPARE_KINDS; k++)
        calx__spares_free(kept[k], &nkept[k], kept_size[k]);
}

void *calx__thread_spare_take(calx__spare_kind kind, size_t size)
{
    return calx__spare_take(kept[kind], &nkept[kind], size);
}

void *calx__thread_spare_take_raw(calx__spare_kind kind, size_t size)
{
    if (!nkept[kind])
        return malloc(size);
    void *p = kept[kind][--nkept[kind]];
#ifdef CALX_ASAN
    __asan_unpoison_memory_region(p, size);
#endif
    return p;
}

void calx__thread_spare_give(calx__spare_kind kind, void *p, size_t size)
{
    kept_size[kind] = size;
    if (!calx__thread_exit_watch() ||
        !calx__spare_give(kept[kind], &nkept[kind], CALX__THREAD_SPARES, p, size))
        free(p);
}

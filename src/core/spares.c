/* SPDX-License-Identifier: MIT */
/* Spares kept by the thread that frees them (spares.h): futures and
 * rowsets, whose last owner may let go after the engine or the loop that
 * made them is gone, and on another thread than the one that made them
 * (a rowset a worker filled). Per thread, so no lock; at most
 * CALX__THREAD_SPARES of a kind. A thread's spares are freed at its exit
 * by a pthread key's destructor, set on its first spare; where the key
 * cannot be made, nothing is kept. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/spares.h"

static _Thread_local void *kept[CALX__SPARE_KINDS][CALX__THREAD_SPARES];
static _Thread_local size_t nkept[CALX__SPARE_KINDS];
static _Thread_local size_t kept_size[CALX__SPARE_KINDS];
/* This thread has set spare_key's value (a non-NULL one, so that the
 * destructor runs at its exit); false also where the key could not be made. */
static _Thread_local bool keyed;
static pthread_key_t spare_key;
static bool key_made;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void free_kept(void *unused)
{
    (void)unused;
    for (size_t k = 0; k < CALX__SPARE_KINDS; k++)
        calx__spares_free(kept[k], &nkept[k], kept_size[k]);
}

static void make_key(void)
{
    key_made = pthread_key_create(&spare_key, free_kept) == 0;
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
    if (!keyed) {
        pthread_once(&key_once, make_key);
        keyed = key_made && pthread_setspecific(spare_key, &keyed) == 0;
    }
    kept_size[kind] = size;
    if (!keyed || !calx__spare_give(kept[kind], &nkept[kind], CALX__THREAD_SPARES, p, size))
        free(p);
}

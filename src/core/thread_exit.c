/* SPDX-License-Identifier: MIT */
/* The one thread-exit hook (thread_exit.h): a pthread key made once per
 * process, set once per thread, whose destructor runs the keepers' ends.
 * One key rather than one per keeper: POSIX allows a process only
 * PTHREAD_KEYS_MAX of them, shared with the program and its other
 * libraries, and the order of the ends is written here, not left to the
 * order in which keys happen to be made. */
#include <pthread.h>

#include "core/thread_exit.h"

/* This thread has set the key's value (non-NULL, so that the destructor
 * runs); false again once the destructor has begun. */
static _Thread_local bool watched;
static pthread_key_t exit_key;
static bool key_made;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void thread_exits(void *unused)
{
    (void)unused;
    watched = false;
    calx__spares_thread_exit();
    calx__blocks_thread_exit();
}

static void make_key(void)
{
    key_made = pthread_key_create(&exit_key, thread_exits) == 0;
}

bool calx__thread_exit_watch(void)
{
    if (!watched) {
        (void)pthread_once(&key_once, make_key);
        watched = key_made && pthread_setspecific(exit_key, &watched) == 0;
    }
    return watched;
}

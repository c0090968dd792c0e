/* SPDX-License-Identifier: MIT */
/* What calx keeps per thread goes when the thread exits: one pthread key,
 * whose destructor ends each keeper's share in turn (spares.c's spare
 * structs, then blocks.c's allocator). A keeper asks
 * calx__thread_exit_watch before it keeps anything for the calling
 * thread. The main thread is never watched to its end (exit() runs no key
 * destructors): what it keeps stays reachable until the process ends. */
#ifndef CALX_CORE_THREAD_EXIT_H
#define CALX_CORE_THREAD_EXIT_H

#include <stdbool.h>

/* Makes sure the keepers' ends run when the calling thread exits: true,
 * or false where the key cannot be made or set (then the caller keeps
 * nothing for the thread). A few instructions after a thread's first
 * call. A keeper's end that keeps something again (an allocation made by
 * a later destructor) is watched again, and ended on POSIX's next round
 * of destructors. */
bool calx__thread_exit_watch(void);

/* The keepers' ends, run in this order at a watched thread's exit; each
 * is defined by its keeper, and called by nothing else. */
void calx__spares_thread_exit(void);
void calx__blocks_thread_exit(void);

#endif

/* SPDX-License-Identifier: MIT */
/* The calx_loop struct, shared by the core modules that run on it
 * (loop.c, future.c, task.c). Nothing outside src/core sees it. */
#ifndef CALX_CORE_LOOP_INT_H
#define CALX_CORE_LOOP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/evloop.h"

/* At most this many stacks of finished tasks wait on a loop for reuse
 * (task.c): 64 x 260 KiB of address space, of which only the pages the
 * tasks touched are memory. */
#define CALX__SPARE_STACKS 64

struct calx_loop {
    uv_loop_t *uv;
    uv_loop_t own_uv;          /* used when the loop owns its libuv loop */
    bool owns_uv;
    uv_async_t async;          /* wake-ups posted from other threads */
    uv_idle_t idle;            /* keeps polling at 0 ms while work is deferred */
    uv_mutex_t posted_mu;
    calx_work *posted_head, *posted_tail;  /* under posted_mu */
    calx_work *ready_head, *ready_tail;    /* loop thread only */
    int holds;                 /* outstanding off-thread work */
    int inside;                /* depth of calx dispatch on this loop */
    int closing_handles;
    size_t ntasks;             /* tasks alive (task.c) */
    /* Stacks of finished default-size tasks, kept for the next spawn
     * (task.c); unmapped when the loop is freed. */
    void *spare_stacks[CALX__SPARE_STACKS];
    size_t nspare_stacks;
};

#endif

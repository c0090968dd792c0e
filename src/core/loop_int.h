/* SPDX-License-Identifier: MIT */
/* The calx_loop struct, shared by the core modules that run on it
 * (loop.c, future.c, task.c). Nothing outside src/core sees it. */
#ifndef CALX_CORE_LOOP_INT_H
#define CALX_CORE_LOOP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/evloop.h"

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
};

#endif

/* SPDX-License-Identifier: MIT */
/* What future.c needs from the task scheduler (task.c) to suspend a task in
 * calx_await and resume it when the future completes, and what loop.c needs
 * to free the stacks a loop keeps. */
#ifndef CALX_CORE_TASKS_H
#define CALX_CORE_TASKS_H

#include "calx/future.h"
#include "calx/loop.h"

typedef struct calx_task calx_task;

/* The task running now on this thread, or NULL outside tasks. */
calx_task *calx__task_self(void);

/* Suspends the running task, recording f as what it awaits (so that
 * cancelling the task cancels f), until calx__task_wake. */
void calx__task_suspend(calx_task *t, calx_future *f);

/* True (once) if the task was cancelled while it was not suspended: the
 * await about to block delivers that cancel, as asyncio does. */
bool calx__task_take_cancel(calx_task *t);

/* Schedules a suspended task to resume on the loop's next dispatch. */
void calx__task_wake(calx_task *t);

/* === for loop.c === */

/* Unmaps the stacks the loop kept for reuse (calx_loop_close, as the loop
 * is freed). */
void calx__task_free_spares(calx_loop *loop);

#endif

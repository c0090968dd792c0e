/* SPDX-License-Identifier: MIT */
/* calx — tasks.
 *
 * A task is a stackful coroutine on the loop: code in a task calls
 * calx_await() and reads straight, like Python's `await session.get(...)`.
 * Tasks are cheap (a lazily committed mmap'd stack each; 10,000 alive at
 * once is routine) and are annotated for AddressSanitizer and valgrind.
 */
#ifndef CALX_TASK_H
#define CALX_TASK_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "future.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A task's body. Its return value becomes the value of the task's future. */
typedef void *(*calx_task_fn)(void *arg);

typedef struct calx_task_opts {
    size_t stack_size;            /* bytes; 0 = 256 KiB */
    void (*result_free)(void *);  /* frees a result nobody takes; NULL = none */
} calx_task_opts;

/* Starts fn(arg) as a task on loop; it first runs on the loop's next turn.
 * Returns the task's future (owned by the caller, consumed as any future),
 * which completes with fn's return value when fn returns — or with
 * CALX_ERR_CANCELED if the task was cancelled, the value then going to
 * result_free. opts and arg may be NULL. Returns NULL and fills err
 * (err may be NULL) when the stack cannot be allocated (CALX_ERR_NOMEM),
 * or loop or fn is NULL (CALX_ERR_ARGUMENT). */
CALX_API calx_future *calx_spawn(calx_loop *loop, calx_task_fn fn, void *arg,
                                 const calx_task_opts *opts, calx_error *err);

/* True when called from inside a task. */
CALX_API bool calx_in_task(void);

/* A future that completes (value NULL) after ms milliseconds on loop.
 * Owned by the caller. NULL with err filled (err may be NULL): loop NULL
 * (CALX_ERR_ARGUMENT), CALX_ERR_NOMEM. */
CALX_API calx_future *calx_sleep(calx_loop *loop, uint64_t ms, calx_error *err);

/* Number of tasks alive on loop (started and not yet finished); 0 for a
 * NULL loop. */
CALX_API size_t calx_task_count(calx_loop *loop);

#ifdef __cplusplus
}
#endif
#endif

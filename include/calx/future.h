/* SPDX-License-Identifier: MIT */
/* calx — futures.
 *
 * Every calx operation that touches a database returns at once with a
 * calx_future and never blocks the loop. A call that fails before it starts
 * returns NULL and fills its calx_error instead (libuv's rule: then no
 * callback ever fires).
 *
 * A future is consumed exactly once, in one of three ways:
 *   - calx_future_then(): a callback, called once on the loop thread, never
 *     from inside the call that registers it;
 *   - calx_await(): inside a task (see task.h), suspends the task until the
 *     future completes;
 *   - calx_wait(): from plain code outside the loop, runs the loop until the
 *     future completes (like asyncio.run).
 * calx_await and calx_wait accept a NULL future and then return the error the
 * failed call left in err, so a call and its wait chain in one line:
 *
 *     calx_connection *conn;
 *     if (calx_wait(calx_engine_connect(engine, &err), &conn, &err)) ...
 *
 * Ownership: the future owns its value until it is taken. If a future is
 * cancelled or released before its value is taken, the value is given back
 * (a connection returns to its pool, a result is freed): nothing leaks.
 */
#ifndef CALX_FUTURE_H
#define CALX_FUTURE_H

#include <stdbool.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_future calx_future;

/* Completion callback. In it, calx_future_take() gets the value or the error.
 * The future is freed when the callback returns. */
typedef void (*calx_future_cb)(calx_future *f, void *udata);

/* Registers cb to run once when f completes (on the loop thread, never
 * synchronously). This consumes f: do not await, wait on or release it after.
 * f NULL is a no-op (cb is never called); cb must not be NULL (release a
 * future nobody listens to with calx_future_release). */
CALX_API void calx_future_then(calx_future *f, calx_future_cb cb, void *udata);

/* Inside a completion callback: moves the value into *out (if out is not
 * NULL; the caller then owns it — see the producing call for how to free
 * it) and returns 0, or returns the error code and fills err (err may be
 * NULL). A value not taken is freed with the future. f NULL gives
 * CALX_ERR_ARGUMENT, *out unchanged. */
CALX_API int calx_future_take(calx_future *f, void *out, calx_error *err);

/* True once f has completed (value, error, or cancelled); false for a
 * NULL f. */
CALX_API bool calx_future_done(const calx_future *f);

/* Cancels f if it has not completed: the operation behind it is stopped or
 * its result is given back when it arrives (a pooled connection returns to
 * the pool, a queued job is dropped), and f completes with
 * CALX_ERR_CANCELED. Cancelling a task's future (calx_spawn) interrupts
 * the await the task is suspended in (or its next one, when that await
 * has completed and the task not yet resumed, or it awaits nothing); the
 * task then runs on to its end.
 * Returns true if f was pending; false for a NULL f. Does not consume f. */
CALX_API bool calx_future_cancel(calx_future *f);

/* Gives up interest in f without waiting: the value it would have carried is
 * given back when it completes. Consumes f. NULL is a no-op. */
CALX_API void calx_future_release(calx_future *f);

/* Inside a task: suspends the task until f completes, then stores the value
 * in *out (void ** in disguise; may be NULL to drop the value) and returns 0,
 * or returns the error code and fills err (err may be NULL). Consumes f.
 * Called outside a task it returns CALX_ERR_STATE (use calx_wait or
 * calx_future_then there). f NULL returns the error already in err (the
 * failed call's), or CALX_ERR_ARGUMENT when err holds none. */
CALX_API int calx_await(calx_future *f, void *out, calx_error *err);

/* Outside the loop: runs the future's loop until f completes, then as
 * calx_await (f NULL and err as there). Called from inside the loop (in a
 * task or a callback) it returns CALX_ERR_STATE at once instead of
 * hanging. Consumes f. */
CALX_API int calx_wait(calx_future *f, void *out, calx_error *err);

/* ---- typed forms ----
 *
 * calx_future_take, calx_await and calx_wait take their out-parameter as
 * void *, so a calx_connection * passed where a calx_connection ** is
 * needed, or the address of a calx_result * for a future whose value is a
 * calx_connection *, compiles and writes a pointer of the wrong kind.
 * These forms name the value's type T, as the producing call documents it,
 * and refuse at compile time an out that is not exactly a T * (a static
 * assertion: an error with every compiler and every warning level):
 *
 *     calx_connection *conn;
 *     CALX_AWAIT(calx_engine_connect(engine, &err), calx_connection *, &conn, &err);
 *     void *rc;
 *     CALX_WAIT(calx_spawn(loop, fn, NULL, NULL, &err), void *, &rc, &err);
 *
 * Each is the call it names, with the same errors, ownership and NULL
 * handling of f and err; out itself must not be NULL (to drop the value,
 * call the untyped form with out NULL). f, out and err are evaluated once.
 * C11 _Generic: not for C++. */

/* Internal to the typed forms (calx/session.h's too): out as a void *,
 * once it is known at compile time to be a T *. */
#define CALX__TYPED_OUT(T, out)                                               \
    ((void)sizeof(struct {                                                    \
         _Static_assert(_Generic((out), T *: 1, default: 0),                  \
                        "the out-parameter is not a pointer to " #T);         \
         char calx__unused;                                                   \
     }),                                                                      \
     (void *)(out))

/* calx_future_take with out checked to be a T * (see above). */
#define CALX_FUTURE_TAKE(f, T, out, err)                                      \
    calx_future_take((f), CALX__TYPED_OUT(T, out), (err))

/* calx_await with out checked to be a T * (see above). */
#define CALX_AWAIT(f, T, out, err) calx_await((f), CALX__TYPED_OUT(T, out), (err))

/* calx_wait with out checked to be a T * (see above). */
#define CALX_WAIT(f, T, out, err) calx_wait((f), CALX__TYPED_OUT(T, out), (err))

#ifdef __cplusplus
}
#endif
#endif

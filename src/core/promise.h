/* SPDX-License-Identifier: MIT */
/* The producer's side of a future (the consumer's is calx/future.h).
 *
 * A future has two owners: the producer, until it resolves or rejects it,
 * and the consumer, until it takes the value (then / await / wait) or
 * releases it. Whoever leaves last frees it; a value nobody took is given
 * to the destructor set with calx__future_set_dtor. */
#ifndef CALX_CORE_PROMISE_H
#define CALX_CORE_PROMISE_H

#include <stdbool.h>
#include "calx/future.h"
#include "calx/loop.h"

/* A new pending future on loop. NULL when memory runs out. */
calx_future *calx__future_new(calx_loop *loop);

/* How to give back a value that nobody takes (NULL: nothing to do). */
void calx__future_set_dtor(calx_future *f, void (*dtor)(void *value));

/* Called once, on the loop thread, if the consumer cancels f while it is
 * pending; the producer stops what it can. f still belongs to the producer,
 * which must resolve or reject it later (the value is then given back). */
void calx__future_set_cancel(calx_future *f, void (*cancel)(void *ctx), void *ctx);

/* By default a cancel completes f at once with CALX_ERR_CANCELED. A
 * producer that must finish first (a task running on to its end) calls
 * this: f then completes only when the producer resolves or rejects it,
 * and then with CALX_ERR_CANCELED. */
void calx__future_cancel_waits(calx_future *f);

/* Completes f with value / with err, and ends the producer's ownership.
 * After a cancel the value goes to the destructor instead. Loop thread only. */
void calx__future_resolve(calx_future *f, void *value);
void calx__future_reject(calx_future *f, const calx_error *err);
/* As calx__future_reject, with err kept by pointer, not copied: for an
 * error that must reach the consumer whole when no memory is left to copy
 * it into (err lives as long as the program: a static const). */
void calx__future_reject_static(calx_future *f, const calx_error *err);
void calx__future_rejectf(calx_future *f, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* True once the consumer has cancelled f. */
bool calx__future_cancelled(const calx_future *f);
calx_loop *calx__future_loop(const calx_future *f);

#endif

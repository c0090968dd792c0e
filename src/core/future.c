/* SPDX-License-Identifier: MIT */
/* Futures: one producer, one consumer, completion delivered on the loop
 * thread, never synchronously. See calx/future.h and core/promise.h.
 *
 * A freed future's struct is kept for the next one by the thread that
 * freed it (core/spares.h): every statement makes a future. Per thread,
 * not per loop: the last reference may go after the loop is freed (a
 * program releasing a future late). A future is freed only when its
 * producer and its consumer have both let go, so nothing reaches a
 * spare. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calx/future.h"
#include "core/loop_int.h"
#include "core/promise.h"
#include "core/spares.h"
#include "core/tasks.h"

typedef enum { C_NONE, C_CALLBACK, C_TASK, C_WAIT, C_RELEASED } consumer_kind;

struct calx_future {
    calx_loop *loop;
    int refs;                    /* producer + consumer */
    bool done;
    bool cancelled;
    bool cancel_waits;
    bool taken;
    bool producer_done;
    bool err_static;             /* err is calx__future_reject_static's: not ours */
    int code;                    /* CALX_OK or the error */
    calx_error *err;             /* the error's details, when there are any */
    void *value;
    void (*dtor)(void *value);
    void (*cancel)(void *ctx);
    void *cancel_ctx;
    consumer_kind consumer;
    calx_future_cb cb;
    void *udata;
    calx_task *task;
    calx_work work;
};

static void unref(calx_future *f)
{
    if (--f->refs == 0) {
        if (!f->err_static)
            free(f->err);
        calx__thread_spare_give(CALX__SPARE_FUTURE, f, sizeof *f);
    }
}

/* Gives back a value the consumer did not take. */
static void dispose_value(calx_future *f)
{
    if (f->value && !f->taken && f->dtor)
        f->dtor(f->value);
    f->value = NULL;
}

static void run_callback(calx_work *w)
{
    calx_future *f = (calx_future *)((char *)w - offsetof(calx_future, work));
    f->cb(f, f->udata);
    dispose_value(f);
    unref(f);
}

/* The future just completed: tell the consumer. */
static void notify(calx_future *f)
{
    switch (f->consumer) {
    case C_CALLBACK:
        f->work.fn = run_callback;
        calx__loop_defer(f->loop, &f->work);
        break;
    case C_TASK:
        calx__task_wake(f->task);
        break;
    case C_RELEASED:
        dispose_value(f);
        break;
    case C_NONE:
    case C_WAIT:
        break;
    }
}

calx_future *calx__future_new(calx_loop *loop)
{
    calx_future *f = calx__thread_spare_take(CALX__SPARE_FUTURE, sizeof *f);
    if (!f)
        return NULL;
    f->loop = loop;
    f->refs = 2;
    return f;
}

void calx__future_set_dtor(calx_future *f, void (*dtor)(void *value))
{
    f->dtor = dtor;
}

void calx__future_set_cancel(calx_future *f, void (*cancel)(void *ctx), void *ctx)
{
    f->cancel = cancel;
    f->cancel_ctx = ctx;
}

void calx__future_cancel_waits(calx_future *f)
{
    f->cancel_waits = true;
}

bool calx__future_cancelled(const calx_future *f)
{
    return f->cancelled;
}

calx_loop *calx__future_loop(const calx_future *f)
{
    return f->loop;
}

static void set_error(calx_future *f, const calx_error *err)
{
    f->code = err && err->code ? err->code : CALX_ERR_INTERNAL;
    if (f->err_static) {
        f->err = NULL;
        f->err_static = false;
    }
    if (!f->err)
        f->err = malloc(sizeof *f->err);
    if (f->err) {
        if (err)
            *f->err = *err;
        else
            calx_error_set(f->err, f->code, "operation failed without an error message");
    }
}

static void set_cancelled(calx_future *f)
{
    calx_error e;
    calx_error_set(&e, CALX_ERR_CANCELED, "the operation was cancelled");
    set_error(f, &e);
}

void calx__future_resolve(calx_future *f, void *value)
{
    f->producer_done = true;
    if (f->done) {
        /* Cancelled already: nobody will take this value. */
        if (value && f->dtor)
            f->dtor(value);
    } else if (f->cancelled) {
        /* A cancel that waited for the producer: deliver it now. */
        if (value && f->dtor)
            f->dtor(value);
        set_cancelled(f);
        f->done = true;
        notify(f);
    } else {
        f->value = value;
        f->done = true;
        notify(f);
    }
    unref(f);
}

void calx__future_reject(calx_future *f, const calx_error *err)
{
    f->producer_done = true;
    if (!f->done) {
        if (f->cancelled)
            set_cancelled(f);
        else
            set_error(f, err);
        f->done = true;
        notify(f);
    }
    unref(f);
}

void calx__future_reject_static(calx_future *f, const calx_error *err)
{
    f->producer_done = true;
    if (!f->done) {
        if (f->cancelled) {
            set_cancelled(f);
        } else {
            free(f->err);
            f->err = (calx_error *)err;   /* never written through: see err_static */
            f->err_static = true;
            f->code = err->code;
        }
        f->done = true;
        notify(f);
    }
    unref(f);
}

void calx__future_rejectf(calx_future *f, int code, const char *fmt, ...)
{
    calx_error e;
    calx_error_clear(&e);
    e.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    calx__future_reject(f, &e);
}

/* ---- the consumer's side ---- */

bool calx_future_done(const calx_future *f)
{
    return f && f->done;
}

bool calx_future_cancel(calx_future *f)
{
    if (!f || f->done || f->cancelled)
        return false;
    f->cancelled = true;
    if (!f->cancel_waits) {
        set_cancelled(f);
        f->done = true;
    }
    /* The hook may resolve f at once (a pool waiter dropped): f stays
     * alive through it since the consumer still holds its reference. */
    if (f->cancel)
        f->cancel(f->cancel_ctx);
    if (!f->cancel_waits)
        notify(f);
    return true;
}

void calx_future_then(calx_future *f, calx_future_cb cb, void *udata)
{
    if (!f)
        return;
    f->consumer = C_CALLBACK;
    f->cb = cb;
    f->udata = udata;
    if (f->done) {
        f->work.fn = run_callback;
        calx__loop_defer(f->loop, &f->work);
    }
}

int calx_future_take(calx_future *f, void *out, calx_error *err)
{
    if (!f)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_future_take was given a NULL future");
    if (f->code) {
        if (err) {
            if (f->err)
                *err = *f->err;
            else
                calx_error_set(err, f->code, "%s", calx_errcode_name(f->code));
        }
        return f->code;
    }
    if (out) {
        *(void **)out = f->value;
        f->taken = true;
    }
    return 0;
}

void calx_future_release(calx_future *f)
{
    if (!f)
        return;
    if (f->done)
        dispose_value(f);
    else
        f->consumer = C_RELEASED;
    unref(f);
}

/* Takes the result of a completed future and frees the consumer's part. */
static int finish(calx_future *f, void *out, calx_error *err)
{
    int rc = calx_future_take(f, out, err);
    if (rc == 0 && err)
        calx_error_clear(err);
    dispose_value(f);
    unref(f);
    return rc;
}

/* A NULL future stands for a call that failed before it started and left
 * its error in err. */
static int null_future(calx_error *err)
{
    if (err && err->code)
        return err->code;
    return calx_error_set(err, CALX_ERR_ARGUMENT, "no future to wait on (NULL)");
}

int calx_await(calx_future *f, void *out, calx_error *err)
{
    if (!f)
        return null_future(err);
    calx_task *t = calx__task_self();
    if (!t) {
        calx_future_release(f);
        return calx_error_set(err, CALX_ERR_STATE,
                              "calx_await called outside a task; use calx_wait or "
                              "calx_future_then there");
    }
    if (!f->done && calx__task_take_cancel(t))
        calx_future_cancel(f);
    if (!f->done) {
        f->consumer = C_TASK;
        f->task = t;
        calx__task_suspend(t, f);
    }
    return finish(f, out, err);
}

int calx_wait(calx_future *f, void *out, calx_error *err)
{
    if (!f)
        return null_future(err);
    calx_loop *loop = f->loop;
    if (calx__loop_inside(loop) || calx__task_self()) {
        calx_future_release(f);
        return calx_error_set(err, CALX_ERR_STATE,
                              "calx_wait called from inside the event loop (a task or a "
                              "callback), where it would hang; use calx_await in a task "
                              "or calx_future_then");
    }
    f->consumer = C_WAIT;
    while (!f->done) {
        if (uv_run(loop->uv, UV_RUN_ONCE) == 0 && !f->done) {
            f->consumer = C_RELEASED;
            unref(f);
            return calx_error_set(err, CALX_ERR_STATE,
                                  "calx_wait: the loop ran out of work before the "
                                  "future completed");
        }
    }
    return finish(f, out, err);
}

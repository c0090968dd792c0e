/* SPDX-License-Identifier: MIT */
/* The small event interface the rest of calx sees (in the way hiredis keeps
 * its adapters): deferred calls on the loop thread, wake-ups posted from
 * other threads, timers, and read/write interest on a file descriptor.
 * loop.c implements it on libuv; a libev or libevent adapter would
 * implement the same functions without the drivers noticing. */
#ifndef CALX_CORE_EVLOOP_H
#define CALX_CORE_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "calx/loop.h"

/* An intrusive work item: embed it, set fn, hand it to the loop. */
typedef struct calx_work calx_work;
struct calx_work {
    calx_work *next;
    void (*fn)(calx_work *w);
};

/* Loop thread only: runs w->fn(w) on this turn of the loop, after the
 * current callback returns, never from inside this call. */
void calx__loop_defer(calx_loop *loop, calx_work *w);

/* How many times one turn of the loop runs the deferred work before it
 * polls for I/O again. Each round runs the work present when it starts, so
 * a task that keeps re-deferring gets at most this many steps before
 * sockets, timers and the workers' completions are looked at; a task whose
 * I/O finished at once (an SQLite read run inline, an identity-map
 * answer) goes on without paying a poll system call per step. Here, not in
 * loop.c, so that the test of that bound names the same number. */
#define CALX_LOOP_DRAIN_ROUNDS 16

/* Any thread: runs w->fn(w) on the loop thread soon. Thread-safe. */
void calx__loop_post(calx_loop *loop, calx_work *w);

/* Keeps the loop running while work is outstanding on other threads
 * (a posted completion will arrive). Loop thread only. */
void calx__loop_hold(calx_loop *loop);
void calx__loop_unhold(calx_loop *loop);

/* True while calx is dispatching callbacks or running a task on loop:
 * calx_wait refuses to run then. */
bool calx__loop_inside(const calx_loop *loop);

/* Something higher up that lives on a loop and must let go of it before
 * the loop is freed (an engine, whose pool holds connections). The loop
 * cannot include the engine's headers, so the engine hands it these two
 * functions instead. Embed one, set the functions, attach it.
 *
 * calx_loop_close first asks every user `busy`: non-zero (with err filled,
 * naming the user and what it still holds) refuses the close and changes
 * nothing. Then it detaches each user (loop becomes NULL) and calls
 * `release`, which starts closing what the user holds and must not touch
 * the loop again once that work is done: the loop then runs until it is
 * (see calx_loop_close). */
typedef struct calx_loop_user calx_loop_user;
struct calx_loop_user {
    int (*busy)(calx_loop_user *u, calx_error *err);
    void (*release)(calx_loop_user *u);
    calx_loop *loop;                /* set while attached */
    calx_loop_user *next, *prev;    /* loop.c's */
};

/* Loop thread only. Detach is a no-op for a user not attached (or one the
 * loop already let go of in calx_loop_close). */
void calx__loop_attach(calx_loop *loop, calx_loop_user *u);
void calx__loop_detach(calx_loop_user *u);

/* Timers: one-shot; start again to re-arm. free stops and releases. */
typedef struct calx_timer calx_timer;
calx_timer *calx__timer_new(calx_loop *loop, void (*cb)(void *arg), void *arg);
void calx__timer_start(calx_timer *t, uint64_t ms);
void calx__timer_stop(calx_timer *t);
void calx__timer_free(calx_timer *t);
/* t, started or not, no longer keeps the loop running (uv_unref): upkeep
 * that must not make calx_loop_run wait for it (the pool's trim). */
void calx__timer_unref(calx_timer *t);

/* Interest in a file descriptor. events: CALX_IO_READ | CALX_IO_WRITE, 0 to
 * pause. The callback gets the ready events, or a negative libuv-style
 * error. calx__io_free stops and releases (the fd is not closed). */
enum { CALX_IO_READ = 1, CALX_IO_WRITE = 2 };
typedef struct calx_io calx_io;
calx_io *calx__io_new(calx_loop *loop, int fd, void (*cb)(void *arg, int events),
                      void *arg);
int calx__io_set(calx_io *io, int events);
/* Whether the watch keeps the loop running while it is active (it does by
 * default). A driver watching an idle connection for the server hanging
 * up turns this off, so that idle pooled connections do not keep
 * calx_loop_run from returning. */
void calx__io_ref(calx_io *io, bool ref);
void calx__io_free(calx_io *io);

/* How many times, since the loop was made, a watched fd was reported
 * readable to its callback (one per callback, whatever it then reads).
 * Counted by the adapter, outside any driver, so a test can tell a
 * pipelined batch (its results arrive in a few reads) from one that waits
 * for each result (a wakeup per statement at least). Loop thread only;
 * NULL gives 0. Internal: for tests and diagnostics. */
uint64_t calx__loop_io_wakeups(const calx_loop *loop);

/* Resolves a host name to its addresses without blocking the loop
 * (getaddrinfo on libuv's thread pool). cb runs once on the loop thread,
 * never from inside this call, with status 0 and naddrs numeric addresses
 * ("127.0.0.1", "::1"; valid during the call only, in getaddrinfo's order,
 * duplicates removed), or a negative status and errmsg saying why.
 * Returns 0, or a negative libuv-style code (cb is then never called). */
typedef void (*calx_resolve_cb)(void *arg, int status, const char *errmsg,
                                const char *const *addrs, size_t naddrs);
int calx__resolve(calx_loop *loop, const char *host, calx_resolve_cb cb, void *arg);

/* Runs work(arg) on libuv's thread pool, then done(arg) on the loop
 * thread; the loop stays alive in between. For short blocking calls a
 * driver cannot avoid (libpq's PQcancel). Returns 0, or a negative code
 * (nothing then runs). */
int calx__loop_work(calx_loop *loop, void (*work)(void *arg), void (*done)(void *arg),
                    void *arg);

#endif

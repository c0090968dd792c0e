/* The small event interface the rest of calx sees (in the way hiredis keeps
 * its adapters): deferred calls on the loop thread, wake-ups posted from
 * other threads, timers, and read/write interest on a file descriptor.
 * loop.c implements it on libuv; a libev or libevent adapter would
 * implement the same functions without the drivers noticing. */
#ifndef CALX_CORE_EVLOOP_H
#define CALX_CORE_EVLOOP_H

#include <stdbool.h>
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
void calx_loop_defer(calx_loop *loop, calx_work *w);

/* Any thread: runs w->fn(w) on the loop thread soon. Thread-safe. */
void calx_loop_post(calx_loop *loop, calx_work *w);

/* Keeps the loop running while work is outstanding on other threads
 * (a posted completion will arrive). Loop thread only. */
void calx_loop_hold(calx_loop *loop);
void calx_loop_unhold(calx_loop *loop);

/* True while calx is dispatching callbacks or running a task on loop:
 * calx_wait refuses to run then. */
bool calx_loop_inside(const calx_loop *loop);

/* Timers: one-shot; start again to re-arm. free stops and releases. */
typedef struct calx_timer calx_timer;
calx_timer *calx_timer_new(calx_loop *loop, void (*cb)(void *arg), void *arg);
void calx_timer_start(calx_timer *t, uint64_t ms);
void calx_timer_stop(calx_timer *t);
void calx_timer_free(calx_timer *t);

/* Interest in a file descriptor. events: CALX_IO_READ | CALX_IO_WRITE, 0 to
 * pause. The callback gets the ready events, or a negative libuv-style
 * error. calx_io_free stops and releases (the fd is not closed). */
enum { CALX_IO_READ = 1, CALX_IO_WRITE = 2 };
typedef struct calx_io calx_io;
calx_io *calx_io_new(calx_loop *loop, int fd, void (*cb)(void *arg, int events),
                     void *arg);
int calx_io_set(calx_io *io, int events);
void calx_io_free(calx_io *io);

#endif

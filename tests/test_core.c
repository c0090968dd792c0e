/* SPDX-License-Identifier: MIT */
/* The loop, futures and tasks: the three ways to consume a future,
 * cancellation, calx_wait misuse, and many tasks alive at once. */
#include "calx.h"
#include "core/blocks.h"
#include "core/evloop.h"
#include "core/grow.h"
#include "core/once_table.h"
#include "core/promise.h"
#include "core/spell.h"
#include "core/zeroed.h"
#include "test.h"

static calx_loop *loop;

/* A future the test resolves by hand after `ms`. */
typedef struct later {
    calx_future *f;
    calx_timer *t;
    void *value;
    int code;
} later;

static void later_fire(void *arg)
{
    later *l = arg;
    calx__timer_free(l->t);
    if (l->code)
        calx__future_rejectf(l->f, l->code, "failed on purpose (%d)", l->code);
    else
        calx__future_resolve(l->f, l->value);
    free(l);
}

static calx_future *resolve_later(uint64_t ms, void *value, int code)
{
    later *l = malloc(sizeof *l);
    l->f = calx__future_new(loop);
    l->value = value;
    l->code = code;
    l->t = calx__timer_new(loop, later_fire, l);
    calx__timer_start(l->t, ms);
    return l->f;
}

/* ---- callbacks ---- */

typedef struct cb_state {
    int calls;
    int rc;
    void *value;
    calx_error err;
} cb_state;

static void record(calx_future *f, void *udata)
{
    cb_state *s = udata;
    s->calls++;
    s->rc = calx_future_take(f, &s->value, &s->err);
}

TEST(callback_called_once_with_value)
{
    cb_state s = { 0 };
    int x = 42;
    calx_future_then(resolve_later(1, &x, 0), record, &s);
    CHECK_INT(s.calls, 0);
    calx_loop_run(loop);
    CHECK_INT(s.calls, 1);
    CHECK_INT(s.rc, 0);
    CHECK(s.value == &x);
}

TEST(callback_gets_error)
{
    cb_state s = { 0 };
    calx_future_then(resolve_later(1, NULL, CALX_ERR_OPERATIONAL), record, &s);
    calx_loop_run(loop);
    CHECK_INT(s.calls, 1);
    CHECK_INT(s.rc, CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(s.err.message, "failed on purpose");
}

TEST(callback_never_synchronous)
{
    /* Even a future already complete calls back on a later turn. */
    cb_state s = { 0 };
    calx_future *f = calx__future_new(loop);
    calx__future_resolve(f, NULL);
    calx_future_then(f, record, &s);
    CHECK_INT(s.calls, 0);
    calx_loop_run(loop);
    CHECK_INT(s.calls, 1);
}

TEST(failed_call_returns_null_and_error)
{
    calx_error err;
    calx_error_clear(&err);
    calx_future *f = calx_sleep(loop, 1, &err);
    CHECK(f != NULL);
    calx_future_release(f);
    calx_loop_run(loop);
    /* A NULL future passes the caller's error through wait. */
    calx_error_set(&err, CALX_ERR_URL, "bad url");
    CHECK_INT(calx_wait(NULL, NULL, &err), CALX_ERR_URL);
    CHECK_STR(err.message, "bad url");
}

/* ---- wait ---- */

TEST(wait_runs_loop_until_done)
{
    calx_error err;
    int x = 7;
    void *out = NULL;
    CHECK_OK(calx_wait(resolve_later(5, &x, 0), &out, &err), &err);
    CHECK(out == &x);
    CHECK_INT(calx_wait(resolve_later(1, NULL, CALX_ERR_INTEGRITY), &out, &err),
              CALX_ERR_INTEGRITY);
    CHECK_INT(err.code, CALX_ERR_INTEGRITY);
}

static void *wait_inside(void *arg)
{
    calx_error *err = arg;
    /* Misuse: calx_wait inside a task must fail at once, not hang. */
    int rc = calx_wait(resolve_later(1, NULL, 0), NULL, err);
    return (void *)(intptr_t)rc;
}

TEST(wait_inside_loop_is_an_error)
{
    calx_error err, err2;
    void *rc = NULL;
    CHECK_OK(calx_wait(calx_spawn(loop, wait_inside, &err2, NULL, &err), &rc, &err), &err);
    CHECK_INT((intptr_t)rc, CALX_ERR_STATE);
    CHECK_CONTAINS(err2.message, "inside the event loop");
    calx_loop_run(loop);
}

static void wait_in_callback(calx_future *f, void *udata)
{
    cb_state *s = udata;
    s->calls++;
    s->rc = calx_wait(resolve_later(1, NULL, 0), NULL, &s->err);
}

TEST(wait_inside_callback_is_an_error)
{
    cb_state s = { 0 };
    calx_future_then(resolve_later(1, NULL, 0), wait_in_callback, &s);
    calx_loop_run(loop);
    CHECK_INT(s.calls, 1);
    CHECK_INT(s.rc, CALX_ERR_STATE);
}

TEST(await_outside_task_is_an_error)
{
    calx_error err;
    CHECK_INT(calx_await(resolve_later(1, NULL, 0), NULL, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "outside a task");
    calx_loop_run(loop);
}

/* ---- tasks ---- */

/* In a task, a call that failed to start (a NULL future) chains into
 * calx_await as into calx_wait: its error comes out of the await. */
typedef struct awaited {
    int rc_failed, rc_null;
    calx_error failed, null;
} awaited;

static void *await_failed_calls(void *arg)
{
    awaited *a = arg;
    /* A stack no mmap gives: calx_spawn fails before it starts. */
    a->rc_failed = calx_await(calx_spawn(loop, await_failed_calls, NULL,
                                         &(calx_task_opts){ .stack_size = (size_t)1 << 60 },
                                         &a->failed),
                              NULL, &a->failed);
    /* A NULL future with no error behind it is an error too. */
    calx_error_clear(&a->null);
    a->rc_null = calx_await(NULL, NULL, &a->null);
    return NULL;
}

TEST(await_of_a_call_that_failed_to_start_passes_its_error_on)
{
    calx_error err;
    awaited a;
    memset(&a, 0, sizeof a);
    CHECK_OK(calx_wait(calx_spawn(loop, await_failed_calls, &a, NULL, &err), NULL, &err), &err);
    CHECK_INT(a.rc_failed, CALX_ERR_NOMEM);
    CHECK_INT(a.failed.code, CALX_ERR_NOMEM);
    CHECK_CONTAINS(a.failed.message, "task stack");
    CHECK_INT(a.rc_null, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(a.null.message, "no future");
}

static void *add_after_awaits(void *arg)
{
    intptr_t n = (intptr_t)arg;
    calx_error err;
    intptr_t sum = 0;
    for (intptr_t i = 1; i <= n; i++) {
        void *v;
        if (calx_await(resolve_later(0, (void *)i, 0), &v, &err))
            return NULL;
        sum += (intptr_t)v;
    }
    return (void *)sum;
}

TEST(task_awaits_in_sequence)
{
    calx_error err;
    void *sum = NULL;
    CHECK_OK(calx_wait(calx_spawn(loop, add_after_awaits, (void *)10, NULL, &err), &sum,
                       &err), &err);
    CHECK_INT((intptr_t)sum, 55);
    CHECK(!calx_in_task());
}

/* Where the task's frame is: a local's address. */
static void *note_frame(void *arg)
{
    volatile char here = 0;
    *(uintptr_t *)arg = (uintptr_t)&here;
    return NULL;
}

TEST(a_finished_tasks_stack_serves_the_next_task)
{
    calx_error err;
    uintptr_t first = 0, second = 0, other = 0;
    CHECK_OK(calx_wait(calx_spawn(loop, note_frame, &first, NULL, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_spawn(loop, note_frame, &second, NULL, &err), NULL, &err), &err);
    /* A task of another size maps its own: the kept stack is not it. */
    CHECK_OK(calx_wait(calx_spawn(loop, note_frame, &other,
                                  &(calx_task_opts){ .stack_size = 64 * 1024 }, &err),
                       NULL, &err), &err);
    CHECK(first != 0 && other != 0);
    CHECK(other != first);
#ifndef CALX_ASAN
    /* (ASan may put the local in a fake stack of its own.) */
    CHECK(second == first);
#endif
}

static int alive_peak;

static void *sleepy(void *arg)
{
    calx_error err;
    int *alive = arg;
    (*alive)++;
    if (*alive > alive_peak)
        alive_peak = *alive;
    calx_await(calx_sleep(loop, 20, &err), NULL, &err);
    (*alive)--;
    return NULL;
}

TEST(ten_thousand_tasks_alive_at_once)
{
    calx_error err;
    int alive = 0;
    alive_peak = 0;
    enum { N = 10000 };
    calx_future **fs = malloc(N * sizeof *fs);
    for (int i = 0; i < N; i++) {
        fs[i] = calx_spawn(loop, sleepy, &alive, &(calx_task_opts){ .stack_size = 64 * 1024 },
                           &err);
        CHECK(fs[i] != NULL);
    }
    CHECK_INT(calx_task_count(loop), N);
    int failures = 0;
    for (int i = 0; i < N; i++)
        failures += calx_wait(fs[i], NULL, &err) != 0;
    free(fs);
    CHECK_INT(failures, 0);
    CHECK_INT(alive_peak, N);
    CHECK_INT(alive, 0);
    CHECK_INT(calx_task_count(loop), 0);
}

/* ---- cancellation ---- */

static int given_back;
static void give_back(void *v)
{
    (void)v;
    given_back++;
}

TEST(cancel_pending_future_gives_value_back)
{
    calx_error err;
    given_back = 0;
    int x;
    later *l = malloc(sizeof *l);
    l->f = calx__future_new(loop);
    calx__future_set_dtor(l->f, give_back);
    l->value = &x;
    l->code = 0;
    l->t = calx__timer_new(loop, later_fire, l);
    calx__timer_start(l->t, 5);
    calx_future *f = l->f;
    CHECK(calx_future_cancel(f));
    CHECK(calx_future_done(f));
    CHECK(!calx_future_cancel(f));
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    CHECK_INT(err.code, CALX_ERR_CANCELED);
    calx_loop_run(loop); /* the producer finishes: its value is given back */
    CHECK_INT(given_back, 1);
}

TEST(release_gives_value_back)
{
    given_back = 0;
    int x;
    calx_future *f = calx__future_new(loop);
    calx__future_set_dtor(f, give_back);
    calx_future_release(f);
    calx__future_resolve(f, &x);
    CHECK_INT(given_back, 1);

    given_back = 0;
    f = calx__future_new(loop);
    calx__future_set_dtor(f, give_back);
    calx__future_resolve(f, &x);
    calx_future_release(f);
    CHECK_INT(given_back, 1);
}

static void *sleeps_then_reports(void *arg)
{
    int *state = arg;
    calx_error err;
    *state = 1;
    int rc = calx_await(calx_sleep(loop, 10000, &err), NULL, &err);
    *state = rc == CALX_ERR_CANCELED ? 2 : 3;
    /* The task can still await after a cancel, to clean up. */
    rc = calx_await(calx_sleep(loop, 1, &err), NULL, &err);
    if (rc == 0)
        *state = 4;
    return NULL;
}

static void cancel_cb(void *arg)
{
    calx_future_cancel(arg);
}

TEST(cancel_task_interrupts_its_await)
{
    calx_error err;
    int state = 0;
    calx_future *f = calx_spawn(loop, sleeps_then_reports, &state, NULL, &err);
    calx_timer *t = calx__timer_new(loop, cancel_cb, f);
    calx__timer_start(t, 5);
    uint64_t t0 = calx_loop_now(loop);
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    calx__timer_free(t);
    CHECK(calx_loop_now(loop) - t0 < 5000);
    CHECK_INT(state, 4);
    calx_loop_run(loop);
}

static void *busy_then_await(void *arg)
{
    calx_error err;
    int *rc = arg;
    *rc = calx_await(calx_sleep(loop, 10000, &err), NULL, &err);
    return NULL;
}

TEST(cancel_before_task_runs_hits_first_await)
{
    calx_error err;
    int rc = -1;
    calx_future *f = calx_spawn(loop, busy_then_await, &rc, NULL, &err);
    calx_future_cancel(f);
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    CHECK_INT(rc, CALX_ERR_CANCELED);
    calx_loop_run(loop);
}

/* Resolves the future a task awaits and cancels the task in one go: the
 * task's await has completed, the task has not resumed yet. */
typedef struct resolve_and_cancel {
    calx_future *awaited, *task;
    calx_timer *timer;
} resolve_and_cancel;

static void resolve_then_cancel(void *arg)
{
    resolve_and_cancel *r = arg;
    calx__future_resolve(r->awaited, NULL);
    calx_future_cancel(r->task);
}

typedef struct two_awaits {
    calx_future *first;
    int first_rc, second_rc;
} two_awaits;

static void *awaits_twice(void *arg)
{
    two_awaits *j = arg;
    calx_error err;
    j->first_rc = calx_await(j->first, NULL, &err);
    j->second_rc = calx_await(calx_sleep(loop, 10000, &err), NULL, &err);
    return NULL;
}

TEST(a_cancel_after_the_awaited_future_completed_hits_the_tasks_next_await)
{
    calx_error err;
    two_awaits j = { calx__future_new(loop), -1, -1 };
    calx_future *task = calx_spawn(loop, awaits_twice, &j, NULL, &err);
    resolve_and_cancel r = { j.first, task, NULL };
    r.timer = calx__timer_new(loop, resolve_then_cancel, &r);
    calx__timer_start(r.timer, 5);
    uint64_t t0 = calx_loop_now(loop);
    CHECK_INT(calx_wait(task, NULL, &err), CALX_ERR_CANCELED);
    calx__timer_free(r.timer);
    CHECK_INT(j.first_rc, 0);
    CHECK_INT(j.second_rc, CALX_ERR_CANCELED);
    CHECK(calx_loop_now(loop) - t0 < 5000);
    calx_loop_run(loop);
}

static void *returns_malloc(void *arg)
{
    return malloc(16);
}

TEST(task_result_freed_when_unclaimed)
{
    calx_error err;
    calx_future *f = calx_spawn(loop, returns_malloc, NULL,
                                &(calx_task_opts){ .result_free = free }, &err);
    calx_future_release(f);
    calx_loop_run(loop); /* ASan / valgrind would report the leak */
    CHECK_INT(calx_task_count(loop), 0);
}

/* ---- the event interface's fd watch and cross-thread post ---- */

typedef struct io_state {
    calx_io *io;
    int fd;
    int events;
    char got;
} io_state;

static void on_readable(void *arg, int events)
{
    io_state *s = arg;
    s->events = events;
    if (events & CALX_IO_READ) {
        if (read(s->fd, &s->got, 1) != 1)
            s->got = '?';
    }
    calx__io_free(s->io);
}

TEST(io_watch_reports_readable)
{
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    io_state s = { .fd = fds[0] };
    s.io = calx__io_new(loop, fds[0], on_readable, &s);
    CHECK(s.io != NULL);
    CHECK_INT(calx__io_set(s.io, CALX_IO_READ), 0);
    CHECK_INT(write(fds[1], "x", 1), 1);
    calx_loop_run(loop);
    CHECK(s.events & CALX_IO_READ);
    CHECK_INT(s.got, 'x');
    close(fds[0]);
    close(fds[1]);
}

/* A task whose every await finishes at once (its future resolved by
 * deferred work, as an SQLite read run on the loop thread resolves) keeps
 * the loop's deferred queue full; a pipe made readable before it starts
 * must still be reported within CALX_LOOP_DRAIN_ROUNDS of its steps (each
 * step takes at least one round). The task gives up after 100 times that
 * many steps, so a loop that drained without a bound fails this case
 * rather than hanging it. */
typedef struct busy_task {
    calx_work resolver;
    calx_future *pending;
    int steps;
    int steps_before_io;   /* -1 until the pipe was reported */
    io_state io;
} busy_task;

static void resolve_pending(calx_work *w)
{
    busy_task *b = (busy_task *)((char *)w - offsetof(busy_task, resolver));
    calx__future_resolve(b->pending, NULL);
}

static void *await_ready_futures(void *arg)
{
    busy_task *b = arg;
    calx_error err;
    while (b->steps_before_io < 0 && b->steps < 100 * CALX_LOOP_DRAIN_ROUNDS) {
        b->pending = calx__future_new(loop);
        b->resolver.fn = resolve_pending;
        calx__loop_defer(loop, &b->resolver);
        if (calx_await(b->pending, NULL, &err))
            return NULL;
        b->steps++;
    }
    return b;
}

static void on_busy_readable(void *arg, int events)
{
    busy_task *b = arg;
    b->steps_before_io = b->steps;
    on_readable(&b->io, events);
}

TEST(a_task_whose_awaits_finish_at_once_still_lets_io_in_within_the_drain_rounds)
{
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    busy_task b = { .steps_before_io = -1, .io.fd = fds[0] };
    b.io.io = calx__io_new(loop, fds[0], on_busy_readable, &b);
    CHECK_INT(calx__io_set(b.io.io, CALX_IO_READ), 0);
    CHECK_INT(write(fds[1], "x", 1), 1);
    calx_error err;
    void *done = NULL;
    CHECK_OK(calx_wait(calx_spawn(loop, await_ready_futures, &b, NULL, &err), &done, &err),
             &err);
    CHECK(done == &b);
    CHECK_INT(b.io.got, 'x');
    if (b.steps_before_io < 0 || b.steps_before_io > CALX_LOOP_DRAIN_ROUNDS)
        fprintf(stderr, "  the pipe was reported after %d steps\n", b.steps_before_io);
    CHECK(b.steps_before_io >= 0 && b.steps_before_io <= CALX_LOOP_DRAIN_ROUNDS);
    close(fds[0]);
    close(fds[1]);
}

/* ---- the once-table ---- */

/* A once-table of eight slots, filled with eight keys (the addresses of
 * keys[0..7], each valued its index times ten), then asked to keep more:
 * a full table keeps nothing new and says so (find gives NULL, the caller
 * computes the facts itself), while every key it kept still finds its own
 * value, unchanged by a second keep. */
CALX_ONCE_TABLE(small_once, long, 8);

TEST(a_full_once_table_keeps_nothing_new_and_still_finds_what_it_kept)
{
    static const char keys[12];
    for (long i = 0; i < 8; i++) {
        CHECK(calx__once_find(&small_once, &keys[i]) == NULL);
        long v = i * 10;
        calx__once_keep(&small_once, &keys[i], &v);
        const long *kept = calx__once_find(&small_once, &keys[i]);
        CHECK(kept != NULL && *kept == v);
    }
    /* Full: the ninth to twelfth keys are not kept, and a lookup of each,
     * which probes every slot, ends with NULL. */
    for (long i = 8; i < 12; i++) {
        long v = i * 10;
        calx__once_keep(&small_once, &keys[i], &v);
        CHECK(calx__once_find(&small_once, &keys[i]) == NULL);
    }
    /* What it kept is still there, each key its own value; keeping a kept
     * key again changes nothing. */
    long other = -1;
    calx__once_keep(&small_once, &keys[3], &other);
    for (long i = 0; i < 8; i++) {
        const long *kept = calx__once_find(&small_once, &keys[i]);
        CHECK(kept != NULL && *kept == i * 10);
    }
}

/* core/zeroed.h's tables: zero even where malloc hands back memory just
 * freed with other bytes in it, and no allocation when the size wraps. */
TEST(a_zeroed_table_is_all_zero_and_an_overflowing_size_is_refused)
{
    for (int round = 0; round < 4; round++) {
        uint64_t *dirty = malloc(64 * sizeof *dirty);
        CHECK(dirty != NULL);
        memset(dirty, 0xff, 64 * sizeof *dirty);
        free(dirty);
        uint64_t *t = calx__array_zeroed(64, sizeof *t);
        CHECK(t != NULL);
        for (size_t i = 0; i < 64; i++)
            CHECK(t[i] == 0);
        free(t);
    }
    CHECK(calx__array_zeroed(SIZE_MAX / 8 + 2, 8) == NULL);
    CHECK(calx__array_zeroed((size_t)1 << 33, (size_t)1 << 33) == NULL);
}

/* Blocks (core/blocks.h): what a session's loaded objects live in. */
TEST(block_allocations_are_aligned_apart_and_live_until_their_last_is_freed)
{
    size_t before = calx__blocks_mapped();
    calx__blocks a = {0};
    /* Enough 203-byte allocations to fill more than one block (an odd
     * size: each is rounded up to the alignment). */
    enum { N = 12000 };
    static unsigned char *p[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = calx__blocks_alloc(&a, 203);
        CHECK(p[i] != NULL);
        CHECK(((uintptr_t)p[i] & (CALX_BLOCKS_ALIGN - 1)) == 0);
        memset(p[i], (int)(i & 0xff), 203);
    }
    CHECK(calx__blocks_mapped() == before + 2);
    /* Nothing overlaps: each still holds its own bytes. */
    for (size_t i = 0; i < N; i++)
        CHECK(p[i][0] == (i & 0xff) && p[i][202] == (i & 0xff));
    CHECK(calx__blocks_alloc(&a, CALX_BLOCK_MAX_ALLOC + 1) == NULL);
    CHECK(calx__blocks_alloc(&a, 0) == NULL);
    /* The first block, full, goes once all of its allocations are freed;
     * the current one stays while the allocator is open. */
    for (size_t i = 0; i < N / 2; i++)
        calx__blocks_free(p[i]);
    for (size_t i = N / 2; i < N; i++)
        if ((uintptr_t)p[i] / CALX_BLOCK_SIZE == (uintptr_t)p[0] / CALX_BLOCK_SIZE)
            calx__blocks_free(p[i]), p[i] = NULL;
    CHECK(calx__blocks_mapped() == before + 1);
    /* Closed, the current block lives while one allocation does. */
    calx__blocks_close(&a);
    size_t last = 0;
    for (size_t i = N / 2; i < N; i++)
        if (p[i])
            last = i;
    for (size_t i = N / 2; i < last; i++)
        calx__blocks_free(p[i]);
    CHECK(calx__blocks_mapped() == before + 1);
    CHECK(p[last][0] == (last & 0xff));
    calx__blocks_free(p[last]);
    CHECK(calx__blocks_mapped() == before);
    calx__blocks_free(NULL);
    calx__blocks_close(NULL);
}

typedef struct freer {
    unsigned char **p;
    size_t n;
} freer;

static void *free_them(void *arg)
{
    freer *f = arg;
    for (size_t i = 0; i < f->n; i++)
        calx__blocks_free(f->p[i]);
    return NULL;
}

#include <pthread.h>

TEST(block_allocations_may_be_freed_on_other_threads_at_once)
{
    size_t before = calx__blocks_mapped();
    calx__blocks a = {0};
    enum { PER = 5000, THREADS = 4 };
    static unsigned char *p[THREADS][PER];
    for (size_t t = 0; t < THREADS; t++)
        for (size_t i = 0; i < PER; i++)
            CHECK((p[t][i] = calx__blocks_alloc(&a, 100 + 16 * (i % 7))) != NULL);
    calx__blocks_close(&a);
    pthread_t th[THREADS];
    freer f[THREADS];
    for (size_t t = 0; t < THREADS; t++) {
        f[t] = (freer){ p[t], PER };
        CHECK(pthread_create(&th[t], NULL, free_them, &f[t]) == 0);
    }
    for (size_t t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    CHECK(calx__blocks_mapped() == before);
}

typedef struct posted {
    calx_work work;
    calx_loop *loop;
    pthread_t from;
    bool ran_on_loop_thread;
} posted;

static pthread_t loop_thread;

static void posted_fn(calx_work *w)
{
    posted *p = (posted *)w;
    p->ran_on_loop_thread = pthread_equal(pthread_self(), loop_thread);
    calx__loop_unhold(p->loop);
}

static void *poster(void *arg)
{
    posted *p = arg;
    calx__loop_post(p->loop, &p->work);
    return NULL;
}

TEST(post_from_another_thread_runs_on_the_loop)
{
    posted p = { .work.fn = posted_fn, .loop = loop };
    loop_thread = pthread_self();
    calx__loop_hold(loop); /* the loop waits for the post */
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, poster, &p), 0);
    calx_loop_run(loop);
    pthread_join(t, NULL);
    CHECK(p.ran_on_loop_thread);
}

/* A thread with a loop of its own: futures freed there are kept for its
 * next ones (future.c), and freed when it exits (LeakSanitizer checks it
 * in the ASan build). */
static void *sleeps_on_its_own_loop(void *ok)
{
    calx_error err;
    calx_loop *own = calx_loop_new(NULL, &err);
    bool all = own != NULL;
    for (int i = 0; all && i < 20; i++)
        all = calx_wait(calx_sleep(own, 0, &err), NULL, &err) == 0;
    if (own)
        calx_loop_free(own);
    *(bool *)ok = all;
    return NULL;
}

TEST(futures_kept_by_a_thread_are_freed_when_it_exits)
{
    for (int k = 0; k < 3; k++) {
        bool ok = false;
        pthread_t t;
        CHECK_INT(pthread_create(&t, NULL, sleeps_on_its_own_loop, &ok), 0);
        pthread_join(t, NULL);
        CHECK(ok);
    }
}

TEST(spelling_distance_counts_typos_and_ignores_case)
{
    CHECK_INT(calx__spell_distance("journal_mode", "journal_mode"), 0);
    CHECK_INT(calx__spell_distance("jurnal_mode", "journal_mode"), 1);   /* a letter out */
    CHECK_INT(calx__spell_distance("jounral_mode", "journal_mode"), 1);  /* two swapped */
    CHECK_INT(calx__spell_distance("JOURNAL_MODE", "journal_mode"), 0);
    CHECK_INT(calx__spell_distance("", "abc"), 3);
    size_t best = CALX_SPELL_FAR;
    CHECK(calx__spell_better("jurnal_mode", "journal_mod", &best));   /* 2 edits */
    CHECK_INT(best, 2);
    CHECK(calx__spell_better("jurnal_mode", "journal_mode", &best));  /* 1: closer */
    CHECK_INT(best, 1);
    CHECK(!calx__spell_better("jurnal_mode", "journal_mod", &best));  /* not closer */
    best = CALX_SPELL_FAR;
    CHECK(!calx__spell_better("ab", "cd", &best));  /* half the name: no guess */
    char longname[CALX_SPELL_MAX_NAME + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(calx__spell_distance(longname, "a") == CALX_SPELL_FAR);
}

TEST(an_error_prints_as_one_line_with_its_class_and_the_database_codes)
{
    calx_error err;
    calx_error_set(&err, CALX_ERR_INTEGRITY, "UNIQUE constraint failed: hero.name");
    char line[200];
    calx_error_str(&err, line, sizeof line);
    CHECK_STR(line, "IntegrityError: UNIQUE constraint failed: hero.name");
    err.driver_code = 2067;
    strcpy(err.sqlstate, "23505");
    size_t n = calx_error_str(&err, line, sizeof line);
    CHECK_STR(line, "IntegrityError: UNIQUE constraint failed: hero.name (SQLSTATE 23505, code 2067)");
    CHECK_INT(n, strlen(line));
    /* Cut to the room given, the whole length still returned, as snprintf. */
    char small[16];
    CHECK_INT(calx_error_str(&err, small, sizeof small), n);
    CHECK_STR(small, "IntegrityError:");
    CHECK_INT(calx_error_str(&err, NULL, 0), n);
    calx_error_clear(&err);
    calx_error_str(&err, line, sizeof line);
    CHECK_STR(line, "OK");
    calx_error_str(NULL, line, sizeof line);
    CHECK_STR(line, "(no error)");
    /* print: the same line and a newline. */
    FILE *f = tmpfile();
    CHECK(f != NULL);
    calx_error_set(&err, CALX_ERR_TIMEOUT, "QueuePool limit of size 5 overflow 10 reached");
    calx_error_print(&err, f);
    rewind(f);
    char got[200] = { 0 };
    CHECK(fgets(got, sizeof got, f) != NULL);
    CHECK_STR(got, "TimeoutError: QueuePool limit of size 5 overflow 10 reached\n");
    fclose(f);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    RUN(callback_called_once_with_value);
    RUN(callback_gets_error);
    RUN(callback_never_synchronous);
    RUN(failed_call_returns_null_and_error);
    RUN(wait_runs_loop_until_done);
    RUN(wait_inside_loop_is_an_error);
    RUN(wait_inside_callback_is_an_error);
    RUN(await_outside_task_is_an_error);
    RUN(await_of_a_call_that_failed_to_start_passes_its_error_on);
    RUN(task_awaits_in_sequence);
    RUN(a_finished_tasks_stack_serves_the_next_task);
    RUN(ten_thousand_tasks_alive_at_once);
    RUN(cancel_pending_future_gives_value_back);
    RUN(release_gives_value_back);
    RUN(cancel_task_interrupts_its_await);
    RUN(cancel_before_task_runs_hits_first_await);
    RUN(a_cancel_after_the_awaited_future_completed_hits_the_tasks_next_await);
    RUN(task_result_freed_when_unclaimed);
    RUN(io_watch_reports_readable);
    RUN(a_task_whose_awaits_finish_at_once_still_lets_io_in_within_the_drain_rounds);
    RUN(post_from_another_thread_runs_on_the_loop);
    RUN(futures_kept_by_a_thread_are_freed_when_it_exits);
    RUN(a_full_once_table_keeps_nothing_new_and_still_finds_what_it_kept);
    RUN(a_zeroed_table_is_all_zero_and_an_overflowing_size_is_refused);
    RUN(block_allocations_are_aligned_apart_and_live_until_their_last_is_freed);
    RUN(block_allocations_may_be_freed_on_other_threads_at_once);
    RUN(spelling_distance_counts_typos_and_ignores_case);
    RUN(an_error_prints_as_one_line_with_its_class_and_the_database_codes);
    calx_loop_free(loop);
    return TEST_REPORT();
}

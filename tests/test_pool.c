/* SPDX-License-Identifier: MIT */
/* The connection pool: sizes, overflow, FIFO waiting, timeouts, recycle,
 * pre-ping, cancellation, dispose, and the pool kinds; on SQLite files, or
 * on PostgreSQL schemas as test_pool_pg (see tests/backend.h). */
#include <stdint.h>
#include <uv.h>

#include "calx.h"
#include "core/evloop.h"
#include "core/clock.h"
#include "driver/postgres.h"
#include "engine/engine_int.h"
#include "test.h"
#include "backend.h"

static calx_loop *loop;
static const char *dir;
static int seq;

static bool pg;  /* running on PostgreSQL */

/* An engine on a fresh database; path gets the SQLite file's path. */
static calx_engine *make_engine(calx_engine_opts o, char *path, size_t pathlen)
{
    char url[1200];
    calx_error err;
    ++seq;
    if (path)
        snprintf(path, pathlen, "%s/t%d.db", dir, seq);
    const char *u = test_fresh_url(url, sizeof url, dir, seq, NULL);
    o.loop = loop;
    calx_engine *e = u ? calx_create_engine(u, &o, &err) : NULL;
    if (!e)
        fprintf(stderr, "  create_engine: %s\n", u ? err.message : "no database");
    return e;
}

static void free_engine(calx_engine *e)
{
    calx_engine_free(e);
    calx_loop_run(loop);
}

static calx_connection *connect_now(calx_engine *e, calx_error *err)
{
    calx_connection *c = NULL;
    if (calx_wait(calx_engine_connect(e, err), &c, err))
        return NULL;
    return c;
}

static calx_pool_stats stats(calx_engine *e)
{
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    return st;
}

/* sql on c, its result dropped; 0 or the error code with err filled. */
static int exec_sql(calx_connection *c, const char *sql, calx_error *err)
{
    calx_result *r = NULL;
    int rc = calx_wait(calx_conn_execute(c, sql, NULL, err), &r, err);
    calx_result_free(r);
    return rc;
}

/* The integer sql returns (first row, first column); -1 on an error. */
static int64_t scalar(calx_connection *c, const char *sql)
{
    calx_error err;
    calx_result *r = NULL;
    int64_t v = -1;
    if (calx_wait(calx_conn_execute(c, sql, NULL, &err), &r, &err) == 0)
        v = calx_result_scalar(r).u.i;
    else
        fprintf(stderr, "  %s: %s\n", sql, err.message);
    calx_result_free(r);
    return v;
}

TEST(reuses_connections)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, NULL, 0);
    for (int i = 0; i < 5; i++) {
        calx_connection *c = connect_now(e, &err);
        CHECK(c != NULL);
        calx_conn_close(c);
    }
    calx_loop_run(loop);
    CHECK_INT(stats(e).opened, 1);
    CHECK_INT(stats(e).checkouts, 5);
    CHECK_INT(stats(e).checked_in, 1);
    free_engine(e);
}

/* SQLAlchemy's words whatever the locale: programs match on them, and a
 * German LC_NUMERIC would have written "timeout 0,05". */
TEST(the_timeout_error_keeps_sqlalchemys_words_in_a_german_locale)
{
    const char *why = test_locale_enter(dir, "de_DE", "de_DE.UTF-8");
    if (why)
        SKIP(why);
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1,
                                                     .max_overflow = CALX_OVERFLOW_NONE,
                                                     .pool_timeout = 0.05 }, NULL, 0);
    calx_connection *a = connect_now(e, &err);
    CHECK(a != NULL);
    calx_connection *c = NULL;
    CHECK_INT(calx_wait(calx_engine_connect(e, &err), &c, &err), CALX_ERR_TIMEOUT);
    char printed[32];
    snprintf(printed, sizeof printed, "%.2f", 0.05);
    test_locale_leave();
    CHECK_STR(err.message, "QueuePool limit of size 1 overflow 0 reached, connection timed "
                           "out, timeout 0.05");
    calx_conn_close(a);
    free_engine(e);
    if (strcmp(printed, "0.05") == 0)
        SKIP("this C library writes '.' as the decimal point in de_DE.UTF-8: nothing to tell apart");
}

TEST(timeout_error_in_sqlalchemy_words)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 2,
                                                     .max_overflow = CALX_OVERFLOW_NONE,
                                                     .pool_timeout = 0.05 }, NULL, 0);
    calx_connection *a = connect_now(e, &err), *b = connect_now(e, &err);
    CHECK(a && b);
    calx_connection *c = NULL;
    CHECK_INT(calx_wait(calx_engine_connect(e, &err), &c, &err), CALX_ERR_TIMEOUT);
    CHECK_STR(err.message, "QueuePool limit of size 2 overflow 0 reached, connection timed "
                           "out, timeout 0.05");
    CHECK_INT(stats(e).timeouts, 1);
    CHECK_INT(stats(e).waits, 1);
    CHECK(stats(e).wait_seconds > 0.02);
    /* The pool is still usable afterwards. */
    calx_conn_close(a);
    c = connect_now(e, &err);
    CHECK(c != NULL);
    calx_conn_close(b);
    calx_conn_close(c);
    free_engine(e);
}

/* A checkout that queues, with when it joined and ended (loop ms). */
typedef struct timed_waiter {
    calx_engine *e;
    uint64_t joined, ended;
    int rc;
} timed_waiter;

static void *timed_waiter_task(void *arg)
{
    timed_waiter *w = arg;
    calx_error err;
    calx_connection *c = NULL;
    w->joined = calx_loop_now(loop);
    w->rc = calx_await(calx_engine_connect(w->e, &err), &c, &err);
    w->ended = calx_loop_now(loop);
    if (c) {
        calx_await(calx_sleep(loop, 700, &err), NULL, &err);  /* past the others' deadlines */
        calx_conn_close(c);
    }
    return NULL;
}

/* Each queued checkout waits pool_timeout from when it joined the queue:
 * one that joined later is not failed with the first, and one behind a
 * waiter that was served still fails on time. */
TEST(queued_checkouts_time_out_each_at_its_own_deadline)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1,
                                                     .max_overflow = CALX_OVERFLOW_NONE,
                                                     .pool_timeout = 0.5 }, NULL, 0);
    calx_connection *hold = connect_now(e, &err);
    CHECK(hold != NULL);
    /* A wide timeout: the first waiter must be served before its own
     * deadline even on a slow machine (under valgrind). */
    timed_waiter w[3] = { { .e = e }, { .e = e }, { .e = e } };
    calx_future *fs[3];
    fs[0] = calx_spawn(loop, timed_waiter_task, &w[0], NULL, &err);   /* t = 0 */
    calx_wait(calx_sleep(loop, 100, &err), NULL, &err);
    fs[1] = calx_spawn(loop, timed_waiter_task, &w[1], NULL, &err);   /* t = 100 */
    calx_wait(calx_sleep(loop, 20, &err), NULL, &err);
    calx_conn_close(hold);                                            /* the first is served */
    calx_wait(calx_sleep(loop, 30, &err), NULL, &err);
    fs[2] = calx_spawn(loop, timed_waiter_task, &w[2], NULL, &err);   /* t = 150 */
    for (int i = 0; i < 3; i++)
        CHECK_INT(calx_wait(fs[i], NULL, &err), 0);
    CHECK_INT(w[0].rc, 0);
    for (int i = 1; i < 3; i++) {
        CHECK_INT(w[i].rc, CALX_ERR_TIMEOUT);
        CHECK(w[i].ended - w[i].joined >= 500);
    }
    CHECK(w[2].ended >= w[1].ended);
    CHECK_INT(stats(e).timeouts, 2);
    CHECK_INT(stats(e).waiting, 0);
    free_engine(e);
}

/* Once nobody waits (the waiter served, or cancelled) the queue's timer
 * is stopped: it does not hold the loop until pool_timeout. */
TEST(an_empty_queue_leaves_no_timer_holding_the_loop)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1,
                                                     .max_overflow = CALX_OVERFLOW_NONE,
                                                     .pool_timeout = 5 }, NULL, 0);
    calx_connection *hold = connect_now(e, &err);
    CHECK(hold != NULL);
    calx_future *f = calx_engine_connect(e, &err);   /* waits: the timer armed */
    CHECK(calx_future_cancel(f));
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    uint64_t t0 = calx_loop_now(loop);
    calx_loop_run(loop);
    CHECK(calx_loop_now(loop) - t0 < 1000);
    f = calx_engine_connect(e, &err);                 /* waits again */
    calx_conn_close(hold);                            /* and is served */
    calx_connection *c = NULL;
    CHECK_INT(calx_wait(f, &c, &err), 0);
    calx_conn_close(c);
    t0 = calx_loop_now(loop);
    calx_loop_run(loop);
    CHECK(calx_loop_now(loop) - t0 < 1000);
    CHECK_INT(stats(e).timeouts, 0);
    free_engine(e);
}

typedef struct order_rec {
    int order[16];
    int n;
} order_rec;

typedef struct waiter_arg {
    calx_engine *e;
    order_rec *rec;
    int id;
} waiter_arg;

static void *waiter_task(void *arg)
{
    waiter_arg *w = arg;
    calx_error err;
    calx_connection *c;
    if (calx_await(calx_engine_connect(w->e, &err), &c, &err))
        return NULL;
    w->rec->order[w->rec->n++] = w->id;
    calx_await(calx_sleep(loop, 2, &err), NULL, &err);
    calx_conn_close(c);
    return NULL;
}

TEST(waiters_are_served_first_come_first_served)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1,
                                                     .max_overflow = CALX_OVERFLOW_NONE },
                                 NULL, 0);
    calx_connection *hold = connect_now(e, &err);
    order_rec rec = { .n = 0 };
    waiter_arg args[8];
    calx_future *fs[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (waiter_arg){ e, &rec, i };
        fs[i] = calx_spawn(loop, waiter_task, &args[i], NULL, &err);
    }
    /* Let all eight queue up, then free the one connection. */
    calx_wait(calx_sleep(loop, 10, &err), NULL, &err);
    CHECK_INT(stats(e).waiting, 8);
    calx_conn_close(hold);
    for (int i = 0; i < 8; i++)
        calx_wait(fs[i], NULL, &err);
    CHECK_INT(rec.n, 8);
    for (int i = 0; i < rec.n; i++)
        CHECK_INT(rec.order[i], i);
    CHECK_INT(stats(e).opened, 1);
    free_engine(e);
}

/* The probes of a PostgreSQL connection so far (0 on SQLite). */
static uint64_t probes(calx_connection *c)
{
    calx_pg_stats st;
    calx__pg_conn_stats(calx__conn_dconn(c), &st);
    return st.probes;
}

/* An engine whose pool holds one connection and never more. */
static calx_engine *one_connection_engine(void)
{
    return make_engine((calx_engine_opts){ .pool_size = 1, .max_overflow = CALX_OVERFLOW_NONE },
                       NULL, 0);
}

typedef struct handed_arg {
    calx_engine *e;
    uint64_t probes;          /* the connection's probes once it got it */
} handed_arg;

static void *handed_task(void *arg)
{
    handed_arg *h = arg;
    calx_error err;
    calx_connection *c;
    if (calx_await(calx_engine_connect(h->e, &err), &c, &err) == 0) {
        h->probes = probes(c);
        calx_conn_close(c);
    }
    return NULL;
}

/* A connection is checked for life once a checkout, at the checkout, and
 * not at its checkin: on PostgreSQL the check reads the socket, a
 * syscall, and fifty tasks sharing a pool pass connections so all the
 * time. */
TEST(a_connection_is_checked_for_life_once_a_checkout_handed_or_idle)
{
    if (!pg)
        SKIP("the liveness check reads a socket on PostgreSQL only");
    calx_error err;
    calx_engine *e = one_connection_engine();
    calx_connection *hold = connect_now(e, &err);
    CHECK(hold != NULL);
    if (!hold)
        return;
    handed_arg h = { e, 0 };
    calx_future *f = calx_spawn(loop, handed_task, &h, NULL, &err);
    calx_wait(calx_sleep(loop, 10, &err), NULL, &err);
    CHECK_INT(stats(e).waiting, 1);
    uint64_t before = probes(hold);
    calx_conn_close(hold);
    calx_wait(f, NULL, &err);
    CHECK_INT(h.probes - before, 1);
    /* Idle in the pool after the task's checkin, it is checked at the
     * next checkout only. */
    calx_connection *again = connect_now(e, &err);
    CHECK(again != NULL);
    if (again) {
        CHECK_INT(probes(again) - before, 2);
        calx_conn_close(again);
    }
    CHECK_INT(stats(e).opened, 1);
    free_engine(e);
}

typedef struct fresh_arg {
    calx_engine *e;
    bool same_connection;
    bool quick;                      /* the second checkout came within the window */
    uint64_t at_once, after_sleep;   /* probes at the two checkouts */
} fresh_arg;

static void *reply_then_checkouts_task(void *arg)
{
    fresh_arg *a = arg;
    calx_error err;
    calx_connection *c = NULL;
    calx_result *r = NULL;
    if (calx_await(calx_engine_connect(a->e, &err), &c, &err))
        return NULL;
    const calx_dconn *first = calx__conn_dconn(c);
    uint64_t asked = calx__mono_ns();   /* the reply is read after this */
    int rc = calx_await(calx_conn_execute(c, "SELECT 1", NULL, &err), &r, &err);
    calx_result_free(r);
    uint64_t before = probes(c);
    calx_conn_close(c);
    if (rc || calx_await(calx_engine_connect(a->e, &err), &c, &err))
        return NULL;
    a->quick = calx__mono_ns() - asked < CALX_PG_FRESH_REPLY_NS;
    a->same_connection = calx__conn_dconn(c) == first;
    a->at_once = probes(c) - before;
    calx_conn_close(c);
    calx_await(calx_sleep(loop, 5, &err), NULL, &err);
    if (calx_await(calx_engine_connect(a->e, &err), &c, &err))
        return NULL;
    a->after_sleep = probes(c) - before;
    calx_conn_close(c);
    return NULL;
}

/* A connection that read a reply under CALX_PG_FRESH_REPLY_NS ago is not
 * probed at its next checkout (a hang-up inside that window is one that
 * could as well come just after the probe); later, it is. */
TEST(a_connection_that_just_read_a_reply_is_not_probed_at_its_next_checkout)
{
    if (!pg)
        SKIP("the liveness check reads a socket on PostgreSQL only");
    calx_error err;
    calx_engine *e = one_connection_engine();
    fresh_arg a = { .e = e };
    calx_wait(calx_spawn(loop, reply_then_checkouts_task, &a, NULL, &err), NULL, &err);
    CHECK(a.same_connection);
    /* Under valgrind the checkout may come later than the window: then
     * the probe is right, and only the rest is checked. */
    if (a.quick)
        CHECK_INT(a.at_once, 0);
    CHECK_INT(a.after_sleep, a.at_once + 1);
    free_engine(e);
}

/* SQLAlchemy's QueuePool: a connection above pool_size closes the moment
 * it comes back to a full pool. */
TEST(overflow_opens_then_closes_on_return)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 2, .max_overflow = 2,
                                                     .pool_overflow_idle = CALX_OVERFLOW_IDLE_NONE },
                                 NULL, 0);
    calx_connection *c[4];
    for (int i = 0; i < 4; i++)
        c[i] = connect_now(e, &err);
    CHECK_INT(stats(e).opened, 4);
    CHECK_INT(stats(e).overflow, 2);
    char *s = calx_engine_status(e);
    CHECK_STR(s, "Pool size: 2  Connections in pool: 0 Current Overflow: 2 Current Checked "
                 "out connections: 4");
    free(s);
    for (int i = 0; i < 4; i++)
        calx_conn_close(c[i]);
    calx_loop_run(loop);
    CHECK_INT(stats(e).closed, 2);     /* the overflow two */
    CHECK_INT(stats(e).checked_in, 2); /* pool_size kept */
    CHECK_INT(stats(e).overflow, 0);
    free_engine(e);
}

/* calx's default: a connection above pool_size stays idle a while
 * (pool_overflow_idle), so the next burst takes it instead of opening
 * another; it closes once idle that long, without keeping the loop
 * running meanwhile. */
TEST(overflow_stays_idle_a_while_serves_the_next_burst_then_closes)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 2, .max_overflow = 2,
                                                     .pool_overflow_idle = 0.2 },
                                 NULL, 0);
    calx_connection *c[4];
    for (int burst = 0; burst < 3; burst++) {
        for (int i = 0; i < 4; i++)
            c[i] = connect_now(e, &err);
        for (int i = 0; i < 4; i++)
            calx_conn_close(c[i]);
        calx_loop_run(loop);
        CHECK_INT(stats(e).checked_in, 4);
    }
    CHECK_INT(stats(e).opened, 4);   /* the bursts after the first opened none */
    CHECK_INT(stats(e).closed, 0);
    uint64_t t0 = calx_loop_now(loop);
    calx_loop_run(loop);   /* the trim does not hold the loop */
    CHECK(calx_loop_now(loop) - t0 < 150);
    calx_wait(calx_sleep(loop, 400, &err), NULL, &err);
    CHECK_INT(stats(e).closed, 2);   /* the spare two */
    CHECK_INT(stats(e).checked_in, 2);
    CHECK_INT(stats(e).overflow, 0);
    free_engine(e);
}

/* A negative pool_overflow_idle other than CALX_OVERFLOW_IDLE_NONE is a
 * mistake, named. */
TEST(a_negative_overflow_idle_is_refused)
{
    calx_error err;
    calx_engine *e = calx_create_engine(
        "sqlite://", &(calx_engine_opts){ .loop = loop, .pool_overflow_idle = -2 }, &err);
    CHECK(e == NULL);
    CHECK_CONTAINS(err.message, "pool_overflow_idle");
}

TEST(recycle_replaces_old_connections)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_recycle = 0.02 }, NULL, 0);
    calx_conn_close(connect_now(e, &err));
    calx_conn_close(connect_now(e, &err)); /* young: reused */
    CHECK_INT(stats(e).opened, 1);
    calx_wait(calx_sleep(loop, 40, &err), NULL, &err);
    calx_connection *c = connect_now(e, &err);
    CHECK(c != NULL);
    CHECK_INT(stats(e).opened, 2);
    CHECK_INT(stats(e).invalidated, 1);
    calx_conn_close(c);
    free_engine(e);
}

TEST(pre_ping_replaces_a_dead_connection)
{
    calx_error err;
    char path[512];
    calx_engine *e = make_engine((calx_engine_opts){ .pool_pre_ping = true }, path, sizeof path);
    calx_connection *c = connect_now(e, &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "CREATE TABLE t (x INTEGER)", NULL, &err), &r, &err),
             &err);
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    long long pid = 0;
    if (pg) {
        CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT pg_backend_pid()", NULL, &err), &r,
                           &err), &err);
        pid = (long long)calx_result_scalar(r).u.i;
        calx_result_free(r);
        CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    }
    calx_conn_close(c);
    calx_loop_run(loop);
    if (pg) {
        /* The server ends the pooled connection's process: it is dead now
         * (the driver sees the hang-up at checkout, before the ping). */
        CHECK(test_backend_kill(pid));
    } else {
        /* The file goes away under the pooled connection: it is stale now. */
        CHECK_INT(unlink(path), 0);
    }
    c = connect_now(e, &err);
    CHECK(c != NULL);
    CHECK_INT(stats(e).opened, 2);
    CHECK(stats(e).invalidated >= 1);
    /* The new connection works (and on SQLite sees the new, empty file). */
    CHECK_OK(calx_wait(calx_conn_execute(c, pg ? "SELECT count(*) FROM t"
                                               : "SELECT count(*) FROM sqlite_master",
                                         NULL, &err), &r, &err), &err);
    CHECK_INT(calx_result_scalar(r).u.i, 0);
    calx_result_free(r);
    calx_conn_close(c);
    free_engine(e);
}

TEST(cancelled_checkout_leaves_pool_whole)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1,
                                                     .max_overflow = CALX_OVERFLOW_NONE },
                                 NULL, 0);
    calx_connection *hold = connect_now(e, &err);
    calx_future *f = calx_engine_connect(e, &err);
    CHECK_INT(stats(e).waiting, 1);
    CHECK(calx_future_cancel(f));
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    CHECK_INT(stats(e).waiting, 0);
    calx_conn_close(hold);
    calx_loop_run(loop);
    CHECK_INT(stats(e).checked_in, 1);
    CHECK_INT(stats(e).checked_out, 0);
    /* Cancelled while the connection was being opened: it comes back. */
    calx_connection *a = connect_now(e, &err);
    calx_conn_close(a);
    calx_engine_dispose(e);
    f = calx_engine_connect(e, &err);
    calx_future_cancel(f);
    calx_wait(f, NULL, &err);
    calx_loop_run(loop);
    CHECK_INT(stats(e).checked_out, 0);
    CHECK_INT(stats(e).checked_in, 1);
    free_engine(e);
}

static void *query_then_get_cancelled(void *arg)
{
    calx_engine *e = arg;
    calx_error err;
    calx_connection *c;
    if (calx_await(calx_engine_connect(e, &err), &c, &err))
        return NULL;
    calx_result *r = NULL;
    /* A long statement: the task is cancelled while it runs. */
    int rc = calx_await(calx_conn_execute(c, pg ? "SELECT pg_sleep(60)"
                                                : "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL "
                                                  "SELECT x + 1 FROM n) SELECT count(*) FROM n",
                                          NULL, &err), &r, &err);
    calx_result_free(r);
    calx_conn_close(c); /* never blocks; the pool gets it back */
    return (void *)(intptr_t)rc;
}

static void cancel_cb(void *f)
{
    calx_future_cancel(f);
}

TEST(cancelled_task_returns_its_connection)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1,
                                                     .max_overflow = CALX_OVERFLOW_NONE },
                                 NULL, 0);
    calx_future *f = calx_spawn(loop, query_then_get_cancelled, e, NULL, &err);
    calx_timer *t = calx__timer_new(loop, cancel_cb, f);
    calx__timer_start(t, 50);
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    calx__timer_free(t);
    calx_loop_run(loop);
    CHECK_INT(stats(e).checked_out, 0);
    CHECK_INT(stats(e).checked_in, 1);
    /* The same single connection serves again, and rollback-on-return left
     * no transaction behind. */
    calx_connection *c = connect_now(e, &err);
    CHECK(c != NULL);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT 1", NULL, &err), &r, &err), &err);
    calx_result_free(r);
    calx_conn_close(c);
    CHECK_INT(stats(e).opened, 1);
    free_engine(e);
}

TEST(null_pool_opens_and_closes_each_time)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .poolclass = CALX_POOL_NULL }, NULL, 0);
    calx_conn_close(connect_now(e, &err));
    calx_conn_close(connect_now(e, &err));
    calx_loop_run(loop);
    CHECK_INT(stats(e).opened, 2);
    CHECK_INT(stats(e).closed, 2);
    char *s = calx_engine_status(e);
    CHECK_STR(s, "NullPool");
    free(s);
    free_engine(e);
}

TEST(memory_database_shares_one_connection)
{
    calx_error err;
    if (pg)
        SKIP("SQLite only: an in-memory database");
    calx_engine *e = calx_create_engine("sqlite://", &(calx_engine_opts){ .loop = loop }, &err);
    calx_connection *c = connect_now(e, &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "CREATE TABLE m (x)", NULL, &err), &r, &err), &err);
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    c = connect_now(e, &err);
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT count(*) FROM m", NULL, &err), &r, &err),
             &err);
    calx_result_free(r);
    calx_conn_close(c);
    char *s = calx_engine_status(e);
    CHECK_STR(s, "StaticPool");
    free(s);
    CHECK_INT(stats(e).opened, 1);
    free_engine(e);
}

/* Tasks that use one in-memory database at once: the StaticPool's one
 * connection goes to each in turn (the others queue for it), and every one
 * of them succeeds on the same database. */
typedef struct memory_user {
    calx_engine *e;
    int id;
    bool ok;
} memory_user;

static void *use_memory(void *arg)
{
    memory_user *u = arg;
    calx_error err;
    calx_connection *c = NULL;
    calx_result *r = NULL;
    if (calx_await(calx_engine_connect(u->e, &err), &c, &err) == 0 &&
        calx_await(calx_conn_execute(c, "INSERT INTO m VALUES (?)",
                                     CALX_PARAMS(CALX_V(calx_int(u->id))), &err),
                   &r, &err) == 0 &&
        calx_await(calx_sleep(loop, 1, &err), NULL, &err) == 0 && /* the others ask now */
        calx_await(calx_conn_commit(c, &err), NULL, &err) == 0)
        u->ok = true;
    else
        fprintf(stderr, "  user %d: %s\n", u->id, err.message);
    calx_result_free(r);
    calx_conn_close(c);
    return NULL;
}

TEST(the_shared_memory_database_serves_concurrent_tasks_in_turn)
{
    if (pg)
        SKIP("SQLite only: an in-memory database");
    enum { N = 8 };
    calx_error err;
    calx_engine *e = calx_create_engine("sqlite://", &(calx_engine_opts){ .loop = loop }, &err);
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(exec_sql(c, "CREATE TABLE m (x INTEGER)", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    memory_user users[N];
    calx_future *fs[N];
    for (int i = 0; i < N; i++) {
        users[i] = (memory_user){ e, i + 1, false };
        fs[i] = calx_spawn(loop, use_memory, &users[i], NULL, &err);
    }
    for (int i = 0; i < N; i++) {
        CHECK_OK(calx_wait(fs[i], NULL, &err), &err);
        CHECK(users[i].ok);
    }
    CHECK(stats(e).waits >= 1); /* they did queue */
    CHECK_INT(stats(e).timeouts, 0);
    CHECK_INT(stats(e).opened, 1);
    c = connect_now(e, &err);
    CHECK_INT(scalar(c, "SELECT count(*) FROM m"), N);
    CHECK_INT(scalar(c, "SELECT sum(x) FROM m"), N * (N + 1) / 2);
    calx_conn_close(c);
    free_engine(e);
}

TEST(dispose_closes_idle_and_returning)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, NULL, 0);
    calx_connection *a = connect_now(e, &err), *b = connect_now(e, &err);
    calx_conn_close(a);
    calx_loop_run(loop);
    calx_engine_dispose(e);
    CHECK_INT(stats(e).checked_in, 0);
    calx_conn_close(b); /* out during dispose: closed on return */
    calx_loop_run(loop);
    CHECK_INT(stats(e).closed, 2);
    calx_connection *c = connect_now(e, &err); /* still usable */
    CHECK(c != NULL);
    calx_conn_close(c);
    free_engine(e);
}

TEST(freed_engine_lets_connections_finish)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, NULL, 0);
    calx_connection *c = connect_now(e, &err);
    calx_engine_free(e);
    /* e stays alive while c is out, but hands out nothing new. */
    CHECK(calx_engine_connect(e, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_CLOSED);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT 1", NULL, &err), &r, &err), &err);
    calx_result_free(r);
    calx_conn_close(c);
    calx_loop_run(loop);
}

static char poolbuf[8192];
static size_t poollen;

static void capture(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    int n = snprintf(poolbuf + poollen, sizeof poolbuf - poollen, "%s %s\n", logger, msg);
    if (n > 0 && poollen + (size_t)n < sizeof poolbuf)
        poollen += (size_t)n;
}

TEST(echo_pool_logs_checkouts)
{
    calx_error err;
    poollen = 0;
    poolbuf[0] = 0;
    calx_engine *e = make_engine((calx_engine_opts){ .echo_pool = true, .log = capture }, NULL, 0);
    calx_connection *c = connect_now(e, &err);
    calx_conn_invalidate(c);
    calx_conn_close(c);
    free_engine(e);
    CHECK_CONTAINS(poolbuf, "calx.pool.impl.QueuePool Created new connection <conn 1>\n");
    CHECK_CONTAINS(poolbuf, "calx.pool.impl.QueuePool Connection <conn 1> checked out from pool\n");
    CHECK_CONTAINS(poolbuf, "Connection <conn 1> being returned to pool\n");
    CHECK_CONTAINS(poolbuf, "Invalidate connection <conn 1> (reason: invalidated by the program)");
}

typedef struct many_arg {
    calx_engine *e;
    int *done;
} many_arg;

static void *worker(void *arg)
{
    many_arg *m = arg;
    calx_error err;
    calx_connection *c;
    if (calx_await(calx_engine_connect(m->e, &err), &c, &err))
        return NULL;
    calx_result *r = NULL;
    if (calx_await(calx_conn_execute(c, "INSERT INTO t VALUES (1)", NULL, &err), &r, &err) == 0 &&
        calx_await(calx_conn_commit(c, &err), NULL, &err) == 0)
        (*m->done)++;
    else
        fprintf(stderr, "  worker: %s\n", err.message);
    calx_result_free(r);
    calx_conn_close(c);
    return NULL;
}

TEST(fifty_tasks_over_five_plus_two)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 5, .max_overflow = 2,
                                                     .connect_args = (calx_kv[]){
                                                         { "journal_mode", "wal" } },
                                                     /* a SQLite pragma */
                                                     .nconnect_args = pg ? 0 : 1 }, NULL, 0);
    calx_connection *c = connect_now(e, &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "CREATE TABLE t (x INTEGER)", NULL, &err), &r, &err),
             &err);
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    int done = 0;
    many_arg m = { e, &done };
    calx_future *fs[50];
    for (int i = 0; i < 50; i++)
        fs[i] = calx_spawn(loop, worker, &m, NULL, &err);
    for (int i = 0; i < 50; i++)
        calx_wait(fs[i], NULL, &err);
    CHECK_INT(done, 50);
    calx_pool_stats st = stats(e);
    CHECK(st.opened <= 7);
    CHECK_INT(st.checked_out, 0);
    CHECK_INT(st.timeouts, 0);
    free_engine(e);
}

/* Which connection is this? Each SQLite connection has its own TEMP schema. */
static int64_t mark(calx_connection *c, int64_t set)
{
    calx_error err;
    calx_result *r = NULL;
    if (set) {
        calx_wait(calx_conn_execute(c, "CREATE TEMP TABLE mark AS SELECT ? AS id",
                                    CALX_PARAMS(CALX_V(calx_int(set))), &err), &r, &err);
        calx_result_free(r);
        calx_wait(calx_conn_commit(c, &err), NULL, &err);
        return set;
    }
    int64_t id = -1;
    if (calx_wait(calx_conn_execute(c, "SELECT id FROM mark", NULL, &err), &r, &err) == 0)
        id = calx_result_scalar(r).u.i;
    calx_result_free(r);
    return id;
}

static int64_t next_checkout(bool lifo)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_use_lifo = lifo }, NULL, 0);
    calx_connection *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = connect_now(e, &err);
        mark(c[i], i + 1);
    }
    for (int i = 0; i < 3; i++)
        calx_conn_close(c[i]);
    calx_loop_run(loop);
    calx_connection *next = connect_now(e, &err);
    int64_t id = mark(next, 0);
    calx_conn_close(next);
    free_engine(e);
    return id;
}

TEST(fifo_by_default_lifo_on_request)
{
    CHECK_INT(next_checkout(false), 1); /* the longest idle */
    CHECK_INT(next_checkout(true), 3);  /* the most recently returned */
}

TEST(autocommit_isolation_commits_each_statement)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .isolation_level = "AUTOCOMMIT" }, NULL, 0);
    calx_connection *a = connect_now(e, &err), *b = connect_now(e, &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(a, "CREATE TABLE t (x INTEGER)", NULL, &err), &r, &err),
             &err);
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_execute(a, "INSERT INTO t VALUES (1)", NULL, &err), &r, &err),
             &err);
    calx_result_free(r);
    CHECK(!calx_conn_in_transaction(a));
    CHECK_OK(calx_wait(calx_conn_execute(b, "SELECT count(*) FROM t", NULL, &err), &r, &err),
             &err);
    CHECK_INT(calx_result_scalar(r).u.i, 1);
    calx_result_free(r);
    calx_conn_close(a);
    calx_conn_close(b);
    free_engine(e);
}

/* Checks out a connection of e, inserts x into t and gives the connection
 * back with that transaction still open. */
static void return_in_a_transaction(calx_engine *e, int x)
{
    calx_error err;
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(c ? calx_wait(calx_conn_execute(c, "INSERT INTO t VALUES (?)",
                                             CALX_PARAMS(CALX_V(calx_int(x))), &err),
                           NULL, &err)
               : -1, &err);
    CHECK(c && calx_conn_in_transaction(c));
    calx_conn_close(c);
    calx_loop_run(loop);
}

/* A connection given back with its transaction open is rolled back
 * (pool_reset_on_return's default): whoever checks it out next does not
 * see the uncommitted row, and while it sits in the pool the locks it
 * held are gone, so another connection writing the same key is not
 * blocked. */
TEST(a_connection_returned_in_a_transaction_is_rolled_back)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, NULL, 0);
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(exec_sql(c, "CREATE TABLE t (x INTEGER PRIMARY KEY)", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    calx_loop_run(loop);

    return_in_a_transaction(e, 1);
    calx_connection *next = connect_now(e, &err);
    CHECK_INT(stats(e).opened, 1); /* the same connection, back from the pool */
    CHECK_INT(scalar(next, "SELECT count(*) FROM t"), 0);
    CHECK_OK(calx_wait(calx_conn_rollback(next, &err), NULL, &err), &err);
    calx_conn_close(next);
    calx_loop_run(loop);

    return_in_a_transaction(e, 2);
    calx_connection *idle = connect_now(e, &err); /* taken, not used */
    calx_connection *other = connect_now(e, &err);
    CHECK_INT(stats(e).opened, 2);
    /* Were the returned transaction still open, this INSERT would wait for
     * its lock: bounded here so that the test fails instead of hanging. */
    if (pg)
        CHECK_OK(exec_sql(other, "SET lock_timeout = 10000", &err), &err);
    CHECK_OK(exec_sql(other, "INSERT INTO t VALUES (2)", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(other, &err), NULL, &err), &err);
    CHECK_INT(scalar(other, "SELECT count(*) FROM t"), 1);
    calx_conn_close(idle);
    calx_conn_close(other);
    free_engine(e);
}

/* A checkout that comes while a connection is on its way back (its
 * rollback-on-return under way) waits for it rather than opening a
 * second: a program that closes a connection and at once opens another
 * (a session per request) keeps one, rolled back. */
TEST(a_checkout_while_a_connection_is_being_reset_waits_for_it)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, NULL, 0);
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(exec_sql(c, "CREATE TABLE t (x INTEGER PRIMARY KEY)", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_OK(exec_sql(c, "INSERT INTO t VALUES (1)", &err), &err);
    calx_conn_close(c);   /* its ROLLBACK is under way: the loop has not run */
    calx_connection *next = connect_now(e, &err);
    CHECK(next != NULL);
    CHECK_INT(stats(e).opened, 1);
    CHECK_INT(stats(e).waits, 1);
    if (next) {
        CHECK_INT(scalar(next, "SELECT count(*) FROM t"), 0);
        calx_conn_close(next);
    }
    free_engine(e);
}

/* Checkouts beyond the connections on their way back are not held back by
 * them: the first waiter gets a new connection, the second the one that
 * comes back, and neither waits for the other's. */
TEST(checkouts_beyond_the_connections_being_reset_open_new_ones)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_timeout = 2 }, NULL, 0);
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(exec_sql(c, "CREATE TABLE t (x INTEGER PRIMARY KEY)", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_OK(exec_sql(c, "SELECT count(*) FROM t", &err), &err);
    calx_conn_close(c);   /* its ROLLBACK is under way */
    calx_future *first = calx_engine_connect(e, &err);
    calx_future *second = calx_engine_connect(e, &err);
    calx_connection *a = NULL, *b = NULL;
    CHECK_OK(calx_wait(second, &b, &err), &err);
    CHECK_OK(calx_wait(first, &a, &err), &err);
    CHECK(a && b && a != b);
    CHECK_INT(stats(e).opened, 2);
    calx_conn_close(a);
    calx_conn_close(b);
    free_engine(e);
}

/* With pool_reset_on_return off, a connection keeps the transaction it
 * was given back with: its next user sees the uncommitted row. */
TEST(with_reset_on_return_off_a_returned_transaction_stays_open)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_reset_on_return = CALX_RESET_NONE },
                                 NULL, 0);
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(exec_sql(c, "CREATE TABLE t (x INTEGER PRIMARY KEY)", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    calx_loop_run(loop);
    return_in_a_transaction(e, 1);
    calx_connection *next = connect_now(e, &err);
    CHECK_INT(stats(e).opened, 1);
    CHECK_INT(scalar(next, "SELECT count(*) FROM t"), 1);
    CHECK_OK(calx_wait(calx_conn_rollback(next, &err), NULL, &err), &err);
    CHECK_INT(scalar(next, "SELECT count(*) FROM t"), 0);
    calx_conn_close(next);
    free_engine(e);
}

/* The deadline of the one timer running on uv that is due last, in ms from
 * the loop's clock (-1: no timer running). */
static void latest_timer(uv_handle_t *h, void *arg)
{
    int64_t *due = arg;
    if (h->type == UV_TIMER && uv_is_active(h) &&
        (int64_t)uv_timer_get_due_in((uv_timer_t *)h) > *due)
        *due = (int64_t)uv_timer_get_due_in((uv_timer_t *)h);
}

/* SQLAlchemy's defaults: pool_size 5 plus max_overflow 10, so the
 * sixteenth checkout waits, and for pool_timeout 30 seconds. The wait's
 * deadline is read off the libuv loop (a loop of the test's own), so the
 * test does not sit out the 30 seconds. */
TEST(by_default_five_plus_ten_connections_open_and_the_next_checkout_waits_30_seconds)
{
    calx_error err;
    uv_loop_t uv;
    CHECK_INT(uv_loop_init(&uv), 0);
    calx_loop *own = calx_loop_new(&uv, &err);
    char url[1200];
    const char *u = test_fresh_url(url, sizeof url, dir, ++seq, NULL);
    calx_engine *e = u ? calx_create_engine(u, &(calx_engine_opts){ .loop = own }, &err) : NULL;
    CHECK(e != NULL);
    if (!e) {
        calx_loop_free(own);
        uv_loop_close(&uv);
        return;
    }
    calx_connection *c[15];
    for (int i = 0; i < 15; i++) {
        c[i] = NULL;
        CHECK_OK(calx_wait(calx_engine_connect(e, &err), &c[i], &err), &err);
    }
    CHECK_INT(stats(e).opened, 15);
    CHECK_INT(stats(e).overflow, 10);
    calx_future *f = calx_engine_connect(e, &err);
    CHECK(f != NULL);
    CHECK_INT(stats(e).waiting, 1);
    CHECK_INT(stats(e).opened, 15);
    int64_t due = -1;
    uv_walk(&uv, latest_timer, &due);
    CHECK(due > 29000 && due <= 30000);
    /* A connection given back goes to the waiter. */
    calx_conn_close(c[0]);
    calx_connection *got = NULL;
    CHECK_OK(calx_wait(f, &got, &err), &err);
    CHECK(got != NULL);
    CHECK_INT(stats(e).opened, 15);
    CHECK_INT(stats(e).timeouts, 0);
    calx_conn_close(got);
    for (int i = 1; i < 15; i++)
        calx_conn_close(c[i]);
    calx_engine_free(e);
    CHECK_OK(calx_loop_free(own), &err);
    CHECK_INT(uv_loop_close(&uv), 0);
}

/* The error names the level, whether calx_create_engine or the first
 * checkout finds it out. */
TEST(unknown_isolation_level_is_named)
{
    calx_error err;
    char url[1200];
    const char *u = test_fresh_url(url, sizeof url, dir, ++seq, NULL);
    CHECK(u != NULL);
    calx_engine *e = u ? calx_create_engine(u, &(calx_engine_opts){ .loop = loop,
                                                                    .isolation_level = "SNAPSHOTTY" },
                                            &err)
                       : NULL;
    if (!e) {
        CHECK_CONTAINS(u ? err.message : NULL, "SNAPSHOTTY");
        return;
    }
    calx_connection *c = NULL;
    CHECK(calx_wait(calx_engine_connect(e, &err), &c, &err) != 0);
    CHECK_CONTAINS(err.message, "SNAPSHOTTY");
    /* A failed connect does not use up the pool. */
    CHECK_INT(stats(e).checked_out, 0);
    CHECK_INT(stats(e).overflow, -5);
    free_engine(e);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_pool");
    pg = test_backend_pg();
    fprintf(stderr, "backend: %s\n", test_backend_name());
    RUN(reuses_connections);
    RUN(timeout_error_in_sqlalchemy_words);
    RUN(the_timeout_error_keeps_sqlalchemys_words_in_a_german_locale);
    RUN(queued_checkouts_time_out_each_at_its_own_deadline);
    RUN(an_empty_queue_leaves_no_timer_holding_the_loop);
    RUN(waiters_are_served_first_come_first_served);
    RUN(a_connection_is_checked_for_life_once_a_checkout_handed_or_idle);
    RUN(a_connection_that_just_read_a_reply_is_not_probed_at_its_next_checkout);
    RUN(overflow_opens_then_closes_on_return);
    RUN(overflow_stays_idle_a_while_serves_the_next_burst_then_closes);
    RUN(a_negative_overflow_idle_is_refused);
    RUN(recycle_replaces_old_connections);
    RUN(pre_ping_replaces_a_dead_connection);
    RUN(cancelled_checkout_leaves_pool_whole);
    RUN(cancelled_task_returns_its_connection);
    RUN(null_pool_opens_and_closes_each_time);
    RUN(memory_database_shares_one_connection);
    RUN(the_shared_memory_database_serves_concurrent_tasks_in_turn);
    RUN(dispose_closes_idle_and_returning);
    RUN(freed_engine_lets_connections_finish);
    RUN(echo_pool_logs_checkouts);
    RUN(fifty_tasks_over_five_plus_two);
    RUN(fifo_by_default_lifo_on_request);
    RUN(autocommit_isolation_commits_each_statement);
    RUN(a_connection_returned_in_a_transaction_is_rolled_back);
    RUN(a_checkout_while_a_connection_is_being_reset_waits_for_it);
    RUN(checkouts_beyond_the_connections_being_reset_open_new_ones);
    RUN(with_reset_on_return_off_a_returned_transaction_stays_open);
    RUN(by_default_five_plus_ten_connections_open_and_the_next_checkout_waits_30_seconds);
    RUN(unknown_isolation_level_is_named);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}

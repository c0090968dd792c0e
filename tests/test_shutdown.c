/* SPDX-License-Identifier: MIT */
/* Shutdown: every order of freeing the engine, the sessionmaker and the
 * loop is safe, each order run many times (CALX_TEST_ROUNDS, 200 by
 * default) since what it guards against is a race with the SQLite worker
 * thread's last post. SQLite files, or PostgreSQL when CALX_TEST_URL names
 * a server (test_shutdown_pg; see tests/backend.h). */
#include <stdint.h>

#include <uv.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "calx.h"
#include "test.h"
#include "backend.h"

static const char *dir;
static int seq;
static int rounds;

/* A fresh database: one per test, shared by its rounds. */
static const char *fresh_url(char *buf, size_t n)
{
    const char *u = test_fresh_url(buf, n, dir, ++seq, NULL);
    if (!u)
        fprintf(stderr, "  no database to run on\n");
    return u;
}

/* What a program has made by the time it shuts down. */
typedef struct app {
    calx_loop *loop;
    calx_engine *engine;
    calx_sessionmaker *maker;
} app;

/* Makes the engine and sessionmaker on loop (NULL: the default loop) and
 * uses a connection once, so that one is open in the pool at shutdown
 * (on SQLite, a worker thread). False when any step failed. */
static bool app_start(app *a, calx_loop *loop, const char *url)
{
    calx_error err;
    a->loop = loop ? loop : calx_loop_default();
    a->engine = calx_create_engine(url, &(calx_engine_opts){ .loop = loop }, &err);
    a->maker = a->engine ? calx_sessionmaker_new(&(calx_session_opts){ .bind = a->engine },
                                                 &err)
                         : NULL;
    if (!a->maker) {
        fprintf(stderr, "  start: %s\n", err.message);
        return false;
    }
    calx_connection *c = NULL;
    calx_result *r = NULL;
    int rc = calx_wait(calx_engine_connect(a->engine, &err), &c, &err);
    if (rc == 0)
        rc = calx_wait(calx_conn_execute(c, "SELECT 1", NULL, &err), &r, &err);
    calx_result_free(r);
    /* Back to the pool with its reset (a ROLLBACK) still in flight. */
    calx_conn_close(c);
    if (rc)
        fprintf(stderr, "  start: %s\n", err.message);
    return rc == 0;
}

/* The three frees, in the order order names: 'E' engine, 'M' sessionmaker,
 * 'L' loop. */
static void app_stop(app *a, const char *order)
{
    for (const char *o = order; *o; o++) {
        if (*o == 'E')
            calx_engine_free(a->engine);
        else if (*o == 'M')
            calx_sessionmaker_free(a->maker);
        else if (a->loop == calx_loop_default())
            calx_loop_free_default();
        else
            calx_loop_free(a->loop);
    }
}

/* Each order, rounds times: on the default loop (what a program's main
 * ends with), or on a libuv loop the program owns, in which nothing of
 * calx may be left after calx_loop_free. */
static void run_order(const char *order, bool embedded)
{
    char url[1200];
    if (!fresh_url(url, sizeof url)) {
        CHECK(0);
        return;
    }
    for (int i = 0; i < rounds && !test_failed_now; i++) {
        uv_loop_t uv;
        calx_error err;
        calx_loop *loop = NULL;
        if (embedded) {
            CHECK_INT(uv_loop_init(&uv), 0);
            loop = calx_loop_new(&uv, &err);
            CHECK(loop != NULL);
        }
        app a;
        CHECK(app_start(&a, loop, url));
        app_stop(&a, order);
        if (embedded)
            CHECK_INT(uv_loop_close(&uv), 0);
    }
}

TEST(engine_then_sessionmaker_then_loop_is_safe) { run_order("EML", false); }
TEST(engine_then_loop_then_sessionmaker_is_safe) { run_order("ELM", false); }
TEST(sessionmaker_then_engine_then_loop_is_safe) { run_order("MEL", false); }
TEST(sessionmaker_then_loop_then_engine_is_safe) { run_order("MLE", false); }
TEST(loop_then_engine_then_sessionmaker_is_safe) { run_order("LEM", false); }
TEST(loop_then_sessionmaker_then_engine_is_safe) { run_order("LME", false); }

TEST(engine_then_loop_leaves_the_programs_libuv_loop_closable) { run_order("EML", true); }
TEST(loop_then_engine_leaves_the_programs_libuv_loop_closable) { run_order("LME", true); }

static int select_one(calx_connection *c)
{
    calx_error err;
    calx_result *r = NULL;
    int rc = calx_wait(calx_conn_execute(c, "SELECT 1", NULL, &err), &r, &err);
    calx_result_free(r);
    return rc;
}

/* A loop of its own, an engine on it, and a connection checked out of the
 * engine that has run a statement. */
typedef struct held {
    calx_loop *loop;
    calx_engine *engine;
    calx_connection *conn;
} held;

static bool hold_one(held *h)
{
    char url[1200];
    calx_error err;
    memset(h, 0, sizeof *h);
    h->loop = calx_loop_new(NULL, &err);
    if (h->loop && fresh_url(url, sizeof url))
        h->engine = calx_create_engine(url, &(calx_engine_opts){ .loop = h->loop }, &err);
    if (h->engine && calx_wait(calx_engine_connect(h->engine, &err), &h->conn, &err) == 0 &&
        select_one(h->conn) == 0)
        return true;
    fprintf(stderr, "  hold_one: %s\n", err.message);
    CHECK(0);
    return false;
}

static char logbuf[4096];

static void capture(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    snprintf(logbuf, sizeof logbuf, "%s %s %s", calx_log_level_name(level), logger, msg);
}

TEST(freeing_the_loop_with_a_connection_checked_out_is_refused_naming_the_engine)
{
    calx_error err;
    held h;
    if (!hold_one(&h))
        return;
    CHECK_INT(calx_loop_close(h.loop, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "Engine(");
    CHECK_CONTAINS(err.message, "1 connection(s) checked out");
    /* calx_loop_free says the same to the log. */
    calx_log_set_handler(capture, NULL);
    CHECK_INT(calx_loop_free(h.loop), CALX_ERR_STATE);
    calx_log_set_handler(NULL, NULL);
    CHECK_CONTAINS(logbuf, "WARNING calx.loop calx_loop_free: Engine(");
    /* Refused means untouched: the connection and the loop still work. */
    CHECK_INT(select_one(h.conn), 0);
    calx_conn_close(h.conn);
    calx_engine_free(h.engine);
    CHECK_OK(calx_loop_close(h.loop, &err), &err);
}

TEST(an_engine_freed_with_a_connection_checked_out_lives_until_it_is_closed)
{
    calx_error err;
    held h;
    if (!hold_one(&h))
        return;
    calx_engine_free(h.engine);
    CHECK_INT(select_one(h.conn), 0);
    CHECK_INT(calx_loop_close(h.loop, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "checked out");
    /* Closing it starts the reset and the close; freeing the loop finishes
     * them and with them the engine. */
    calx_conn_close(h.conn);
    CHECK_OK(calx_loop_close(h.loop, &err), &err);
}

TEST(an_engine_whose_loop_was_freed_refuses_connections)
{
    calx_error err;
    held h;
    if (!hold_one(&h))
        return;
    calx_conn_close(h.conn);
    CHECK_OK(calx_loop_close(h.loop, &err), &err);
    CHECK(calx_engine_connect(h.engine, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_CLOSED);
    CHECK_CONTAINS(err.message, "loop has been freed");
    calx_engine_free(h.engine);
}

static void *close_own_loop(void *arg)
{
    calx_error *err = arg;
    return (void *)(intptr_t)calx_loop_close(calx_loop_default(), err);
}

TEST(freeing_the_loop_from_inside_it_is_refused)
{
    calx_error err, inner;
    void *rc = NULL;
    CHECK_OK(calx_wait(calx_spawn(calx_loop_default(), close_own_loop, &inner, NULL, &err),
                       &rc, &err),
             &err);
    CHECK_INT((intptr_t)rc, CALX_ERR_STATE);
    CHECK_CONTAINS(inner.message, "from inside the loop");
    CHECK_OK(calx_loop_free_default(), &err);
}

static void *idle_task(void *arg)
{
    return arg;
}

TEST(freeing_the_loop_with_a_task_unfinished_is_refused)
{
    calx_error err;
    calx_loop *loop = calx_loop_new(NULL, &err);
    calx_future *f = calx_spawn(loop, idle_task, NULL, NULL, &err);
    CHECK_INT(calx_loop_close(loop, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "1 task(s) on this loop have not finished");
    CHECK_OK(calx_wait(f, NULL, &err), &err);
    CHECK_OK(calx_loop_close(loop, &err), &err);
}

TEST(freeing_the_default_loop_twice_is_harmless)
{
    calx_loop_default();
    CHECK_INT(calx_loop_free_default(), 0);
    CHECK_INT(calx_loop_free_default(), 0);
    CHECK_INT(calx_loop_close(NULL, NULL), 0);
}

int main(void)
{
    dir = test_tmpdir("test_shutdown");
    /* Valgrind makes each round some hundred times slower: fewer there,
     * unless CALX_TEST_ROUNDS says. On PostgreSQL each round opens a
     * connection to the server (its start-up and authentication, about a
     * tenth of a second on a loaded machine): 200 rounds of 8 orders took
     * 150-200 s there, near the test's time limit, so it runs 50. */
    const char *r = getenv("CALX_TEST_ROUNDS");
    rounds = r && atoi(r) > 0 ? atoi(r) : RUNNING_ON_VALGRIND ? 20 : test_backend_pg() ? 50 : 200;

    RUN(engine_then_sessionmaker_then_loop_is_safe);
    RUN(engine_then_loop_then_sessionmaker_is_safe);
    RUN(sessionmaker_then_engine_then_loop_is_safe);
    RUN(sessionmaker_then_loop_then_engine_is_safe);
    RUN(loop_then_engine_then_sessionmaker_is_safe);
    RUN(loop_then_sessionmaker_then_engine_is_safe);
    RUN(engine_then_loop_leaves_the_programs_libuv_loop_closable);
    RUN(loop_then_engine_leaves_the_programs_libuv_loop_closable);
    RUN(freeing_the_loop_with_a_connection_checked_out_is_refused_naming_the_engine);
    RUN(an_engine_freed_with_a_connection_checked_out_lives_until_it_is_closed);
    RUN(an_engine_whose_loop_was_freed_refuses_connections);
    RUN(freeing_the_loop_from_inside_it_is_refused);
    RUN(freeing_the_loop_with_a_task_unfinished_is_refused);
    RUN(freeing_the_default_loop_twice_is_harmless);

    test_backend_cleanup();
    return TEST_REPORT();
}

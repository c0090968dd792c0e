/* SPDX-License-Identifier: MIT */
/* Transactions under faults, through the engine and the session: a
 * cancelled statement inside a transaction, a cancel followed at once by
 * the next operation, a batch whose COMMIT never ran. Every case must leave
 * the database all or nothing. Runs on SQLite files, or on PostgreSQL
 * schemas when CALX_TEST_URL names a server (the test_faults_pg variant;
 * see tests/backend.h): the same outcome is expected of both. */
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
#include "models.h"

CALX_MODEL_DEFINE(Team, "team")
CALX_MODEL_DEFINE(Hero, "hero")
CALX_MODEL_DEFINE(Gadget, "gadget")

static calx_loop *loop;
static const char *dir;
static int seq;
static bool pg;

/* A statement that runs far longer than a cancel takes to land. On
 * PostgreSQL it sleeps a bounded time: a cancel that reaches the server
 * before the statement does is lost there (the protocol's race), and the
 * round then costs the sleep, not the suite. */
static const char *long_query(void)
{
    return pg ? "SELECT pg_sleep(0.02)"
              : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                "WHERE x < 1000000000) SELECT count(*) FROM c";
}

static calx_engine *make_engine(const calx_engine_opts *opts)
{
    char url[1200];
    calx_error err;
    calx_engine_opts o = opts ? *opts : (calx_engine_opts){ 0 };
    o.loop = loop;
    const char *u = test_fresh_url(url, sizeof url, dir, ++seq, NULL);
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

static int run_sql(calx_connection *c, const char *sql, calx_error *err)
{
    calx_result *r = NULL;
    int rc = calx_wait(calx_conn_execute(c, sql, NULL, err), &r, err);
    calx_result_free(r);
    return rc;
}

/* A connection from e; NULL (and a failed check) when there is none. */
static calx_connection *connect_now(calx_engine *e)
{
    calx_error err;
    calx_connection *c = NULL;
    if (calx_wait(calx_engine_connect(e, &err), &c, &err) != 0) {
        fprintf(stderr, "  connect: %s\n", err.message);
        CHECK(false);
    }
    return c;
}

/* A fresh engine (opts may be NULL) in *e and a connection from it; NULL
 * (the engine freed, a failed check) when either cannot be had. */
static calx_connection *engine_and_connection(const calx_engine_opts *opts, calx_engine **e)
{
    *e = make_engine(opts);
    CHECK(*e != NULL);
    calx_connection *c = *e ? connect_now(*e) : NULL;
    if (!c) {
        free_engine(*e);
        *e = NULL;
    }
    return c;
}

/* A fresh engine (opts may be NULL) with the n tables created; NULL (and
 * a failed check) when that fails. */
static calx_engine *engine_with_tables(const calx_engine_opts *opts,
                                       const calx_table *const *tables, size_t n)
{
    calx_error err;
    calx_engine *e = make_engine(opts);
    calx_metadata *md = e ? calx_metadata_new(&err) : NULL;
    bool ok = md != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = calx_metadata_add(md, tables[i], &err) == 0;
    ok = ok && calx_wait(calx_engine_create_all(e, md, &err), NULL, &err) == 0;
    calx_metadata_free(md);
    if (!ok) {
        fprintf(stderr, "  set-up: %s\n", e ? err.message : "no engine");
        CHECK(false);
        free_engine(e);
        return NULL;
    }
    return e;
}

/* count(*) of table on a connection of its own; -1 on failure. */
static long long count_rows(calx_engine *e, const char *table)
{
    calx_error err;
    calx_connection *c = NULL;
    calx_result *r = NULL;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    long long n = -1;
    if (calx_wait(calx_engine_connect(e, &err), &c, &err) == 0 &&
        calx_wait(calx_conn_execute(c, sql, NULL, &err), &r, &err) == 0)
        n = calx_result_scalar(r).u.i;
    calx_result_free(r);
    calx_conn_close(c);
    return n;
}

/* Cancels a future after a delay, from a loop timer. */
typedef struct cancel_later {
    uv_timer_t timer;
    calx_future *f;
} cancel_later;

static void on_cancel_timer(uv_timer_t *t)
{
    cancel_later *cl = t->data;
    calx_future_cancel(cl->f);
}

static void cancel_after(cancel_later *cl, calx_future *f, uint64_t ms)
{
    cl->f = f;
    uv_timer_init(calx_loop_uv(loop), &cl->timer);
    cl->timer.data = cl;
    uv_timer_start(&cl->timer, on_cancel_timer, ms, 0);
}

static void cancel_done(cancel_later *cl)
{
    uv_close((uv_handle_t *)&cl->timer, NULL);
    calx_loop_run(loop);
}

/* ---- the engine ---- */

TEST(an_operation_started_after_a_cancel_waits_behind_it_instead_of_failing_busy)
{
    calx_error err;
    calx_engine *e;
    calx_connection *c = engine_and_connection(NULL, &e);
    if (!c)
        return;
    /* 1,000 rounds; 100 under valgrind, where each costs far more.
     * CALX_TEST_ROUNDS overrides. */
    const char *env = getenv("CALX_TEST_ROUNDS");
    int rounds = env && atoi(env) > 0 ? atoi(env) : RUNNING_ON_VALGRIND ? 100 : 1000;
    int busy = 0, wrong = 0;
    for (int round = 0; round < rounds; round++) {
        calx_future *slow = calx_conn_execute(c, long_query(), NULL, &err);
        CHECK(slow != NULL);
        calx_future_cancel(slow);
        calx_result *r = NULL;
        calx_future *next = calx_conn_execute(c, "SELECT 42", NULL, &err);
        if (!next) {
            busy += err.code == CALX_ERR_BUSY;
            calx_wait(slow, NULL, &err);
            continue;
        }
        calx_wait(slow, NULL, &err);  /* cancelled already: this only consumes it */
        /* 42, or the transaction the cancel ended (on both databases a
         * cancel that reached the statement ends it). */
        if (calx_wait(next, &r, &err) == 0)
            wrong += calx_result_scalar(r).u.i != 42;
        else
            wrong += strcmp(err.sqlstate, "25P02") != 0;
        calx_result_free(r);
        r = NULL;
        CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
        if (calx_wait(calx_conn_execute(c, "SELECT 7", NULL, &err), &r, &err) != 0 ||
            calx_result_scalar(r).u.i != 7)
            wrong++;
        calx_result_free(r);
    }
    CHECK_INT(busy, 0);
    CHECK_INT(wrong, 0);

    /* The queued operation can itself be cancelled before it starts, and
     * the connection closed with both still out. */
    calx_future *slow = calx_conn_execute(c, long_query(), NULL, &err);
    calx_future_cancel(slow);
    calx_future *queued = calx_conn_execute(c, "SELECT 1", NULL, &err);
    CHECK(queued != NULL);
    CHECK(calx_conn_execute(c, "SELECT 2", NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_BUSY);  /* one waits behind a cancel, not two */
    calx_future_cancel(queued);
    calx_wait(queued, NULL, &err);
    calx_wait(slow, NULL, &err);
    calx_future *again = calx_conn_execute(c, "SELECT 3", NULL, &err);
    CHECK(again != NULL);
    calx_conn_close(c);
    CHECK_INT(calx_wait(again, NULL, &err), CALX_ERR_CLOSED);
    free_engine(e);
}

TEST(a_write_cancelled_inside_a_transaction_ends_it_and_the_commit_fails)
{
    calx_error err;
    calx_engine *e;
    calx_connection *c = engine_and_connection(NULL, &e);
    if (!c)
        return;
    CHECK_OK(run_sql(c, "CREATE TABLE t (x TEXT)", &err), &err);
    CHECK_OK(run_sql(c, "CREATE TABLE big (x BIGINT)", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);

    CHECK_OK(run_sql(c, "INSERT INTO t VALUES ('A')", &err), &err);
    const char *long_write =
        pg ? "INSERT INTO big SELECT 1 FROM pg_sleep(5)"
           : "INSERT INTO big SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
             "SELECT x + 1 FROM c WHERE x < 1000000000) SELECT x FROM c)";
    calx_future *f = calx_conn_execute(c, long_write, NULL, &err);
    cancel_later cl;
    cancel_after(&cl, f, 100);  /* well inside the statement */
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    cancel_done(&cl);

    /* What PostgreSQL does, on both: B fails, the COMMIT fails, and
     * nothing of the transaction is committed. */
    CHECK_INT(run_sql(c, "INSERT INTO t VALUES ('B')", &err), CALX_ERR_INTERNAL);
    CHECK_STR(err.sqlstate, "25P02");
    CHECK_INT(calx_wait(calx_conn_commit(c, &err), NULL, &err), CALX_ERR_INTERNAL);
    CHECK_STR(err.sqlstate, "25P02");
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    CHECK_INT(count_rows(e, "t"), 0);
    CHECK_INT(count_rows(e, "big"), 0);

    /* And the connection goes on. */
    CHECK_OK(run_sql(c, "INSERT INTO t VALUES ('C')", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_INT(count_rows(e, "t"), 1);
    calx_conn_close(c);
    free_engine(e);
}

TEST(releasing_a_savepoint_ends_it_and_keeps_its_work)
{
    calx_error err;
    calx_engine *e;
    calx_connection *c = engine_and_connection(NULL, &e);
    if (!c)
        return;
    CHECK_OK(run_sql(c, "CREATE TABLE t (x TEXT)", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_begin_nested(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO t VALUES ('kept')", &err), &err);
    CHECK_OK(calx_wait(calx_conn_release_savepoint(c, &err), NULL, &err), &err);
    /* Gone from the database, not only from calx's books: rolling back to
     * it is an error there. */
    CHECK(run_sql(c, "ROLLBACK TO SAVEPOINT sa_savepoint_1", &err) != 0);
    CHECK_CONTAINS(err.message, "sa_savepoint_1");
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);

    CHECK_OK(calx_wait(calx_conn_begin_nested(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO t VALUES ('kept')", &err), &err);
    CHECK_OK(calx_wait(calx_conn_release_savepoint(c, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_INT(count_rows(e, "t"), 1);
    calx_conn_close(c);
    free_engine(e);
}

/* ---- echo ---- */

static char logbuf[1 << 14];
static size_t loglen;

static void capture(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    (void)udata, (void)level, (void)logger;
    int n = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%s\n", msg);
    if (n > 0 && loglen + (size_t)n < sizeof logbuf)
        loglen += (size_t)n;
}

TEST(a_batch_whose_statement_fails_logs_no_commit)
{
    calx_error err;
    calx_engine *e;
    calx_connection *c = engine_and_connection(&(calx_engine_opts){ .echo = true, .log = capture }, &e);
    if (!c)
        return;
    CHECK_OK(run_sql(c, "CREATE TABLE t (x INTEGER PRIMARY KEY)", &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);

    calx_stmt ok[] = { { .sql = "INSERT INTO t VALUES (1)" } };
    loglen = 0;
    logbuf[0] = '\0';
    CHECK_OK(calx_wait(calx_conn_execute_batch_commit(c, ok, 1, &err), NULL, &err), &err);
    CHECK_CONTAINS(logbuf, "INSERT INTO t VALUES (1)\n[generated in");
    CHECK_CONTAINS(logbuf, "\nCOMMIT\n");

    calx_stmt failing[] = { { .sql = "INSERT INTO t VALUES (2)" },
                            { .sql = "INSERT INTO t VALUES (1)" } };
    loglen = 0;
    logbuf[0] = '\0';
    CHECK_INT(calx_wait(calx_conn_execute_batch_commit(c, failing, 2, &err), NULL, &err),
              CALX_ERR_INTEGRITY);
    CHECK(strstr(logbuf, "COMMIT") == NULL);
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    CHECK_CONTAINS(logbuf, "\nROLLBACK\n");
    CHECK_INT(count_rows(e, "t"), 1);
    calx_conn_close(c);
    free_engine(e);
}

typedef struct failed_commit_job {
    calx_engine *engine;
    int commit_rc;
} failed_commit_job;

static void *failed_commit_task(void *arg)
{
    failed_commit_job *j = arg;
    calx_error err;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = j->engine }, &err);
    Gadget *g1 = CALX_NEW(Gadget, &err, .code = "same", .serial = 1);
    CHECK_OK(calx_session_add(s, g1, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    Gadget *g2 = CALX_NEW(Gadget, &err, .code = "same", .serial = 2);
    CHECK_OK(calx_session_add(s, g2, &err), &err);
    loglen = 0;
    logbuf[0] = '\0';
    j->commit_rc = calx_session_commit(s, &err);
    CHECK(strstr(logbuf, "COMMIT") == NULL);  /* it never ran */
    CHECK(strstr(logbuf, "ROLLBACK") == NULL);
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK_CONTAINS(logbuf, "ROLLBACK\n");
    CHECK_OK(calx_session_close(s, &err), &err);
    calx_session_free(s);
    return NULL;
}

TEST(a_session_commit_whose_flush_fails_logs_no_commit_and_then_its_rollback)
{
    calx_error err;
    calx_engine *e = engine_with_tables(&(calx_engine_opts){ .echo = true, .log = capture }, (const calx_table *[]){ CALX_TABLE(Gadget) }, 1);
    if (!e)
        return;
    failed_commit_job j = { e, -1 };
    CHECK_OK(calx_wait(calx_spawn(loop, failed_commit_task, &j, NULL, &err), NULL, &err), &err);
    CHECK_INT(j.commit_rc, CALX_ERR_INTEGRITY);
    free_engine(e);
}

/* ---- the session ---- */

typedef struct flush_job {
    calx_engine *engine;
    calx_session *session;
    int flush_rc;
    calx_future *task;        /* this job's task, cancelled ... */
    cancel_later *cancel;     /* ... by this timer */
} flush_job;

/* Adds hero A and flushes it, then flushes 20,000 more heroes: the
 * cancel, timed from the start of that second flush, lands in it. (A
 * timer started with the task, 30 ms, could fire after the flush; and a
 * cancel that came between a segment's completion and the task's resuming
 * was lost, core/task.c, until the flush ran to its end.) */
static void *flush_task(void *arg)
{
    flush_job *j = arg;
    calx_error err;
    Hero *a = CALX_NEW(Hero, &err, .name = "A", .secret_name = "first");
    CHECK_OK(calx_session_add(j->session, a, &err), &err);
    CHECK_OK(calx_session_flush(j->session, &err), &err);
    for (int i = 0; i < 20000; i++) {
        Hero *h = CALX_NEW(Hero, &err, .name = "bulk", .secret_name = "many");
        CHECK_OK(calx_session_add(j->session, h, &err), &err);
    }
    cancel_after(j->cancel, j->task, 2);
    j->flush_rc = calx_session_flush(j->session, &err);
    return NULL;
}

typedef struct commit_job {
    calx_session *session;
    int commit_rc;
} commit_job;

/* The program goes on after the cancel: adds hero B and commits; on a
 * failure, rolls back as a program must. */
static void *commit_task(void *arg)
{
    commit_job *j = arg;
    calx_error err;
    Hero *b = CALX_NEW(Hero, &err, .name = "B", .secret_name = "second");
    if (calx_session_add(j->session, b, &err) != 0)
        calx_obj_free(b);
    j->commit_rc = calx_session_commit(j->session, &err);
    if (j->commit_rc)
        CHECK_OK(calx_session_rollback(j->session, &err), &err);
    CHECK_OK(calx_session_close(j->session, &err), &err);
    return NULL;
}

/* Heroes named name, on a connection of its own. */
static long long count_heroes(calx_engine *e, const char *name)
{
    calx_error err;
    calx_connection *c = NULL;
    calx_result *r = NULL;
    calx_param p[] = { { "name", calx_text(name) } };
    calx_params ps = { p, 1 };
    long long n = -1;
    if (calx_wait(calx_engine_connect(e, &err), &c, &err) == 0 &&
        calx_wait(calx_conn_execute(c, "SELECT count(*) FROM hero WHERE name = :name", &ps,
                                    &err), &r, &err) == 0)
        n = calx_result_scalar(r).u.i;
    calx_result_free(r);
    calx_conn_close(c);
    return n;
}

TEST(a_session_whose_flush_was_cancelled_commits_all_or_nothing)
{
    calx_error err;
    calx_engine *e = engine_with_tables(NULL, (const calx_table *[]){ CALX_TABLE(Team), CALX_TABLE(Hero) }, 2);
    if (!e)
        return;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = e }, &err);
    CHECK(s != NULL);

    cancel_later cl;
    flush_job fj = { e, s, -1, NULL, &cl };
    calx_future *task = calx_spawn(loop, flush_task, &fj, NULL, &err);
    fj.task = task;   /* the task first runs in calx_wait */
    calx_wait(task, NULL, &err);
    cancel_done(&cl);

    commit_job cj = { s, -1 };
    CHECK_OK(calx_wait(calx_spawn(loop, commit_task, &cj, NULL, &err), NULL, &err), &err);

    long long a = count_heroes(e, "A"), b = count_heroes(e, "B");
    long long bulk = count_heroes(e, "bulk");
    if (cj.commit_rc == 0) {
        /* Committed: then all of it, the flush that was cancelled too when
         * the cancel missed it. */
        CHECK_INT(a, 1);
        CHECK_INT(b, 1);
        CHECK(bulk == 0 || bulk == 20000);
    } else {
        CHECK_INT(a + b + bulk, 0);
    }
    /* The interesting case happened: the cancel reached the flush. */
    CHECK(fj.flush_rc == CALX_ERR_CANCELED);
    calx_session_free(s);
    free_engine(e);
}

/* ---- a row changed behind the session's back ---- */

typedef struct stale_job {
    calx_engine *engine;
    int commit_rc;
    char message[512];
    char other_name[64];
} stale_job;

/* Loads two heroes, has another connection delete one, changes both and
 * commits: the UPDATE of the deleted one matches no row. */
static void *stale_task(void *arg)
{
    stale_job *j = arg;
    calx_error err;
    /* Objects stay loaded through the commit, and no read transaction is
     * left open to conflict with the other connection's write. */
    calx_session *s = calx_session_new(
        &(calx_session_opts){ .bind = j->engine, .no_expire_on_commit = true }, &err);
    Hero *a = CALX_NEW(Hero, &err, .name = "Gone", .secret_name = "x");
    Hero *b = CALX_NEW(Hero, &err, .name = "Kept", .secret_name = "y");
    CHECK_OK(calx_session_add_all(s, (void *[]){ a, b }, 2, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);

    calx_connection *c = NULL;
    calx_result *r = NULL;
    calx_param p[] = { { "id", calx_int(a->id.value) } };
    calx_params ps = { p, 1 };
    CHECK_OK(calx_await(calx_engine_connect(j->engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, "DELETE FROM hero WHERE id = :id", &ps, &err),
                        &r, &err), &err);
    calx_result_free(r);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);

    a->name = "Renamed";
    b->name = "Changed";
    j->commit_rc = calx_session_commit(s, &err);
    snprintf(j->message, sizeof j->message, "%s", err.message);
    if (j->commit_rc)
        CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK_OK(calx_session_close(s, &err), &err);
    calx_session_free(s);
    return NULL;
}

TEST(an_update_of_a_row_deleted_behind_the_sessions_back_fails_and_commits_nothing)
{
    calx_error err;
    calx_engine *e = engine_with_tables(NULL, (const calx_table *[]){ CALX_TABLE(Team), CALX_TABLE(Hero) }, 2);
    if (!e)
        return;
    stale_job j = { .engine = e, .commit_rc = -1 };
    CHECK_OK(calx_wait(calx_spawn(loop, stale_task, &j, NULL, &err), NULL, &err), &err);
    CHECK_INT(j.commit_rc, CALX_ERR_STALE_DATA);
    /* Both UPDATEs went as one execute-many, as in SQLAlchemy, whose count
     * is read back on SQLite; on PostgreSQL each checks its own row in the
     * statement, the COMMIT riding behind them, and the one that missed
     * says so. */
    CHECK_CONTAINS(j.message, pg ? "UPDATE statement on table 'hero' expected to update 1 "
                                   "row(s); 0 were matched."
                                 : "UPDATE statement on table 'hero' expected to update 2 "
                                   "row(s); 1 were matched.");
    /* SQLAlchemy raises before the COMMIT: the other hero's change, in the
     * same flush, is not committed either. */
    CHECK_INT(count_heroes(e, "Changed"), 0);
    CHECK_INT(count_heroes(e, "Kept"), 1);
    free_engine(e);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_faults");
    pg = test_backend_pg();
    fprintf(stderr, "backend: %s\n", test_backend_name());
    RUN(an_operation_started_after_a_cancel_waits_behind_it_instead_of_failing_busy);
    RUN(a_write_cancelled_inside_a_transaction_ends_it_and_the_commit_fails);
    RUN(releasing_a_savepoint_ends_it_and_keeps_its_work);
    RUN(a_batch_whose_statement_fails_logs_no_commit);
    RUN(a_session_commit_whose_flush_fails_logs_no_commit_and_then_its_rollback);
    RUN(a_session_whose_flush_was_cancelled_commits_all_or_nothing);
    RUN(an_update_of_a_row_deleted_behind_the_sessions_back_fails_and_commits_nothing);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}

/* SPDX-License-Identifier: MIT */
/* Engine, pool, connections, transactions and results on a real
 * database: SQLite files, or PostgreSQL schemas when CALX_TEST_URL names a
 * server (the test_engine_pg variant; see tests/backend.h). */
#include <stdint.h>

#include "calx.h"
#include "core/evloop.h"
#include "driver/postgres.h"
#include "driver/sqlite.h"
#include "engine/engine_int.h"
#include "test.h"
#include "backend.h"

static calx_loop *loop;
static const char *dir;
static int seq;

static bool pg;  /* running on PostgreSQL */

/* A fresh database URL for one test. */
static const char *fresh_url(char *buf, size_t n, const char *query)
{
    return test_fresh_url(buf, n, dir, ++seq, query);
}

static calx_engine *make_engine(const calx_engine_opts *opts)
{
    char url[1200];
    calx_error err;
    calx_engine_opts o = opts ? *opts : (calx_engine_opts){ 0 };
    o.loop = loop;
    const char *u = fresh_url(url, sizeof url, NULL);
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

/* Runs sql on c and frees the result. */
static int run_sql(calx_connection *c, const char *sql, const calx_params *p, calx_error *err)
{
    calx_result *r = NULL;
    int rc = calx_wait(calx_conn_execute(c, sql, p, err), &r, err);
    calx_result_free(r);
    return rc;
}

static calx_connection *connect_now(calx_engine *e, calx_error *err)
{
    calx_connection *c = NULL;
    if (calx_wait(calx_engine_connect(e, err), &c, err))
        return NULL;
    return c;
}

/* ---- log capture ---- */

static char logbuf[65536];
static size_t loglen;

static void capture(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    int n = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%s %s %s\n",
                     calx_log_level_name(level), logger, msg);
    if (n > 0 && loglen + (size_t)n < sizeof logbuf)
        loglen += (size_t)n;
}

/* ---- engine basics ---- */

TEST(engine_opens_nothing_until_first_use)
{
    calx_engine *e = make_engine(NULL);
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    CHECK_INT(st.opened, 0);
    CHECK_INT(st.size, 5);
    char *status = calx_engine_status(e);
    CHECK_STR(status, "Pool size: 5  Connections in pool: 0 Current Overflow: -5 "
                      "Current Checked out connections: 0");
    free(status);
    CHECK_STR(calx_engine_dialect(e), test_backend_name());
    free_engine(e);
}

TEST(malformed_url_is_a_clear_error)
{
    calx_error err;
    CHECK(calx_create_engine("sqlite:/missing-slash.db", NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_URL);
    CHECK(strlen(err.message) > 10);
    CHECK(calx_create_engine("mysql://u:pw@h/db", NULL, &err) == NULL);
    CHECK(err.code == CALX_ERR_URL || err.code == CALX_ERR_NOT_SUPPORTED);
    CHECK_CONTAINS(err.message, "mysql");
    CHECK(strstr(err.message, "pw@") == NULL);
}

TEST(password_is_masked)
{
    calx_error err;
    /* Whatever the outcome (the PostgreSQL driver may not be built), the
     * password never shows. */
    calx_engine *e = calx_create_engine("postgresql+asyncpg://scott:tiger@localhost:1/test",
                                        &(calx_engine_opts){ .loop = loop }, &err);
    if (e) {
        char *repr = calx_engine_repr(e);
        CHECK_STR(repr, "Engine(postgresql+asyncpg://scott:***@localhost:1/test)");
        free(repr);
        free_engine(e);
    } else {
        CHECK(strstr(err.message, "tiger") == NULL);
    }
    calx_url *u = calx_url_parse("postgresql://scott:tiger@localhost/test", &err);
    char *s = calx_url_render(u, true);
    CHECK_STR(s, "postgresql://scott:***@localhost/test");
    free(s);
    calx_url_free(u);
}

TEST(bad_options_are_rejected)
{
    calx_error err;
    CHECK(calx_create_engine("sqlite://", &(calx_engine_opts){ .pool_size = -3 }, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "pool_size");
}

/* ---- results and values ---- */

TEST(values_round_trip_and_null_is_distinct)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    CHECK(c != NULL);
    CHECK_OK(run_sql(c, pg ? "CREATE TABLE v (k INTEGER, i BIGINT, r REAL, t TEXT, b BYTEA, "
                             "f BOOLEAN)"
                           : "CREATE TABLE v (k INTEGER, i INTEGER, r REAL, t TEXT, b BLOB, "
                             "f BOOLEAN)",
                     NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO v VALUES (1, :i, :r, :t, :b, :f)",
                     CALX_PARAMS(CALX_P("i", calx_int(0)), CALX_P("r", calx_real(0.0)),
                                 CALX_P("t", calx_text("")), CALX_P("b", calx_blob("", 0)),
                                 CALX_P("f", calx_bool(false))), &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO v VALUES (2, ?, ?, ?, ?, ?)",
                     CALX_PARAMS(CALX_V(calx_null()), CALX_V(calx_null()),
                                 CALX_V(calx_text(NULL)), CALX_V(calx_null()),
                                 CALX_V(calx_null())), &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO v VALUES (3, ?, ?, ?, ?, ?)",
                     CALX_PARAMS(CALX_V(calx_int(INT64_MAX)), CALX_V(calx_real(2.5)),
                                 CALX_V(calx_text("héllo 'x'")),
                                 CALX_V(calx_blob("\0\1\2", 3)), CALX_V(calx_bool(true))),
                     &err), &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT i, r, t, b, f FROM v ORDER BY k", NULL,
                                         &err), &r, &err), &err);
    CHECK_INT(calx_result_nrows(r), 3);
    CHECK_INT(calx_result_ncols(r), 5);
    CHECK_STR(calx_result_colname(r, 2), "t");
    CHECK_INT(calx_result_colindex(r, "f"), 4);
    CHECK_INT(calx_result_colindex(r, "nope"), -1);
    const calx_row *zero = calx_result_row(r, 0), *null = calx_result_row(r, 1),
                   *full = calx_result_row(r, 2);
    for (int col = 0; col < 5; col++) {
        CHECK(!calx_row_isnull(zero, col));
        CHECK(calx_row_isnull(null, col));
    }
    CHECK_INT(calx_row_int(zero, 0), 0);
    CHECK_STR(calx_row_text(zero, 2), "");
    CHECK(calx_row_text(null, 2) == NULL);
    int64_t i;
    CHECK_INT(calx_row_get_int(null, 0, &i, &err), CALX_ERR_TYPE);
    CHECK_CONTAINS(err.message, "column 'i' is NULL");
    CHECK_OK(calx_row_get_int(full, 0, &i, &err), &err);
    CHECK(i == INT64_MAX);
    double d;
    CHECK_OK(calx_row_get_real(full, calx_row_col(full, "r"), &d, &err), &err);
    CHECK(d == 2.5);
    const char *t;
    CHECK_OK(calx_row_get_text(full, 2, &t, &err), &err);
    CHECK_STR(t, "héllo 'x'");
    size_t n;
    const unsigned char *blob = calx_row_blob(full, 3, &n);
    CHECK_INT(n, 3);
    CHECK(blob && blob[0] == 0 && blob[2] == 2);
    bool f;
    CHECK_OK(calx_row_get_bool(full, 4, &f, &err), &err);
    CHECK(f);
    CHECK_INT(calx_row_get_text(full, 0, &t, &err), CALX_ERR_TYPE);
    calx_result_free(r);
    calx_conn_close(c);
    free_engine(e);
}

TEST(first_one_scalar)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(run_sql(c, "CREATE TABLE n (x INTEGER)", NULL, &err), &err);
    calx_params sets[3] = {
        *CALX_PARAMS(CALX_V(calx_int(1))),
        *CALX_PARAMS(CALX_V(calx_int(2))),
        *CALX_PARAMS(CALX_V(calx_int(3))),
    };
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute_many(c, "INSERT INTO n VALUES (?)", sets, 3, &err), &r,
                       &err), &err);
    CHECK_INT(calx_result_rowcount(r), 3);
    calx_result_free(r);

    const calx_row *row;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT x FROM n WHERE x > 5", NULL, &err), &r,
                       &err), &err);
    CHECK(calx_result_first(r) == NULL);
    CHECK_INT(calx_result_one(r, &row, &err), CALX_ERR_NO_RESULT);
    CHECK_STR(err.message, "No row was found when one was required");
    CHECK_OK(calx_result_one_or_none(r, &row, &err), &err);
    CHECK(row == NULL);
    CHECK(calx_result_scalar(r).type == CALX_NULL);
    calx_result_free(r);

    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT x FROM n ORDER BY x", NULL, &err), &r, &err),
             &err);
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 1);
    CHECK_INT(calx_result_one(r, &row, &err), CALX_ERR_MULTIPLE_RESULTS);
    CHECK_INT(calx_result_one_or_none(r, &row, &err), CALX_ERR_MULTIPLE_RESULTS);
    CHECK_INT(calx_result_scalar(r).u.i, 1);
    int count = 0;
    while ((row = calx_result_next(r)) != NULL)
        count += (int)calx_row_int(row, 0);
    CHECK_INT(count, 6);
    calx_result_free(r);

    calx_value v;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT count(*) FROM n", NULL, &err), &r, &err),
             &err);
    CHECK_OK(calx_result_scalar_one(r, &v, &err), &err);
    CHECK_INT(v.u.i, 3);
    calx_result_free(r);
    calx_conn_close(c);
    free_engine(e);
}

TEST(parameters_are_bound_not_pasted)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(run_sql(c, "CREATE TABLE p (name TEXT)", NULL, &err), &err);
    const char *evil = "x'); DROP TABLE p; --";
    CHECK_OK(run_sql(c, "INSERT INTO p VALUES (:name)", CALX_PARAMS(CALX_P("name", calx_text(evil))),
                     &err), &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT name FROM p", NULL, &err), &r, &err), &err);
    CHECK_STR(calx_row_text(calx_result_first(r), 0), evil);
    calx_result_free(r);
    /* A missing parameter is named. */
    CHECK_INT(run_sql(c, "SELECT * FROM p WHERE name = :who", NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "'who'");
    calx_conn_close(c);
    free_engine(e);
}

/* Runs sql expecting a failure; then rolls back, since PostgreSQL aborts
 * the whole transaction on an error (SQLite keeps it going). */
static int fails(calx_connection *c, const char *sql, calx_error *err)
{
    int rc = run_sql(c, sql, NULL, err);
    calx_error rb;
    if (rc)
        calx_wait(calx_conn_rollback(c, &rb), NULL, &rb);
    return rc;
}

TEST(database_errors_are_classified)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(run_sql(c, pg ? "CREATE TABLE team (id SERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
                           : "CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
                     NULL, &err), &err);
    CHECK_OK(run_sql(c, pg ? "CREATE TABLE hero (id SERIAL PRIMARY KEY, team_id INTEGER "
                             "REFERENCES team(id))"
                           : "CREATE TABLE hero (id INTEGER PRIMARY KEY, team_id INTEGER "
                             "REFERENCES team(id))", NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO team (name) VALUES ('a')", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);

    CHECK_INT(fails(c, "INSERT INTO team (name) VALUES (NULL)", &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, pg ? "null value in column \"name\" of relation \"team\" "
                                     "violates not-null constraint"
                                   : "NOT NULL constraint failed: team.name");
    CHECK_CONTAINS(err.message, "[SQL: INSERT INTO team");
    if (pg)
        CHECK_STR(err.sqlstate, "23502");
    else
        CHECK(err.driver_code != 0);
    CHECK_INT(fails(c, "INSERT INTO team (name) VALUES ('a')", &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, pg ? "duplicate key value violates unique constraint" : "UNIQUE");
    CHECK_INT(fails(c, "INSERT INTO hero (team_id) VALUES (99)", &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, pg ? "violates foreign key constraint" : "FOREIGN KEY");
    /* SQLite reports SQL mistakes as OperationalError, PostgreSQL as
     * ProgrammingError (as SQLAlchemy's drivers do). */
    int sql_mistake = pg ? CALX_ERR_PROGRAMMING : CALX_ERR_OPERATIONAL;
    CHECK_INT(fails(c, "SELEC 1", &err), sql_mistake);
    CHECK_CONTAINS(err.message, "syntax error");
    CHECK_INT(fails(c, "SELECT * FROM nowhere", &err), sql_mistake);
    CHECK_CONTAINS(err.message, pg ? "relation \"nowhere\" does not exist" : "no such table");

    /* Committed data is intact and the connection still works. */
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT count(*) FROM team", NULL, &err), &r, &err),
             &err);
    CHECK_INT(calx_result_scalar(r).u.i, 1);
    calx_result_free(r);
    calx_conn_close(c);
    free_engine(e);
}

/* ---- transactions ---- */

static int64_t count_rows(calx_engine *e, const char *table)
{
    calx_error err;
    calx_connection *c = connect_now(e, &err);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    calx_result *r = NULL;
    int64_t n = -1;
    if (c && calx_wait(calx_conn_execute(c, sql, NULL, &err), &r, &err) == 0)
        n = calx_result_scalar(r).u.i;
    calx_result_free(r);
    calx_conn_close(c);
    return n;
}

TEST(commit_rollback_and_autobegin)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    CHECK(!calx_conn_in_transaction(c));
    CHECK_OK(run_sql(c, "CREATE TABLE t (x INTEGER)", NULL, &err), &err);
    CHECK(calx_conn_in_transaction(c)); /* autobegin */
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK(!calx_conn_in_transaction(c));

    CHECK_OK(run_sql(c, "INSERT INTO t VALUES (1)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    CHECK_INT(count_rows(e, "t"), 0);

    CHECK_OK(calx_wait(calx_conn_begin(c, &err), NULL, &err), &err);
    CHECK_INT(calx_wait(calx_conn_begin(c, &err), NULL, &err), CALX_ERR_STATE);
    CHECK_OK(run_sql(c, "INSERT INTO t VALUES (2)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_INT(count_rows(e, "t"), 1);

    /* Closing with a transaction open rolls it back. */
    CHECK_OK(run_sql(c, "INSERT INTO t VALUES (3)", NULL, &err), &err);
    calx_conn_close(c);
    CHECK_INT(count_rows(e, "t"), 1);
    free_engine(e);
}

TEST(savepoints_nest)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(run_sql(c, "CREATE TABLE t (x INTEGER)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO t VALUES (1)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_begin_nested(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO t VALUES (2)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_begin_nested(c, &err), NULL, &err), &err);
    CHECK_INT(calx_conn_savepoint_depth(c), 2);
    CHECK_OK(run_sql(c, "INSERT INTO t VALUES (3)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_rollback_savepoint(c, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_release_savepoint(c, &err), NULL, &err), &err);
    CHECK_INT(calx_conn_savepoint_depth(c), 0);
    CHECK_INT(calx_wait(calx_conn_release_savepoint(c, &err), NULL, &err), CALX_ERR_STATE);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT sum(x) FROM t", NULL, &err), &r, &err), &err);
    CHECK_INT(calx_result_scalar(r).u.i, 3); /* 1 + 2; 3 was rolled back */
    calx_result_free(r);
    calx_conn_close(c);
    free_engine(e);
}

TEST(one_operation_at_a_time)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    calx_future *f1 = calx_conn_execute(c, "SELECT 1", NULL, &err);
    CHECK(f1 != NULL);
    CHECK(calx_conn_execute(c, "SELECT 2", NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_BUSY);
    CHECK_OK(calx_wait(f1, NULL, &err), &err);
    calx_conn_close(c);
    free_engine(e);
}

/* ---- streaming ---- */

/* Reads a stream of 10,000 rows (x, 'v' || x) in chunks of 100: true when
 * every row reads right and no more than a chunk was held at a time. */
static void *stream_task(void *arg)
{
    calx_connection *c = arg;
    calx_error err;
    calx_result *r = NULL;
    if (calx_await(calx_conn_stream(c,
                                    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                                    "FROM n WHERE x < 10000) SELECT x, 'v' || x FROM n",
                                    NULL, 100, &err), &r, &err))
        return NULL;
    int64_t rows = 0, bad = 0;
    size_t max_held = 0;
    const calx_row *row;
    while (calx_result_anext(r, &row, &err) == 0 && row) {
        rows++;
        char want[32];
        snprintf(want, sizeof want, "v%lld", (long long)rows);
        bad += calx_row_int(row, 0) != rows || strcmp(calx_row_text(row, 1), want) != 0;
        if (calx_result_nrows(r) > max_held)
            max_held = calx_result_nrows(r);
    }
    calx_result_free(r);
    return (void *)(intptr_t)(rows == 10000 && bad == 0 && max_held <= 100);
}

TEST(streaming_holds_one_chunk_at_a_time)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    void *ok = NULL;
    CHECK_OK(calx_wait(calx_spawn(loop, stream_task, c, NULL, &err), &ok, &err), &err);
    CHECK(ok != NULL);
    /* The connection is free again afterwards. */
    CHECK_OK(run_sql(c, "SELECT 1", NULL, &err), &err);

    /* A stream freed midway releases the connection too. */
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_stream(c, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT "
                                           "x + 1 FROM n WHERE x < 5000) SELECT x FROM n",
                                        NULL, 10, &err), &r, &err), &err);
    CHECK(calx_result_more(r));
    CHECK_INT(calx_conn_execute(c, "SELECT 1", NULL, &err) == NULL, 1);
    CHECK_INT(err.code, CALX_ERR_BUSY);
    calx_result_free(r);
    calx_loop_run(loop);
    CHECK_OK(run_sql(c, "SELECT 1", NULL, &err), &err);
    calx_conn_close(c);
    free_engine(e);
}

/* The chunks of a stream the program is done with go back to SQLite's
 * driver, which reads later chunks into them (their memory is faulted in
 * already); every row still reads right. */
TEST(a_streams_later_chunks_fill_the_memory_of_those_read_and_every_row_reads_right)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    void *ok = NULL;
    CHECK_OK(calx_wait(calx_spawn(loop, stream_task, c, NULL, &err), &ok, &err), &err);
    CHECK(ok != NULL);
    if (calx__conn_dconn(c)->driver == &calx__sqlite_driver) {
        calx_sqlite_stats st;
        calx__sqlite_conn_stats(calx__conn_dconn(c), &st);
        CHECK(st.refills >= 90);   /* 100 chunks: all but the first few */
    }
    /* A statement after the stream runs as ever (the chunk kept for the
     * stream is dropped). */
    CHECK_OK(run_sql(c, "SELECT 1", NULL, &err), &err);
    calx_conn_close(c);
    free_engine(e);
}

/* PostgreSQL pipelines sent on c so far. */
static uint64_t round_trips(calx_connection *c)
{
    calx_pg_stats st;
    calx__pg_conn_stats(calx__conn_dconn(c), &st);
    return st.round_trips;
}

/* The rows of r read to the end (or to an error, in err): how many, and
 * their first column's sum. */
static int read_all(calx_result *r, int64_t *rows, int64_t *sum, calx_error *err)
{
    const calx_row *row;
    *rows = *sum = 0;
    while (calx_result_more(r)) {
        int rc = calx_wait(calx_result_fetch(r, err), NULL, err);
        if (rc)
            return rc;
        while ((row = calx_result_next(r))) {
            (*rows)++;
            *sum += calx_row_int(row, 0);
        }
    }
    return 0;
}

TEST(a_streams_next_chunk_is_fetched_before_the_program_asks_for_it)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    calx_result *r = NULL;
    const char *sql = "SELECT x FROM generate_series(1, 1000) AS g(x)";
    if (!pg)
        sql = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000) "
              "SELECT x FROM n";
    uint64_t before = pg ? round_trips(c) : 0;
    CHECK_OK(calx_wait(calx_conn_stream(c, sql, NULL, 100, &err), &r, &err), &err);
    /* The DECLARE with the first FETCH, then the next two FETCHes, each
     * in a pipeline of its own, sent by the driver as soon as the first
     * chunk was seen to be full (SQLite's worker reads ahead unseen here). */
    if (pg)
        CHECK_INT(round_trips(c) - before, 3);
    CHECK_INT(calx_result_nrows(r), 100);
    /* The rows come in order, one chunk held at a time, none lost. */
    int64_t rows = 0, sum = 0;
    const calx_row *row;
    while ((row = calx_result_next(r))) {
        rows++;
        sum += calx_row_int(row, 0);
    }
    int64_t more_rows, more_sum;
    CHECK_OK(read_all(r, &more_rows, &more_sum, &err), &err);
    CHECK_INT(rows + more_rows, 1000);
    CHECK_INT(sum + more_sum, 500500);
    CHECK(!calx_result_more(r));
    calx_result_free(r);
    CHECK_OK(run_sql(c, "SELECT 1", NULL, &err), &err);

    /* Freed with a chunk fetched ahead: the cursor is closed, the
     * connection free. */
    for (int wait_ms = 0; wait_ms <= 50; wait_ms += 50) {
        CHECK_OK(calx_wait(calx_conn_stream(c, sql, NULL, 100, &err), &r, &err), &err);
        if (wait_ms)   /* ... and landed */
            CHECK_OK(calx_wait(calx_sleep(loop, (uint64_t)wait_ms, &err), NULL, &err), &err);
        calx_result_free(r);
        calx_loop_run(loop);
        if (pg) {
            calx_result *open = NULL;
            /* (the unnamed portal is this query's own) */
            CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT count(*) FROM pg_cursors "
                                                    "WHERE name <> ''", NULL, &err),
                               &open, &err), &err);
            CHECK_INT(calx_row_int(calx_result_first(open), 0), 0);
            calx_result_free(open);
        }
        CHECK_OK(run_sql(c, "SELECT 1", NULL, &err), &err);
    }
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    free_engine(e);
}

/* The ORM's loads stream through calx__conn_stream_typed with a first
 * chunk of 1,000 rows (CALX__LOAD_FIRST_ROWS), so the program starts on
 * them soon. On SQLite each chunk after has twice the rows of the one
 * before, up to the chunk asked for (fewer hand-overs between threads a
 * row); PostgreSQL's FETCHes ahead keep the first's size, which measured
 * fastest there. A program's own calx_conn_stream reads its chunk_rows from
 * the first. */
TEST(a_streams_small_first_chunk_grows_to_the_chunk_asked_for)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    const char *sql = pg ? "SELECT x FROM generate_series(1, 20000) AS g(x)"
                         : "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                           "WHERE x < 20000) SELECT x FROM n";
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx__conn_stream_typed(c, sql, NULL, NULL, 1000, 5000, &err), &r, &err), &err);
    size_t sizes[32], n = 0;
    int64_t rows = 0, sum = 0;
    for (;;) {
        if (n < 32)
            sizes[n++] = calx_result_nrows(r);
        const calx_row *row;
        while ((row = calx_result_next(r))) {
            rows++;
            sum += calx_row_int(row, 0);
        }
        if (!calx_result_more(r))
            break;
        CHECK_OK(calx_wait(calx_result_fetch(r, &err), NULL, &err), &err);
    }
    calx_result_free(r);
    CHECK_INT(rows, 20000);
    CHECK_INT(sum, 200010000);
    CHECK_INT(sizes[0], 1000);
    if (pg) {
        /* (A cursor read to a chunk's end learns it is done from one more,
         * empty, FETCH.) */
        CHECK_INT(n, 21);
        for (size_t i = 0; i < n; i++)
            CHECK_INT(sizes[i], i < 20 ? 1000 : 0);
    } else {
        static const size_t grown[] = { 1000, 2000, 4000, 5000, 5000, 3000 };
        CHECK_INT(n, 6);
        for (size_t i = 0; i < n && i < 6; i++)
            CHECK_INT(sizes[i], grown[i]);
    }
    CHECK_OK(calx_wait(calx_conn_stream(c, sql, NULL, 5000, &err), &r, &err), &err);
    CHECK_INT(calx_result_nrows(r), 5000);
    calx_result_free(r);
    calx_loop_run(loop);
    CHECK_OK(run_sql(c, "SELECT 1", NULL, &err), &err);
    calx_conn_close(c);
    free_engine(e);
}

TEST(an_error_in_a_later_chunk_reaches_the_fetch_of_that_chunk)
{
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    calx_result *r = NULL;
    /* Row 1,450 divides by zero: the chunk of rows 1,401-1,500 fails. */
    const char *sql = pg ? "SELECT 1 / (1450 - x) FROM generate_series(1, 2000) AS g(x)"
                         : "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                           "WHERE x < 2000) SELECT CASE WHEN x = 1450 THEN abs(-9223372036854775807 - 1) "
                           "ELSE 1 END FROM n";
    CHECK_OK(calx_wait(calx_conn_stream(c, sql, NULL, 100, &err), &r, &err), &err);
    int64_t rows, sum;
    int64_t first = (int64_t)calx_result_nrows(r);
    while (calx_result_next(r))
        ;
    int rc = read_all(r, &rows, &sum, &err);
    CHECK(rc != 0);
    CHECK_INT(first + rows, 1400);
    CHECK(strstr(err.message, pg ? "division by zero" : "integer overflow") != NULL);
    CHECK(!calx_result_more(r));
    calx_result_free(r);
    /* The library stays usable: the transaction is rolled back. */
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "SELECT 1", NULL, &err), &err);
    calx_conn_close(c);
    free_engine(e);
}

static void cancel_after(void *f)
{
    calx_future_cancel(f);
}

TEST(a_fetch_waiting_for_a_slow_chunk_can_be_cancelled)
{
    if (!pg)
        return;   /* pg_sleep: SQLite's fetch interrupts are test_sqlite_driver's */
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    calx_result *r = NULL;
    /* The second chunk takes 30 s: row 150 sleeps. */
    CHECK_OK(calx_wait(calx_conn_stream(c, "SELECT x, pg_sleep(CASE WHEN x = 150 THEN 30 "
                                           "ELSE 0 END) FROM generate_series(1, 300) AS g(x)",
                                        NULL, 100, &err), &r, &err), &err);
    CHECK_INT(calx_result_nrows(r), 100);
    calx_future *f = calx_result_fetch(r, &err);
    CHECK(f != NULL);
    calx_timer *t = calx__timer_new(loop, cancel_after, f);
    calx__timer_start(t, 100);
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    calx__timer_free(t);
    CHECK(!calx_result_more(r));
    calx_result_free(r);
    calx_loop_run(loop);
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "SELECT 1", NULL, &err), &err);
    calx_conn_close(c);
    free_engine(e);
}

/* ---- echo ---- */

TEST(echo_logs_like_sqlalchemy)
{
    calx_error err;
    loglen = 0;
    logbuf[0] = '\0';
    calx_engine *e = make_engine(&(calx_engine_opts){ .echo = true, .log = capture });
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(run_sql(c, "CREATE TABLE hero (name TEXT, secret_name TEXT, age INTEGER)", NULL,
                     &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO hero VALUES (:name, :secret_name, :age)",
                     CALX_PARAMS(CALX_P("name", calx_text("Deadpond")),
                                 CALX_P("secret_name", calx_text("Dive Wilson")),
                                 CALX_P("age", calx_null())), &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO hero VALUES (:name, :secret_name, :age)",
                     CALX_PARAMS(CALX_P("name", calx_text("Z-Force")),
                                 CALX_P("secret_name", calx_text("Sister Margaret's Bar")),
                                 CALX_P("age", calx_int(48))), &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "SELECT * FROM hero WHERE age = ?", CALX_PARAMS(CALX_V(calx_int(48))),
                     &err), &err);
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    free_engine(e);
    CHECK_CONTAINS(logbuf, "INFO calx.engine.Engine BEGIN (implicit)\n"
                           "INFO calx.engine.Engine CREATE TABLE hero");
    CHECK_CONTAINS(logbuf, pg ? "INFO calx.engine.Engine INSERT INTO hero VALUES ($1, $2, $3)\n"
                                "INFO calx.engine.Engine [generated in "
                              : "INFO calx.engine.Engine INSERT INTO hero VALUES (?, ?, ?)\n"
                                "INFO calx.engine.Engine [generated in ");
    CHECK_CONTAINS(logbuf, "s] ('Deadpond', 'Dive Wilson', None)\n");
    /* The compile took some time, and the badge shows it. */
    const char *gen = strstr(logbuf, "[generated in ");
    CHECK(gen && strtod(gen + strlen("[generated in "), NULL) > 0);
    CHECK_CONTAINS(logbuf, "INFO calx.engine.Engine [cached since ");
    CHECK_CONTAINS(logbuf, "s ago] ('Z-Force', \"Sister Margaret's Bar\", 48)\n");
    CHECK_CONTAINS(logbuf, "INFO calx.engine.Engine COMMIT\n");
    CHECK_CONTAINS(logbuf, "] (48,)\n");
    CHECK_CONTAINS(logbuf, "INFO calx.engine.Engine ROLLBACK\n");
}

TEST(echo_batch_shows_ten_sets)
{
    calx_error err;
    loglen = 0;
    logbuf[0] = '\0';
    calx_engine *e = make_engine(&(calx_engine_opts){ .echo = true, .log = capture });
    calx_connection *c = connect_now(e, &err);
    CHECK_OK(run_sql(c, "CREATE TABLE n (x INTEGER)", NULL, &err), &err);
    calx_params sets[25];
    calx_param items[25];
    for (int i = 0; i < 25; i++) {
        items[i] = (calx_param)CALX_V(calx_int(i));
        sets[i] = (calx_params){ &items[i], 1 };
    }
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute_many(c, "INSERT INTO n VALUES (?)", sets, 25, &err), &r,
                       &err), &err);
    calx_result_free(r);
    calx_conn_close(c);
    free_engine(e);
    CHECK_CONTAINS(logbuf, "[(0,), (1,), (2,), (3,), (4,)  ... displaying 10 of 25 total "
                           "bound parameter sets ...  (20,), (21,), (22,), (23,), (24,)]");
}

TEST(echo_cuts_long_values)
{
    calx_error err;
    loglen = 0;
    logbuf[0] = '\0';
    calx_engine *e = make_engine(&(calx_engine_opts){ .echo = true, .log = capture });
    calx_connection *c = connect_now(e, &err);
    char big[1001];
    memset(big, 'a', 1000);
    big[1000] = '\0';
    big[999] = 'z';
    CHECK_OK(run_sql(c, "SELECT length(?)", CALX_PARAMS(CALX_V(calx_text(big))), &err), &err);
    calx_conn_close(c);
    free_engine(e);
    CHECK_CONTAINS(logbuf, " ... (700 characters truncated) ... ");
    CHECK_CONTAINS(logbuf, "aaz',)");
    CHECK(strstr(logbuf, big) == NULL);
}

TEST(many_distinct_statements_do_not_grow_the_cache_without_end)
{
    /* Past the compiled-text cache's cap, statements still run (compiled
     * for one use; ASan and valgrind check that those are freed). */
    calx_error err;
    calx_engine *e = make_engine(NULL);
    calx_connection *c = connect_now(e, &err);
    int failures = 0;
    int64_t sum = 0;
    for (int i = 0; i < 2100; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d + ?", i);
        calx_result *r = NULL;
        if (calx_wait(calx_conn_execute(c, sql, CALX_PARAMS(CALX_V(calx_int(1))), &err), &r,
                      &err))
            failures++;
        else
            sum += calx_result_scalar(r).u.i;
        calx_result_free(r);
    }
    CHECK_INT(failures, 0);
    CHECK_INT(sum, 2100LL * 2099 / 2 + 2100);
    calx_conn_close(c);
    free_engine(e);
}

/* The integer sql returns (first row, first column); -1 on an error. */
static long long scalar_of(calx_connection *c, const char *sql)
{
    calx_error err;
    calx_result *r = NULL;
    long long v = -1;
    if (calx_wait(calx_conn_execute(c, sql, NULL, &err), &r, &err) == 0)
        v = (long long)calx_result_scalar(r).u.i;
    else
        fprintf(stderr, "  %s: %s\n", sql, err.message);
    calx_result_free(r);
    return v;
}

/* PostgreSQL: a transaction begins at the level asked for (SHOW
 * transaction_isolation says which), and it shows: a second read under
 * REPEATABLE READ or SERIALIZABLE still sees the snapshot the first took,
 * under READ COMMITTED it sees a row committed in between. */
static void check_pg_isolation(const char *level, const char *shown, long long second_read)
{
    calx_error err;
    calx_engine *e = make_engine(&(calx_engine_opts){ .isolation_level = level });
    calx_connection *a = e ? connect_now(e, &err) : NULL;
    calx_connection *b = e ? connect_now(e, &err) : NULL;
    CHECK(a && b);
    if (!a || !b) {
        calx_conn_close(a);
        calx_conn_close(b);
        free_engine(e);
        return;
    }
    CHECK_OK(run_sql(a, "CREATE TABLE t (x INTEGER)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(a, &err), NULL, &err), &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(a, "SHOW transaction_isolation", NULL, &err), &r, &err),
             &err);
    CHECK_STR(r ? calx_row_text(calx_result_row(r, 0), 0) : NULL, shown);
    calx_result_free(r);
    CHECK_INT(scalar_of(a, "SELECT count(*) FROM t"), 0);
    CHECK_OK(run_sql(b, "INSERT INTO t VALUES (1)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(b, &err), NULL, &err), &err);
    CHECK_INT(scalar_of(a, "SELECT count(*) FROM t"), second_read);
    CHECK_OK(calx_wait(calx_conn_rollback(a, &err), NULL, &err), &err);
    calx_conn_close(a);
    calx_conn_close(b);
    free_engine(e);
}

/* SQLite: READ UNCOMMITTED turns the connection's read_uncommitted pragma
 * on (what SQLite has of it: dirty reads between connections that share a
 * cache); SERIALIZABLE, also the default, leaves it off. */
static void check_sqlite_isolation(const char *level, long long read_uncommitted)
{
    calx_error err;
    calx_engine *e = make_engine(&(calx_engine_opts){ .isolation_level = level });
    calx_connection *c = e ? connect_now(e, &err) : NULL;
    CHECK(c != NULL);
    if (c)
        CHECK_INT(scalar_of(c, "PRAGMA read_uncommitted"), read_uncommitted);
    calx_conn_close(c);
    free_engine(e);
}

TEST(isolation_levels_other_than_serializable_reach_the_database)
{
    if (pg) {
        check_pg_isolation("READ COMMITTED", "read committed", 1);
        check_pg_isolation("REPEATABLE READ", "repeatable read", 0);
        check_pg_isolation("repeatable_read", "repeatable read", 0);
        check_pg_isolation("SERIALIZABLE", "serializable", 0);
    } else {
        check_sqlite_isolation("READ UNCOMMITTED", 1);
        check_sqlite_isolation("read_uncommitted", 1);
        check_sqlite_isolation("SERIALIZABLE", 0);
        check_sqlite_isolation(NULL, 0);
    }
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_engine");
    pg = test_backend_pg();
    fprintf(stderr, "backend: %s\n", test_backend_name());
    RUN(engine_opens_nothing_until_first_use);
    RUN(malformed_url_is_a_clear_error);
    RUN(password_is_masked);
    RUN(bad_options_are_rejected);
    RUN(values_round_trip_and_null_is_distinct);
    RUN(first_one_scalar);
    RUN(parameters_are_bound_not_pasted);
    RUN(database_errors_are_classified);
    RUN(commit_rollback_and_autobegin);
    RUN(savepoints_nest);
    RUN(one_operation_at_a_time);
    RUN(streaming_holds_one_chunk_at_a_time);
    RUN(a_streams_later_chunks_fill_the_memory_of_those_read_and_every_row_reads_right);
    RUN(a_streams_next_chunk_is_fetched_before_the_program_asks_for_it);
    RUN(a_streams_small_first_chunk_grows_to_the_chunk_asked_for);
    RUN(an_error_in_a_later_chunk_reaches_the_fetch_of_that_chunk);
    RUN(a_fetch_waiting_for_a_slow_chunk_can_be_cancelled);
    RUN(echo_logs_like_sqlalchemy);
    RUN(echo_batch_shows_ten_sets);
    RUN(echo_cuts_long_values);
    RUN(many_distinct_statements_do_not_grow_the_cache_without_end);
    RUN(isolation_levels_other_than_serializable_reach_the_database);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}

/* SPDX-License-Identifier: MIT */
/* The database the SQL layer's tests (test_expr, test_sql_ops,
 * test_select, test_dml) run their statements on: a fresh database from
 * tests/backend.h (a scratch SQLite file, or a schema on the PostgreSQL
 * server CALX_TEST_URL names) with the test's tables created, one
 * connection to it, and the teardown that leaves nothing behind. The
 * including file defines loop and dir. */
#ifndef CALX_TESTS_SQL_DB_H
#define CALX_TESTS_SQL_DB_H

#include <stdio.h>

#include "backend.h"
#include "calx.h"
#include "test.h"

static calx_metadata *md;
static calx_engine *engine;
static calx_connection *conn;

/* Runs sql on conn, its rows dropped: 0, or the error (printed). */
static inline int run_sql(const char *sql, const calx_params *p)
{
    calx_error err;
    calx_result *r = NULL;
    int rc = calx_wait(calx_conn_execute(conn, sql, p, &err), &r, &err);
    if (rc)
        fprintf(stderr, "  %s: %s\n", sql, err.message);
    calx_result_free(r);
    return rc;
}

/* Opens engine on url (a fresh database when url is NULL), creates the n
 * tables in md (dropping them first with drop_first, for a url an earlier
 * run may have used) and connects conn. False, with the test failed, when
 * any step fails. log: the engine's log handler, or NULL. */
static inline bool sql_db_open(calx_loop *lp, const char *scratch, const char *url,
                               const calx_table *const *tables, size_t n, bool drop_first,
                               calx_log_fn log)
{
    calx_error err;
    char fresh[1200];
    if (!url && !(url = test_fresh_url(fresh, sizeof fresh, scratch, 1, NULL))) {
        test_failed_now = 1;
        return false;
    }
    engine = calx_create_engine(url, &(calx_engine_opts){ .loop = lp, .log = log }, &err);
    if (!engine) {
        fprintf(stderr, "  create_engine(%s): %s\n", url, err.message);
        test_failed_now = 1;
        return false;
    }
    md = calx_metadata_new(&err);
    for (size_t i = 0; i < n; i++)
        CHECK_OK(calx_metadata_add(md, tables[i], &err), &err);
    if (drop_first)
        CHECK_OK(calx_wait(calx_engine_drop_all(engine, md, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_engine_create_all(engine, md, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_engine_connect(engine, &err), &conn, &err), &err);
    return conn != NULL;
}

/* Closes conn and the engine (dropping the tables first with drop) and
 * frees md. */
static inline void sql_db_close(calx_loop *lp, bool drop)
{
    calx_error err;
    calx_conn_close(conn);
    conn = NULL;
    if (engine) {
        if (drop)
            CHECK_OK(calx_wait(calx_engine_drop_all(engine, md, &err), NULL, &err), &err);
        calx_engine_free(engine);
        calx_loop_run(lp);
    }
    engine = NULL;
    calx_metadata_free(md);
    md = NULL;
}

#endif

/* SPDX-License-Identifier: MIT */
/* The database a backend-agnostic test runs on.
 *
 * Without CALX_TEST_URL (or with a sqlite URL there) each fresh database is
 * a new SQLite file in the test's scratch directory. With CALX_TEST_URL set
 * to a postgresql:// URL (tests/run-pg.sh sets it from CALX_TEST_PG_URL for
 * the *_pg tests), each fresh database is a new schema on that server, made
 * here and put first on the connection's search_path through libpq's
 * options; test_backend_cleanup drops them all. So a test written once
 * runs on both, its tables never meeting another test's.
 *
 * Setup here uses plain blocking libpq calls: it runs in the test's own
 * thread between loop runs, never inside the loop. */
#ifndef CALX_TEST_BACKEND_H
#define CALX_TEST_BACKEND_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

static PGconn *test_pg_admin;
static char test_pg_schemas[256][64];
static int test_pg_nschemas;

/* True when the tests run on PostgreSQL. */
static void test_pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;  /* NOTICEs of DROP ... IF EXISTS: noise in test output */
}

static inline bool test_backend_pg(void)
{
    const char *u = getenv("CALX_TEST_URL");
    return u && strncmp(u, "postgres", 8) == 0;
}

/* "sqlite" or "postgresql": what calx_engine_dialect says. */
static inline const char *test_backend_name(void)
{
    return test_backend_pg() ? "postgresql" : "sqlite";
}

/* A fresh database URL in buf: dir/t<seq>.db (with ?query, SQLite's URL
 * options) on SQLite; a new schema on PostgreSQL (query is ignored there).
 * NULL when the PostgreSQL server cannot be reached or the schema made. */
static inline const char *test_fresh_url(char *buf, size_t n, const char *dir, int seq,
                                         const char *query)
{
    if (!test_backend_pg()) {
        snprintf(buf, n, "sqlite:///%s/t%d.db%s%s", dir, seq, query ? "?" : "",
                 query ? query : "");
        return buf;
    }
    const char *base = getenv("CALX_TEST_URL");
    if (!test_pg_admin) {
        test_pg_admin = PQconnectdb(base);
        if (PQstatus(test_pg_admin) != CONNECTION_OK) {
            fprintf(stderr, "  cannot connect to CALX_TEST_URL (%s): %s", base,
                    PQerrorMessage(test_pg_admin));
            return NULL;
        }
        PQsetNoticeProcessor(test_pg_admin, test_pg_quiet, NULL);
    }
    if (test_pg_nschemas == (int)(sizeof test_pg_schemas / sizeof *test_pg_schemas))
        return NULL;
    char *schema = test_pg_schemas[test_pg_nschemas];
    snprintf(schema, sizeof test_pg_schemas[0], "calx_t%d_%d", (int)getpid(), seq);
    char sql[256];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %.63s CASCADE; CREATE SCHEMA %.63s",
             schema, schema);
    PGresult *r = PQexec(test_pg_admin, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "  %s: %s", sql, PQerrorMessage(test_pg_admin));
    PQclear(r);
    if (!ok)
        return NULL;
    test_pg_nschemas++;
    snprintf(buf, n, "%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?",
             schema);
    return buf;
}

/* PostgreSQL only: ends the server process pid (pg_terminate_backend),
 * waiting until it is gone. False when that failed. */
static inline bool test_backend_kill(long long pid)
{
    if (!test_pg_admin)
        return false;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld, 10000)", pid);
    PGresult *r = PQexec(test_pg_admin, sql);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
              strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return ok;
}

/* Drops the schemas test_fresh_url made. Call at the end of main. */
static inline void test_backend_cleanup(void)
{
    for (int i = 0; test_pg_admin && i < test_pg_nschemas; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %.63s CASCADE", test_pg_schemas[i]);
        PQclear(PQexec(test_pg_admin, sql));
    }
    test_pg_nschemas = 0;
    if (test_pg_admin)
        PQfinish(test_pg_admin);
    test_pg_admin = NULL;
}

#endif

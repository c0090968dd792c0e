/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver against a real server: the driver through its
 * vtable, then the engine on top of it (pool, disconnects, restarts,
 * PgBouncer, streaming, savepoints).
 *
 * Needs CALX_TEST_PG_URL (make test starts a server with
 * scripts/pg-test-server.sh and sets it); without it the program runs only
 * the first case (SQLSTATE classification, which needs no server) and says
 * "skipped" for the rest. The restart test also needs
 * CALX_TEST_PG_DIR and the PgBouncer test CALX_TEST_PGBOUNCER_URL (both set
 * by make test); each is a SKIP, counted as one, without them. Every table lives in a schema of
 * this process's own, dropped at the end. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <math.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#include <libpq-fe.h>

#include "calx.h"
#include "core/evloop.h"
#include "core/hash.h"
#include "driver/driver.h"
#include "driver/pg_int.h"
#include "driver/postgres.h"
#include "engine/engine_int.h"
#include "test.h"

#ifndef CALX_SOURCE_DIR
#define CALX_SOURCE_DIR "."
#endif

static calx_loop *loop;
static const calx_driver *drv = &calx__postgres_driver;
static const char *base_url;       /* CALX_TEST_PG_URL */
static char schema[64];            /* this process's schema */
static char url_buf[1024];         /* base_url with search_path = schema */
static PGconn *admin;              /* a plain blocking libpq connection for setup */

#include "driver_test.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs sql on the admin connection (blocking: test setup only). */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static bool admin_exec(const char *sql)
{
    PGresult *r = PQexec(admin, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "  admin: %s: %s", sql, PQerrorMessage(admin));
    PQclear(r);
    return ok;
}

static int64_t admin_scalar(const char *sql)
{
    PGresult *r = PQexec(admin, sql);
    int64_t v = -999;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "  admin: %s: %s", sql, PQerrorMessage(admin));
    PQclear(r);
    return v;
}

/* The test URL with extra query text appended ("a=b&c=d"). */
static const char *url_with(char *buf, size_t n, const char *base, const char *extra)
{
    snprintf(buf, n, "%s%s%s", base, extra ? (strchr(base, '?') ? "&" : "?") : "",
             extra ? extra : "");
    return buf;
}

/* ---- SQLSTATEs to error codes: no server needed ---- */

/* What a program branches on: retry a serialization failure or a deadlock,
 * throw the connection away on a lost one, and nothing else in those two
 * classes (a protocol violation or a cancel leaves the session usable). */
TEST(sqlstates_map_to_the_error_a_program_retries_or_reconnects_on)
{
    static const struct {
        const char *sqlstate;
        int code;
    } cases[] = {
        { "40001", CALX_ERR_SERIALIZATION },  /* serialization_failure */
        { "40P01", CALX_ERR_SERIALIZATION },  /* deadlock_detected: retry too */
        { "40002", CALX_ERR_OPERATIONAL },    /* the rest of class 40 is no retry */
        { "40003", CALX_ERR_OPERATIONAL },
        { "08000", CALX_ERR_DISCONNECT },     /* the whole connection_exception class */
        { "08003", CALX_ERR_DISCONNECT },
        { "08006", CALX_ERR_DISCONNECT },
        { "08001", CALX_ERR_DISCONNECT },
        { "08004", CALX_ERR_DISCONNECT },
        { "08P01", CALX_ERR_OPERATIONAL },    /* protocol_violation: the session lives on */
        { "57P01", CALX_ERR_DISCONNECT },     /* admin_shutdown */
        { "57P02", CALX_ERR_DISCONNECT },     /* crash_shutdown */
        { "57P03", CALX_ERR_DISCONNECT },     /* cannot_connect_now */
        { "57014", CALX_ERR_OPERATIONAL },    /* query_canceled */
        { "57000", CALX_ERR_OPERATIONAL },    /* operator_intervention, the rest of 57 */
        { "23505", CALX_ERR_INTEGRITY },
        { "42P01", CALX_ERR_PROGRAMMING },
        { "22012", CALX_ERR_DATA },
        { "0A000", CALX_ERR_NOT_SUPPORTED },
        { "25P02", CALX_ERR_INTERNAL },
        { "53300", CALX_ERR_OPERATIONAL },    /* too_many_connections */
        { "ZZ999", CALX_ERR_DATABASE },       /* a class calx does not know */
        { "4", CALX_ERR_DATABASE },           /* not an SQLSTATE */
        { "40P011", CALX_ERR_DATABASE },
        { "", CALX_ERR_DATABASE },
        { NULL, CALX_ERR_DATABASE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int got = calx__pg_errcode(cases[i].sqlstate);
        if (got != cases[i].code) {
            fprintf(stderr, "  SQLSTATE %s: got %s, expected %s\n",
                    cases[i].sqlstate ? cases[i].sqlstate : "(null)",
                    calx_errcode_name(got), calx_errcode_name(cases[i].code));
            CHECK(!"SQLSTATE classified as expected");
        }
    }
}

/* ---- the driver through its vtable ---- */

static calx_dconn *connect_ex(const char *url, const calx_kv *args, size_t nargs,
                              const char *iso, calx_error *err)
{
    calx_url *u = calx_url_parse(url, err);
    if (!u)
        return NULL;
    connect_wait w;
    memset(&w, 0, sizeof w);
    calx_error_clear(err);
    if (drv->connect(loop, u, args, nargs, iso, on_connect, &w, err) != 0) {
        calx_url_free(u);
        CHECK(err->code != 0);
        return NULL;
    }
    calx_url_free(u);  /* the driver copied what it needs */
    CHECK_INT(w.done, 0);  /* never from inside the call */
    run_loop();
    CHECK_INT(w.done, 1);
    if (!w.conn)
        *err = w.err;
    return w.conn;
}

static calx_dconn *connect_args(const calx_kv *args, size_t nargs)
{
    calx_error err;
    calx_dconn *c = connect_ex(url_buf, args, nargs, NULL, &err);
    if (!c)
        fprintf(stderr, "  connect failed: %s\n", err.message);
    CHECK(c != NULL);
    return c;
}

static calx_dconn *connect_default(void)
{
    return connect_args(NULL, 0);
}

static calx_pg_stats pg_stats(const calx_dconn *c)
{
    calx_pg_stats st;
    calx__pg_conn_stats(c, &st);
    return st;
}

/* A TCP port on 127.0.0.1 where nothing listens (bound, then released). */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

TEST(connect_execute_and_types_round_trip)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    CHECK(drv->alive(c));
    CHECK(pg_stats(c).backend_pid > 0);
    CHECK_INT(scalar(c, "SELECT 41 + 1"), 42);
    must(c, "CREATE TABLE types (i2 smallint, i4 integer, i8 bigint, f4 real, "
            "f8 double precision, n numeric(10,3), b boolean, by bytea, t text, "
            "v varchar(20), ts timestamptz)");
    calx_value params[] = {
        calx_int(-7), calx_int(2147483647), calx_int(INT64_MIN), calx_real(1.5),
        calx_real(0.1), calx_text("12345.678"), calx_bool(true), calx_blob("\0\1\xff", 3),
        calx_text("h\xc3\xa9llo 'x' \"y\""), calx_text(""),
        calx_text("2024-01-02 03:04:05+00"),
    };
    calx_error err;
    CHECK_OK(exec_p(c, "INSERT INTO types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                       "$11)", params, 11, NULL, &err), &err);
    calx_value nulls[11];
    for (int i = 0; i < 11; i++)
        nulls[i] = calx_null();
    CHECK_OK(exec_p(c, "INSERT INTO types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                       "$11)", nulls, 11, NULL, &err), &err);
    calx_rowset *rs = NULL;
    CHECK_OK(exec_p(c, "SELECT i2, i4, i8, f4, f8, n, b, by, t, v, "
                       "ts AT TIME ZONE 'UTC' AS ts FROM types ORDER BY i2 NULLS LAST",
                    NULL, 0, &rs, &err), &err);
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK_INT(rs->nrows, 2);
    CHECK_INT(rs->ncols, 11);
    CHECK_STR(rs->colnames[7], "by");
    CHECK_INT(rs->rowcount, -1);
    const calx_value *r0 = rs->vals, *r1 = rs->vals + 11;
    CHECK_INT(r0[0].type, CALX_INT);
    CHECK_INT(r0[0].u.i, -7);
    CHECK_INT(r0[1].u.i, 2147483647);
    CHECK(r0[2].type == CALX_INT && r0[2].u.i == INT64_MIN);
    CHECK(r0[3].type == CALX_REAL && r0[3].u.d == 1.5);
    CHECK(r0[4].type == CALX_REAL && r0[4].u.d == 0.1);
    /* numeric stays exact: a decimal of the column's scale */
    CHECK_INT(r0[5].type, CALX_DECIMAL);
    CHECK_INT(r0[5].scale, 3);
    CHECK(r0[5].u.dec.lo == 12345678 && r0[5].u.dec.hi == 0);
    CHECK(r0[6].type == CALX_BOOL && r0[6].u.b);
    CHECK_INT(r0[7].type, CALX_BLOB);
    CHECK_INT(r0[7].u.s.len, 3);
    CHECK(r0[7].u.s.len == 3 && memcmp(r0[7].u.s.ptr, "\0\1\xff", 3) == 0);
    CHECK_INT(r0[8].type, CALX_TEXT);
    CHECK_STR(r0[8].u.s.ptr, "h\xc3\xa9llo 'x' \"y\"");
    CHECK_INT(r0[9].type, CALX_TEXT);  /* "" is not NULL */
    CHECK_STR(r0[9].u.s.ptr, "");
    /* AT TIME ZONE gives a timestamp without zone: a naive datetime. */
    CHECK_INT(r0[10].type, CALX_DATETIME);
    calx_datetime want_dt;
    CHECK_OK(calx_datetime_parse("2024-01-02 03:04:05", 19, &want_dt, &err), &err);
    CHECK_INT(r0[10].u.i, want_dt);
    for (int i = 0; i < 11; i++)
        CHECK_INT(r1[i].type, CALX_NULL);
    calx__rowset_free(rs);

    /* Values without a column to type them: int8, float8, bool, text. */
    calx_value v[] = { calx_int(INT64_MAX), calx_real(-2.25), calx_bool(false),
                       calx_text("x"), calx_real(INFINITY) };
    CHECK_OK(exec_p(c, "SELECT $1, $2, $3, $4, $5", v, 5, &rs, &err), &err);
    if (rs) {
        CHECK(rs->vals[0].type == CALX_INT && rs->vals[0].u.i == INT64_MAX);
        CHECK(rs->vals[1].type == CALX_REAL && rs->vals[1].u.d == -2.25);
        CHECK(rs->vals[2].type == CALX_BOOL && !rs->vals[2].u.b);
        CHECK_STR(rs->vals[3].u.s.ptr, "x");
        CHECK(rs->vals[4].type == CALX_REAL && isinf(rs->vals[4].u.d));
    }
    calx__rowset_free(rs);

    /* Text with a NUL cannot go to PostgreSQL: said before anything is sent. */
    calx_value nul = calx_textn("a\0b", 3);
    CHECK_INT(exec_p(c, "SELECT $1", &nul, 1, NULL, &err), CALX_ERR_DATA);
    CHECK_CONTAINS(err.message, "NUL");
    CHECK(drv->alive(c));
    CHECK_INT(scalar(c, "SELECT 1"), 1);
    close_conn(c);
}

/* ---- binary format (#11 §2) ---- */

/* The format the prepared statement of sql asks its rows in. */
/* A connection without prepared statements (PgBouncer's setting), whose
 * rows always come in text: what the binary ones are compared with. */
static calx_dconn *connect_text(void)
{
    return connect_args((calx_kv[]){ { "prepared_statement_cache_size", "0" } }, 1);
}

static pg_fmt rows_format_of(calx_dconn *dc, const char *sql)
{
    pg_conn *c = (pg_conn *)dc;
    for (size_t i = 0; i < c->ncached; i++)
        if (strcmp(c->cache[i]->sql, sql) == 0)
            return c->cache[i]->rows;
    return PG_FMT_UNKNOWN;
}

/* a and b are the same calx value: type, and bits for a REAL (-0.0 is not
 * 0.0; any NaN is a NaN). */
static bool same_value(const calx_value *a, const calx_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case CALX_NULL: return true;
    case CALX_INT: return a->u.i == b->u.i;
    case CALX_BOOL: return a->u.b == b->u.b;
    case CALX_REAL:
        if (isnan(a->u.d) || isnan(b->u.d))
            return isnan(a->u.d) && isnan(b->u.d);
        return memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0;
    case CALX_TEXT:
    case CALX_JSON:
        if (a->u.s.ptr[a->u.s.len] != '\0' || b->u.s.ptr[b->u.s.len] != '\0')
            return false;
        /* fall through */
    case CALX_BLOB:
        return a->u.s.len == b->u.s.len &&
               (a->u.s.len == 0 || memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0);
    case CALX_DECIMAL:
        /* The same digits at the same scale, not only the same value. */
        return a->scale == b->scale && a->u.dec.lo == b->u.dec.lo &&
               a->u.dec.hi == b->u.dec.hi;
    case CALX_UUID: return calx_uuid_cmp(a->u.uuid, b->u.uuid) == 0;
    case CALX_DATE:
    case CALX_TIME:
    case CALX_DATETIME:
    case CALX_TIMESTAMP: return a->u.i == b->u.i;
    case CALX_INTERVAL:
        return a->u.interval.months == b->u.interval.months &&
               a->u.interval.days == b->u.interval.days &&
               a->u.interval.micros == b->u.interval.micros;
    case CALX_ARRAY:
        if (a->elem != b->elem || a->u.array.n != b->u.array.n)
            return false;
        for (size_t i = 0; i < a->u.array.n; i++)
            if (!same_value(&a->u.array.items[i], &b->u.array.items[i]))
                return false;
        return true;
    default: return false;
    }
}

/* A DECIMAL value's text ("?" for any other value). */
static const char *decimal_text(const calx_value *v)
{
    static char out[CALX_DECIMAL_TEXT_SIZE];
    if (v->type != CALX_DECIMAL)
        return "?";
    calx_decimal_format(calx_value_get_decimal(v), out, sizeof out);
    return out;
}

/* Every value of two results of one query is the same; says where not. */
static void check_same_rows(const calx_rowset *text, const calx_rowset *bin)
{
    CHECK(text && bin);
    if (!text || !bin)
        return;
    CHECK_INT(bin->ncols, text->ncols);
    CHECK_INT(bin->nrows, text->nrows);
    if (bin->ncols != text->ncols || bin->nrows != text->nrows)
        return;
    for (size_t i = 0; i < text->nrows * text->ncols; i++)
        if (!same_value(&text->vals[i], &bin->vals[i])) {
            const calx_value *t = &text->vals[i];
            fprintf(stderr, "  row %zu column %s: text and binary differ (text type %d '%s')\n",
                    i / text->ncols, text->colnames[i % text->ncols], (int)t->type,
                    t->type == CALX_TEXT ? t->u.s.ptr : "");
            CHECK(!"the binary value differs from the text one");
        }
}

TEST(binary_results_decode_to_what_text_gave)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    must(c, "CREATE TABLE bin_types (k integer, i2 smallint, i4 integer, i8 bigint, f4 real, "
            "f8 double precision, n numeric, n3 numeric(20,3), b boolean, by bytea, t text, "
            "v varchar(20), ch char(5), nm name, u uuid, j json, jb jsonb, o oid)");
    must(c, "INSERT INTO bin_types VALUES "
            "(1, -32768, -2147483648, -9223372036854775808, 0.1, 0.1, 0, 0, true, '\\x', '', "
            "'', '', '', '00000000-0000-0000-0000-000000000000', '{}', '{}', 0), "
            "(2, 32767, 2147483647, 9223372036854775807, 3.4028235e38, 1.7976931348623157e308, "
            "'12345678901234567890.123456789', 1.5, false, '\\x00ff0a', 'h\xc3\xa9llo', 'x y', "
            "'ab', 'pg_class', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '[1, \"a\"]', "
            "'{\"b\": [1, 2], \"a\": null}', 4294967295), "
            "(3, 0, 0, 0, '-0', '-0', '-0.001', -0.001, true, '\\x5c', 'a\\b', '', 'abcde', "
            "'', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', '\"\\u00e9\"', 26), "
            "(4, 1, 1, 1, 'NaN', 'NaN', 'NaN', 100000, true, NULL, NULL, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL), "
            "(5, -1, -1, -1, 'Infinity', '-Infinity', 'Infinity', 10000.000, false, '', '', "
            "'', '', '', NULL, NULL, NULL, NULL), "
            "(6, 2, 2, 2, '-Infinity', 5e-324, '-Infinity', 0.1, true, '', '', '', '', '', "
            "NULL, NULL, NULL, NULL), "
            "(7, 3, 3, 3, 1.17549435e-38, 2.2250738585072014e-308, 1e-20, 123456789.5, true, "
            "'', '', '', '', '', NULL, NULL, NULL, NULL), "
            "(8, 4, 4, 4, 16777217, -0.30000000000000004, 1.5e30, -99999999999999999.999, "
            "true, '', '', '', '', '', NULL, NULL, NULL, NULL), "
            "(9, 5, 5, 5, 1, 1, 0.00000, 0, true, '', '', '', '', '', NULL, NULL, NULL, NULL), "
            "(10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL)");
    const char *sql = "SELECT * FROM bin_types ORDER BY k";
    calx_rowset *text = NULL, *bin = NULL;
    calx_error err;
    calx_dconn *tc = connect_text();
    if (tc)
        CHECK_OK(exec_p(tc, sql, NULL, 0, &text, &err), &err);
    /* The query was prepared and described before its first execution,
     * which showed every column decodes in binary: its rows come so from
     * the start. */
    CHECK_OK(exec_p(c, sql, NULL, 0, &bin, &err), &err);
    CHECK_INT(rows_format_of(c, sql), PG_FMT_BINARY);
    check_same_rows(text, bin);
    if (text && text->nrows == 10) {
        /* numeric is an exact decimal (text where it cannot be: NaN). */
        CHECK_STR(decimal_text(&text->vals[1 * 18 + 6]), "12345678901234567890.123456789");
        CHECK_STR(decimal_text(&text->vals[2 * 18 + 6]), "-0.001");
        CHECK_STR(decimal_text(&text->vals[3 * 18 + 7]), "100000.000");
        CHECK_STR(decimal_text(&text->vals[7 * 18 + 6]), "1500000000000000000000000000000");
        CHECK_INT(text->vals[3 * 18 + 6].type, CALX_TEXT);
        CHECK_STR(text->vals[3 * 18 + 6].u.s.ptr, "NaN");
        CHECK_INT(text->vals[1 * 18 + 14].type, CALX_UUID);
        char u[CALX_UUID_TEXT_SIZE];
        calx_uuid_format(text->vals[1 * 18 + 14].u.uuid, u);
        CHECK_STR(u, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        CHECK_INT(text->vals[1 * 18 + 16].type, CALX_JSON);
        CHECK(text->vals[0 * 18 + 4].u.d == 0.1);  /* float4 0.1 reads as 0.1 */
        CHECK(signbit(text->vals[2 * 18 + 5].u.d));
    }
    calx__rowset_free(text);
    calx__rowset_free(bin);

    /* A column without a binary decoder (inet: calx reads its text)
     * keeps the statement in text. */
    const char *ts_sql = "SELECT k, '10.0.0.1'::inet AS at FROM bin_types WHERE k = 1";
    CHECK_OK(exec_p(c, ts_sql, NULL, 0, NULL, &err), &err);
    CHECK_INT(rows_format_of(c, ts_sql), PG_FMT_TEXT);
    CHECK_OK(exec_p(c, ts_sql, NULL, 0, &text, &err), &err);
    CHECK(text && text->nrows == 1 && text->vals[1].type == CALX_TEXT);
    calx__rowset_free(text);

    /* A statement whose result type changes under it fails once (0A000)
     * and is prepared afresh, learning its new columns. */
    const char *alt_sql = "SELECT i4 FROM bin_types WHERE k = 2";
    CHECK_OK(exec_p(c, alt_sql, NULL, 0, NULL, &err), &err);
    CHECK_INT(rows_format_of(c, alt_sql), PG_FMT_BINARY);
    must(c, "ALTER TABLE bin_types ALTER COLUMN i4 TYPE inet USING '10.0.0.2'::inet");
    int rc = exec_p(c, alt_sql, NULL, 0, NULL, &err);
    if (rc)
        CHECK_INT(err.code, CALX_ERR_NOT_SUPPORTED);
    CHECK_OK(exec_p(c, alt_sql, NULL, 0, &text, &err), &err);
    CHECK(text && text->nrows == 1 && text->vals[0].type == CALX_TEXT);
    CHECK_INT(rows_format_of(c, alt_sql), PG_FMT_TEXT);
    calx__rowset_free(text);
    close_conn(c);
    if (tc)
        close_conn(tc);
}

/* The column names a prepared statement's cache entry keeps, or NULL. */
static calx_colnames *names_of(calx_dconn *dc, const char *sql)
{
    pg_conn *c = (pg_conn *)dc;
    for (size_t i = 0; i < c->ncached; i++)
        if (strcmp(c->cache[i]->sql, sql) == 0)
            return c->cache[i]->names;
    return NULL;
}

TEST(a_prepared_statements_rows_share_its_column_names_and_see_a_rename)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    must(c, "DROP TABLE IF EXISTS named_cols");
    must(c, "CREATE TABLE named_cols (k integer PRIMARY KEY, v text)");
    must(c, "INSERT INTO named_cols VALUES (1, 'one')");
    const char *sql = "SELECT * FROM named_cols WHERE k = 1";
    calx_error err;
    calx_rowset *a = NULL, *b = NULL;
    CHECK_OK(exec_p(c, sql, NULL, 0, &a, &err), &err);
    CHECK_OK(exec_p(c, sql, NULL, 0, &b, &err), &err);
    /* Both runs' rowsets name their columns by the entry's one copy. */
    CHECK(names_of(c, sql) != NULL);
    CHECK(a && b && a->names == names_of(c, sql) && b->names == a->names);
    CHECK(b && b->ncols == 2 && strcmp(b->colnames[0], "k") == 0 &&
          strcmp(b->colnames[1], "v") == 0);
    calx__rowset_free(a);
    calx__rowset_free(b);

    /* A renamed column: the server may fail the statement once (its
     * result changed: 0A000) or run it; either way the rows name the
     * column as the table now does, never by the name kept before. */
    must(c, "ALTER TABLE named_cols RENAME COLUMN v TO label");
    calx_rowset *r = NULL;
    int rc = exec_p(c, sql, NULL, 0, &r, &err);
    if (rc) {
        CHECK_INT(err.code, CALX_ERR_NOT_SUPPORTED);
        CHECK_OK(exec_p(c, sql, NULL, 0, &r, &err), &err);
    }
    CHECK(r && r->ncols == 2 && r->nrows == 1 && strcmp(r->colnames[1], "label") == 0);
    calx__rowset_free(r);
    must(c, "DROP TABLE named_cols");
    close_conn(c);
}

TEST(a_streamed_query_fetches_in_binary_after_its_first_chunk)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    const char *sql =
        "SELECT x, x::smallint AS i2, x * 10000000000 AS i8, x / 3.0::real AS f4, "
        "x / 7.0::float8 AS f8, (x / 7.0)::numeric(12,4) AS n, x % 2 = 0 AS b, "
        "decode(md5(x::text), 'hex') AS by, 'row ' || x AS t, md5(x::text)::uuid AS u, "
        "CASE WHEN x % 5 = 0 THEN NULL ELSE x END AS maybe "
        "FROM generate_series(1, 50) AS x";
    calx_error err;
    calx_rowset *whole = NULL;
    CHECK_OK(exec_p(c, sql, NULL, 0, &whole, &err), &err);  /* first: text */
    calx_dstmt st = { .sql = sql, .nsets = 1 };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st, .stream_rows = 7,
                      .begin = true };
    calx_rowset *rs = NULL;
    size_t row = 0;
    CHECK_OK(request(c, &req, &rs, &err), &err);
    pg_conn *pc = (pg_conn *)c;
    CHECK_INT(pc->cursor_fmt, PG_FMT_BINARY);
    for (int chunk = 0; rs && whole && chunk < 20; chunk++) {
        for (size_t r = 0; r < rs->nrows && row < whole->nrows; r++, row++)
            for (size_t k = 0; k < rs->ncols; k++)
                if (!same_value(&whole->vals[row * whole->ncols + k], &rs->vals[r * rs->ncols + k])) {
                    fprintf(stderr, "  chunk %d row %zu column %s differs\n", chunk, row,
                            rs->colnames[k]);
                    CHECK(!"a streamed value differs");
                }
        bool more = rs->more;
        calx__rowset_free(rs);
        rs = NULL;
        if (!more)
            break;
        calx_dreq fetch = { .op = CALX_DOP_FETCH };
        CHECK_OK(request(c, &fetch, &rs, &err), &err);
    }
    calx__rowset_free(rs);
    CHECK_INT(row, 50);
    calx__rowset_free(whole);
    CHECK_OK(op(c, CALX_DOP_CLOSE_CURSOR, &err), &err);
    CHECK_OK(op(c, CALX_DOP_ROLLBACK, &err), &err);
    close_conn(c);
}

/* A stream left after its first chunk has FETCHes out ahead of it; the
 * next request reads and drops their replies first, an error in them
 * included, and runs as it would have. */
TEST(a_request_after_a_stream_left_early_runs_after_the_fetches_sent_ahead)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    calx_error err;
    /* Rows 1-100 come back; row 150 divides by zero in a FETCH sent ahead. */
    calx_dstmt q = { .sql = "SELECT 1 / (150 - g) FROM generate_series(1, 300) g",
                     .nsets = 1 };
    calx_dreq sreq = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &q, .stream_rows = 100,
                       .begin = true };
    calx_rowset *rs = NULL;
    uint64_t before = pg_stats(c).round_trips;
    CHECK_OK(request(c, &sreq, &rs, &err), &err);
    CHECK(rs && rs->nrows == 100 && rs->more);
    calx__rowset_free(rs);
    CHECK_INT(pg_stats(c).round_trips - before, 1 + CALX_PG_FETCHES_AHEAD);
    /* The transaction was aborted by the FETCH ahead: the server says so
     * at the next statement, which is not lost in the replies dropped. */
    rs = NULL;
    CHECK_INT(exec_p(c, "SELECT 2", NULL, 0, &rs, &err), CALX_ERR_INTERNAL);
    CHECK_CONTAINS(err.message, "current transaction is aborted");
    CHECK_OK(op(c, CALX_DOP_ROLLBACK, &err), &err);
    CHECK_INT(scalar(c, "SELECT 3"), 3);

    /* Without an error: a statement after the first chunk, in the stream's
     * transaction, sees its own rows and none of the stream's. */
    calx_dstmt ok = { .sql = "SELECT g FROM generate_series(1, 1000) g", .nsets = 1 };
    sreq.stmts = &ok;
    CHECK_OK(request(c, &sreq, &rs, &err), &err);
    CHECK(rs && rs->nrows == 100 && rs->more && rs->vals[99].u.i == 100);
    calx__rowset_free(rs);
    CHECK_INT(scalar(c, "SELECT 4"), 4);
    CHECK_INT(scalar(c, "SELECT count(*) FROM pg_cursors WHERE name LIKE 'calx%'"), 0);
    CHECK_OK(op(c, CALX_DOP_COMMIT, &err), &err);
    CHECK_INT(scalar(c, "SELECT 5"), 5);
    close_conn(c);
}

TEST(binary_parameters_keep_their_extremes)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    calx_value p[] = { calx_int(INT64_MIN), calx_int(INT64_MAX), calx_real(-0.0),
                       calx_real(NAN),      calx_real(-INFINITY), calx_real(5e-324),
                       calx_bool(true),     calx_bool(false),    calx_null(),
                       calx_blob("", 0),    calx_text("") };
    enum { N = sizeof p / sizeof *p };
    const char *sql = "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
                      "$1 = -9223372036854775808, $3 = 0, pg_typeof($1)::text, "
                      "pg_typeof($3)::text, pg_typeof($7)::text";
    calx_error err;
    calx_dconn *tc = connect_text();
    for (int pass = 0; pass < 2; pass++) {  /* the rows in text, then in binary */
        calx_rowset *rs = NULL;
        if (pass == 0 && !tc)
            continue;
        CHECK_OK(exec_p(pass == 0 ? tc : c, sql, p, N, &rs, &err), &err);
        CHECK(rs && rs->nrows == 1);
        if (!rs || rs->nrows != 1)
            continue;
        for (int i = 0; i < N; i++)
            if (p[i].type != CALX_NULL && p[i].type != CALX_TEXT && p[i].type != CALX_BLOB)
                CHECK(same_value(&p[i], &rs->vals[i]));
        CHECK_INT(rs->vals[8].type, CALX_NULL);
        CHECK(rs->vals[9].type == CALX_BLOB && rs->vals[9].u.s.len == 0);
        CHECK(rs->vals[10].type == CALX_TEXT && rs->vals[10].u.s.len == 0);
        CHECK(rs->vals[11].type == CALX_BOOL && rs->vals[11].u.b);
        CHECK(rs->vals[12].type == CALX_BOOL && rs->vals[12].u.b);
        CHECK_STR(rs->vals[13].u.s.ptr, "bigint");
        CHECK_STR(rs->vals[14].u.s.ptr, "double precision");
        CHECK_STR(rs->vals[15].u.s.ptr, "boolean");
        calx__rowset_free(rs);
    }
    CHECK_INT(rows_format_of(c, sql), PG_FMT_BINARY);
    /* An int8 parameter still meets an int4 column (and finds nothing
     * beyond its range rather than failing). */
    must(c, "CREATE TABLE bin_keys (k integer)");
    must(c, "INSERT INTO bin_keys VALUES (1), (2)");
    calx_value keys[] = { calx_int(2), calx_int(5000000000) };
    calx_rowset *rs = NULL;
    CHECK_OK(exec_p(c, "SELECT k FROM bin_keys WHERE k IN ($1, $2)", keys, 2, &rs, &err),
             &err);
    CHECK(rs && rs->nrows == 1 && rs->vals[0].u.i == 2);
    calx__rowset_free(rs);
    close_conn(c);
    if (tc)
        close_conn(tc);
}

/* A decimal from its text (the test's own literals parse). */
static calx_value dec(const char *s)
{
    calx_decimal d;
    calx_error err;
    CHECK_OK(calx_decimal_parse(s, strlen(s), &d, &err), &err);
    return calx_value_decimal(d);
}

TEST(richer_parameters_go_in_binary_and_reach_the_server_as_their_text_would)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    must(c, "SET TimeZone = 'America/St_Johns'");   /* -03:30: nothing shifts */
    must(c, "SET DateStyle = 'German, DMY'");        /* nor does the style matter */
    calx_date y1, y9999, leap, eve;
    calx_date_make(1, 1, 1, &y1, NULL);
    calx_date_make(9999, 12, 31, &y9999, NULL);
    calx_date_make(2024, 2, 29, &leap, NULL);
    calx_date_make(1969, 12, 31, &eve, NULL);
    const int64_t last_us = INT64_C(86399999999);
    calx_uuid u0, uf, u4;
    memset(u0.bytes, 0, 16);
    memset(uf.bytes, 0xff, 16);
    calx_uuid_parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 36, &u4, NULL);
    static const char *const decimals[] = {
        "0", "0.00", "1.10", "-0.001", "12345.6789", "0.5", "10000", "9999.9999",
        "99999999999999999999999999999999999999", "-99999999999999999999999999999999999999",
        "-9999999999999999999.9999999999999999999", "0.00000000000000000000000000000000000001",
        "1.5e30", "1e37", "123456789012345678901234567890.12345678", "-0.10000",
    };
    typedef struct {
        calx_value v;
        const char *type;
    } param_case;
    param_case cases[64];
    size_t n = 0;
    for (size_t i = 0; i < sizeof decimals / sizeof *decimals; i++)
        cases[n++] = (param_case){ dec(decimals[i]), "numeric" };
    calx_uuid us[] = { u0, uf, u4 };
    for (size_t i = 0; i < 3; i++)
        cases[n++] = (param_case){ calx_value_uuid(us[i]), "uuid" };
    calx_date ds[] = { y1, y9999, leap, eve, 0, 10957 };
    for (size_t i = 0; i < 6; i++) {
        cases[n++] = (param_case){ calx_value_date(ds[i]), "date" };
        cases[n++] = (param_case){
            calx_value_datetime(calx_datetime_of(ds[i], i % 2 ? last_us : 1)), "timestamp" };
        cases[n++] = (param_case){
            calx_value_timestamp(calx_datetime_of(ds[i], i % 2 ? 0 : last_us)), "timestamptz" };
    }
    calx_time ts[] = { 0, 1, last_us, INT64_C(49500250000) };
    for (size_t i = 0; i < 4; i++)
        cases[n++] = (param_case){ calx_value_time(ts[i]), "time" };
    calx_interval ivs[] = { { 0, 0, 0 }, { -14, 3, -INT64_C(14706000001) }, { 0, 1, -1 },
                            { INT32_MAX, INT32_MIN, INT64_C(9223372036800000000) },
                            { -2136000000, 0, 0 } };
    for (size_t i = 0; i < 5; i++)
        cases[n++] = (param_case){ calx_value_interval(ivs[i]), "interval" };
    calx_dconn *tc = connect_text();
    for (size_t i = 0; i < n; i++) {
        /* The text the driver sent before, typed by the server: what the
         * binary value must equal, to the digit (::text keeps a numeric's
         * scale). */
        char text[64], sql[256];
        calx_value bound = cases[i].v;
        switch (bound.type) {
        case CALX_DECIMAL:
            calx_decimal_format(calx_value_get_decimal(&bound), text, sizeof text);
            break;
        case CALX_UUID: calx_uuid_format(bound.u.uuid, text); break;
        case CALX_DATE: calx_date_format((calx_date)bound.u.i, text, sizeof text); break;
        case CALX_TIME: calx_time_format(bound.u.i, text, sizeof text); break;
        case CALX_DATETIME: calx_datetime_format(bound.u.i, text, sizeof text); break;
        case CALX_TIMESTAMP: calx_timestamp_format(bound.u.i, 0, text, sizeof text); break;
        default: calx_interval_format(bound.u.interval, text, sizeof text); break;
        }
        snprintf(sql, sizeof sql, "SELECT $1, $1::text = ($2::%s)::text, pg_typeof($1)::text, "
                                  "$1::text", cases[i].type);
        calx_value p[2] = { bound, calx_text(text) };
        calx_rowset *rs = NULL;
        calx_error err;
        CHECK_OK(exec_p(c, sql, p, 2, &rs, &err), &err);
        CHECK_INT(((pg_conn *)c)->pfmts[0], 1);
        if (!rs || rs->nrows != 1) {
            CHECK(!"one row");
            calx__rowset_free(rs);
            continue;
        }
        if (!same_value(&bound, &rs->vals[0]) || rs->vals[1].type != CALX_BOOL ||
            !rs->vals[1].u.b) {
            fprintf(stderr, "  %s %s came back as '%s'\n", cases[i].type, text,
                    rs->vals[3].u.s.ptr);
            CHECK(!"a binary parameter reached the server as its text would");
        }
        CHECK_STR(rs->vals[2].u.s.ptr, strcmp(cases[i].type, "timestamptz") == 0
                                           ? "timestamp with time zone"
                                       : strcmp(cases[i].type, "timestamp") == 0
                                           ? "timestamp without time zone"
                                       : strcmp(cases[i].type, "time") == 0
                                           ? "time without time zone"
                                           : cases[i].type);
        calx__rowset_free(rs);
        /* And the same value read back in text, where the session's
         * defaults hold. */
        if (tc) {
            CHECK_OK(exec_p(tc, "SELECT $1", p, 1, &rs, &err), &err);
            CHECK(rs && rs->nrows == 1 && same_value(&bound, &rs->vals[0]));
            calx__rowset_free(rs);
        }
    }
    if (tc)
        close_conn(tc);

    /* A value no calx function makes (a date past 9999, a time of 24:00,
     * a 39-digit coefficient) is refused naming the parameter, nothing
     * sent. */
    calx_error err;
    calx_decimal huge = { .lo = UINT64_MAX, .hi = INT64_MAX, .scale = 0 };
    calx_value bad[] = { calx_value_date(y9999 + 1), calx_value_time(INT64_C(86400000000)),
                         calx_value_timestamp(calx_datetime_of(y1, 0) - 1),
                         calx_value_decimal(huge) };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        calx_value two[2] = { calx_int(1), bad[i] };
        CHECK_INT(exec_p(c, "SELECT $1, $2", two, 2, NULL, &err), CALX_ERR_DATA);
        CHECK_CONTAINS(err.message, "parameter 2 is a ");
        CHECK_INT(scalar(c, "SELECT 6"), 6);
    }
    close_conn(c);
}

/* A connection of each kind (default, and connect_text's); false, none
 * open, when either fails. */
static bool connect_binary_and_text(calx_dconn **c, calx_dconn **tc)
{
    *c = connect_default();
    *tc = connect_text();
    if (*c && *tc)
        return true;
    if (*c)
        close_conn(*c);
    if (*tc)
        close_conn(*tc);
    return false;
}

/* Runs sql on c and returns its one row's first value's error code, err
 * set. */
static int first_value_fails(calx_dconn *c, const char *sql, calx_error *err)
{
    calx_rowset *rs = NULL;
    int rc = exec_p(c, sql, NULL, 0, &rs, err);
    calx__rowset_free(rs);
    return rc;
}

/* sql fails with CALX_ERR_DATA whose message holds both texts, its rows
 * in binary on c and in text on tc, and each connection goes on. */
static void check_fails_in_both_formats(calx_dconn *c, calx_dconn *tc, const char *sql,
                                        const char *holds, const char *shown)
{
    calx_error err;
    for (int text_too = 0; text_too < 2; text_too++) {
        calx_dconn *on = text_too ? tc : c;
        CHECK_INT(first_value_fails(on, sql, &err), CALX_ERR_DATA);
        CHECK_CONTAINS(err.message, holds);
        CHECK_CONTAINS(err.message, shown);
        if (!text_too)
            CHECK_INT(rows_format_of(c, sql), PG_FMT_BINARY);
        CHECK_INT(scalar(on, "SELECT 5"), 5);
    }
}

TEST(dates_and_times_decode_in_binary_as_in_text_from_year_1_to_9999)
{
    calx_dconn *c, *tc;
    if (!connect_binary_and_text(&c, &tc))
        return;
    must(c, "SET TimeZone = 'Asia/Kolkata'");   /* +05:30: an instant is not shifted */
    must(c, "CREATE TABLE dts (k integer, d date, t time, ts timestamp, tz timestamptz, "
            "iv interval)");
    must(c, "INSERT INTO dts VALUES "
            "(1, '0001-01-01', '00:00:00', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', "
            "'0'), "
            "(2, '9999-12-31', '23:59:59.999999', '9999-12-31 23:59:59.999999', "
            "'9999-12-31 23:59:59.999999+00', '-1 years -2 mons +3 days -04:05:06.000001'), "
            "(3, '2024-02-29', '12:00:00.000001', '2024-02-29 23:59:59.5', "
            "'2024-02-29 23:30:00-05:30', '1 day -00:00:00.000001'), "
            "(4, '1969-12-31', '13:45:00.25', '1969-12-31 23:59:59.999999', "
            "'1999-12-31 23:59:59.999999+00', '-178000000 years'), "
            "(5, '2000-01-01', '00:00:00.000001', '2000-01-01 00:00:00', "
            "'2000-01-01 00:00:00+00', '2147483647 days 2562047788 hours'), "
            "(6, NULL, NULL, NULL, NULL, NULL)");
    const char *sql = "SELECT * FROM dts ORDER BY k";
    calx_rowset *text = NULL, *bin = NULL;
    calx_error err;
    CHECK_OK(exec_p(tc, sql, NULL, 0, &text, &err), &err);
    CHECK_OK(exec_p(c, sql, NULL, 0, &bin, &err), &err);
    CHECK_INT(rows_format_of(c, sql), PG_FMT_BINARY);
    check_same_rows(text, bin);
    if (bin && bin->nrows == 6) {
        calx_date d;
        calx_date_make(1, 1, 1, &d, NULL);
        CHECK(bin->vals[1].type == CALX_DATE && bin->vals[1].u.i == d);
        CHECK(bin->vals[3].type == CALX_DATETIME && bin->vals[3].u.i == calx_datetime_of(d, 0));
        CHECK(bin->vals[4].type == CALX_TIMESTAMP && bin->vals[4].u.i == calx_datetime_of(d, 0));
        calx_date_make(9999, 12, 31, &d, NULL);
        CHECK_INT(bin->vals[6 + 2].u.i, INT64_C(86399999999));
        CHECK(bin->vals[6 + 3].u.i == calx_datetime_of(d, INT64_C(86399999999)));
        calx_interval iv = bin->vals[6 + 5].u.interval;
        CHECK(bin->vals[6 + 5].type == CALX_INTERVAL && iv.months == -14 && iv.days == 3 &&
              iv.micros == -INT64_C(14706000001));
        char buf[CALX_DATETIME_TEXT_SIZE];
        calx_timestamp_format(bin->vals[12 + 4].u.i, 0, buf, sizeof buf);
        CHECK_STR(buf, "2024-03-01 05:00:00+00:00");
        calx_datetime_format(bin->vals[18 + 3].u.i, buf, sizeof buf);
        CHECK_STR(buf, "1969-12-31 23:59:59.999999");
        CHECK_INT(bin->vals[30 + 1].type, CALX_NULL);
    }
    calx__rowset_free(text);
    calx__rowset_free(bin);

    /* What calx's types cannot hold is an error naming the column and the
     * value, in binary and in text alike, and the connection goes on. */
    static const struct {
        const char *sql, *shown;
    } beyond[] = {
        { "SELECT 'infinity'::date AS d", "date 'infinity'" },
        { "SELECT '-infinity'::timestamp AS d", "timestamp '-infinity'" },
        { "SELECT 'infinity'::timestamptz AS d", "timestamptz 'infinity'" },
        { "SELECT '10000-01-01'::date AS d", "date '10000-01-01" },
        { "SELECT '0001-12-31 BC'::date AS d", "date '0001-12-31 BC'" },
        { "SELECT '24:00:00'::time AS d", "time '24:00:00" },
        { "SELECT '0001-01-01 00:00:00+05'::timestamptz AS d", "timestamptz '0001-12-31 " },
    };
    for (size_t i = 0; i < sizeof beyond / sizeof *beyond; i++)
        check_fails_in_both_formats(c, tc, beyond[i].sql, "column \"d\" holds the ",
                                    beyond[i].shown);
    close_conn(tc);
    close_conn(c);
}

TEST(another_datestyle_or_intervalstyle_changes_nothing_a_query_reads)
{
    calx_dconn *c, *tc;
    if (!connect_binary_and_text(&c, &tc))
        return;
    const char *sql = "SELECT '2024-02-29'::date AS d, '13:45:00.25'::time AS t, "
                      "'0001-01-01 00:00:00.000001'::timestamp AS ts, "
                      "'2024-02-29 23:30:00-05:30'::timestamptz AS tz, "
                      "'-1 years -2 mons +3 days -04:05:06.000001'::interval AS iv";
    calx_rowset *iso = NULL, *other = NULL;
    calx_error err;
    CHECK_OK(exec_p(tc, sql, NULL, 0, &iso, &err), &err);   /* text, the defaults */
    must(c, "SET DateStyle = 'SQL, DMY'");
    must(c, "SET IntervalStyle = 'sql_standard'");
    /* A query's rows come in binary from its first execution (it is
     * prepared and described first), which no setting changes. */
    CHECK_OK(exec_p(c, sql, NULL, 0, &other, &err), &err);
    CHECK_INT(rows_format_of(c, sql), PG_FMT_BINARY);
    check_same_rows(iso, other);
    calx__rowset_free(other);
    other = NULL;
    /* Rows that come in text (here a connection without prepared
     * statements, as behind PgBouncer) cannot be read in another style:
     * an error naming the column and the text, not a value of another
     * type. */
    must(tc, "SET DateStyle = 'SQL, DMY'");
    CHECK_INT(first_value_fails(tc, sql, &err), CALX_ERR_DATA);
    CHECK_CONTAINS(err.message, "column \"d\" holds the date '29/02/2024'");
    CHECK_CONTAINS(err.message, "DateStyle ISO");
    must(tc, "SET DateStyle = 'ISO, DMY'");   /* ISO output whatever the order */
    must(tc, "SET IntervalStyle = 'iso_8601'");   /* calx reads ISO 8601 durations too */
    CHECK_OK(exec_p(tc, sql, NULL, 0, &other, &err), &err);
    check_same_rows(iso, other);
    calx__rowset_free(other);
    calx__rowset_free(iso);
    close_conn(tc);
    close_conn(c);
}

TEST(arrays_decode_in_binary_as_in_text)
{
    calx_dconn *c, *tc;
    if (!connect_binary_and_text(&c, &tc))
        return;
    const char *sql =
        "SELECT ARRAY[1, NULL, -32768]::int2[] AS i2, ARRAY[2147483647, NULL]::int4[] AS i4, "
        "ARRAY[-9223372036854775808]::int8[] AS i8, ARRAY[0.1, 'NaN', '-Infinity']::real[] "
        "AS f4, ARRAY[5e-324, -0.0]::float8[] AS f8, ARRAY[true, NULL, false] AS b, "
        "ARRAY['', 'a \"b\\c', NULL, 'NULL', 'h\u00e9', '{}']::text[] AS t, "
        "ARRAY['x y']::varchar[] AS v, ARRAY['ab']::char(3)[] AS ch, "
        "ARRAY['pg_class']::name[] AS nm, ARRAY[26]::oid[] AS o, "
        "ARRAY[1.10, -0.001, 99999999999999999999999999999999999999, NULL]::numeric[] AS n, "
        "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL]::uuid[] AS u, "
        "ARRAY['0001-01-01', '9999-12-31', '2024-02-29']::date[] AS d, "
        "ARRAY['00:00', '23:59:59.999999']::time[] AS tm, "
        "ARRAY['0001-01-01 00:00:00.000001']::timestamp[] AS ts, "
        "ARRAY['2024-02-29 23:30:00-05:30']::timestamptz[] AS tz, "
        "ARRAY['-1 years -2 mons +3 days -04:05:06.000001']::interval[] AS iv, "
        "'{}'::int4[] AS empty_i4, '{}'::text[] AS empty_t, '[0:1]={7,8}'::int4[] AS lower0, "
        "NULL::int4[] AS none";
    calx_rowset *text = NULL, *bin = NULL;
    calx_error err;
    CHECK_OK(exec_p(tc, sql, NULL, 0, &text, &err), &err);
    CHECK_OK(exec_p(c, sql, NULL, 0, &bin, &err), &err);
    CHECK_INT(rows_format_of(c, sql), PG_FMT_BINARY);
    check_same_rows(text, bin);
    if (bin && bin->nrows == 1) {
        const calx_value *i2 = &bin->vals[0], *t = &bin->vals[6], *e = &bin->vals[18];
        CHECK(i2->type == CALX_ARRAY && i2->elem == CALX_INT && i2->u.array.n == 3 &&
              i2->u.array.items[1].type == CALX_NULL && i2->u.array.items[2].u.i == -32768);
        CHECK(t->type == CALX_ARRAY && t->u.array.n == 6);
        if (t->u.array.n == 6) {
            CHECK_STR(t->u.array.items[1].u.s.ptr, "a \"b\\c");
            CHECK_INT(t->u.array.items[2].type, CALX_NULL);
            CHECK_STR(t->u.array.items[3].u.s.ptr, "NULL");
        }
        CHECK(e->type == CALX_ARRAY && e->elem == CALX_INT && e->u.array.n == 0);
        CHECK(bin->vals[20].type == CALX_ARRAY && bin->vals[20].u.array.n == 2);
        CHECK_INT(bin->vals[21].type, CALX_NULL);
    }
    calx__rowset_free(text);
    calx__rowset_free(bin);
    /* What a calx array cannot hold is an error naming the column, in
     * either format: a second dimension, a numeric NaN among decimals. */
    static const struct {
        const char *sql, *shown;
    } beyond[] = {
        { "SELECT ARRAY[[1, 2], [3, 4]] AS a", "one dimension" },
        { "SELECT ARRAY[1, 'NaN']::numeric[] AS a", "no numeric NaN" },
        { "SELECT ARRAY['infinity']::date[] AS a", "dates of years 1-9999" },
    };
    for (size_t i = 0; i < sizeof beyond / sizeof *beyond; i++)
        check_fails_in_both_formats(c, tc, beyond[i].sql, "column \"a\" holds the array",
                                    beyond[i].shown);
    close_conn(tc);
    close_conn(c);
}

TEST(errors_carry_sqlstate_and_class)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    calx_error err;
    must(c, "CREATE TABLE team (id serial PRIMARY KEY, name text NOT NULL UNIQUE)");
    must(c, "INSERT INTO team (name) VALUES ('a')");
    CHECK_INT(exec(c, "INSERT INTO team (name) VALUES ('a')", &err), CALX_ERR_INTEGRITY);
    CHECK_STR(err.sqlstate, "23505");
    CHECK_CONTAINS(err.message, "duplicate key value violates unique constraint \"team_name_key\"");
    CHECK_CONTAINS(err.message, "DETAIL:  Key (name)=(a) already exists.");
    CHECK_INT(exec(c, "INSERT INTO team (name) VALUES (NULL)", &err), CALX_ERR_INTEGRITY);
    CHECK_STR(err.sqlstate, "23502");
    CHECK_INT(exec(c, "SELEC 1", &err), CALX_ERR_PROGRAMMING);
    CHECK_STR(err.sqlstate, "42601");
    CHECK_CONTAINS(err.message, "syntax error");
    CHECK_INT(exec(c, "SELECT * FROM nowhere", &err), CALX_ERR_PROGRAMMING);
    CHECK_STR(err.sqlstate, "42P01");
    CHECK_INT(exec(c, "SELECT 1 / 0", &err), CALX_ERR_DATA);
    CHECK_STR(err.sqlstate, "22012");
    CHECK_INT(exec(c, "SELECT 1; SELECT 2", &err), CALX_ERR_PROGRAMMING);
    CHECK_CONTAINS(err.message, "multiple commands");
    CHECK(drv->alive(c));

    /* In a transaction: the error aborts it, COMMIT says so, ROLLBACK ends it. */
    calx_dstmt st = { .sql = "INSERT INTO team (name) VALUES ('b')", .nsets = 1 };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st, .begin = true };
    CHECK_OK(request(c, &req, NULL, &err), &err);
    CHECK_INT(exec(c, "INSERT INTO team (name) VALUES ('a')", &err), CALX_ERR_INTEGRITY);
    CHECK_INT(exec(c, "SELECT 1", &err), CALX_ERR_INTERNAL);
    CHECK_STR(err.sqlstate, "25P02");
    CHECK_INT(op(c, CALX_DOP_COMMIT, &err), CALX_ERR_INTERNAL);
    CHECK_STR(err.sqlstate, "25P02");
    CHECK_CONTAINS(err.message, "rolled back");
    CHECK_OK(op(c, CALX_DOP_ROLLBACK, &err), &err);
    CHECK_INT(scalar(c, "SELECT count(*) FROM team"), 1);  /* 'b' went with it */

    /* Serialization failures are their own class. */
    CHECK_INT(exec(c, "DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '40001', "
                      "MESSAGE = 'could not serialize'; END$$", &err),
              CALX_ERR_SERIALIZATION);
    CHECK_STR(err.sqlstate, "40001");
    close_conn(c);
}

/* Two transactions locking two rows in opposite orders: the server breaks
 * the deadlock by failing one (40P01), which a program retries like a
 * serialization failure; the other goes on. */
TEST(a_deadlock_fails_one_side_with_a_serialization_error_to_retry)
{
    calx_dconn *a = connect_default(), *b = connect_default();
    if (!a || !b) {
        close_conn(a);
        close_conn(b);
        return;
    }
    calx_error err;
    must(a, "CREATE TABLE dl (id int PRIMARY KEY, n int)");
    must(a, "INSERT INTO dl VALUES (1, 0), (2, 0)");
    calx_dstmt a1 = { .sql = "UPDATE dl SET n = n + 1 WHERE id = 1", .nsets = 1 };
    calx_dstmt b2 = { .sql = "UPDATE dl SET n = n + 1 WHERE id = 2", .nsets = 1 };
    calx_dreq ra = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &a1, .begin = true };
    calx_dreq rb = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &b2, .begin = true };
    CHECK_OK(request(a, &ra, NULL, &err), &err);
    CHECK_OK(request(b, &rb, NULL, &err), &err);
    /* Now each wants the other's row: both wait until the server's
     * deadlock check (deadlock_timeout) fails one of them. */
    calx_dreq wa = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &b2 };
    calx_dreq wb = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &a1 };
    req_wait ja, jb;
    CHECK_OK(submit(a, &wa, &ja), &ja.err);
    CHECK_OK(submit(b, &wb, &jb), &jb.err);
    run_loop();
    CHECK_INT(ja.done, 1);
    CHECK_INT(jb.done, 1);
    calx__rowset_free(ja.rs);
    calx__rowset_free(jb.rs);
    req_wait *lost = ja.err.code ? &ja : &jb, *won = ja.err.code ? &jb : &ja;
    CHECK_INT(lost->err.code, CALX_ERR_SERIALIZATION);
    CHECK_STR(lost->err.sqlstate, "40P01");
    CHECK_CONTAINS(lost->err.message, "deadlock detected");
    CHECK_INT(won->err.code, 0);
    CHECK_OK(op(a, lost == &ja ? CALX_DOP_ROLLBACK : CALX_DOP_COMMIT, &err), &err);
    CHECK_OK(op(b, lost == &jb ? CALX_DOP_ROLLBACK : CALX_DOP_COMMIT, &err), &err);
    CHECK_INT(scalar(a, "SELECT sum(n) FROM dl"), 2);  /* the winner's two updates */
    must(a, "DROP TABLE dl");
    close_conn(a);
    close_conn(b);
}

TEST(batches_are_one_pipeline)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    calx_error err;
    must(c, "CREATE TABLE n (id serial PRIMARY KEY, x bigint UNIQUE, s text)");
    enum { N = 1000 };
    calx_value *vals = malloc(sizeof *vals * 2 * N);
    char (*texts)[16] = malloc(sizeof *texts * N);
    for (int i = 0; i < N; i++) {
        snprintf(texts[i], sizeof texts[i], "row %d", i);
        vals[2 * i] = calx_int(i);
        vals[2 * i + 1] = calx_text(texts[i]);
    }
    calx_pg_stats before = pg_stats(c);
    uint64_t wakeups = calx__loop_io_wakeups(loop);
    calx_dstmt st = { .sql = "INSERT INTO n (x, s) VALUES ($1, $2) RETURNING id, x",
                      .nparams = 2, .nsets = N, .params = vals };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st, .begin = true };
    calx_rowset *rs = NULL;
    CHECK_OK(request(c, &req, &rs, &err), &err);
    calx_pg_stats after = pg_stats(c);
    /* BEGIN, one Parse, 1000 Bind/Execute: one pipeline. */
    CHECK_INT(after.round_trips - before.round_trips, 1);
    /* Seen from the loop, not the driver's own count: the 1,000 results
     * came in a few reads of the socket. A driver that waited for each
     * result before sending the next would wake the loop 1,000 times. */
    wakeups = calx__loop_io_wakeups(loop) - wakeups;
    if (wakeups >= 100)
        fprintf(stderr, "  %" PRIu64 " socket wakeups for one batch\n", wakeups);
    CHECK(wakeups >= 1 && wakeups < 100);
    CHECK_INT(after.commands - before.commands, N + 2);
    CHECK_INT(after.prepares - before.prepares, 1);
    if (rs) {
        CHECK_INT(rs->rowcount, N);
        CHECK_INT(rs->nrows, N);
        bool in_order = true;
        for (int i = 0; i < N && rs->nrows == N; i++)
            in_order = in_order && rs->vals[2 * i + 1].u.i == i;
        CHECK(in_order);
    }
    calx__rowset_free(rs);
    CHECK_OK(op(c, CALX_DOP_COMMIT, &err), &err);

    /* A failure in set 500 reports which, and nothing of the batch stays
     * (one pipeline is one implicit transaction). */
    for (int i = 0; i < N; i++)
        vals[2 * i] = calx_int(N + i);
    vals[2 * 499] = calx_int(3);  /* already there */
    st.sql = "INSERT INTO n (x, s) VALUES ($1, $2)";
    req.begin = false;
    CHECK_INT(request(c, &req, NULL, &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "parameter set 500 of 1000");
    CHECK_STR(err.sqlstate, "23505");
    CHECK_INT(scalar(c, "SELECT count(*) FROM n"), N);

    /* Several statements in one request: one pipeline, one rowset each. */
    calx_value one = calx_int(1);
    calx_dstmt sts[3] = {
        { .sql = "UPDATE n SET s = 'x' WHERE x < $1", .nparams = 1, .nsets = 1, .params = &one },
        { .sql = "SELECT count(*) FROM n WHERE s = 'x'", .nsets = 1 },
        { .sql = "DELETE FROM n WHERE s = 'x'", .nsets = 1 },
    };
    calx_dreq multi = { .op = CALX_DOP_EXEC, .nstmts = 3, .stmts = sts };
    before = pg_stats(c);
    CHECK_OK(request(c, &multi, &rs, &err), &err);
    CHECK_INT(pg_stats(c).round_trips - before.round_trips, 1);
    if (rs && rs->next && rs->next->next) {
        CHECK_INT(rs->rowcount, 1);
        CHECK_INT(rs->next->vals[0].u.i, 1);
        CHECK_INT(rs->next->rowcount, -1);
        CHECK_INT(rs->next->next->rowcount, 1);
    } else {
        CHECK(!"three rowsets");
    }
    calx__rowset_free(rs);
    free(vals);
    free(texts);
    close_conn(c);
}

static int64_t server_prepared(calx_dconn *c)
{
    return scalar(c, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'calx_%'");
}

TEST(prepared_statement_cache)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    calx_pg_stats s0 = pg_stats(c);
    for (int i = 0; i < 5; i++)
        CHECK_INT(scalar(c, "SELECT 100 + 1"), 101);
    calx_pg_stats s1 = pg_stats(c);
    CHECK_INT(s1.prepares - s0.prepares, 1);
    CHECK_INT(s1.cached, s0.cached + 1);
    /* The same text with other parameter types is another statement. */
    calx_error err;
    calx_value i = calx_int(5), t = calx_text("5");
    calx_rowset *rs = NULL;
    CHECK_OK(exec_p(c, "SELECT $1::text", &i, 1, &rs, &err), &err);
    calx__rowset_free(rs);
    CHECK_OK(exec_p(c, "SELECT $1::text", &t, 1, &rs, &err), &err);
    calx__rowset_free(rs);
    CHECK_INT(pg_stats(c).prepares - s1.prepares, 2);
    /* DISCARD ALL empties the server's statements: calx forgets its own. */
    must(c, "DISCARD ALL");
    CHECK_INT(pg_stats(c).cached, 0);
    CHECK_INT(scalar(c, "SELECT 100 + 1"), 101);
    close_conn(c);

    /* A cache of 2: the least recently used statement is deallocated. */
    c = connect_args((calx_kv[]){ { "statement_cache_size", "2" } }, 1);
    if (!c)
        return;
    char sql[64];
    for (int k = 0; k < 6; k++) {
        snprintf(sql, sizeof sql, "SELECT %d", k);
        CHECK_INT(scalar(c, sql), k);
    }
    CHECK(pg_stats(c).cached <= 2);
    CHECK(server_prepared(c) <= 2);
    close_conn(c);

    /* Cache off (PgBouncer in transaction mode): nothing is prepared. */
    c = connect_args((calx_kv[]){ { "prepared_statement_cache_size", "0" } }, 1);
    if (!c)
        return;
    for (int k = 0; k < 3; k++)
        CHECK_INT(scalar(c, "SELECT 7"), 7);
    CHECK_INT(pg_stats(c).prepares, 0);
    CHECK_INT(server_prepared(c), 0);
    close_conn(c);
}

/* The engine hands each statement its text's hash (calx_dstmt.sql_hash,
 * made once when it compiled the text) so that the cache need not hash
 * the text again: a text given with its hash and the same text without
 * one (the driver hashes it then) are one prepared statement. */
TEST(a_text_given_with_its_hash_or_without_is_one_prepared_statement)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    const char *sql = "SELECT $1::int8 + 1";
    calx_value given = calx_int(41);
    calx_pg_stats before = pg_stats(c);
    for (int k = 0; k < 4; k++) {
        calx_dstmt st = { .sql = sql, .nparams = 1, .nsets = 1, .params = &given,
                          .sql_hash = k % 2 ? calx__hash_str(CALX_HASH_INIT, sql) : 0 };
        calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st };
        calx_rowset *rs = NULL;
        calx_error err;
        CHECK_OK(request(c, &req, &rs, &err), &err);
        CHECK(rs && rs->nrows == 1 && rs->vals[0].type == CALX_INT && rs->vals[0].u.i == 42);
        calx__rowset_free(rs);
    }
    CHECK_INT(pg_stats(c).prepares - before.prepares, 1);
    CHECK_INT(pg_stats(c).cached, before.cached + 1);
    close_conn(c);
}

/* The prepared statements the server holds for c, their texts joined by
 * '|' in name order (buf). The query is itself prepared and cached. */
static const char *server_statements(calx_dconn *c, char *buf, size_t n)
{
    calx_rowset *rs = NULL;
    calx_error err;
    buf[0] = '\0';
    CHECK_OK(exec_p(c, "SELECT string_agg(statement, '|' ORDER BY name) "
                       "FROM pg_prepared_statements WHERE name LIKE 'calx_%'",
                    NULL, 0, &rs, &err), &err);
    if (rs && rs->nrows == 1 && rs->vals[0].type == CALX_TEXT)
        snprintf(buf, n, "%s", rs->vals[0].u.s.ptr);
    calx__rowset_free(rs);
    return buf;
}

TEST(a_full_statement_cache_deallocates_the_least_recently_used_not_the_oldest)
{
    calx_dconn *c = connect_args((calx_kv[]){ { "statement_cache_size", "3" } }, 1);
    if (!c)
        return;
    /* Fill it: SELECT 9100 is the oldest, SELECT 9101 the next. */
    CHECK_INT(scalar(c, "SELECT 9100"), 9100);
    CHECK_INT(scalar(c, "SELECT 9101"), 9101);
    CHECK_INT(scalar(c, "SELECT 9102"), 9102);
    calx_pg_stats s0 = pg_stats(c);
    CHECK_INT(s0.cached, 3);
    CHECK_INT(scalar(c, "SELECT 9100"), 9100);  /* a hit, now the most recent */
    CHECK_INT(pg_stats(c).prepares - s0.prepares, 0);
    CHECK_INT(scalar(c, "SELECT 9103"), 9103);  /* one more: 9101 goes */
    CHECK_INT(pg_stats(c).prepares - s0.prepares, 1);
    CHECK_INT(pg_stats(c).cached, 3);
    /* The server agrees: 9101 was deallocated, the touched 9100 kept. Its
     * own query is a fourth statement, which evicts 9102 (in the same
     * pipeline, ahead of it). */
    char held[512];
    server_statements(c, held, sizeof held);
    CHECK_CONTAINS(held, "SELECT 9100|");
    CHECK_CONTAINS(held, "SELECT 9103|");
    CHECK(strstr(held, "SELECT 9101") == NULL);
    CHECK(strstr(held, "SELECT 9102") == NULL);
    /* And the evicted one costs a new prepare, the kept one none. */
    calx_pg_stats s1 = pg_stats(c);
    CHECK_INT(scalar(c, "SELECT 9100"), 9100);
    CHECK_INT(pg_stats(c).prepares - s1.prepares, 0);
    CHECK_INT(scalar(c, "SELECT 9101"), 9101);
    CHECK_INT(pg_stats(c).prepares - s1.prepares, 1);
    close_conn(c);
}

TEST(pipeline_edge_cases)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    calx_error err;
    /* PING */
    CHECK_OK(op(c, CALX_DOP_PING, &err), &err);
    /* A statement prepared in a pipeline that failed before it: the Parse
     * was skipped, so calx must not believe it prepared. */
    calx_dstmt two[2] = { { .sql = "SELECT 1 / 0", .nsets = 1 },
                          { .sql = "SELECT 42 AS fresh", .nsets = 1 } };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 2, .stmts = two };
    CHECK_INT(request(c, &req, NULL, &err), CALX_ERR_DATA);
    CHECK_CONTAINS(err.message, "statement 1 of 2");
    CHECK_INT(scalar(c, "SELECT 42 AS fresh"), 42);
    /* Parameter sets of different types in one batch: NULLs go untyped,
     * each shape prepared once, all in one pipeline. */
    must(c, "CREATE TABLE mix (a bigint, b text)");
    calx_value vals[] = { calx_int(1), calx_text("a"), calx_null(), calx_text("b"),
                          calx_int(3), calx_null(), calx_int(4), calx_text("d") };
    calx_dstmt mix = { .sql = "INSERT INTO mix VALUES ($1, $2)", .nparams = 2, .nsets = 4,
                       .params = vals };
    calx_dreq mreq = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &mix };
    calx_pg_stats before = pg_stats(c);
    calx_rowset *rs = NULL;
    CHECK_OK(request(c, &mreq, &rs, &err), &err);
    CHECK_INT(pg_stats(c).round_trips - before.round_trips, 1);
    /* (int8, unknown) and (unknown, unknown): text and NULL both go untyped */
    CHECK_INT(pg_stats(c).prepares - before.prepares, 2);
    CHECK(rs && rs->rowcount == 4);
    calx__rowset_free(rs);
    CHECK_INT(scalar(c, "SELECT count(*) FROM mix WHERE a IS NULL OR b IS NULL"), 2);

    /* A batch far larger than the socket buffers, each row coming back
     * (RETURNING): libpq's flush rules keep both directions moving. */
    enum { N = 4000, W = 4096 };
    char *big = malloc(W + 1);
    memset(big, 'x', W);
    big[W] = '\0';
    calx_value *bv = malloc(sizeof *bv * N);
    for (int i = 0; i < N; i++)
        bv[i] = calx_text(big);
    must(c, "CREATE TABLE big (id serial, s text)");
    calx_dstmt bs = { .sql = "INSERT INTO big (s) VALUES ($1) RETURNING id, s", .nparams = 1,
                      .nsets = N, .params = bv };
    calx_dreq breq = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &bs };
    before = pg_stats(c);
    CHECK_OK(request(c, &breq, &rs, &err), &err);
    CHECK_INT(pg_stats(c).round_trips - before.round_trips, 1);
    if (rs) {
        CHECK_INT(rs->nrows, N);
        CHECK_INT(rs->vals[2 * (N - 1) + 1].u.s.len, W);
    }
    calx__rowset_free(rs);
    free(bv);
    free(big);

    /* Streaming at the driver: a cursor read in part, then closed. */
    calx_dstmt q = { .sql = "SELECT g FROM generate_series(1, 100) g", .nsets = 1 };
    calx_dreq sreq = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &q, .stream_rows = 30,
                       .begin = true };
    CHECK_OK(request(c, &sreq, &rs, &err), &err);
    CHECK(rs && rs->nrows == 30 && rs->more);
    calx__rowset_free(rs);
    calx_dreq freq = { .op = CALX_DOP_FETCH, .stream_rows = 30 };
    CHECK_OK(request(c, &freq, &rs, &err), &err);
    CHECK(rs && rs->nrows == 30 && rs->more && rs->vals[0].u.i == 31);
    calx__rowset_free(rs);
    CHECK_OK(op(c, CALX_DOP_CLOSE_CURSOR, &err), &err);
    CHECK_INT(request(c, &freq, NULL, &err), CALX_ERR_STATE);
    CHECK_INT(scalar(c, "SELECT count(*) FROM pg_cursors WHERE name LIKE 'calx%'"), 0);
    CHECK_OK(op(c, CALX_DOP_ROLLBACK, &err), &err);
    close_conn(c);
}

TEST(nothing_listening_fails_fast_and_clearly)
{
    char url[256];
    int port = dead_port();
    snprintf(url, sizeof url, "postgresql://calx@127.0.0.1:%d/calx_test", port);
    calx_error err;
    double t0 = now_s();
    calx_dconn *c = connect_ex(url, (calx_kv[]){ { "connect_timeout", "5" } }, 1, NULL, &err);
    double took = now_s() - t0;
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, "127.0.0.1");
    CHECK_CONTAINS(err.message, "Connection refused");
    CHECK(took < 5 + 10);  /* within connect_timeout (generous bound) */
    close_conn(c);
}

/* A socket on 127.0.0.1 that accepts (the kernel does, from the backlog)
 * and never answers: libpq waits for the server's reply forever. Returns
 * the listening fd (the caller closes it) and its port in *port. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    CHECK_INT(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_INT(listen(fd, 8), 0);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A silent listener (its fd returned) and a URL to it in url, with
 * connect_timeout=timeout. */
static int silent_url(char *url, size_t n, const char *timeout)
{
    int port;
    int fd = silent_listener(&port);
    snprintf(url, n, "postgresql://calx@127.0.0.1:%d/calx_test?connect_timeout=%s", port,
             timeout);
    return fd;
}

TEST(connect_timeout_is_enforced)
{
    char url[256];
    int fd = silent_url(url, sizeof url, "2");
    calx_error err;
    double t0 = now_s();
    calx_dconn *c = connect_ex(url, NULL, 0, NULL, &err);
    double took = now_s() - t0;
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_TIMEOUT);
    CHECK_CONTAINS(err.message, "timed out after 2 s (connect_timeout)");
    CHECK(took < 2 + 10);  /* the one timing bound: connect_timeout, generously */
    close(fd);
}

/* calx_create_engine refuses key=value, from the URL and from
 * connect_args alike, with ArgumentError naming the key. */
static void check_create_engine_refuses(const char *key, const char *value)
{
    calx_error err;
    char u[1200], q[128];
    snprintf(q, sizeof q, "%s=%s", key, value);
    calx_engine_opts o = { .loop = loop };
    CHECK(calx_create_engine(url_with(u, sizeof u, url_buf, q), &o, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, key);
    calx_kv kv = { key, value };
    o.connect_args = &kv;
    o.nconnect_args = 1;
    CHECK(calx_create_engine(url_buf, &o, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, key);
}

/* The connect_timeout a connection was made with (pg_int.h's field: the
 * default is 60 s, and waiting that long to see it is not a test). */
static double connect_timeout_of(const calx_dconn *c)
{
    return ((const pg_conn *)c)->connect_timeout_s;
}

TEST(connect_timeout_is_60_s_unless_the_url_connect_args_or_pgconnect_timeout_say)
{
    const char *env = getenv("PGCONNECT_TIMEOUT");
    char *saved = env ? strdup(env) : NULL;
    unsetenv("PGCONNECT_TIMEOUT");
    calx_dconn *c = connect_default();
    if (c)
        CHECK(connect_timeout_of(c) == CALX_PG_CONNECT_TIMEOUT_S &&
              CALX_PG_CONNECT_TIMEOUT_S == 60.0);
    close_conn(c);
    /* libpq's variable, then the URL or connect_args over it. */
    setenv("PGCONNECT_TIMEOUT", "7", 1);
    c = connect_default();
    if (c)
        CHECK(connect_timeout_of(c) == 7.0);
    close_conn(c);
    c = connect_args((calx_kv[]){ { "connect_timeout", "9" } }, 1);
    if (c)
        CHECK(connect_timeout_of(c) == 9.0);
    close_conn(c);
    if (saved)
        setenv("PGCONNECT_TIMEOUT", saved, 1);
    else
        unsetenv("PGCONNECT_TIMEOUT");
    free(saved);
}

static void close_listener(void *arg)
{
    int *fd = arg;
    close(*fd);
    *fd = -1;
}

TEST(connect_timeout_0_means_no_limit_as_in_libpq)
{
    calx_dconn *c = connect_args((calx_kv[]){ { "connect_timeout", "0" } }, 1);
    if (c)
        CHECK(connect_timeout_of(c) == 0);
    close_conn(c);
    /* A server that never answers: with no limit the connect is still
     * waiting after 3 s, longer than any limit (libpq makes less than 2 s
     * into 2 s), and ends only when the test closes the listener. */
    char url[256];
    int fd = silent_url(url, sizeof url, "0");
    calx_timer *t = calx__timer_new(loop, close_listener, &fd);
    calx__timer_start(t, 3000);
    calx_error err;
    c = connect_ex(url, NULL, 0, NULL, &err);
    CHECK(c == NULL);
    CHECK_INT(fd, -1);  /* the listener was closed first */
    CHECK(err.code != CALX_ERR_TIMEOUT);
    CHECK(strstr(err.message, "connect_timeout") == NULL);
    close_conn(c);
    calx__timer_free(t);
    if (fd >= 0)
        close(fd);
    run_loop();
}

TEST(connect_timeout_below_2_s_is_2_s_and_a_bad_one_fails_create_engine)
{
    char url[256];
    int fd = silent_url(url, sizeof url, "1");
    calx_error err;
    calx_dconn *c = connect_ex(url, NULL, 0, NULL, &err);
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_TIMEOUT);
    CHECK_CONTAINS(err.message, "timed out after 2 s (connect_timeout)");
    close_conn(c);
    close(fd);

    /* Not seconds: refused when the engine is made, before any connect. */
    const char *bad[] = { "soon", "", "5s", "1e999", "nan" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        check_create_engine_refuses("connect_timeout", bad[i]);
}

TEST(options_are_checked_and_passed_to_libpq)
{
    calx_error err;
    CHECK(connect_ex(url_buf, (calx_kv[]){ { "no_such_option", "1" } }, 1, NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "'no_such_option'");
    CHECK(connect_ex(url_buf, (calx_kv[]){ { "statement_cache_size", "-1" } }, 1, NULL, &err) ==
          NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK(connect_ex(url_buf, NULL, 0, "CHAOS", &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "'CHAOS'");

    /* application_name from connect_args, options from the URL. */
    calx_dconn *c = connect_args((calx_kv[]){ { "application_name", "calx-test" } }, 1);
    if (!c)
        return;
    calx_rowset *rs = NULL;
    CHECK_OK(exec_p(c, "SELECT current_setting('application_name'), current_schema()", NULL,
                    0, &rs, &err), &err);
    if (rs) {
        CHECK_STR(rs->vals[0].u.s.ptr, "calx-test");
        CHECK_STR(rs->vals[1].u.s.ptr, schema);
    }
    calx__rowset_free(rs);
    close_conn(c);
}

TEST(host_names_lists_and_failures)
{
    calx_url *u = calx_url_parse(base_url, NULL);
    if (!u)
        return;
    int port = u->port;
    calx_url_free(u);
    char url[512];
    calx_error err;

    /* A name, resolved off the loop ("localhost" may give ::1 first, where
     * nothing listens: libpq then tries 127.0.0.1). */
    snprintf(url, sizeof url, "postgresql://calx@localhost:%d/calx_test", port);
    calx_dconn *c = connect_ex(url, NULL, 0, NULL, &err);
    if (!c)
        fprintf(stderr, "  %s\n", err.message);
    CHECK(c != NULL);
    if (c)
        CHECK_INT(scalar(c, "SELECT 1"), 1);
    close_conn(c);

    /* A multi-host URL: the first host refuses, the second serves, and
     * target_session_attrs passes through to libpq. */
    snprintf(url, sizeof url,
             "postgresql://calx@127.0.0.1:%d,localhost:%d/calx_test"
             "?target_session_attrs=read-write",
             dead_port(), port);
    c = connect_ex(url, NULL, 0, NULL, &err);
    if (!c)
        fprintf(stderr, "  %s\n", err.message);
    CHECK(c != NULL);
    if (c)
        CHECK_INT(scalar(c, "SELECT 2"), 2);
    close_conn(c);

    /* A standby-only engine finds none among primaries. */
    snprintf(url, sizeof url,
             "postgresql://calx@127.0.0.1:%d/calx_test?target_session_attrs=standby", port);
    CHECK(connect_ex(url, NULL, 0, NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, "standby");

    /* No host or port in the URL: PGHOST and PGPORT, as libpq reads them
     * (the name looked up by calx, off the loop). */
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    setenv("PGHOST", "localhost", 1);
    setenv("PGPORT", portbuf, 1);
    c = connect_ex("postgresql://calx@/calx_test", NULL, 0, NULL, &err);
    if (!c)
        fprintf(stderr, "  %s\n", err.message);
    CHECK(c != NULL);
    close_conn(c);
    c = connect_ex("postgresql://calx@127.0.0.1/calx_test", NULL, 0, NULL, &err);
    CHECK(c != NULL);
    close_conn(c);
    unsetenv("PGHOST");
    unsetenv("PGPORT");

    /* A name that does not resolve. */
    CHECK(connect_ex("postgresql://calx@no-such-host.invalid:5432/calx_test", NULL, 0, NULL,
                     &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, "no-such-host.invalid");

    /* The unix socket in the server's directory, if the test knows it. */
    const char *pgdir = getenv("CALX_TEST_PG_DIR");
    if (pgdir) {
        char sockurl[700];
        snprintf(sockurl, sizeof sockurl, "postgresql://calx@/calx_test?host=%s/sock&port=%d",
                 pgdir, port);
        c = connect_ex(sockurl, NULL, 0, NULL, &err);
        if (!c)
            fprintf(stderr, "  %s\n", err.message);
        CHECK(c != NULL);
        if (c)
            CHECK_INT(scalar(c, "SELECT 3"), 3);
        close_conn(c);
    }
}

/* ---- interrupt ---- */

typedef struct ticker {
    calx_dconn *c;
    req_wait *w;
    int ticks;
} ticker;

static void on_tick(uv_timer_t *t)
{
    ticker *tk = t->data;
    tk->ticks++;
    if (tk->ticks == 5)
        drv->interrupt(tk->c);
    if (tk->w->done || tk->ticks > 2000)
        uv_timer_stop(t);
}

TEST(interrupt_cancels_the_running_statement)
{
    calx_dconn *c = connect_default();
    if (!c)
        return;
    calx_dstmt st = { .sql = "SELECT pg_sleep(60)", .nsets = 1 };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st };
    req_wait w;
    CHECK_INT(submit(c, &req, &w), 0);
    /* The loop keeps turning while the server sleeps: the fifth tick of a
     * 20 ms timer interrupts. */
    ticker tk = { c, &w, 0 };
    uv_timer_t timer;
    uv_timer_init(calx_loop_uv(loop), &timer);
    timer.data = &tk;
    uv_timer_start(&timer, on_tick, 20, 20);
    run_loop();
    CHECK(tk.ticks >= 5);
    CHECK_INT(w.done, 1);
    CHECK_INT(w.err.code, CALX_ERR_CANCELED);
    CHECK_STR(w.err.sqlstate, "57014");
    CHECK_INT(pg_stats(c).cancels, 1);
    uv_close((uv_handle_t *)&timer, NULL);
    run_loop();
    /* Usable afterwards, and an interrupt with nothing running does nothing. */
    CHECK(drv->alive(c));
    CHECK_INT(scalar(c, "SELECT 41 + 1"), 42);
    drv->interrupt(c);
    CHECK_INT(scalar(c, "SELECT 7"), 7);
    close_conn(c);
}

/* ---- the engine on PostgreSQL ---- */

static calx_engine *make_engine_url(const char *url, calx_engine_opts o)
{
    calx_error err;
    o.loop = loop;
    calx_engine *e = calx_create_engine(url, &o, &err);
    if (!e)
        fprintf(stderr, "  create_engine: %s\n", err.message);
    CHECK(e != NULL);
    return e;
}

static calx_engine *make_engine(calx_engine_opts o)
{
    return make_engine_url(url_buf, o);
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

static int run_sql(calx_connection *c, const char *sql, const calx_params *p, calx_error *err)
{
    calx_result *r = NULL;
    int rc = calx_wait(calx_conn_execute(c, sql, p, err), &r, err);
    calx_result_free(r);
    return rc;
}

static int64_t query_int(calx_connection *c, const char *sql)
{
    calx_error err;
    calx_result *r = NULL;
    int64_t v = -999;
    if (calx_wait(calx_conn_execute(c, sql, NULL, &err), &r, &err) == 0)
        v = calx_row_int(calx_result_first(r), 0);
    else
        fprintf(stderr, "  %s: %s\n", sql, err.message);
    calx_result_free(r);
    return v;
}

static int64_t count_in(calx_engine *e, const char *table)
{
    calx_error err;
    calx_connection *c = connect_now(e, &err);
    if (!c) {
        fprintf(stderr, "  connect: %s\n", err.message);
        return -1;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    int64_t n = query_int(c, sql);
    calx_conn_close(c);
    return n;
}

TEST(engine_basics_on_postgresql)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ 0 });
    if (!e)
        return;
    CHECK_STR(calx_engine_dialect(e), "postgresql");
    calx_connection *c = connect_now(e, &err);
    CHECK(c != NULL);
    if (!c) {
        free_engine(e);
        return;
    }
    CHECK_OK(run_sql(c, "CREATE TABLE hero (id serial PRIMARY KEY, name text NOT NULL, "
                        "age integer)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO hero (name, age) VALUES (:name, :age)",
                     CALX_PARAMS(CALX_P("name", calx_text("Deadpond")),
                                 CALX_P("age", calx_null())), &err), &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT name, age FROM hero WHERE name = :n",
                                         CALX_PARAMS(CALX_P("n", calx_text("Deadpond"))), &err),
                       &r, &err), &err);
    const calx_row *row = NULL;
    CHECK_OK(calx_result_one(r, &row, &err), &err);
    CHECK_STR(calx_row_text(row, 0), "Deadpond");
    CHECK(calx_row_isnull(row, 1));
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    CHECK_INT(query_int(c, "SELECT count(*) FROM hero"), 0);
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);

    /* Errors through the engine: classified, with the SQL. */
    CHECK_INT(run_sql(c, "SELECT * FROM nowhere", NULL, &err), CALX_ERR_PROGRAMMING);
    CHECK_STR(err.sqlstate, "42P01");
    CHECK_CONTAINS(err.message, "[SQL: SELECT * FROM nowhere]");
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    free_engine(e);
}

TEST(savepoints_on_postgresql)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ 0 });
    calx_connection *c = e ? connect_now(e, &err) : NULL;
    CHECK(c != NULL);
    if (!c) {
        free_engine(e);
        return;
    }
    CHECK_OK(run_sql(c, "CREATE TABLE sp (x integer)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO sp VALUES (1)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_begin_nested(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO sp VALUES (2)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_begin_nested(c, &err), NULL, &err), &err);
    CHECK_INT(calx_conn_savepoint_depth(c), 2);
    CHECK_OK(run_sql(c, "INSERT INTO sp VALUES (3)", NULL, &err), &err);
    /* An error inside the inner savepoint: rolling back to it recovers
     * the transaction (PostgreSQL aborts the whole of it otherwise). */
    CHECK_INT(run_sql(c, "INSERT INTO sp VALUES ('x')", NULL, &err), CALX_ERR_DATA);
    CHECK_OK(calx_wait(calx_conn_rollback_savepoint(c, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_release_savepoint(c, &err), NULL, &err), &err);
    CHECK_INT(calx_conn_savepoint_depth(c), 0);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_INT(query_int(c, "SELECT sum(x) FROM sp"), 3);  /* 1 + 2; 3 was rolled back */
    /* A savepoint as the first statement begins the transaction. */
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_begin_nested(c, &err), NULL, &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO sp VALUES (10)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_release_savepoint(c, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    CHECK_INT(query_int(c, "SELECT sum(x) FROM sp"), 3);
    calx_conn_close(c);
    free_engine(e);
}

typedef struct stream_out {
    calx_connection *c;
    int64_t rows, sum;
    size_t max_held;
    int rc;
} stream_out;

static void *stream_task(void *arg)
{
    stream_out *o = arg;
    calx_error err;
    calx_result *r = NULL;
    o->rc = calx_await(calx_conn_stream(o->c, "SELECT x FROM generate_series(1, :n) AS x",
                                        CALX_PARAMS(CALX_P("n", calx_int(100000))), 1000,
                                        &err), &r, &err);
    if (o->rc)
        return NULL;
    const calx_row *row;
    while ((o->rc = calx_result_anext(r, &row, &err)) == 0 && row) {
        o->sum += calx_row_int(row, 0);
        o->rows++;
        if (calx_result_nrows(r) > o->max_held)
            o->max_held = calx_result_nrows(r);
    }
    calx_result_free(r);
    return NULL;
}

static void stream_on(calx_engine *e)
{
    calx_error err;
    calx_connection *c = connect_now(e, &err);
    CHECK(c != NULL);
    if (!c)
        return;
    stream_out o = { .c = c };
    CHECK_OK(calx_wait(calx_spawn(loop, stream_task, &o, NULL, &err), NULL, &err), &err);
    CHECK_INT(o.rc, 0);
    CHECK_INT(o.rows, 100000);
    CHECK_INT(o.sum, 5000050000LL);
    CHECK(o.max_held <= 1000);
    /* The connection is free again, and the cursor closed. */
    CHECK_INT(query_int(c, "SELECT count(*) FROM pg_cursors WHERE name LIKE 'calx%'"), 0);

    /* A stream freed midway frees the connection too. */
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_stream(c, "SELECT x FROM generate_series(1, 50000) AS x",
                                        NULL, 10, &err), &r, &err), &err);
    CHECK(calx_result_more(r));
    CHECK_INT(calx_result_nrows(r), 10);
    CHECK(calx_conn_execute(c, "SELECT 1", NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_BUSY);
    calx_result_free(r);
    calx_loop_run(loop);
    CHECK_INT(query_int(c, "SELECT count(*) FROM pg_cursors WHERE name LIKE 'calx%'"), 0);
    /* A statement that is not a query is read whole. */
    CHECK_OK(run_sql(c, "CREATE TEMP TABLE st (x integer)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_stream(c, "INSERT INTO st SELECT generate_series(1, 30) "
                                           "RETURNING x", NULL, 10, &err), &r, &err), &err);
    CHECK(!calx_result_more(r));
    CHECK_INT(calx_result_nrows(r), 30);
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    calx_conn_close(c);
}

TEST(streaming_large_results)
{
    calx_engine *e = make_engine((calx_engine_opts){ 0 });
    if (e)
        stream_on(e);  /* in a transaction: a plain cursor */
    free_engine(e);
    e = make_engine((calx_engine_opts){ .isolation_level = "AUTOCOMMIT" });
    if (e)
        stream_on(e);  /* no transaction: WITH HOLD */
    free_engine(e);
}

static calx_dconn *dconn_of(calx_connection *c)
{
    return calx__conn_dconn(c);
}

static void *sleep_then_get_cancelled(void *arg)
{
    calx_engine *e = arg;
    calx_error err;
    calx_connection *c;
    if (calx_await(calx_engine_connect(e, &err), &c, &err))
        return NULL;
    calx_result *r = NULL;
    int rc = calx_await(calx_conn_execute(c, "SELECT pg_sleep(60)", NULL, &err), &r, &err);
    calx_result_free(r);
    calx_conn_close(c);  /* the query is still being cancelled: it comes back after */
    return (void *)(intptr_t)rc;
}

static void cancel_cb(void *f)
{
    calx_future_cancel(f);
}

TEST(cancelled_task_cancels_its_query)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1,
                                                     .max_overflow = CALX_OVERFLOW_NONE });
    if (!e)
        return;
    calx_future *f = calx_spawn(loop, sleep_then_get_cancelled, e, NULL, &err);
    calx_timer *t = calx__timer_new(loop, cancel_cb, f);
    calx__timer_start(t, 200);
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    calx__timer_free(t);
    calx_loop_run(loop);  /* the cancel lands, the connection is rolled back and returned */
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    CHECK_INT(st.checked_out, 0);
    CHECK_INT(st.checked_in, 1);
    CHECK_INT(st.invalidated, 0);
    /* The same connection serves again. */
    calx_connection *c = connect_now(e, &err);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(query_int(c, "SELECT 5"), 5);
        CHECK_INT(pg_stats(dconn_of(c)).cancels, 1);
        calx_conn_close(c);
    }
    calx_engine_stats(e, &st);
    CHECK_INT(st.opened, 1);
    free_engine(e);
}

TEST(execute_many_through_the_engine_is_one_pipeline)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .echo = false });
    calx_connection *c = e ? connect_now(e, &err) : NULL;
    CHECK(c != NULL);
    if (!c) {
        free_engine(e);
        return;
    }
    CHECK_OK(run_sql(c, "CREATE TABLE obj (id bigserial PRIMARY KEY, name text, n integer)",
                     NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    enum { N = 1000 };
    calx_params *sets = malloc(sizeof *sets * N);
    calx_param *items = malloc(sizeof *items * 2 * N);
    char (*names)[24] = malloc(sizeof *names * N);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "object %d", i);
        items[2 * i] = (calx_param)CALX_P("name", calx_text(names[i]));
        items[2 * i + 1] = (calx_param)CALX_P("n", calx_int(i));
        sets[i] = (calx_params){ &items[2 * i], 2 };
    }
    calx_pg_stats before = pg_stats(dconn_of(c));
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute_many(c, "INSERT INTO obj (name, n) VALUES (:name, :n) "
                                                 "RETURNING id, n",
                                              sets, N, &err), &r, &err), &err);
    calx_pg_stats after = pg_stats(dconn_of(c));
    CHECK_INT(after.round_trips - before.round_trips, 1);
    CHECK_INT(calx_result_rowcount(r), N);
    CHECK_INT(calx_result_nrows(r), N);
    /* Generated keys come back in parameter-set order. */
    bool ordered = true;
    for (size_t i = 0; i < calx_result_nrows(r); i++)
        ordered = ordered && calx_row_int(calx_result_row(r, i), 1) == (int64_t)i;
    CHECK(ordered);
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_INT(query_int(c, "SELECT count(*) FROM obj"), N);
    calx_conn_close(c);
    free(sets);
    free(items);
    free(names);
    free_engine(e);
}

typedef struct many_arg {
    calx_engine *e;
    int ok;
    int failed;
    calx_error last;
} many_arg;

static void *many_worker(void *arg)
{
    many_arg *m = arg;
    calx_error err;
    calx_connection *c;
    if (calx_await(calx_engine_connect(m->e, &err), &c, &err)) {
        m->failed++;
        m->last = err;
        return NULL;
    }
    calx_result *r = NULL;
    int rc = calx_await(calx_conn_execute(c, "INSERT INTO visit (note) VALUES (:note)",
                                          CALX_PARAMS(CALX_P("note", calx_text("hi"))), &err),
                        &r, &err);
    calx_result_free(r);
    if (rc == 0)
        rc = calx_await(calx_conn_commit(c, &err), NULL, &err);
    calx_conn_close(c);
    if (rc) {
        m->failed++;
        m->last = err;
    } else {
        m->ok++;
    }
    return NULL;
}

TEST(thousand_tasks_over_five_plus_ten)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 5, .max_overflow = 10,
                                                     .pool_timeout = 120 });
    calx_connection *c = e ? connect_now(e, &err) : NULL;
    CHECK(c != NULL);
    if (!c) {
        free_engine(e);
        return;
    }
    CHECK_OK(run_sql(c, "CREATE TABLE visit (id serial PRIMARY KEY, note text)", NULL, &err),
             &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    enum { N = 1000 };
    many_arg m = { .e = e };
    calx_future **fs = malloc(sizeof *fs * N);
    for (int i = 0; i < N; i++)
        fs[i] = calx_spawn(loop, many_worker, &m, NULL, &err);
    for (int i = 0; i < N; i++)
        calx_wait(fs[i], NULL, &err);
    free(fs);
    if (m.failed)
        fprintf(stderr, "  %d failed, last: %s\n", m.failed, m.last.message);
    CHECK_INT(m.ok, N);
    CHECK_INT(count_in(e, "visit"), N);
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    CHECK(st.opened <= 15);
    CHECK_INT(st.invalidated, 0);  /* no connection lost */
    CHECK_INT(st.timeouts, 0);
    CHECK_INT(st.checked_out, 0);
    free_engine(e);
}

TEST(terminated_backend_mid_transaction)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 2 });
    calx_connection *c = e ? connect_now(e, &err) : NULL;
    CHECK(c != NULL);
    if (!c) {
        free_engine(e);
        return;
    }
    CHECK_OK(run_sql(c, "CREATE TABLE acct (id integer PRIMARY KEY, v integer)", NULL, &err),
             &err);
    CHECK_OK(run_sql(c, "INSERT INTO acct VALUES (1, 100)", NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    int64_t pid = query_int(c, "SELECT pg_backend_pid()");
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    /* Mid-transaction: a row written, not committed. */
    CHECK_OK(run_sql(c, "INSERT INTO acct VALUES (2, 200)", NULL, &err), &err);
    CHECK(calx_conn_in_transaction(c));
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld, 10000)", (long long)pid);
    CHECK_INT(admin_scalar(sql) == -999, 0);
    CHECK_INT(run_sql(c, "UPDATE acct SET v = v + 1", NULL, &err), CALX_ERR_DISCONNECT);
    CHECK(err.message[0] != '\0');
    fprintf(stderr, "  (the disconnect reads: %s)\n", err.message);
    CHECK(!calx_conn_in_transaction(c));
    calx_conn_close(c);
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    CHECK_INT(st.invalidated, 1);
    CHECK_INT(st.checked_in, 0);  /* closed, not pooled */
    /* The pool opens a fresh one; committed data is intact, the
     * interrupted transaction rolled back. */
    c = connect_now(e, &err);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(query_int(c, "SELECT count(*) FROM acct"), 1);
        CHECK_INT(query_int(c, "SELECT v FROM acct WHERE id = 1"), 100);
        calx_conn_close(c);
    }
    free_engine(e);
}

/* Checks a connection out of e, reads its backend's pid and gives it back,
 * to idle in the pool once its reset on return is done. -1 on failure. */
static int64_t idle_backend_pid(calx_engine *e)
{
    calx_error err;
    calx_connection *c = connect_now(e, &err);
    if (!c) {
        fprintf(stderr, "  connect: %s\n", err.message);
        return -1;
    }
    int64_t pid = query_int(c, "SELECT pg_backend_pid()");
    calx_conn_close(c);
    calx_loop_run(loop);
    return pid;
}

TEST(idle_pooled_connection_killed)
{
    /* Killed while idle in the pool: the driver notices the hang-up, and
     * the pool replaces the connection without the program seeing an
     * error, pre-ping or not. */
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1 });
    int64_t pid = e ? idle_backend_pid(e) : -1;
    CHECK(pid > 0);
    if (pid <= 0) {
        free_engine(e);
        return;
    }
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld, 10000)", (long long)pid);
    admin_scalar(sql);
    /* Let the loop see the hang-up: a short sleep on the loop. */
    calx_wait(calx_sleep(loop, 50, &err), NULL, &err);
    calx_connection *c = connect_now(e, &err);
    CHECK(c != NULL);
    if (c) {
        int64_t pid2 = query_int(c, "SELECT pg_backend_pid()");
        CHECK(pid2 > 0 && pid2 != pid);
        calx_conn_close(c);
    }
    free_engine(e);
}

TEST(a_connection_killed_while_idle_is_replaced_at_checkout_before_the_loop_runs)
{
    /* As above, but the checkout comes before the loop has turned once
     * since the kill: the socket watch cannot have seen the hang-up, and
     * only the checkout's own probe of the socket (the driver's alive())
     * stands between the program and a dead connection. */
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1 });
    int64_t pid = e ? idle_backend_pid(e) : -1;
    CHECK(pid > 0);
    if (pid <= 0) {
        free_engine(e);
        return;
    }
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld, 10000)", (long long)pid);
    admin_scalar(sql);  /* blocking libpq: the loop does not run meanwhile */
    /* And past the time a reply vouches for a connection without a probe
     * (CALX_PG_FRESH_REPLY_NS: a hang-up that recent could as well have
     * come just after the check). */
    nanosleep(&(struct timespec){ 0, 2 * CALX_PG_FRESH_REPLY_NS }, NULL);
    calx_connection *c = connect_now(e, &err);
    CHECK(c != NULL);
    if (c) {
        int64_t pid2 = query_int(c, "SELECT pg_backend_pid()");
        CHECK(pid2 > 0 && pid2 != pid);
        calx_conn_close(c);
    }
    free_engine(e);
}

static bool restart_server(void)
{
    const char *dir = getenv("CALX_TEST_PG_DIR");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh '%s/scripts/pg-test-server.sh' restart '%s' >/dev/null",
             CALX_SOURCE_DIR, dir);
    /* The admin connection dies with the server: reconnect it after. */
    int rc = system(cmd);
    PQreset(admin);
    return rc == 0 && PQstatus(admin) == CONNECTION_OK;
}

TEST(server_restart_is_survived)
{
    if (!getenv("CALX_TEST_PG_DIR"))
        SKIP("CALX_TEST_PG_DIR not set (the restart needs the test server's directory)");
    calx_error err;
    calx_engine *plain = make_engine((calx_engine_opts){ .pool_size = 3 });
    calx_engine *pinged = make_engine((calx_engine_opts){ .pool_size = 3,
                                                          .pool_pre_ping = true });
    if (!plain || !pinged) {
        free_engine(plain);
        free_engine(pinged);
        return;
    }
    calx_connection *c = connect_now(plain, &err);
    CHECK(c != NULL);
    if (c) {
        CHECK_OK(run_sql(c, "CREATE TABLE kept (x integer)", NULL, &err), &err);
        CHECK_OK(run_sql(c, "INSERT INTO kept VALUES (1)", NULL, &err), &err);
        CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
        calx_conn_close(c);
    }
    /* Both pools hold an idle connection when the server goes away. */
    CHECK_INT(count_in(pinged, "kept"), 1);
    CHECK(restart_server());

    /* Each engine serves again without restarting the program. A dead
     * idle connection is found by the driver's watch (or pre-ping) and
     * replaced; whichever way, the statements below succeed. */
    for (int round = 0; round < 2; round++) {
        CHECK_INT(count_in(pinged, "kept"), 1);
        CHECK_INT(count_in(plain, "kept"), 1);
    }
    /* A connection checked out across a restart gets a disconnect error
     * on its next statement, and the pool replaces it. */
    c = connect_now(plain, &err);
    CHECK(c != NULL);
    if (c) {
        CHECK_OK(run_sql(c, "INSERT INTO kept VALUES (2)", NULL, &err), &err);
        CHECK(restart_server());
        CHECK_INT(run_sql(c, "INSERT INTO kept VALUES (3)", NULL, &err), CALX_ERR_DISCONNECT);
        calx_conn_close(c);
    }
    CHECK_INT(count_in(plain, "kept"), 1);  /* 2 was never committed */
    free_engine(plain);
    free_engine(pinged);
}

/* ---- nothing waits forever: command_timeout, frozen servers ---- */

/* Freezes (SIGSTOP) or thaws (SIGCONT) one backend of the test server,
 * which runs as this user or under root's control. A test that freezes one
 * thaws it on every path before it checks anything. */
static bool signal_backend(int64_t pid, int sig)
{
    if (pid <= 0)
        return false;
    if (kill((pid_t)pid, sig) != 0) {
        fprintf(stderr, "  kill(%lld, %s): %s\n", (long long)pid,
                sig == SIGSTOP ? "SIGSTOP" : "SIGCONT", strerror(errno));
        return false;
    }
    return true;
}

TEST(command_timeout_cancels_a_statement_that_runs_too_long)
{
    /* The driver, with command_timeout as a connect arg. */
    calx_kv args[] = { { "command_timeout", "0.5" } };
    calx_dconn *dc = connect_args(args, 1);
    if (!dc)
        return;
    calx_error err;
    CHECK_INT(exec(dc, "SELECT pg_sleep(10)", &err), CALX_ERR_TIMEOUT);
    CHECK_CONTAINS(err.message, "the statement ran longer than command_timeout (0.5 s) and "
                                "was cancelled");
    CHECK_STR(err.sqlstate, "57014");
    CHECK_INT(pg_stats(dc).cancels, 1);
    /* Only the statement was cancelled: the connection goes on. */
    CHECK(drv->alive(dc));
    CHECK_INT(scalar(dc, "SELECT 6 * 7"), 42);
    close_conn(dc);

    /* The engine's option, and the URL's query option. */
    char u[1200];
    calx_engine *engines[2] = {
        make_engine((calx_engine_opts){ .command_timeout = 0.5 }),
        make_engine_url(url_with(u, sizeof u, url_buf, "command_timeout=0.5"),
                        (calx_engine_opts){ 0 }),
    };
    for (int i = 0; i < 2; i++) {
        calx_connection *c = engines[i] ? connect_now(engines[i], &err) : NULL;
        CHECK(c != NULL);
        if (!c)
            continue;
        CHECK_INT(run_sql(c, "SELECT pg_sleep(10)", NULL, &err), CALX_ERR_TIMEOUT);
        CHECK_CONTAINS(err.message, "command_timeout (0.5 s)");
        CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
        CHECK_INT(query_int(c, "SELECT 41 + 1"), 42);
        calx_conn_close(c);
        calx_pool_stats st;
        calx_engine_stats(engines[i], &st);
        CHECK_INT(st.invalidated, 0);
        free_engine(engines[i]);
    }
}

TEST(command_timeout_must_be_seconds_from_zero)
{
    calx_error err;
    double bad[] = { -1, NAN, INFINITY };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        calx_engine_opts o = { .loop = loop, .command_timeout = bad[i] };
        CHECK(calx_create_engine(url_buf, &o, &err) == NULL);
        CHECK_INT(err.code, CALX_ERR_ARGUMENT);
        CHECK_CONTAINS(err.message, "command_timeout");
    }
    const char *bad_text[] = { "abc", "-2", "", "1s" };
    for (size_t i = 0; i < sizeof bad_text / sizeof *bad_text; i++)
        check_create_engine_refuses("command_timeout", bad_text[i]);
    /* SQLite has no server to stop answering: the option is not refused. */
    calx_engine *e = calx_create_engine(
        "sqlite://", &(calx_engine_opts){ .loop = loop, .command_timeout = 2 }, &err);
    CHECK(e != NULL);
    free_engine(e);
}

TEST(a_frozen_backend_fails_the_request_with_timeout_and_the_pool_replaces_it)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1, .command_timeout = 0.5 });
    calx_connection *c = e ? connect_now(e, &err) : NULL;
    CHECK(c != NULL);
    if (!c) {
        free_engine(e);
        return;
    }
    int64_t pid = query_int(c, "SELECT pg_backend_pid()");
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    if (!signal_backend(pid, SIGSTOP)) {
        calx_conn_close(c);
        free_engine(e);
        SKIP("cannot SIGSTOP the server's backend");
    }
    /* The backend answers neither the statement nor the cancel. */
    int rc = run_sql(c, "SELECT 1", NULL, &err);
    calx_error first = err;
    calx_conn_close(c);
    /* The pool serves a fresh connection while the old backend is still
     * frozen: nothing waits for it. */
    c = connect_now(e, &err);
    int64_t pid2 = c ? query_int(c, "SELECT pg_backend_pid()") : -1;
    if (c)
        calx_conn_close(c);
    signal_backend(pid, SIGCONT);

    CHECK_INT(rc, CALX_ERR_TIMEOUT);
    CHECK_CONTAINS(first.message, "did not answer");
    CHECK_CONTAINS(first.message, "command_timeout (0.5 s)");
    CHECK(pid2 > 0 && pid2 != pid);
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    CHECK_INT(st.invalidated, 1);
    free_engine(e);
}

TEST(pre_ping_of_a_frozen_backend_fails_the_checkout_within_pool_timeout)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .pool_size = 1, .pool_pre_ping = true,
                                                     .pool_timeout = 1 });
    int64_t pid = e ? idle_backend_pid(e) : -1;
    CHECK(pid > 0);
    if (pid <= 0 || !signal_backend(pid, SIGSTOP)) {
        free_engine(e);
        if (pid > 0)
            SKIP("cannot SIGSTOP the server's backend");
        return;
    }
    calx_connection *c = connect_now(e, &err);
    calx_error first = err;
    if (c)
        calx_conn_close(c);
    /* The next checkout gets a fresh connection while the old backend is
     * still frozen. */
    calx_connection *c2 = connect_now(e, &err);
    int64_t pid2 = c2 ? query_int(c2, "SELECT pg_backend_pid()") : -1;
    if (c2)
        calx_conn_close(c2);
    signal_backend(pid, SIGCONT);

    CHECK(c == NULL);
    CHECK_INT(first.code, CALX_ERR_TIMEOUT);
    CHECK_CONTAINS(first.message, "pre-ping");
    CHECK(pid2 > 0 && pid2 != pid);
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    CHECK_INT(st.timeouts, 1);
    CHECK(st.invalidated >= 1);
    free_engine(e);
    /* The frozen connection's ping came back once it thawed, and the pool
     * closed it: the engine is gone, nothing of it left. */
    CHECK_INT(st.opened, 2);
}

typedef struct bouncer_arg {
    calx_engine *e;
    int id;
    int ok;
    calx_error err;
} bouncer_arg;

static char bounced_insert[160], bounced_count[160];
static int64_t bounced_pids[64];
static int nbounced_pids;

static void note_pid(int64_t pid)
{
    for (int i = 0; i < nbounced_pids; i++)
        if (bounced_pids[i] == pid)
            return;
    if (nbounced_pids < 64)
        bounced_pids[nbounced_pids++] = pid;
}

/* 20 short transactions, each on a connection checked out anew: insert,
 * count, note the server process, commit. */
static void *bouncer_worker(void *arg)
{
    bouncer_arg *b = arg;
    calx_error err;
    for (int i = 0; i < 20; i++) {
        calx_connection *c;
        if (calx_await(calx_engine_connect(b->e, &err), &c, &err)) {
            b->err = err;
            return NULL;
        }
        calx_result *r = NULL;
        int rc = calx_await(calx_conn_execute(c, bounced_insert,
                                              CALX_PARAMS(CALX_P("w", calx_int(b->id)),
                                                          CALX_P("i", calx_int(i))), &err),
                            &r, &err);
        calx_result_free(r);
        r = NULL;
        if (!rc)
            rc = calx_await(calx_conn_execute(c, bounced_count,
                                              CALX_PARAMS(CALX_P("w", calx_int(b->id))), &err),
                            &r, &err);
        if (!rc) {
            if (calx_row_int(calx_result_first(r), 0) != i + 1)
                rc = calx_error_set(&err, CALX_ERR_STATE, "worker %d sees %lld rows, not %d",
                                    b->id, (long long)calx_row_int(calx_result_first(r), 0),
                                    i + 1);
            note_pid(calx_row_int(calx_result_first(r), 1));
        }
        calx_result_free(r);
        if (!rc)
            rc = calx_await(calx_conn_commit(c, &err), NULL, &err);
        calx_conn_close(c);
        if (rc) {
            b->err = err;
            return NULL;
        }
        b->ok++;
    }
    return NULL;
}

TEST(pgbouncer_transaction_mode_without_prepared_statements)
{
    const char *burl = getenv("CALX_TEST_PGBOUNCER_URL");
    if (!burl)
        SKIP("CALX_TEST_PGBOUNCER_URL not set (scripts/deps.sh installs pgbouncer)");
    /* PgBouncer passes no startup options (search_path): tables are named
     * with their schema. */
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE %s.bounced (worker integer, i integer)", schema);
    CHECK(admin_exec(sql));
    snprintf(bounced_insert, sizeof bounced_insert,
             "INSERT INTO %s.bounced (worker, i) VALUES (:w, :i)", schema);
    snprintf(bounced_count, sizeof bounced_count,
             "SELECT count(*), pg_backend_pid() FROM %s.bounced WHERE worker = :w", schema);
    calx_engine *e = make_engine_url(
        burl, (calx_engine_opts){ .pool_size = 10, .max_overflow = 10,
                                  .connect_args = (calx_kv[]){ { "statement_cache_size", "0" } },
                                  .nconnect_args = 1 });
    if (!e)
        return;
    enum { W = 20 };
    bouncer_arg args[W];
    calx_future *fs[W];
    calx_error err;
    for (int i = 0; i < W; i++) {
        args[i] = (bouncer_arg){ .e = e, .id = i };
        fs[i] = calx_spawn(loop, bouncer_worker, &args[i], NULL, &err);
    }
    for (int i = 0; i < W; i++)
        calx_wait(fs[i], NULL, &err);
    int ok = 0;
    for (int i = 0; i < W; i++) {
        if (args[i].ok != 20)
            fprintf(stderr, "  worker %d: %s\n", i, args[i].err.message);
        ok += args[i].ok;
    }
    CHECK_INT(ok, W * 20);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.bounced", schema);
    CHECK_INT(admin_scalar(sql), W * 20);
    /* More client connections than server connections (PgBouncer keeps at
     * most 5): statements of one client connection ran on several server
     * connections, which named prepared statements would not survive. */
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    CHECK(st.opened > 5);
    CHECK(nbounced_pids >= 1 && nbounced_pids <= 5);
    free_engine(e);
}

/* The SQLModel tutorial's tables (team renamed: another test has one), on
 * PostgreSQL: BIGSERIAL keys, BYTEA,
 * TIMESTAMPTZ, DOUBLE PRECISION, BOOLEAN, VARCHAR(n), a quoted name. */
static const calx_column team_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT, .index = true, .unique = true, .max_length = 40 },
    { .name = "headquarters", .type = CALX_COL_TEXT },
};
static const calx_table team_table = { .name = "guild", .columns = team_cols, .ncolumns = 3 };
static const calx_column hero_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT, .index = true },
    { .name = "age", .type = CALX_COL_INT32, .nullable = true },
    { .name = "power", .type = CALX_COL_DOUBLE, .nullable = true },
    { .name = "active", .type = CALX_COL_BOOL, .server_default = "true" },
    { .name = "photo", .type = CALX_COL_BLOB, .nullable = true },
    { .name = "created", .type = CALX_COL_TIMESTAMP, .server_default = "now()" },
    { .name = "team_id", .type = CALX_COL_INT64, .nullable = true, .foreign_key = "guild.id",
      .on_delete = "CASCADE" },
};
static const calx_table hero_table = { .name = "Hero", .columns = hero_cols, .ncolumns = 8 };

TEST(create_all_on_postgresql)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ 0 });
    if (!e)
        return;
    calx_metadata *md = calx_metadata_new(&err);
    CHECK_OK(calx_metadata_add(md, &hero_table, &err), &err);
    CHECK_OK(calx_metadata_add(md, &team_table, &err), &err);
    CHECK_OK(calx_wait(calx_engine_create_all(e, md, &err), NULL, &err), &err);
    /* checkfirst: a second run finds both tables and does nothing. */
    CHECK_OK(calx_wait(calx_engine_create_all(e, md, &err), NULL, &err), &err);

    calx_connection *c = connect_now(e, &err);
    CHECK(c != NULL);
    if (c) {
        calx_result *r = NULL;
        CHECK_OK(calx_wait(calx_conn_execute(c, "INSERT INTO guild (name, headquarters) "
                                                "VALUES (:n, :hq) RETURNING id",
                                             CALX_PARAMS(CALX_P("n", calx_text("Preventers")),
                                                         CALX_P("hq", calx_text("Sharp Tower"))),
                                             &err), &r, &err), &err);
        int64_t team_id = calx_row_int(calx_result_first(r), 0);
        CHECK(team_id > 0);
        calx_result_free(r);
        CHECK_OK(run_sql(c, "INSERT INTO \"Hero\" (name, age, power, photo, team_id) "
                            "VALUES (:n, :a, :p, :ph, :t)",
                         CALX_PARAMS(CALX_P("n", calx_text("Deadpond")), CALX_P("a", calx_int(48)),
                                     CALX_P("p", calx_real(9.5)),
                                     CALX_P("ph", calx_blob("\x89PNG", 4)),
                                     CALX_P("t", calx_int(team_id))), &err), &err);
        CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
        CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT id, age, power, active, photo, "
                                                "created IS NOT NULL FROM \"Hero\"", NULL, &err),
                           &r, &err), &err);
        const calx_row *row = calx_result_first(r);
        CHECK(calx_row_int(row, 0) > 0);
        CHECK_INT(calx_row_value(row, 1)->type, CALX_INT);
        CHECK_INT(calx_row_value(row, 2)->type, CALX_REAL);
        CHECK(calx_row_real(row, 2) == 9.5);
        CHECK_INT(calx_row_value(row, 3)->type, CALX_BOOL);
        CHECK(calx_row_bool(row, 3));
        size_t n = 0;
        const char *photo = calx_row_blob(row, 4, &n);
        CHECK(n == 4 && photo && memcmp(photo, "\x89PNG", 4) == 0);
        CHECK(calx_row_bool(row, 5));
        calx_result_free(r);
        CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
        /* The unique index and the foreign key hold. */
        CHECK_INT(run_sql(c, "INSERT INTO guild (name, headquarters) VALUES ('Preventers', 'x')",
                          NULL, &err), CALX_ERR_INTEGRITY);
        CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
        CHECK_INT(run_sql(c, "INSERT INTO \"Hero\" (name, team_id) VALUES ('x', 999)", NULL,
                          &err), CALX_ERR_INTEGRITY);
        CHECK_STR(err.sqlstate, "23503");
        CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
        calx_conn_close(c);
    }
    CHECK_OK(calx_wait(calx_engine_drop_all(e, md, &err), NULL, &err), &err);
    CHECK_INT(count_in(e, "pg_tables WHERE tablename IN ('guild', 'Hero') AND "
                          "schemaname = current_schema()"), 0);
    calx_metadata_free(md);
    free_engine(e);
}

TEST(isolation_levels)
{
    calx_error err;
    calx_engine *e = make_engine((calx_engine_opts){ .isolation_level = "SERIALIZABLE" });
    calx_connection *c = e ? connect_now(e, &err) : NULL;
    CHECK(c != NULL);
    if (c) {
        calx_result *r = NULL;
        CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT current_setting('transaction_isolation')",
                                             NULL, &err), &r, &err), &err);
        CHECK_STR(calx_row_text(calx_result_first(r), 0), "serializable");
        calx_result_free(r);
        calx_conn_close(c);
    }
    free_engine(e);

    e = make_engine((calx_engine_opts){ .isolation_level = "AUTOCOMMIT" });
    c = e ? connect_now(e, &err) : NULL;
    CHECK(c != NULL);
    if (c) {
        CHECK_OK(run_sql(c, "CREATE TABLE auto (x integer)", NULL, &err), &err);
        CHECK_OK(run_sql(c, "INSERT INTO auto VALUES (1)", NULL, &err), &err);
        CHECK_INT(query_int(c, "SELECT count(*) FROM pg_stat_activity WHERE pid = "
                               "pg_backend_pid() AND state = 'idle in transaction'"), 0);
        calx_conn_close(c);
    }
    CHECK_INT(count_in(e, "auto"), 1);
    free_engine(e);
}

int main(void)
{
    RUN(sqlstates_map_to_the_error_a_program_retries_or_reconnects_on);  /* no server */
    base_url = getenv("CALX_TEST_PG_URL");
    if (!base_url || !*base_url) {
        printf("skipped: CALX_TEST_PG_URL not set (the cases that need a server)\n");
        return TEST_REPORT();
    }
    admin = PQconnectdb(base_url);
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to CALX_TEST_PG_URL (%s): %s", base_url,
                PQerrorMessage(admin));
        PQfinish(admin);
        return 1;
    }
    PQsetNoticeProcessor(admin, quiet, NULL);
    snprintf(schema, sizeof schema, "calx_test_pg_%d", (int)getpid());
    char sql[256];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    admin_exec(sql);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    if (!admin_exec(sql))
        return 1;
    char extra[128];
    snprintf(extra, sizeof extra, "options=-csearch_path%%3D%s", schema);
    url_with(url_buf, sizeof url_buf, base_url, extra);

    calx_error err;
    loop = calx_loop_new(NULL, &err);
    RUN(connect_execute_and_types_round_trip);
    RUN(binary_results_decode_to_what_text_gave);
    RUN(a_prepared_statements_rows_share_its_column_names_and_see_a_rename);
    RUN(a_streamed_query_fetches_in_binary_after_its_first_chunk);
    RUN(a_request_after_a_stream_left_early_runs_after_the_fetches_sent_ahead);
    RUN(binary_parameters_keep_their_extremes);
    RUN(dates_and_times_decode_in_binary_as_in_text_from_year_1_to_9999);
    RUN(richer_parameters_go_in_binary_and_reach_the_server_as_their_text_would);
    RUN(arrays_decode_in_binary_as_in_text);
    RUN(another_datestyle_or_intervalstyle_changes_nothing_a_query_reads);
    RUN(errors_carry_sqlstate_and_class);
    RUN(a_deadlock_fails_one_side_with_a_serialization_error_to_retry);
    RUN(batches_are_one_pipeline);
    RUN(prepared_statement_cache);
    RUN(a_text_given_with_its_hash_or_without_is_one_prepared_statement);
    RUN(a_full_statement_cache_deallocates_the_least_recently_used_not_the_oldest);
    RUN(pipeline_edge_cases);
    RUN(nothing_listening_fails_fast_and_clearly);
    RUN(connect_timeout_is_enforced);
    RUN(connect_timeout_is_60_s_unless_the_url_connect_args_or_pgconnect_timeout_say);
    RUN(connect_timeout_0_means_no_limit_as_in_libpq);
    RUN(connect_timeout_below_2_s_is_2_s_and_a_bad_one_fails_create_engine);
    RUN(options_are_checked_and_passed_to_libpq);
    RUN(host_names_lists_and_failures);
    RUN(interrupt_cancels_the_running_statement);
    RUN(engine_basics_on_postgresql);
    RUN(savepoints_on_postgresql);
    RUN(streaming_large_results);
    RUN(cancelled_task_cancels_its_query);
    RUN(execute_many_through_the_engine_is_one_pipeline);
    RUN(thousand_tasks_over_five_plus_ten);
    RUN(terminated_backend_mid_transaction);
    RUN(idle_pooled_connection_killed);
    RUN(a_connection_killed_while_idle_is_replaced_at_checkout_before_the_loop_runs);
    RUN(create_all_on_postgresql);
    RUN(isolation_levels);
    RUN(pgbouncer_transaction_mode_without_prepared_statements);
    RUN(command_timeout_cancels_a_statement_that_runs_too_long);
    RUN(command_timeout_must_be_seconds_from_zero);
    RUN(a_frozen_backend_fails_the_request_with_timeout_and_the_pool_replaces_it);
    RUN(pre_ping_of_a_frozen_backend_fails_the_checkout_within_pool_timeout);
    RUN(server_restart_is_survived);
    calx_loop_free(loop);

    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    if (PQstatus(admin) != CONNECTION_OK)
        PQreset(admin);
    admin_exec(sql);
    PQfinish(admin);
    return TEST_REPORT();
}

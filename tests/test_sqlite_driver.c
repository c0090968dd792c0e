/* SPDX-License-Identifier: MIT */
/* The SQLite driver, driven through its vtable on a calx loop. */
#include <errno.h>
#include <locale.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <uv.h>

#include "driver/sqlite_int.h"
#include "driver/sqlscan.h"
#include "fault_vfs.h"
#include "sqlite_driver_test.h"

/* ---- connections and one-value reads ---- */

static calx_dconn *connect_memory(void)
{
    calx_url u = make_url(NULL, NULL, 0);
    return connect_url(&u);
}

static calx_dconn *connect_file(char *path)
{
    calx_url u = make_url(path, NULL, 0);
    return connect_url(&u);
}

/* The first column of the first row as text, in buf. */
static const char *scalar_text(calx_dconn *c, const char *sql, char *buf, size_t n)
{
    calx_rowset *rs = NULL;
    calx_error err;
    snprintf(buf, n, "(failed)");
    if (exec_p(c, sql, NULL, 0, &rs, &err) == 0 && rs && rs->nrows >= 1 &&
        rs->vals[0].type == CALX_TEXT)
        snprintf(buf, n, "%s", rs->vals[0].u.s.ptr);
    calx__rowset_free(rs);
    return buf;
}

/* ---- tests ---- */

TEST(connect_file_and_memory)
{
    char *path = path_in_tmp(0, "connect.db");
    calx_dconn *f = connect_file(path);
    calx_dconn *m = connect_memory();
    if (!f || !m) {
        close_conn(f);
        close_conn(m);
        return;
    }
    CHECK(f->driver == &calx__sqlite_driver);
    CHECK(f->loop == loop);
    CHECK(drv->alive(f));
    must(f, "CREATE TABLE t (x)");
    must(m, "CREATE TABLE t (x)");
    CHECK_INT(scalar(f, "PRAGMA foreign_keys"), 1);
    CHECK_INT(scalar(m, "PRAGMA busy_timeout"), 5000);
    close_conn(f);
    close_conn(m);
}

TEST(values_round_trip)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    must(c, "CREATE TABLE v (i INTEGER, r REAL, s TEXT, b BLOB, n)");
    static const char blob[] = { 'a', '\0', 'b', (char)0xff };
    calx_value row1[] = { calx_int(INT64_MIN), calx_real(2.5), calx_text("h\xc3\xa9llo"),
                          calx_blob(blob, sizeof blob), calx_null() };
    calx_value row2[] = { calx_int(0), calx_real(0.0), calx_text(""), calx_blob("", 0),
                          calx_bool(true) };
    calx_value row3[] = { calx_null(), calx_null(), calx_null(), calx_null(),
                          calx_bool(false) };
    calx_error err;
    const char *ins = "INSERT INTO v VALUES (?, ?, ?, ?, ?)";
    CHECK_OK(exec_p(c, ins, row1, 5, NULL, &err), &err);
    CHECK_OK(exec_p(c, ins, row2, 5, NULL, &err), &err);
    CHECK_OK(exec_p(c, ins, row3, 5, NULL, &err), &err);

    calx_rowset *rs = NULL;
    CHECK_OK(exec_p(c, "SELECT i, r, s, b, n FROM v ORDER BY rowid", NULL, 0, &rs, &err), &err);
    if (!rs)
        goto out;
    CHECK_INT(rs->ncols, 5);
    CHECK_INT(rs->nrows, 3);
    CHECK_INT(rs->rowcount, -1);
    CHECK(!rs->more);
    CHECK(rs->next == NULL);
    CHECK_STR(rs->colnames[0], "i");
    CHECK_STR(rs->colnames[4], "n");
    calx_value *r = rs->vals;
    CHECK_INT(r[0].type, CALX_INT);
    CHECK(r[0].u.i == INT64_MIN);
    CHECK_INT(r[1].type, CALX_REAL);
    CHECK(r[1].u.d == 2.5);
    CHECK_INT(r[2].type, CALX_TEXT);
    CHECK_STR(r[2].u.s.ptr, "h\xc3\xa9llo");
    CHECK_INT(r[2].u.s.len, 6);
    CHECK_INT(r[3].type, CALX_BLOB);
    CHECK_INT(r[3].u.s.len, sizeof blob);
    CHECK(memcmp(r[3].u.s.ptr, blob, sizeof blob) == 0);
    CHECK_INT(r[4].type, CALX_NULL);

    r = rs->vals + 5;  /* zeros and empties: not NULL */
    CHECK_INT(r[0].type, CALX_INT);
    CHECK_INT(r[0].u.i, 0);
    CHECK_INT(r[1].type, CALX_REAL);
    CHECK_INT(r[2].type, CALX_TEXT);
    CHECK_INT(r[2].u.s.len, 0);
    CHECK_STR(r[2].u.s.ptr, "");
    CHECK_INT(r[3].type, CALX_BLOB);
    CHECK_INT(r[3].u.s.len, 0);
    CHECK(r[3].u.s.ptr != NULL);
    CHECK_INT(r[4].type, CALX_INT);  /* bool true stored as 1 */
    CHECK_INT(r[4].u.i, 1);

    r = rs->vals + 10;
    for (int i = 0; i < 4; i++)
        CHECK_INT(r[i].type, CALX_NULL);
    CHECK_INT(r[4].type, CALX_INT);
    CHECK_INT(r[4].u.i, 0);
    calx__rowset_free(rs);

    CHECK_INT(scalar(c, "SELECT count(*) FROM v WHERE s IS NULL"), 1);
    CHECK_INT(scalar(c, "SELECT count(*) FROM v WHERE s = ''"), 1);
    CHECK_INT(scalar(c, "SELECT count(*) FROM v WHERE i = 0"), 1);
out:
    close_conn(c);
}

TEST(executemany_returning_in_order)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    must(c, "CREATE TABLE hero (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)");
    const char *names[] = { "Deadpond", "Spider-Boy", "Rusty-Man", "Tarantula" };
    calx_value params[8];
    for (int i = 0; i < 4; i++) {
        params[2 * i] = calx_text(names[i]);
        params[2 * i + 1] = i == 1 ? calx_null() : calx_int(30 + i);
    }
    calx_dstmt st = { .sql = "INSERT INTO hero (name, age) VALUES (?, ?) RETURNING id, name",
                      .nparams = 2, .nsets = 4, .params = params };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st };
    calx_rowset *rs = NULL;
    calx_error err;
    CHECK_OK(request(c, &req, &rs, &err), &err);
    if (rs) {
        CHECK_INT(rs->ncols, 2);
        CHECK_STR(rs->colnames[0], "id");
        CHECK_INT(rs->nrows, 4);
        CHECK_INT(rs->rowcount, 4);
        for (size_t i = 0; i < rs->nrows && i < 4; i++) {
            CHECK_INT(rs->vals[2 * i].u.i, (int64_t)i + 1);
            CHECK_STR(rs->vals[2 * i + 1].u.s.ptr, names[i]);
        }
        CHECK_INT(rs->lastrowid, 4);
    }
    calx__rowset_free(rs);

    /* Without RETURNING: the rowcount still sums the sets. */
    st.sql = "INSERT INTO hero (name, age) VALUES (?, ?)";
    CHECK_OK(request(c, &req, &rs, &err), &err);
    if (rs) {
        CHECK_INT(rs->ncols, 0);
        CHECK_INT(rs->nrows, 0);
        CHECK_INT(rs->rowcount, 4);
        CHECK_INT(rs->lastrowid, 8);
    }
    calx__rowset_free(rs);

    /* UPDATE's rowcount, then a DDL statement does not repeat it. */
    CHECK_OK(exec_p(c, "UPDATE hero SET age = 1 WHERE age IS NOT NULL", NULL, 0, &rs, &err),
             &err);
    CHECK_INT(rs ? rs->rowcount : -5, 6);
    calx__rowset_free(rs);
    CHECK_OK(exec_p(c, "CREATE TABLE other (x)", NULL, 0, &rs, &err), &err);
    CHECK_INT(rs ? rs->rowcount : -5, 0);
    calx__rowset_free(rs);

    /* A failing set is named. */
    must(c, "CREATE UNIQUE INDEX hero_name ON hero (name) WHERE id > 8");
    calx_value dup[] = { calx_text("a"), calx_int(1), calx_text("b"), calx_int(1),
                         calx_text("a"), calx_int(1) };
    st.params = dup;
    st.nsets = 3;
    CHECK_INT(request(c, &req, &rs, &err), CALX_ERR_INTEGRITY);
    CHECK(rs == NULL);
    CHECK_STR(err.message, "UNIQUE constraint failed: hero.name (parameter set 3 of 3)");
    close_conn(c);
}

/* rowids: an execute-many INSERT reports each set's rowid, read right
 * after that set ran; commit: the request commits after its statements,
 * and not when one fails. */
TEST(rowids_and_commit_in_one_request)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    must(c, "CREATE TABLE hero (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    must(c, "INSERT INTO hero (id, name) VALUES (10, 'ten')");
    calx_value names[] = { calx_text("a"), calx_text("b"), calx_text("c") };
    calx_dstmt st = { .sql = "INSERT INTO hero (name) VALUES (?)",
                      .nparams = 1, .nsets = 3, .params = names, .rowids = true };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st, .begin = true,
                      .commit = true };
    calx_rowset *rs = NULL;
    calx_error err;
    CHECK_OK(request(c, &req, &rs, &err), &err);
    CHECK(rs && rs->ncols == 1 && rs->nrows == 3 && rs->rowcount == 3);
    if (rs && rs->nrows == 3) {
        CHECK_INT(rs->vals[0].u.i, 11);
        CHECK_INT(rs->vals[1].u.i, 12);
        CHECK_INT(rs->vals[2].u.i, 13);
    }
    calx__rowset_free(rs);
    /* Committed: a ROLLBACK now has nothing to undo. */
    calx_dreq rb = { .op = CALX_DOP_ROLLBACK };
    CHECK_OK(request(c, &rb, &rs, &err), &err);
    CHECK_INT(scalar(c, "SELECT count(*) FROM hero"), 4);

    /* A failing set: nothing is committed, and the transaction is left for
     * the caller's rollback. */
    calx_value bad[] = { calx_text("d"), calx_null() };
    st.nsets = 2;
    st.params = bad;
    CHECK_INT(request(c, &req, &rs, &err), CALX_ERR_INTEGRITY);
    CHECK_OK(request(c, &rb, &rs, &err), &err);
    CHECK_INT(scalar(c, "SELECT count(*) FROM hero"), 4);
    close_conn(c);
}

TEST(batch_and_error_index)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    must(c, "CREATE TABLE hero (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    calx_value one = calx_text("a");
    calx_value many[] = { calx_text("b"), calx_text("c"), calx_text("d") };
    calx_dstmt stmts[] = {
        { .sql = "INSERT INTO hero (name) VALUES (?)", .nparams = 1, .nsets = 1, .params = &one },
        { .sql = "INSERT INTO hero (name) VALUES (?)", .nparams = 1, .nsets = 3, .params = many },
        { .sql = "SELECT name FROM hero ORDER BY id", .nparams = 0, .nsets = 1 },
    };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 3, .stmts = stmts };
    calx_rowset *rs = NULL;
    calx_error err;
    CHECK_OK(request(c, &req, &rs, &err), &err);
    calx_rowset *r = rs;
    CHECK(r && r->rowcount == 1 && r->lastrowid == 1);
    r = r ? r->next : NULL;
    CHECK(r && r->rowcount == 3 && r->lastrowid == 4);
    r = r ? r->next : NULL;
    CHECK(r && r->rowcount == -1 && r->nrows == 4 && r->next == NULL);
    if (r && r->nrows == 4)
        CHECK_STR(r->vals[3].u.s.ptr, "d");
    calx__rowset_free(rs);

    /* The second statement fails: the third does not run, the error says
     * which one. */
    calx_value null = calx_null();
    stmts[1].nsets = 1;
    stmts[1].params = &null;
    stmts[2].sql = "INSERT INTO hero (name) VALUES ('never')";
    CHECK_INT(request(c, &req, &rs, &err), CALX_ERR_INTEGRITY);
    CHECK(rs == NULL);
    CHECK_STR(err.message, "NOT NULL constraint failed: hero.name (statement 2 of 3)");
    CHECK_INT(err.driver_code, SQLITE_CONSTRAINT_NOTNULL);
    CHECK_INT(scalar(c, "SELECT count(*) FROM hero WHERE name = 'never'"), 0);
    CHECK_INT(scalar(c, "SELECT count(*) FROM hero"), 5);

    /* An empty statement yields an empty rowset. */
    CHECK_OK(exec_p(c, "  -- nothing here\n", NULL, 0, &rs, &err), &err);
    CHECK(rs && rs->ncols == 0 && rs->nrows == 0);
    calx__rowset_free(rs);

    /* BUSY while a request is out, and the callback only after the call. */
    req_wait w1, w2;
    CHECK_INT(submit(c, &req, &w1), 0);
    CHECK_INT(submit(c, &req, &w2), CALX_ERR_BUSY);
    run_loop();
    CHECK_INT(w1.done, 1);
    CHECK_INT(w2.done, 0);
    calx__rowset_free(w1.rs);
    close_conn(c);
}

TEST(error_classes)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    must(c, "CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
    must(c, "CREATE TABLE hero (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "age INTEGER CHECK (age >= 0), team_id INTEGER REFERENCES team (id))");
    must(c, "INSERT INTO team (name) VALUES ('Preventers')");
    calx_error err;

    CHECK_INT(exec(c, "INSERT INTO hero (name) VALUES (NULL)", &err), CALX_ERR_INTEGRITY);
    CHECK_STR(err.message, "NOT NULL constraint failed: hero.name");
    CHECK_INT(err.driver_code, SQLITE_CONSTRAINT_NOTNULL);

    CHECK_INT(exec(c, "INSERT INTO team (name) VALUES ('Preventers')", &err), CALX_ERR_INTEGRITY);
    CHECK_STR(err.message, "UNIQUE constraint failed: team.name");
    CHECK_INT(err.driver_code, SQLITE_CONSTRAINT_UNIQUE);

    /* foreign_keys is on by default */
    CHECK_INT(exec(c, "INSERT INTO hero (name, team_id) VALUES ('x', 99)", &err),
              CALX_ERR_INTEGRITY);
    CHECK_STR(err.message, "FOREIGN KEY constraint failed");
    CHECK_INT(err.driver_code, SQLITE_CONSTRAINT_FOREIGNKEY);

    CHECK_INT(exec(c, "INSERT INTO hero (name, age) VALUES ('x', -1)", &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "CHECK constraint failed");

    /* As Python's sqlite3 classes them: OperationalError. */
    CHECK_INT(exec(c, "SELEC 1", &err), CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, "syntax error");
    CHECK_INT(err.driver_code, SQLITE_ERROR);
    CHECK_INT(exec(c, "SELECT * FROM nope", &err), CALX_ERR_OPERATIONAL);
    CHECK_STR(err.message, "no such table: nope");

    calx_value p = calx_int(1);
    CHECK_INT(exec_p(c, "SELECT ?, ?", &p, 1, NULL, &err), CALX_ERR_PROGRAMMING);
    CHECK_CONTAINS(err.message, "uses 2, and there are 1 supplied");
    CHECK_INT(exec(c, "SELECT 1; SELECT 2", &err), CALX_ERR_PROGRAMMING);
    CHECK_CONTAINS(err.message, "one SQL statement");
    CHECK_OK(exec(c, "SELECT 1; -- trailing comment", &err), &err);

    /* Still usable after errors. */
    CHECK_INT(scalar(c, "SELECT count(*) FROM team"), 1);
    close_conn(c);
}

TEST(transactions_lazy_begin_commit_rollback)
{
    char *path = path_in_tmp(0, "tx.db");
    calx_url_param wal[] = { { "journal_mode", "wal" } };
    calx_url u = make_url(path, wal, 1);
    calx_dconn *a = connect_url(&u);
    calx_dconn *b = connect_url(&u);
    calx_kv quick[] = { { "busy_timeout", "50" } };
    calx_error err;
    calx_dconn *q = connect_ex(&u, quick, 1, NULL, &err, NULL);
    CHECK(q != NULL);
    if (!a || !b || !q)
        goto out;
    must(a, "CREATE TABLE t (x)");

    /* BEGIN then COMMIT with nothing between: no transaction ever started,
     * so no COMMIT is sent ("no transaction is active" otherwise). */
    CHECK_OK(op(a, CALX_DOP_BEGIN, &err), &err);
    CHECK_OK(op(a, CALX_DOP_COMMIT, &err), &err);
    CHECK_OK(op(a, CALX_DOP_BEGIN, &err), &err);
    CHECK_OK(op(a, CALX_DOP_ROLLBACK, &err), &err);

    /* A read-first transaction is deferred: it holds a snapshot but not
     * the write lock, so b still writes. */
    CHECK_OK(op(a, CALX_DOP_BEGIN, &err), &err);
    CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 0);
    must(b, "INSERT INTO t VALUES (1)");
    CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 0);  /* a's snapshot */
    CHECK_OK(op(a, CALX_DOP_COMMIT, &err), &err);
    CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 1);

    /* A write-first transaction begins IMMEDIATE: the write lock is held
     * from its first statement, so another writer waits and, with a short
     * busy_timeout, gives up. */
    CHECK_OK(op(a, CALX_DOP_BEGIN, &err), &err);
    must(a, "INSERT INTO t VALUES (2)");
    CHECK_INT(exec(q, "INSERT INTO t VALUES (3)", &err), CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, "database is locked");
    CHECK_INT(err.driver_code & 0xff, SQLITE_BUSY);
    CHECK_OK(op(a, CALX_DOP_COMMIT, &err), &err);
    CHECK_INT(scalar(q, "SELECT count(*) FROM t"), 2);

    /* Rollback discards. */
    CHECK_OK(op(a, CALX_DOP_BEGIN, &err), &err);
    must(a, "INSERT INTO t VALUES (4)");
    must(a, "DELETE FROM t WHERE x = 1");
    CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 2);
    CHECK_OK(op(a, CALX_DOP_ROLLBACK, &err), &err);
    CHECK_INT(scalar(a, "SELECT count(*) FROM t WHERE x IN (1, 2)"), 2);
    CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 2);

    /* begin carried by the EXEC itself: the same lazy BEGIN, one handoff. */
    calx_dstmt st7 = { .sql = "INSERT INTO t VALUES (7)", .nparams = 0, .nsets = 1 };
    calx_dreq breq = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st7, .begin = true };
    CHECK_OK(request(a, &breq, NULL, &err), &err);
    CHECK_INT(exec(q, "INSERT INTO t VALUES (8)", &err), CALX_ERR_OPERATIONAL);
    CHECK_OK(op(a, CALX_DOP_ROLLBACK, &err), &err);
    CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 2);

    /* A SAVEPOINT first still sits inside the transaction: releasing it
     * does not commit. */
    CHECK_OK(op(a, CALX_DOP_BEGIN, &err), &err);
    must(a, "SAVEPOINT sp");
    must(a, "INSERT INTO t VALUES (5)");
    must(a, "RELEASE sp");
    CHECK_OK(op(a, CALX_DOP_ROLLBACK, &err), &err);
    CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 2);

    /* An error inside a transaction leaves the connection usable. */
    CHECK_OK(op(a, CALX_DOP_BEGIN, &err), &err);
    must(a, "INSERT INTO t VALUES (6)");
    CHECK_INT(exec(a, "INSERT INTO nope VALUES (1)", &err), CALX_ERR_OPERATIONAL);
    CHECK_OK(op(a, CALX_DOP_ROLLBACK, &err), &err);
    CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 2);
out:
    close_conn(a);
    close_conn(b);
    close_conn(q);
}

typedef struct commit_later {
    calx_dconn *conn;
    req_wait *w;
    calx_dreq *req;
    bool other_done_early;
    req_wait *other;
} commit_later;

static void on_commit_timer(uv_timer_t *t)
{
    commit_later *cl = t->data;
    cl->other_done_early = cl->other->done != 0;
    CHECK_INT(submit(cl->conn, cl->req, cl->w), 0);
}

TEST(two_writers_in_wal_both_succeed)
{
    char *path = path_in_tmp(0, "writers.db");
    calx_url_param wal[] = { { "journal_mode", "wal" } };
    calx_url u = make_url(path, wal, 1);
    calx_dconn *a = connect_url(&u);
    calx_dconn *b = connect_url(&u);
    calx_error err;
    if (!a || !b)
        goto out;
    must(a, "CREATE TABLE t (x)");
    CHECK_OK(op(a, CALX_DOP_BEGIN, &err), &err);
    CHECK_OK(op(b, CALX_DOP_BEGIN, &err), &err);
    must(a, "INSERT INTO t VALUES (1)");

    /* b's write waits on a's lock (busy_timeout) rather than failing; a
     * commits 100 ms later from a timer, and b goes through. */
    calx_dstmt ins = { .sql = "INSERT INTO t VALUES (2)", .nparams = 0, .nsets = 1 };
    calx_dreq breq = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &ins };
    calx_dreq commit = { .op = CALX_DOP_COMMIT };
    req_wait bw, aw;
    memset(&aw, 0, sizeof aw);
    CHECK_INT(submit(b, &breq, &bw), 0);
    commit_later cl = { a, &aw, &commit, false, &bw };
    uv_timer_t timer;
    uv_timer_init(calx_loop_uv(loop), &timer);
    timer.data = &cl;
    uv_timer_start(&timer, on_commit_timer, 100, 0);
    run_loop();
    CHECK(!cl.other_done_early);
    CHECK_INT(aw.done, 1);
    CHECK_INT(aw.err.code, 0);
    CHECK_INT(bw.done, 1);
    if (bw.err.code)
        fprintf(stderr, "  b: %s\n", bw.err.message);
    CHECK_INT(bw.err.code, 0);
    calx__rowset_free(bw.rs);
    uv_close((uv_handle_t *)&timer, NULL);
    run_loop();
    CHECK_OK(op(b, CALX_DOP_COMMIT, &err), &err);
    CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 2);
out:
    close_conn(a);
    close_conn(b);
}

TEST(isolation_levels)
{
    calx_url u = make_url(NULL, NULL, 0);
    calx_error err;
    bool sync;

    calx_dconn *c = connect_ex(&u, NULL, 0, "AUTOCOMMIT", &err, NULL);
    CHECK(c != NULL);
    if (c) {
        must(c, "CREATE TABLE t (x)");
        CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
        must(c, "INSERT INTO t VALUES (1)");
        CHECK_OK(op(c, CALX_DOP_ROLLBACK, &err), &err);
        CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 1);  /* committed by itself */
        close_conn(c);
    }

    c = connect_ex(&u, NULL, 0, "READ UNCOMMITTED", &err, NULL);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(scalar(c, "PRAGMA read_uncommitted"), 1);
        close_conn(c);
    }
    c = connect_ex(&u, NULL, 0, "SERIALIZABLE", &err, NULL);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(scalar(c, "PRAGMA read_uncommitted"), 0);
        close_conn(c);
    }

    c = connect_ex(&u, NULL, 0, "REPEATABLE READ", &err, &sync);
    CHECK(c == NULL);
    CHECK(sync);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "'REPEATABLE READ'");
    CHECK_CONTAINS(err.message, "SERIALIZABLE, READ UNCOMMITTED or AUTOCOMMIT");
}

static int stream_count(calx_dconn *c, calx_rowset *first, size_t chunk, int64_t *expect,
                        int *nchunks)
{
    int total = 0;
    calx_rowset *rs = first;
    calx_dreq fetch = { .op = CALX_DOP_FETCH, .stream_rows = chunk };
    calx_error err;
    *nchunks = 0;
    while (rs) {
        (*nchunks)++;
        CHECK(rs->nrows <= chunk);
        CHECK_INT(rs->ncols, 1);
        CHECK_STR(rs->colnames[0], "i");
        for (size_t i = 0; i < rs->nrows; i++) {
            if (rs->vals[i].u.i != *expect)
                test_failed_now = 1;
            (*expect)++;
        }
        total += (int)rs->nrows;
        bool more = rs->more;
        calx__rowset_free(rs);
        rs = NULL;
        if (more)
            CHECK_OK(request(c, &fetch, &rs, &err), &err);
    }
    return total;
}

TEST(streaming)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    enum { N = 10007 };
    must(c, "CREATE TABLE n (i INTEGER)");
    calx_value *vals = malloc(N * sizeof *vals);
    for (int i = 0; i < N; i++)
        vals[i] = calx_int(i + 1);
    calx_dstmt ins = { .sql = "INSERT INTO n VALUES (?)",
                       .nparams = 1, .nsets = N, .params = vals };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &ins };
    calx_error err;
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    calx_rowset *rs = NULL;
    CHECK_OK(request(c, &req, &rs, &err), &err);
    CHECK_INT(rs ? rs->rowcount : -5, N);
    calx__rowset_free(rs);
    CHECK_OK(op(c, CALX_DOP_COMMIT, &err), &err);
    free(vals);

    /* All of it in chunks of 1000, in order. A bound text value lives in
     * memory freed after the first callback: the open statement must not
     * depend on it. */
    char *tag = strdup("x");
    calx_value params[] = { calx_int(0), calx_text(tag) };
    calx_dstmt sel = { .sql = "SELECT i FROM n WHERE i > ? AND ? = 'x' ORDER BY i",
                       .nparams = 2, .nsets = 1, .params = params };
    calx_dreq sreq = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &sel, .stream_rows = 1000 };
    CHECK_OK(request(c, &sreq, &rs, &err), &err);
    memset(tag, 'y', 1);
    free(tag);
    CHECK(rs && rs->nrows == 1000 && rs->more);
    int64_t expect = 1;
    int nchunks;
    CHECK_INT(stream_count(c, rs, 1000, &expect, &nchunks), N);
    CHECK_INT(nchunks, 11);
    calx_dreq fetch = { .op = CALX_DOP_FETCH, .stream_rows = 1000 };
    CHECK_INT(request(c, &fetch, &rs, &err), CALX_ERR_STATE);

    /* A stream whose length is a multiple of the chunk: the last full
     * chunk already says there is no more. */
    calx_dstmt sel2 = { .sql = "SELECT i FROM n ORDER BY i LIMIT 2000", .nparams = 0, .nsets = 1 };
    calx_dreq sreq2 = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &sel2, .stream_rows = 1000 };
    CHECK_OK(request(c, &sreq2, &rs, &err), &err);
    expect = 1;
    CHECK_INT(stream_count(c, rs, 1000, &expect, &nchunks), 2000);
    CHECK_INT(nchunks, 2);

    /* Closing midway. */
    CHECK_OK(request(c, &sreq2, &rs, &err), &err);
    CHECK(rs && rs->more);
    calx__rowset_free(rs);
    CHECK_OK(request(c, &fetch, &rs, &err), &err);
    CHECK(rs && rs->nrows == 1000 && rs->vals[0].u.i == 1001);
    calx__rowset_free(rs);
    calx_dreq close_cur = { .op = CALX_DOP_CLOSE_CURSOR };
    CHECK_OK(request(c, &close_cur, &rs, &err), &err);
    CHECK(rs == NULL);
    CHECK_INT(request(c, &fetch, &rs, &err), CALX_ERR_STATE);
    CHECK_OK(request(c, &close_cur, &rs, &err), &err);  /* nothing open: fine */

    /* Another request closes an open stream implicitly. */
    CHECK_OK(request(c, &sreq2, &rs, &err), &err);
    calx__rowset_free(rs);
    CHECK_INT(scalar(c, "SELECT count(*) FROM n"), N);
    CHECK_INT(request(c, &fetch, &rs, &err), CALX_ERR_STATE);

    /* Writes are never left half-run: stream_rows does not apply. */
    calx_dstmt upd = { .sql = "UPDATE n SET i = i RETURNING i", .nparams = 0, .nsets = 1 };
    calx_dreq ureq = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &upd, .stream_rows = 100 };
    CHECK_OK(request(c, &ureq, &rs, &err), &err);
    CHECK(rs && rs->nrows == N && !rs->more && rs->rowcount == N);
    calx__rowset_free(rs);

    /* Closing the connection with a stream open. */
    CHECK_OK(request(c, &sreq2, &rs, &err), &err);
    calx__rowset_free(rs);
    close_conn(c);
}

TEST(pragmas_from_url_and_connect_args)
{
    char *path = path_in_tmp(0, "pragmas.db");
    calx_url_param q[] = {
        { "journal_mode", "wal" }, { "synchronous", "NORMAL" }, { "cache_size", "-1000" },
        { "check_same_thread", "false" }, { "uri", "true" },
    };
    calx_url u = make_url(path, q, 5);
    calx_kv args[] = { { "cache_size", "-4000" }, { "busy_timeout", "1234" } };
    calx_error err;
    char buf[64];
    calx_dconn *c = connect_ex(&u, args, 2, NULL, &err, NULL);
    CHECK(c != NULL);
    if (c) {
        CHECK_STR(scalar_text(c, "PRAGMA journal_mode", buf, sizeof buf), "wal");
        CHECK_INT(scalar(c, "PRAGMA synchronous"), 1);
        CHECK_INT(scalar(c, "PRAGMA cache_size"), -4000);
        CHECK_INT(scalar(c, "PRAGMA busy_timeout"), 1234);
        CHECK_INT(scalar(c, "PRAGMA foreign_keys"), 1);
        close_conn(c);
    }

    /* timeout in seconds as Python takes it; foreign_keys can be turned off. */
    calx_url_param q2[] = { { "timeout", "2.5" }, { "foreign_keys", "off" } };
    u = make_url(path, q2, 2);
    c = connect_ex(&u, NULL, 0, NULL, &err, NULL);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(scalar(c, "PRAGMA busy_timeout"), 2500);
        CHECK_INT(scalar(c, "PRAGMA foreign_keys"), 0);
        close_conn(c);
    }

    /* Pragma names are case-insensitive; cache is SQLite's URI option. */
    calx_kv mixed[] = { { "SYNCHRONOUS", "OFF" }, { "cache", "shared" } };
    u = make_url(path, NULL, 0);
    c = connect_ex(&u, mixed, 2, NULL, &err, NULL);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(scalar(c, "PRAGMA synchronous"), 0);
        close_conn(c);
    }

    /* A typo is refused, not silently ignored as SQLite would. */
    bool sync;
    calx_kv typo[] = { { "jurnal_mode", "wal" } };
    u = make_url(path, NULL, 0);
    c = connect_ex(&u, typo, 1, NULL, &err, &sync);
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "unknown SQLite pragma 'jurnal_mode' (from the URL or connect_args); "
                           "did you mean 'journal_mode'?");
    CHECK(!sync); /* known only to SQLite: checked on the worker */

    calx_kv evil[] = { { "journal_mode", "wal; DROP TABLE x" } };
    c = connect_ex(&u, evil, 1, NULL, &err, &sync);
    CHECK(c == NULL);
    CHECK(sync);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "invalid value 'wal; DROP TABLE x' for pragma 'journal_mode'");

    calx_kv badkey[] = { { "journal mode", "wal" } };
    c = connect_ex(&u, badkey, 1, NULL, &err, &sync);
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "unknown SQLite pragma 'journal mode'");

    calx_url_param badmode[] = { { "mode", "rwx" } };
    u = make_url(path, badmode, 1);
    c = connect_ex(&u, NULL, 0, NULL, &err, &sync);
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "'rwx' for mode");

    calx_kv badtimeout[] = { { "timeout", "soon" } };
    u = make_url(path, NULL, 0);
    c = connect_ex(&u, badtimeout, 1, NULL, &err, &sync);
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "timeout");
}

TEST(open_modes_and_failures)
{
    char *path = path_in_tmp(0, "ro.db");
    calx_dconn *w = connect_file(path);
    if (w) {
        must(w, "CREATE TABLE t (x)");
        must(w, "INSERT INTO t VALUES (1)");
        close_conn(w);
    }
    calx_error err;
    calx_url_param ro[] = { { "mode", "ro" } };
    calx_url u = make_url(path, ro, 1);
    calx_dconn *c = connect_url(&u);
    if (c) {
        CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 1);
        CHECK_INT(exec(c, "INSERT INTO t VALUES (2)", &err), CALX_ERR_OPERATIONAL);
        CHECK_CONTAINS(err.message, "readonly database");
        CHECK_INT(err.driver_code & 0xff, SQLITE_READONLY);
        close_conn(c);
    }

    /* mode in connect_args overrides the URL's. */
    calx_kv rw[] = { { "mode", "rw" } };
    c = connect_ex(&u, rw, 1, NULL, &err, NULL);
    CHECK(c != NULL);
    if (c) {
        must(c, "INSERT INTO t VALUES (2)");
        close_conn(c);
    }

    char *missing = path_in_tmp(1, "missing.db");
    u = make_url(missing, ro, 1);
    c = connect_ex(&u, NULL, 0, NULL, &err, NULL);
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, missing);
    CHECK_CONTAINS(err.message, "unable to open database file");
    CHECK_INT(err.driver_code & 0xff, SQLITE_CANTOPEN);
    struct stat st;
    CHECK(stat(missing, &st) != 0);

    calx_url_param rwonly[] = { { "mode", "rw" } };
    u = make_url(missing, rwonly, 1);
    c = connect_ex(&u, NULL, 0, NULL, &err, NULL);
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_OPERATIONAL);

    char *nodir = path_in_tmp(2, "no/such/dir/x.db");
    u = make_url(nodir, NULL, 0);
    c = connect_ex(&u, NULL, 0, NULL, &err, NULL);
    CHECK(c == NULL);
    CHECK_INT(err.code, CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, nodir);
}

TEST(ping_and_stale_file)
{
    char *path = path_in_tmp(0, "ping.db");
    calx_error err;
    calx_dconn *c = connect_file(path);
    calx_dconn *m = connect_memory();
    if (!c || !m)
        goto out;
    must(c, "CREATE TABLE t (x)");
    CHECK_OK(op(c, CALX_DOP_PING, &err), &err);
    CHECK_OK(op(m, CALX_DOP_PING, &err), &err);
    CHECK(drv->alive(c));

    CHECK_INT(unlink(path), 0);
    CHECK_INT(op(c, CALX_DOP_PING, &err), CALX_ERR_DISCONNECT);
    CHECK_CONTAINS(err.message, "was removed or replaced since the connection opened");
    CHECK_CONTAINS(err.message, path);
    CHECK(!drv->alive(c));
    CHECK(drv->alive(m));
    close_conn(c);

    /* Replaced by another file of the same name. */
    c = connect_file(path);
    char *other = path_in_tmp(1, "ping-other.db");
    calx_dconn *o = connect_file(other);
    if (c && o) {
        must(o, "CREATE TABLE u (y)");
        CHECK_OK(op(c, CALX_DOP_PING, &err), &err);
        CHECK_INT(rename(other, path), 0);
        CHECK_INT(op(c, CALX_DOP_PING, &err), CALX_ERR_DISCONNECT);
        CHECK(!drv->alive(c));
    }
    close_conn(o);
out:
    close_conn(c);
    close_conn(m);
}

typedef struct ticker {
    calx_dconn *conn;
    req_wait *w;
    int ticks;
    int ticks_while_running;
} ticker;

static void on_tick(uv_timer_t *t)
{
    ticker *tk = t->data;
    tk->ticks++;
    if (!tk->w->done)
        tk->ticks_while_running++;
    if (tk->ticks == 5) {
        drv->interrupt(tk->conn);
        uv_timer_stop(t);
    }
}

/* Runs the loop until the request is done while cb ticks every ms
 * milliseconds (with data), then closes the timer. */
static void run_loop_ticking(uv_timer_cb cb, void *data, uint64_t ms)
{
    uv_timer_t timer;
    uv_timer_init(calx_loop_uv(loop), &timer);
    timer.data = data;
    uv_timer_start(&timer, cb, ms, ms);
    run_loop();
    uv_close((uv_handle_t *)&timer, NULL);
    run_loop();
}

TEST(interrupt_and_loop_not_blocked)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    calx_dstmt st = { .sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                      "WHERE x < 1000000000) SELECT count(*) FROM c",
                      .nparams = 0, .nsets = 1 };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st };
    req_wait w;
    CHECK_INT(submit(c, &req, &w), 0);
    /* The loop keeps turning while the worker counts: a timer ticks every
     * 20 ms, and the fifth tick interrupts. */
    ticker tk = { c, &w, 0, 0 };
    run_loop_ticking(on_tick, &tk, 20);
    CHECK_INT(tk.ticks, 5);
    CHECK_INT(tk.ticks_while_running, 5);
    CHECK_INT(w.done, 1);
    CHECK(w.rs == NULL);
    CHECK_INT(w.err.code, CALX_ERR_CANCELED);
    CHECK_INT(w.err.driver_code, SQLITE_INTERRUPT);

    /* Usable afterwards, and an old interrupt does not leak into it. */
    CHECK_INT(scalar(c, "SELECT 41 + 1"), 42);
    drv->interrupt(c);  /* nothing running: no effect */
    CHECK_INT(scalar(c, "SELECT 7"), 7);

    /* Interrupted inside a transaction: rollback still works. */
    calx_error err;
    must(c, "CREATE TABLE t (x)");
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "INSERT INTO t VALUES (1)");
    CHECK_INT(submit(c, &req, &w), 0);
    drv->interrupt(c);  /* before the worker even starts */
    run_loop();
    CHECK_INT(w.err.code, CALX_ERR_CANCELED);
    CHECK_OK(op(c, CALX_DOP_ROLLBACK, &err), &err);
    CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 0);
    close_conn(c);
}

/* ---- transactions SQLite ends by itself ---- */

/* After SQLite has ended the transaction c had open: the next statement,
 * a batch that would commit, and the COMMIT all fail saying why, with
 * PostgreSQL's SQLSTATE for an aborted transaction; ROLLBACK clears the
 * state and nothing of the transaction is left in table t. */
static void check_lost_transaction(calx_dconn *c, const char *why)
{
    calx_error err;
    CHECK_INT(exec(c, "INSERT INTO t VALUES ('B')", &err), CALX_ERR_INTERNAL);
    CHECK_CONTAINS(err.message, "the transaction was rolled back when");
    CHECK_CONTAINS(err.message, why);
    CHECK_STR(err.sqlstate, "25P02");

    calx_dstmt st = { .sql = "INSERT INTO t VALUES ('C')", .nparams = 0, .nsets = 1 };
    calx_dreq flush = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st, .commit = true };
    CHECK_INT(request(c, &flush, NULL, &err), CALX_ERR_INTERNAL);
    CHECK_INT(op(c, CALX_DOP_COMMIT, &err), CALX_ERR_INTERNAL);
    CHECK_CONTAINS(err.message, "the transaction was rolled back when");
    /* A savepoint died with the transaction. */
    CHECK_INT(exec(c, "ROLLBACK TO SAVEPOINT sp", &err), CALX_ERR_INTERNAL);

    CHECK_OK(op(c, CALX_DOP_ROLLBACK, &err), &err);
    CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 0);

    /* The connection is whole again: a new transaction commits. */
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "INSERT INTO t VALUES ('D')");
    CHECK_OK(op(c, CALX_DOP_COMMIT, &err), &err);
    CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 1);
    must(c, "DELETE FROM t");
}

/* Interrupts a request once the database file or its write-ahead log has
 * grown past size bytes: the write is then surely running inside SQLite,
 * not still queued. */
typedef struct grow_watch {
    calx_dconn *conn;
    req_wait *w;
    const char *path;
    long long size;
    bool fired;
} grow_watch;

static long long file_size(const char *path, const char *suffix)
{
    char name[700];
    struct stat st;
    snprintf(name, sizeof name, "%s%s", path, suffix);
    return stat(name, &st) == 0 ? (long long)st.st_size : 0;
}

static void on_grow_tick(uv_timer_t *t)
{
    grow_watch *g = t->data;
    if (!g->w->done && file_size(g->path, "") + file_size(g->path, "-wal") > g->size) {
        drv->interrupt(g->conn);
        g->fired = true;
    }
    if (g->fired || g->w->done)
        uv_timer_stop(t);
}

TEST(an_interrupted_write_ends_the_transaction_and_every_later_statement_fails)
{
    char *path = path_in_tmp(0, "lost_interrupt.db");
    calx_url_param small_cache[] = { { "cache_size", "10" } };
    calx_url u = make_url(path, small_cache, 1);
    calx_dconn *c = connect_url(&u);
    calx_error err;
    if (!c)
        return;
    must(c, "CREATE TABLE t (x)");
    must(c, "CREATE TABLE big (x)");

    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "SAVEPOINT sp");
    must(c, "INSERT INTO t VALUES ('A')");
    calx_dstmt long_write = { .sql = "INSERT INTO big SELECT randomblob(1000) FROM (WITH RECURSIVE "
                              "c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < "
                              "1000000000) SELECT x FROM c)",
                              .nparams = 0, .nsets = 1 };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &long_write };
    req_wait w;
    CHECK_INT(submit(c, &req, &w), 0);
    grow_watch g = { c, &w, path, file_size(path, "") + file_size(path, "-wal") + 65536, false };
    run_loop_ticking(on_grow_tick, &g, 5);
    CHECK(g.fired);
    CHECK_INT(w.err.code, CALX_ERR_CANCELED);
    CHECK_CONTAINS(w.err.message, "the whole transaction was rolled back");

    check_lost_transaction(c, "interrupted");
    CHECK_INT(scalar(c, "SELECT count(*) FROM big"), 0);
    close_conn(c);
}

TEST(a_full_disk_that_ends_the_transaction_fails_every_later_statement_until_rollback)
{
    fault_vfs_install();
    char *path = path_in_tmp(0, "lost_full.db");
    /* The rollback journal, where what SQLite does at each fill level is
     * known exactly; WAL, calx's default, is the next test. */
    calx_url_param small_cache[] = { { "cache_size", "5" }, { "journal_mode", "delete" } };
    calx_url u = make_url(path, small_cache, 2);
    calx_dconn *c = connect_url(&u);
    calx_error err;
    if (!c) {
        fault_vfs_uninstall();
        return;
    }
    must(c, "CREATE TABLE t (x)");
    must(c, "CREATE TABLE big (x)");
    const char *fill = "INSERT INTO big SELECT randomblob(1000) FROM (WITH RECURSIVE c(x) AS "
                       "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) SELECT x FROM c)";

    /* The disk fills before SQLite has written to the database file: it
     * undoes only the statement, and the transaction goes on whole. */
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "INSERT INTO t VALUES ('A')");
    fault_vfs_arm(0);
    CHECK_INT(exec(c, fill, &err), CALX_ERR_OPERATIONAL);
    fault_vfs_disarm();
    CHECK_CONTAINS(err.message, "database or disk is full");
    must(c, "INSERT INTO t VALUES ('B')");
    CHECK_OK(op(c, CALX_DOP_COMMIT, &err), &err);
    CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 2);
    must(c, "DELETE FROM t");

    /* It fills after the page cache spilled into the file: SQLite rolls
     * the whole transaction back. */
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "SAVEPOINT sp");
    must(c, "INSERT INTO t VALUES ('A')");
    fault_vfs_arm(50000);
    CHECK_INT(exec(c, fill, &err), CALX_ERR_OPERATIONAL);
    fault_vfs_disarm();
    CHECK_CONTAINS(err.message, "database or disk is full");
    CHECK_CONTAINS(err.message, "the whole transaction was rolled back");
    check_lost_transaction(c, "database or disk is full");
    close_conn(c);
    fault_vfs_uninstall();
}

TEST(a_full_disk_in_wal_mode_leaves_each_transaction_all_or_nothing)
{
    fault_vfs_install();
    char *path = path_in_tmp(0, "full_wal.db");
    calx_url_param small_cache[] = { { "cache_size", "5" } };
    calx_url u = make_url(path, small_cache, 1);
    calx_dconn *c = connect_url(&u);
    calx_error err;
    if (!c) {
        fault_vfs_uninstall();
        return;
    }
    char buf[32];
    CHECK_STR(scalar_text(c, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    must(c, "CREATE TABLE t (x)");
    must(c, "CREATE TABLE big (x)");
    const char *fill = "INSERT INTO big SELECT randomblob(1000) FROM (WITH RECURSIVE c(x) AS "
                       "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) SELECT x FROM c)";
    long long budgets[] = { 0, 4096, 50000, 500000 };
    for (size_t i = 0; i < sizeof budgets / sizeof *budgets; i++) {
        CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
        must(c, "INSERT INTO t VALUES ('A')");
        fault_vfs_arm(budgets[i]);
        CHECK_INT(exec(c, fill, &err), CALX_ERR_OPERATIONAL);
        fault_vfs_disarm();
        exec(c, "INSERT INTO t VALUES ('B')", &err);
        /* Whatever SQLite undid: both rows, or neither. */
        if (op(c, CALX_DOP_COMMIT, &err) == 0) {
            CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 2);
        } else {
            CHECK_OK(op(c, CALX_DOP_ROLLBACK, &err), &err);
            CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 0);
        }
        CHECK_INT(scalar(c, "SELECT count(*) FROM big"), 0);
        must(c, "DELETE FROM t");
    }
    close_conn(c);
    fault_vfs_uninstall();
}

TEST(on_conflict_rollback_ends_the_transaction_and_the_commit_fails)
{
    calx_dconn *c = connect_memory();
    calx_error err;
    if (!c)
        return;
    must(c, "CREATE TABLE t (x)");
    must(c, "CREATE TABLE u (k UNIQUE ON CONFLICT ROLLBACK)");
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "SAVEPOINT sp");
    must(c, "INSERT INTO t VALUES ('A')");
    must(c, "INSERT INTO u VALUES (1)");
    CHECK_INT(exec(c, "INSERT INTO u VALUES (1)", &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "UNIQUE constraint failed");
    CHECK_CONTAINS(err.message, "the whole transaction was rolled back");
    check_lost_transaction(c, "UNIQUE constraint failed: u.k");
    CHECK_INT(scalar(c, "SELECT count(*) FROM u"), 0);

    /* The first statement of a lazily begun transaction counts too, and
     * the program's own ROLLBACK text ends the state as the op does. */
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "INSERT INTO u VALUES (2)");
    must(c, "COMMIT");
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    CHECK_INT(exec(c, "INSERT INTO u VALUES (2)", &err), CALX_ERR_INTEGRITY);
    CHECK_INT(exec(c, "INSERT INTO t VALUES ('B')", &err), CALX_ERR_INTERNAL);
    must(c, "rollback transaction");
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "INSERT INTO t VALUES ('C')");
    CHECK_OK(op(c, CALX_DOP_COMMIT, &err), &err);
    CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 1);
    close_conn(c);
}

TEST(a_cancelled_read_inside_a_transaction_ends_it_as_on_postgresql)
{
    calx_dconn *c = connect_memory();
    calx_error err;
    if (!c)
        return;
    must(c, "CREATE TABLE t (x)");
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "INSERT INTO t VALUES ('A')");
    calx_dstmt st = { .sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                      "WHERE x < 1000000000) SELECT count(*) FROM c",
                      .nparams = 0, .nsets = 1 };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st };
    req_wait w;
    CHECK_INT(submit(c, &req, &w), 0);
    ticker tk = { c, &w, 0, 0 };
    run_loop_ticking(on_tick, &tk, 20);
    CHECK_INT(w.err.code, CALX_ERR_CANCELED);
    CHECK_CONTAINS(w.err.message, "the whole transaction was rolled back");
    check_lost_transaction(c, "interrupted");
    close_conn(c);
}

TEST(inline_reads_run_single_reads_on_the_loop_thread_and_nothing_else)
{
    const char *settings[] = { "true", "false" };
    for (int i = 0; i < 2; i++) {
        calx_url_param q[] = { { "inline_reads", (char *)settings[i] } };
        calx_url u = make_url(NULL, q, 1);
        calx_dconn *c = connect_url(&u);
        if (!c)
            return;
        calx_sqlite_stats before, after;
        must(c, "CREATE TABLE t (x)");
        calx__sqlite_conn_stats(c, &before);
        CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 0);
        must(c, "INSERT INTO t VALUES (1)");  /* a write: always the worker */
        calx__sqlite_conn_stats(c, &after);
        CHECK_INT(after.requests - before.requests, 2);
        CHECK_INT(after.inline_runs - before.inline_runs, i == 0 ? 1 : 0);
        close_conn(c);
    }
    calx_sqlite_stats none;
    calx__sqlite_conn_stats(NULL, &none);
    CHECK_INT(none.requests, 0);
}

TEST(close_with_transaction_open)
{
    char *path = path_in_tmp(0, "close.db");
    calx_dconn *c = connect_file(path);
    calx_error err;
    if (!c)
        return;
    must(c, "CREATE TABLE t (x)");
    CHECK_OK(op(c, CALX_DOP_BEGIN, &err), &err);
    must(c, "INSERT INTO t VALUES (1)");
    close_conn(c);  /* rolls back */
    c = connect_file(path);
    if (c) {
        CHECK_INT(scalar(c, "SELECT count(*) FROM t"), 0);
        close_conn(c);
    }
    /* Close straight after connect, and a connection never used. */
    c = connect_memory();
    close_conn(c);
}

TEST(statement_cache_many_statements)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    /* More distinct statements than the cache holds, twice over, with
     * repeats: evictions must not disturb results. */
    char sql[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 150; i++) {
            snprintf(sql, sizeof sql, "SELECT %d", i);
            if (scalar(c, sql) != i)
                CHECK(!"wrong value from a cached statement");
            if (scalar(c, "SELECT 1000") != 1000)
                CHECK(!"wrong value from the hot statement");
        }
    }
    close_conn(c);
}

/* The number of statements c prepared so far (statement-cache misses). */
static uint64_t prepares(calx_dconn *c)
{
    calx_sqlite_stats st;
    calx__sqlite_conn_stats(c, &st);
    return st.prepares;
}

TEST(a_full_statement_cache_evicts_the_least_recently_used_not_the_oldest)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    enum { N = CALX_SQLITE_CACHE_SIZE };
    char sql[64];
    /* Fill the cache: SELECT 0 is the oldest, SELECT 1 the next. */
    for (int i = 0; i < N; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        CHECK_INT(scalar(c, sql), i);
    }
    uint64_t p0 = prepares(c);
    CHECK_INT(scalar(c, "SELECT 0"), 0);  /* a hit: touched, so now the newest */
    CHECK_INT(prepares(c) - p0, 0);
    snprintf(sql, sizeof sql, "SELECT %d", N);
    CHECK_INT(scalar(c, sql), N);  /* one more: a miss, and one must go */
    CHECK_INT(prepares(c) - p0, 1);
    /* SELECT 0, the oldest but touched, stayed; SELECT 1, the least
     * recently used, went and is prepared again. */
    CHECK_INT(scalar(c, "SELECT 0"), 0);
    CHECK_INT(prepares(c) - p0, 1);
    CHECK_INT(scalar(c, "SELECT 1"), 1);
    CHECK_INT(prepares(c) - p0, 2);
    close_conn(c);
}

TEST(column_names_follow_a_schema_change_and_outlive_the_statement_leaving_the_cache)
{
    calx_dconn *c = connect_memory();
    if (!c)
        return;
    must(c, "CREATE TABLE t (a INTEGER, b TEXT)");
    must(c, "INSERT INTO t VALUES (1, 'x')");
    calx_error err;
    calx_rowset *first = NULL, *second = NULL, *renamed = NULL;
    CHECK_OK(exec_p(c, "SELECT * FROM t", NULL, 0, &first, &err), &err);
    CHECK_OK(exec_p(c, "SELECT * FROM t", NULL, 0, &second, &err), &err);
    /* The same cached statement again after a schema change: SQLite
     * prepares it anew, with the new names and one more column. */
    must(c, "ALTER TABLE t RENAME COLUMN b TO bee");
    must(c, "ALTER TABLE t ADD COLUMN c");
    CHECK_OK(exec_p(c, "SELECT * FROM t", NULL, 0, &renamed, &err), &err);
    /* Push every statement out of the cache, then close the connection:
     * the rowsets keep their names. */
    char sql[64];
    for (int i = 0; i < CALX_SQLITE_CACHE_SIZE + 1; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        CHECK_INT(scalar(c, sql), i);
    }
    close_conn(c);
    if (first && second && renamed) {
        CHECK_INT(first->ncols, 2);
        CHECK_STR(first->colnames[1], "b");
        CHECK_INT(second->ncols, 2);
        CHECK_STR(second->colnames[0], "a");
        CHECK_STR(second->colnames[1], "b");
        CHECK_INT(renamed->ncols, 3);
        CHECK_STR(renamed->colnames[0], "a");
        CHECK_STR(renamed->colnames[1], "bee");
        CHECK_STR(renamed->colnames[2], "c");
        CHECK_INT(renamed->nrows, 1);
        CHECK_STR(renamed->vals[1].u.s.ptr, "x");
    }
    calx__rowset_free(first);
    calx__rowset_free(second);
    calx__rowset_free(renamed);
}

TEST(rowset_arena)
{
    calx_rowset *rs = calx__rowset_new(2);
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK_INT(calx__rowset_set_colname(rs, 0, "a"), 0);
    CHECK_INT(calx__rowset_set_colname(rs, 1, "b"), 0);
    char *big = malloc(100000);
    memset(big, 'z', 100000);
    for (int i = 0; i < 1000; i++) {
        calx_value *row = calx__rowset_add_row(rs);
        CHECK(row != NULL);
        if (!row)
            break;
        CHECK(row[0].type == CALX_NULL && row[1].type == CALX_NULL);
        const char *s = calx__rowset_copy(rs, "hello", 5);
        row[0] = calx_textn(s, 5);
        if (i % 100 == 0) {
            const char *b = calx__rowset_copy(rs, big, 100000);
            row = rs->vals + (size_t)i * 2;
            row[1] = calx_blob(b, 100000);
        }
    }
    CHECK_INT(rs->nrows, 1000);
    CHECK_STR(rs->vals[999 * 2].u.s.ptr, "hello");
    CHECK(memcmp(rs->vals[900 * 2 + 1].u.s.ptr, big, 100000) == 0);
    CHECK_INT(rs->vals[900 * 2 + 1].u.s.ptr[100000], 0);
    calx__rowset_clear_rows(rs);
    CHECK_INT(rs->nrows, 0);
    CHECK_STR(rs->colnames[0], "a");
    CHECK_STR(rs->colnames[1], "b");
    calx_value *row = calx__rowset_add_row(rs);
    CHECK(row != NULL);
    CHECK_INT(rs->nrows, 1);
    CHECK(calx__rowset_copy(rs, NULL, 0) != NULL);
    rs->next = calx__rowset_new(0);
    CHECK(calx__rowset_add_row(rs->next) != NULL);
    calx__rowset_free(rs);
    calx__rowset_free(NULL);
    free(big);
}

/* A chunk given back to be filled again (calx__rowset_refill) keeps its
 * columns, the room its rows took and its newest block of bytes, and
 * reads its next rows right. */
TEST(a_refilled_rowset_keeps_its_room_and_reads_its_new_rows_right)
{
    calx_rowset *rs = calx__rowset_new(2);
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK_INT(calx__rowset_set_colname(rs, 0, "x"), 0);
    CHECK_INT(calx__rowset_set_colname(rs, 1, "label"), 0);
    char text[64];
    for (int round = 0; round < 3; round++) {
        if (round > 0) {
            const calx_value *room = rs->vals;
            const void *block = rs->arena;
            calx__rowset_refill(rs);
            CHECK_INT(rs->nrows, 0);
            CHECK(rs->vals == room);          /* the rows' memory, kept */
            CHECK(rs->arena == block);        /* the newest byte block, kept */
            CHECK_INT(rs->rowcount, -1);
            CHECK(!rs->more);
        }
        /* Enough rows and bytes for the rows to leave the own room and the
         * bytes to fill several blocks. */
        for (int i = 0; i < 2000; i++) {
            calx_value *row = calx__rowset_add_row(rs);
            CHECK(row != NULL);
            if (!row)
                break;
            int n = snprintf(text, sizeof text, "round %d row %d of the chunk", round, i);
            row[0] = calx_int(i);
            row[1] = calx_textn(calx__rowset_copy(rs, text, (size_t)n), (size_t)n);
        }
        rs->more = true;
        CHECK_INT(rs->nrows, 2000);
        CHECK_STR(rs->colnames[0], "x");
        CHECK_STR(rs->colnames[1], "label");
        int bad = 0;
        for (int i = 0; i < 2000; i++) {
            snprintf(text, sizeof text, "round %d row %d of the chunk", round, i);
            bad += rs->vals[2 * i].u.i != i || strcmp(rs->vals[2 * i + 1].u.s.ptr, text) != 0;
        }
        CHECK_INT(bad, 0);
    }
    calx__rowset_free(rs);
}

/* A merge moves the later rowsets' rows into the first; their text stays
 * in the arenas it was copied into (part of those rowsets' own blocks),
 * which must live as long as the merged rowset. */
TEST(merged_rows_keep_their_text_until_the_merged_rowset_is_freed)
{
    calx_rowset *rs = calx__rowset_new(1);
    CHECK(rs != NULL);
    if (!rs)
        return;
    calx_rowset **tail = &rs->next;
    for (int k = 0; k < 3; k++) {
        /* The last one is wider: it gives its rowcount and no rows. */
        calx_rowset *n = calx__rowset_new(k == 2 ? 2 : 1);
        CHECK(n != NULL);
        if (!n)
            break;
        n->rowcount = 1;
        *tail = n;
        tail = &n->next;
    }
    int i = 0;
    for (calx_rowset *r = rs; r; r = r->next)
        for (int k = 0; k < (r == rs ? 1 : 20); k++) {
            char text[32];
            snprintf(text, sizeof text, "row %d", i++);
            calx_value *row = calx__rowset_add_row(r);
            CHECK(row != NULL);
            if (row)
                row[0] = calx_text(calx__rowset_copy(r, text, strlen(text)));
        }
    CHECK_INT(calx__rowset_merge(rs), 0);
    CHECK(rs->next == NULL);
    CHECK_INT(rs->nrows, 41);
    CHECK_INT(rs->rowcount, 3);
    for (size_t k = 0; k < rs->nrows; k++) {
        char text[32];
        snprintf(text, sizeof text, "row %zu", k);
        CHECK_STR(rs->vals[k].u.s.ptr, text);
    }
    calx__rowset_free(rs);
}

/* The drivers tell statements and command tags apart by their first
 * keyword: matched in any case, whole, and never past the text's end. */
TEST(a_keyword_matches_in_any_case_and_only_as_a_whole_word)
{
    CHECK(calx__sql_starts_with_word("rollback to savepoint a", "ROLLBACK"));
    CHECK(calx__sql_starts_with_word("RollBack", "ROLLBACK"));
    CHECK(calx__sql_starts_with_word("SELECT(1)", "select"));
    CHECK(calx__sql_starts_with_word("INSERT 0 1", "INSERT"));
    CHECK(!calx__sql_starts_with_word("ROLLBACKS", "ROLLBACK"));
    CHECK(!calx__sql_starts_with_word("select_all", "SELECT"));
    CHECK(!calx__sql_starts_with_word("select1", "SELECT"));
    CHECK(!calx__sql_starts_with_word("ROLLBAC", "ROLLBACK"));
    CHECK(!calx__sql_starts_with_word("", "END"));
    CHECK(!calx__sql_starts_with_word(" BEGIN", "BEGIN"));  /* space is the caller's to skip */
    CHECK(!calx__sql_starts_with_word("UPDATE", "DELETE"));
}

/* A program may set a locale whose case folding is not ASCII's: in a
 * Turkish one tolower('I') is not 'i', and strcasecmp("immediate",
 * "IMMEDIATE") is not 0. Keywords and option values read the same there.
 * The locale is built from Debian's sources (locales) into the test's own
 * directory; the case skips where that cannot be done. */
TEST(in_a_turkish_locale_options_and_keywords_read_as_in_any_other)
{
    const char *why = test_locale_enter(tmp, "tr_TR", "tr_TR.UTF-8");
    if (why)
        SKIP(why);
    bool bites = strcasecmp("immediate", "IMMEDIATE") != 0;  /* what calx must not use */
    calx_url_param q[] = { { "begin", "IMMEDIATE" } };
    calx_url u = make_url(path_in_tmp(0, "turkish.db"), q, 1);
    calx_error err;
    calx_dconn *c = connect_ex(&u, NULL, 0, "serializable", &err, NULL);
    bool insert = calx__sql_starts_with_word("insert into t values (1)", "INSERT");
    test_locale_leave();
    if (!c)
        fprintf(stderr, "  connect failed: %s\n", err.message);
    CHECK(c != NULL);
    CHECK(insert);
    if (c)
        close_conn(c);
    if (!bites)
        SKIP("this C library folds 'I' as 'i' in tr_TR.UTF-8: nothing to tell apart");
}

/* In a German locale the C library writes 2.5 as "2,5" and reads "2.5"
 * as 2 (stopping at the '.'): an option in seconds is read as written
 * anywhere. */
TEST(in_a_german_locale_seconds_keep_their_fraction)
{
    const char *why = test_locale_enter(tmp, "de_DE", "de_DE.UTF-8");
    if (why)
        SKIP(why);
    bool bites = strtod("2.5", NULL) != 2.5;   /* what calx must not use */
    calx_url_param q[] = { { "timeout", "2.5" } };
    calx_url u = make_url(path_in_tmp(0, "german.db"), q, 1);
    calx_error err;
    calx_dconn *c = connect_ex(&u, NULL, 0, NULL, &err, NULL);
    test_locale_leave();
    if (!c)
        fprintf(stderr, "  connect failed: %s\n", err.message);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(scalar(c, "PRAGMA busy_timeout"), 2500);
        close_conn(c);
    }
    if (!bites)
        SKIP("this C library reads '.' as the decimal point in de_DE.UTF-8: nothing to tell apart");
}

/* Offers sql (with one parameter p, or none when p is NULL) to the
 * driver's read_row with maxcols and size bytes of room; a fresh
 * transaction first when begin. */
static calx_dread read_row_of(calx_dconn *c, const char *sql, const calx_value *p, bool begin,
                              calx_value *row, size_t maxcols, size_t *n, char *bytes,
                              size_t size, calx_error *err)
{
    calx_dstmt st = { .sql = sql, .nparams = p != NULL, .nsets = 1, .params = p };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st, .begin = begin };
    return c->driver->read_row(c, &req, row, maxcols, n, bytes, size, err);
}

TEST(read_row_hands_back_one_row_with_its_bytes_copied_and_declines_what_it_cannot_hold)
{
    calx_url u = make_url(NULL, NULL, 0);
    calx_dconn *c = connect_url(&u);
    if (!c)
        return;
    must(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, i, r, s, b, n)");
    must(c, "INSERT INTO t VALUES (1, 42, 2.5, 'hello', x'00ff01', NULL), (2, 7, 0, '', x'', 3)");
    const char *get = "SELECT i, r, s, b, n FROM t WHERE id = ?";
    calx_value row[8], key = calx_int(1);
    char bytes[64];
    size_t n = 0;
    calx_error err;
    calx_sqlite_stats before, after;
    calx__sqlite_conn_stats(c, &before);
    CHECK_INT(read_row_of(c, get, &key, false, row, 8, &n, bytes, sizeof bytes, &err),
              CALX_DREAD_ROW);
    CHECK_INT(n, 5);
    CHECK(row[0].type == CALX_INT && row[0].u.i == 42);
    CHECK(row[1].type == CALX_REAL && row[1].u.d == 2.5);
    /* The bytes are copies in the caller's buffer, not SQLite's memory. */
    CHECK(row[2].type == CALX_TEXT && row[2].u.s.len == 5 &&
          memcmp(row[2].u.s.ptr, "hello", 5) == 0 && row[2].u.s.ptr >= bytes &&
          row[2].u.s.ptr < bytes + sizeof bytes);
    CHECK(row[3].type == CALX_BLOB && row[3].u.s.len == 3 &&
          memcmp(row[3].u.s.ptr, "\x00\xff\x01", 3) == 0 && row[3].u.s.ptr >= bytes &&
          row[3].u.s.ptr < bytes + sizeof bytes);
    CHECK(row[4].type == CALX_NULL);
    calx__sqlite_conn_stats(c, &after);
    CHECK_INT(after.requests - before.requests, 1);
    CHECK_INT(after.inline_runs - before.inline_runs, 1);
    key = calx_int(2);
    CHECK_INT(read_row_of(c, get, &key, false, row, 8, &n, bytes, sizeof bytes, &err),
              CALX_DREAD_ROW);
    CHECK(row[2].type == CALX_TEXT && row[2].u.s.len == 0 && row[3].type == CALX_BLOB &&
          row[3].u.s.len == 0 && row[4].type == CALX_INT && row[4].u.i == 3);
    key = calx_int(99);
    CHECK_INT(read_row_of(c, get, &key, false, row, 8, &n, bytes, sizeof bytes, &err),
              CALX_DREAD_NONE);

    /* What it cannot hold it declines, nothing run to be seen: fewer
     * columns or bytes of room than the row has, a second row, a write. */
    calx__sqlite_conn_stats(c, &before);
    key = calx_int(1);
    CHECK_INT(read_row_of(c, get, &key, false, row, 4, &n, bytes, sizeof bytes, &err),
              CALX_DREAD_DECLINED);
    CHECK_INT(read_row_of(c, get, &key, false, row, 8, &n, bytes, 7, &err),
              CALX_DREAD_DECLINED);
    CHECK_INT(read_row_of(c, "SELECT id FROM t ORDER BY id", NULL, false, row, 8, &n, bytes,
                          sizeof bytes, &err),
              CALX_DREAD_DECLINED);
    key = calx_int(0);
    CHECK_INT(read_row_of(c, "UPDATE t SET i = ? WHERE id = 1", &key, false, row, 8, &n, bytes,
                          sizeof bytes, &err),
              CALX_DREAD_DECLINED);
    CHECK_INT(scalar(c, "SELECT i FROM t WHERE id = 1"), 42);
    calx__sqlite_conn_stats(c, &after);
    CHECK_INT(after.requests - before.requests, 1);  /* scalar's */
    /* The statement a second row stopped is whole again for a request. */
    calx_rowset *rs = NULL;
    CHECK_OK(exec_p(c, "SELECT id FROM t ORDER BY id", NULL, 0, &rs, &err), &err);
    CHECK(rs && rs->nrows == 2 && rs->vals[1].u.i == 2);
    calx__rowset_free(rs);

    /* A read that fails says why, and the connection goes on. */
    key = calx_int(INT64_MIN);
    CHECK_INT(read_row_of(c, "SELECT abs(?)", &key, false, row, 8, &n, bytes, sizeof bytes,
                          &err),
              CALX_DREAD_FAILED);
    CHECK(strstr(err.message, "integer overflow") != NULL);
    key = calx_int(-5);
    CHECK_INT(read_row_of(c, "SELECT abs(?)", &key, false, row, 8, &n, bytes, sizeof bytes,
                          &err),
              CALX_DREAD_ROW);
    CHECK(n == 1 && row[0].u.i == 5);
    close_conn(c);
}

/* With begin, read_row starts the transaction a request would: its later
 * reads keep its snapshot until the COMMIT. */
TEST(read_row_with_begin_starts_the_transaction_its_reads_see)
{
    char *path = path_in_tmp(0, "read_row_begin.db");
    unlink(path);
    calx_url u = make_url(path, NULL, 0);
    calx_dconn *c = connect_url(&u);
    if (!c)
        return;
    must(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)");
    must(c, "INSERT INTO t VALUES (1, 10)");
    const char *get = "SELECT x FROM t WHERE id = ?";
    calx_value row[2], key = calx_int(1);
    char bytes[16];
    size_t n;
    calx_error err;
    CHECK_INT(read_row_of(c, get, &key, true, row, 2, &n, bytes, sizeof bytes, &err),
              CALX_DREAD_ROW);
    CHECK_INT(row[0].u.i, 10);
    sqlite3 *other = NULL;
    CHECK(sqlite3_open(path, &other) == SQLITE_OK);
    CHECK(sqlite3_exec(other, "UPDATE t SET x = 20", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_INT(read_row_of(c, get, &key, false, row, 2, &n, bytes, sizeof bytes, &err),
              CALX_DREAD_ROW);
    CHECK_INT(row[0].u.i, 10);  /* the snapshot the BEGIN took */
    CHECK_OK(op(c, CALX_DOP_COMMIT, &err), &err);
    CHECK_INT(read_row_of(c, get, &key, false, row, 2, &n, bytes, sizeof bytes, &err),
              CALX_DREAD_ROW);
    CHECK_INT(row[0].u.i, 20);
    sqlite3_close(other);
    close_conn(c);
    unlink(path);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    if (!loop) {
        fprintf(stderr, "calx_loop_new: %s\n", err.message);
        return 1;
    }
    tmp = test_tmpdir("test_sqlite_driver");

    RUN(rowset_arena);
    RUN(a_refilled_rowset_keeps_its_room_and_reads_its_new_rows_right);
    RUN(merged_rows_keep_their_text_until_the_merged_rowset_is_freed);
    RUN(connect_file_and_memory);
    RUN(values_round_trip);
    RUN(executemany_returning_in_order);
    RUN(rowids_and_commit_in_one_request);
    RUN(batch_and_error_index);
    RUN(error_classes);
    RUN(transactions_lazy_begin_commit_rollback);
    RUN(two_writers_in_wal_both_succeed);
    RUN(isolation_levels);
    RUN(streaming);
    RUN(pragmas_from_url_and_connect_args);
    RUN(open_modes_and_failures);
    RUN(ping_and_stale_file);
    RUN(interrupt_and_loop_not_blocked);
    RUN(close_with_transaction_open);
    RUN(inline_reads_run_single_reads_on_the_loop_thread_and_nothing_else);
    RUN(an_interrupted_write_ends_the_transaction_and_every_later_statement_fails);
    RUN(a_full_disk_that_ends_the_transaction_fails_every_later_statement_until_rollback);
    RUN(a_full_disk_in_wal_mode_leaves_each_transaction_all_or_nothing);
    RUN(on_conflict_rollback_ends_the_transaction_and_the_commit_fails);
    RUN(a_cancelled_read_inside_a_transaction_ends_it_as_on_postgresql);
    RUN(statement_cache_many_statements);
    RUN(a_full_statement_cache_evicts_the_least_recently_used_not_the_oldest);
    RUN(column_names_follow_a_schema_change_and_outlive_the_statement_leaving_the_cache);
    RUN(a_keyword_matches_in_any_case_and_only_as_a_whole_word);
    RUN(in_a_turkish_locale_options_and_keywords_read_as_in_any_other);
    RUN(in_a_german_locale_seconds_keep_their_fraction);
    RUN(read_row_hands_back_one_row_with_its_bytes_copied_and_declines_what_it_cannot_hold);
    RUN(read_row_with_begin_starts_the_transaction_its_reads_see);

    calx_loop_free(loop);
    return TEST_REPORT();
}

/* SPDX-License-Identifier: MIT */
/* SQLite through the engine, where other connections and the file system
 * come in: readers and writers on one file, the lock timeout from the
 * first moment, a database file replaced under a pooled connection, and
 * options checked when the engine is made. */
#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <uv.h>

#include "calx.h"
#include "fault_vfs.h"
#include "test.h"

static calx_loop *loop;
static const char *dir;
static int seq;

/* A fresh database path in the scratch directory (a static buffer). */
static const char *fresh_path(void)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/e%d.db", dir, ++seq);
    return path;
}

static calx_engine *engine_for(const char *path, const char *query)
{
    char url[800];
    calx_error err;
    snprintf(url, sizeof url, "sqlite:///%s%s%s", path, query ? "?" : "", query ? query : "");
    calx_engine *e = calx_create_engine(url, &(calx_engine_opts){ .loop = loop }, &err);
    if (!e)
        fprintf(stderr, "  create_engine(%s): %s\n", url, err.message);
    CHECK(e != NULL);
    return e;
}

static void free_engine(calx_engine *e)
{
    calx_engine_free(e);
    calx_loop_run(loop);
}

static calx_connection *connect_now(calx_engine *e)
{
    calx_error err;
    calx_connection *c = NULL;
    if (calx_wait(calx_engine_connect(e, &err), &c, &err) != 0)
        fprintf(stderr, "  connect: %s\n", err.message);
    return c;
}

static int run_sql(calx_connection *c, const char *sql, calx_error *err)
{
    calx_result *r = NULL;
    int rc = calx_wait(calx_conn_execute(c, sql, NULL, err), &r, err);
    calx_result_free(r);
    return rc;
}

static int commit(calx_connection *c, calx_error *err)
{
    return calx_wait(calx_conn_commit(c, err), NULL, err);
}

/* count(*) of t in the file at path, read with sqlite3 itself; -1 on
 * failure. */
static long long count_in_file(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ---- readers and writers ---- */

TEST(a_session_that_has_only_read_does_not_block_another_connections_commit)
{
    calx_error err;
    const char *path = fresh_path();
    /* timeout=0: a writer that met a held lock would fail at once. */
    calx_engine *e = engine_for(path, "timeout=0");
    calx_connection *reader = connect_now(e), *writer = connect_now(e);
    if (!reader || !writer)
        goto out;
    CHECK_OK(run_sql(writer, "CREATE TABLE t (x INTEGER)", &err), &err);
    CHECK_OK(commit(writer, &err), &err);

    CHECK_OK(run_sql(reader, "SELECT count(*) FROM t", &err), &err);
    CHECK(calx_conn_in_transaction(reader));  /* its transaction stays open */
    CHECK_OK(run_sql(writer, "INSERT INTO t VALUES (1)", &err), &err);
    CHECK_OK(commit(writer, &err), &err);
    CHECK_INT(count_in_file(path), 1);
    CHECK_OK(calx_wait(calx_conn_rollback(reader, &err), NULL, &err), &err);

    /* The default that makes it so, shown in the engine's repr; and what
     * the rollback journal would have done instead. */
    char *repr = calx_engine_repr(e);
    CHECK_CONTAINS(repr, "journal_mode=wal)");
    free(repr);
out:
    calx_conn_close(reader);
    calx_conn_close(writer);
    free_engine(e);

    path = fresh_path();
    e = engine_for(path, "timeout=0&journal_mode=delete");
    reader = connect_now(e);
    writer = connect_now(e);
    if (reader && writer) {
        char *r = calx_engine_repr(e);
        CHECK_CONTAINS(r, "journal_mode=delete");
        free(r);
        CHECK_OK(run_sql(writer, "CREATE TABLE t (x INTEGER)", &err), &err);
        CHECK_OK(commit(writer, &err), &err);
        CHECK_OK(run_sql(reader, "SELECT count(*) FROM t", &err), &err);
        CHECK_OK(run_sql(writer, "INSERT INTO t VALUES (1)", &err), &err);
        CHECK_INT(commit(writer, &err), CALX_ERR_OPERATIONAL);
        CHECK_CONTAINS(err.message, "database is locked");
        CHECK_CONTAINS(err.message, "another connection held the lock for longer than the "
                                    "timeout of 0 ms");
        CHECK_OK(calx_wait(calx_conn_rollback(reader, &err), NULL, &err), &err);
        CHECK_OK(commit(writer, &err), &err);  /* the lock is free: the retry commits */
        CHECK_INT(count_in_file(path), 1);
    }
    calx_conn_close(reader);
    calx_conn_close(writer);
    free_engine(e);
}

typedef struct commit_later {
    uv_timer_t timer;
    calx_connection *conn;
    bool committed;
} commit_later;

static void on_commit_committed(calx_future *f, void *udata)
{
    commit_later *cl = udata;
    calx_error err;
    cl->committed = calx_future_take(f, NULL, &err) == 0;
}

static void on_commit_timer(uv_timer_t *t)
{
    commit_later *cl = t->data;
    calx_error err;
    calx_future_then(calx_conn_commit(cl->conn, &err), on_commit_committed, cl);
}

/* A transaction that read, then wants to write after another connection
 * committed, cannot go on (WAL's SQLITE_BUSY_SNAPSHOT): a serialization
 * failure, as PostgreSQL's 40001, which calx_session_run_transaction runs
 * again, and at once, not after the busy timeout. Run again, it writes. */
TEST(a_write_after_another_connections_commit_is_a_serialization_failure)
{
    calx_error err;
    calx_engine *e = engine_for(fresh_path(), NULL);
    calx_connection *a = connect_now(e), *b = connect_now(e);
    if (!a || !b)
        goto out;
    CHECK_OK(run_sql(b, "CREATE TABLE t (x INTEGER)", &err), &err);
    CHECK_OK(run_sql(b, "INSERT INTO t VALUES (1)", &err), &err);
    CHECK_OK(commit(b, &err), &err);

    CHECK_OK(run_sql(a, "SELECT x FROM t", &err), &err);   /* a's snapshot */
    CHECK_OK(run_sql(b, "UPDATE t SET x = x + 10", &err), &err);
    CHECK_OK(commit(b, &err), &err);
    CHECK_INT(run_sql(a, "UPDATE t SET x = x + 1", &err), CALX_ERR_SERIALIZATION);
    CHECK_INT(err.driver_code, SQLITE_BUSY_SNAPSHOT);
    CHECK(strstr(err.message, "held the lock") == NULL);
    CHECK_OK(calx_wait(calx_conn_rollback(a, &err), NULL, &err), &err);

    /* The transaction run again sees the commit and writes. */
    CHECK_OK(run_sql(a, "SELECT x FROM t", &err), &err);
    CHECK_OK(run_sql(a, "UPDATE t SET x = x + 1", &err), &err);
    CHECK_OK(commit(a, &err), &err);
out:
    calx_conn_close(a);
    calx_conn_close(b);
    free_engine(e);
}

TEST(a_writer_waits_its_turn_behind_another_writer_up_to_the_timeout)
{
    calx_error err;
    const char *path = fresh_path();
    calx_engine *patient = engine_for(path, NULL);
    calx_engine *hasty = engine_for(path, "timeout=0.2");
    calx_connection *first = connect_now(patient), *second = connect_now(patient);
    calx_connection *third = connect_now(hasty);
    if (!first || !second || !third)
        goto out;
    CHECK_OK(run_sql(first, "CREATE TABLE t (x INTEGER)", &err), &err);
    CHECK_OK(commit(first, &err), &err);

    /* first holds the write lock; third gives up after its 0.2 s. */
    CHECK_OK(run_sql(first, "INSERT INTO t VALUES (1)", &err), &err);
    CHECK_INT(run_sql(third, "INSERT INTO t VALUES (3)", &err), CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, "database is locked");
    CHECK_CONTAINS(err.message, "another connection held the lock for longer than the "
                                "timeout of 200 ms");

    /* second waits (5 s by default) while first commits a moment later,
     * then writes. */
    commit_later cl = { .conn = first };
    uv_timer_init(calx_loop_uv(loop), &cl.timer);
    cl.timer.data = &cl;
    uv_timer_start(&cl.timer, on_commit_timer, 50, 0);
    CHECK_OK(run_sql(second, "INSERT INTO t VALUES (2)", &err), &err);
    CHECK_OK(commit(second, &err), &err);
    uv_close((uv_handle_t *)&cl.timer, NULL);
    calx_loop_run(loop);  /* the commit's callback may still be queued */
    CHECK(cl.committed);
    CHECK_INT(count_in_file(path), 2);
out:
    calx_conn_close(first);
    calx_conn_close(second);
    calx_conn_close(third);
    free_engine(patient);
    free_engine(hasty);
}

TEST(the_url_timeout_holds_from_the_first_moment_of_a_connection)
{
    calx_error err;
    const char *path = fresh_path();
    /* Another program holds the database locked, in the rollback journal
     * (where even readers wait). */
    sqlite3 *other = NULL;
    CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
    CHECK_INT(sqlite3_exec(other, "PRAGMA journal_mode = delete; CREATE TABLE t (x); "
                                  "BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)",
                           NULL, NULL, NULL), SQLITE_OK);
    /* journal_mode comes first: setting it already needs the lock. */
    calx_engine *e = engine_for(path, "journal_mode=delete&timeout=0.1");
    calx_connection *c = NULL;
    CHECK_INT(calx_wait(calx_engine_connect(e, &err), &c, &err), CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, "database is locked");
    CHECK_CONTAINS(err.message, "journal_mode");
    /* The wait that ran out was the URL's, not the 5 s default. */
    CHECK_CONTAINS(err.message, "longer than the timeout of 100 ms");
    sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(other);
    c = connect_now(e);  /* free now */
    CHECK(c != NULL);
    calx_conn_close(c);
    free_engine(e);
}

/* ---- the file under the engine ---- */

/* What the program's operator does: the database at path replaced with a
 * fresh one holding an empty t. */
static void replace_database(const char *path)
{
    char side[700];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    unlink(path);
    sqlite3 *db = NULL;
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "CREATE TABLE t (x INTEGER)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

TEST(a_database_file_replaced_under_the_engine_is_reopened_at_checkout)
{
    calx_error err;
    const char *path = fresh_path();
    calx_engine *e = engine_for(path, NULL);
    calx_connection *c = connect_now(e);
    if (!c) {
        free_engine(e);
        return;
    }
    CHECK_OK(run_sql(c, "CREATE TABLE t (x INTEGER)", &err), &err);
    CHECK_OK(run_sql(c, "INSERT INTO t VALUES (1)", &err), &err);
    CHECK_OK(commit(c, &err), &err);
    calx_conn_close(c);  /* pooled, the old file open */
    replace_database(path);

    /* Without pool_pre_ping: the checkout's own check notices. */
    c = connect_now(e);
    CHECK(c != NULL);
    if (c) {
        CHECK_OK(run_sql(c, "INSERT INTO t VALUES (2)", &err), &err);
        CHECK_OK(commit(c, &err), &err);
        calx_conn_close(c);
    }
    CHECK_INT(count_in_file(path), 1);  /* the write is in the file on disk */
    free_engine(e);
}

/* The file replaced while its one connection is checked out, and a
 * checkout waiting for it: the connection handed over at its checkin is
 * checked at that checkout like an idle one, and the waiter writes to the
 * new file, not the unlinked old one. */
TEST(a_database_file_replaced_while_its_connection_is_out_is_reopened_for_the_waiter)
{
    calx_error err;
    const char *path = fresh_path();
    char url[800];
    snprintf(url, sizeof url, "sqlite:///%s", path);
    calx_engine *e = calx_create_engine(
        url, &(calx_engine_opts){ .loop = loop, .pool_size = 1, .max_overflow = CALX_OVERFLOW_NONE },
        &err);
    CHECK(e != NULL);
    calx_connection *c = e ? connect_now(e) : NULL;
    if (!c) {
        free_engine(e);
        return;
    }
    CHECK_OK(run_sql(c, "CREATE TABLE t (x INTEGER)", &err), &err);
    CHECK_OK(commit(c, &err), &err);
    calx_future *waiting = calx_engine_connect(e, &err);
    CHECK(waiting != NULL);
    replace_database(path);
    calx_conn_close(c);  /* handed to the waiting checkout */
    calx_connection *next = NULL;
    CHECK_OK(calx_wait(waiting, &next, &err), &err);
    if (next) {
        CHECK_OK(run_sql(next, "INSERT INTO t VALUES (2)", &err), &err);
        CHECK_OK(commit(next, &err), &err);
        calx_conn_close(next);
    }
    CHECK_INT(count_in_file(path), 1);
    free_engine(e);
}

/* ---- options ---- */

TEST(bad_sqlite_options_fail_when_the_engine_is_made)
{
    calx_error err;
    const char *bad[][2] = {
        { "busy_timeout=abc", "invalid value 'abc' for busy_timeout" },
        { "timeout=soon", "invalid value 'soon' for timeout" },
        { "journal_mod=wal", "unknown SQLite pragma 'journal_mod'" },
        { "jurnal_mode=wal", "; did you mean 'journal_mode'?" },
        { "inline_read=true", "; did you mean 'inline_reads'?" },
        { "xyzzy=1", "(from the URL or connect_args)" },
        { "mode=rwx", "invalid value 'rwx' for mode" },
        { "begin=later", "invalid value 'later' for begin" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char url[200];
        snprintf(url, sizeof url, "sqlite:///never.db?%s", bad[i][0]);
        calx_engine *e = calx_create_engine(url, &(calx_engine_opts){ .loop = loop }, &err);
        CHECK(e == NULL);
        CHECK_INT(err.code, CALX_ERR_ARGUMENT);
        CHECK_CONTAINS(err.message, bad[i][1]);
        free_engine(e);
    }
    CHECK(calx_create_engine("sqlite:///never.db?xyzzy=1", &(calx_engine_opts){ .loop = loop },
                             &err) == NULL);
    CHECK(strstr(err.message, "did you mean") == NULL);  /* nothing is close */
    calx_kv args[] = { { "busy_timeout", "-1" } };
    CHECK(calx_create_engine("sqlite:///never.db",
                             &(calx_engine_opts){ .loop = loop, .connect_args = args,
                                                  .nconnect_args = 1 },
                             &err) == NULL);
    CHECK_CONTAINS(err.message, "invalid value '-1' for busy_timeout");
    CHECK(calx_create_engine("sqlite:///never.db",
                             &(calx_engine_opts){ .loop = loop, .isolation_level = "SNAPSHOT" },
                             &err) == NULL);
    CHECK_CONTAINS(err.message, "isolation level 'SNAPSHOT' is not supported by SQLite");
    /* Nothing was created on disk. */
    CHECK(access("never.db", F_OK) != 0);
}

/* ---- a disk that fills ---- */

/* count(*) of rows with key k in the file at path; -1 on failure. */
static long long count_key_in_file(const char *path, int k)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE k = ?", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_int(st, 1, k) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Bytes of the WAL file beside the database at path; 0 when there is none. */
static long long wal_bytes(const char *path)
{
    char wal[700];
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &st) == 0 ? (long long)st.st_size : 0;
}

/* Three commits of about 5 MB each (some 1,250 WAL frames, past SQLite's
 * 1,000): the worker checkpoints after answering each, as SQLite would
 * have inside it, so the next transaction starts the log over and it
 * never holds more than one commit's frames; every row is in the file.
 * wal_autocheckpoint=0 in the URL turns checkpoints off, as in SQLite:
 * the log then holds all three. */
/* Three commits of ~5 MB each (~1,300 pages): the default threshold
 * (1,000 pages) checkpoints after each; 0 never; 8,000 pages holds all
 * three in the log (the option is the threshold, not only on or off). */
TEST(a_commit_that_fills_the_wal_is_checkpointed_after_it_and_the_log_stays_one_commit_long)
{
    static const char *const options[] = { NULL, "wal_autocheckpoint=0",
                                            "wal_autocheckpoint=8000" };
    for (int v = 0; v < 3; v++) {
        bool off = v > 0;   /* no checkpoint expected in these three commits */
        const char *path = fresh_path();
        calx_engine *e = engine_for(path, options[v]);
        calx_connection *c = connect_now(e);
        calx_error err;
        CHECK_OK(run_sql(c, "CREATE TABLE t (x INTEGER, pad TEXT)", &err), &err);
        CHECK_OK(commit(c, &err), &err);
        long long most = 0;
        for (int k = 0; k < 3; k++) {
            CHECK_OK(run_sql(c, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                                "WHERE i < 5000) INSERT INTO t SELECT i, printf('%1000d', i) "
                                "FROM n", &err), &err);
            CHECK_OK(commit(c, &err), &err);
            /* A request after the commit runs once the checkpoint is done. */
            CHECK_OK(run_sql(c, "SELECT 1", &err), &err);
            if (wal_bytes(path) > most)
                most = wal_bytes(path);
        }
        CHECK_INT(count_in_file(path), 15000);
        if (off)
            CHECK(most > 12LL * 1024 * 1024);   /* three commits' frames */
        else
            CHECK(most < 8LL * 1024 * 1024);    /* one commit's */
        calx_conn_close(c);
        free_engine(e);
    }
}

TEST(every_commit_reported_done_under_a_filling_disk_is_whole_and_no_other_is_there)
{
    enum { TXNS = 150, ROWS = 3 };
    calx_error err;
    fault_vfs_install();
    const char *path = fresh_path();
    /* A small page cache, so that transactions spill into the files
     * mid-way: where a full disk makes SQLite roll back all by itself. */
    calx_engine *e = engine_for(path, "cache_size=5");
    calx_connection *c = connect_now(e);
    if (!c) {
        free_engine(e);
        fault_vfs_uninstall();
        return;
    }
    CHECK_OK(run_sql(c, "CREATE TABLE t (k INTEGER, i INTEGER, pad BLOB)", &err), &err);
    CHECK_OK(commit(c, &err), &err);
    /* A careless program: it goes on after a failed INSERT and commits the
     * rest. Each row that reported success must then be in the file after
     * a successful COMMIT, and no row of a failed one. */
    int expected[TXNS] = { 0 };
    int ok = 0, failed = 0;
    unsigned seed = 12345;
    for (int k = 0; k < TXNS; k++) {
        seed = seed * 1103515245u + 12345u;
        if (k % 3 == 1)
            fault_vfs_arm((long long)((seed >> 8) % 40000));  /* full somewhere in here */
        int inserted = 0;
        for (int i = 0; i < ROWS; i++) {
            calx_param p[] = { { "k", calx_int(k) }, { "i", calx_int(i) } };
            calx_params ps = { p, 2 };
            calx_result *r = NULL;
            if (calx_wait(calx_conn_execute(c, "INSERT INTO t VALUES (:k, :i, "
                                               "randomblob(3000))", &ps, &err),
                          &r, &err) == 0)
                inserted++;
            calx_result_free(r);
        }
        int rc = commit(c, &err);
        fault_vfs_disarm();
        if (rc) {
            failed++;
            CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
        } else {
            ok++;
            expected[k] = inserted;
        }
    }
    calx_conn_close(c);
    free_engine(e);
    /* Both outcomes happened, or the test proved nothing. */
    CHECK(ok > 0);
    CHECK(failed > 0);
    int wrong = 0;
    for (int k = 0; k < TXNS; k++)
        wrong += count_key_in_file(path, k) != expected[k];
    CHECK_INT(wrong, 0);
    fault_vfs_uninstall();
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_sqlite_engine");
    RUN(a_session_that_has_only_read_does_not_block_another_connections_commit);
    RUN(a_write_after_another_connections_commit_is_a_serialization_failure);
    RUN(a_writer_waits_its_turn_behind_another_writer_up_to_the_timeout);
    RUN(the_url_timeout_holds_from_the_first_moment_of_a_connection);
    RUN(a_database_file_replaced_under_the_engine_is_reopened_at_checkout);
    RUN(a_database_file_replaced_while_its_connection_is_out_is_reopened_for_the_waiter);
    RUN(bad_sqlite_options_fail_when_the_engine_is_made);
    RUN(every_commit_reported_done_under_a_filling_disk_is_whole_and_no_other_is_there);
    RUN(a_commit_that_fills_the_wal_is_checkpointed_after_it_and_the_log_stays_one_commit_long);
    calx_loop_free(loop);
    return TEST_REPORT();
}

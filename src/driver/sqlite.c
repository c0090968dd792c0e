/* SPDX-License-Identifier: MIT */
/* The SQLite driver.
 *
 * SQLite calls block, so each connection owns a worker thread that opens,
 * uses and closes the sqlite3 handle; the loop thread only hands it jobs
 * and gets completions back through calx__loop_post. libuv's shared
 * threadpool is left alone on purpose: a long query must not starve DNS
 * and file work queued there.
 *
 * Threads and data: the connection's fields (sqlite_int.h) are grouped by
 * who may touch them; its options are parsed in sqlite_options.c. The
 * loop thread and the worker meet only at the job slot (under mu) and at
 * the result fields, which the worker fills before posting the completion
 * and the loop thread reads after it arrives (the post's mutex orders the
 * two). One request runs at a time, so one slot is the whole queue: a
 * request job, then at most a quit.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/hash.h"
#include "core/evloop.h"
#include "core/nomem.h"
#include "driver/driver.h"
#include "driver/sqlite.h"
#include "driver/sqlite_int.h"
#include "driver/sqlscan.h"
#include "driver/rowset.h"

#define CALX_SQLITE_PROGRESS_OPS 1000  /* VM steps between interrupt checks */

/* ---- errors ---- */

/* The class CPython's sqlite3 module gives a result code (what SQLAlchemy
 * users see), mapped onto calx codes. */
static int errcode_for(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_INTERNAL:
    case SQLITE_NOTFOUND:
        return CALX_ERR_INTERNAL;
    case SQLITE_NOMEM:
        return CALX_ERR_NOMEM;
    case SQLITE_ERROR:
    case SQLITE_PERM:
    case SQLITE_ABORT:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_INTERRUPT:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_EMPTY:
    case SQLITE_SCHEMA:
        return CALX_ERR_OPERATIONAL;
    case SQLITE_TOOBIG:
        return CALX_ERR_DATA;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
        return CALX_ERR_INTEGRITY;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
        return CALX_ERR_PROGRAMMING;
    default:
        return CALX_ERR_DATABASE;
    }
}

/* Fills err from the handle's last error; rc is what the failing call
 * returned, in case the handle holds no error of its own. */
static int db_error(calx_sqlite_conn *c, int rc, calx_error *err)
{
    bool mine = c->db && (sqlite3_extended_errcode(c->db) & 0xff) == (rc & 0xff);
    int ext = mine ? sqlite3_extended_errcode(c->db) : rc;
    if ((rc & 0xff) == SQLITE_INTERRUPT && atomic_load(&c->interrupted))
        calx_error_set(err, CALX_ERR_CANCELED, "the SQLite statement was interrupted");
    else
        calx_error_set(err, errcode_for(ext), "%s",
                       mine ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    err->driver_code = ext;
    return err->code;
}

static int canceled(calx_error *err)
{
    calx_error_set(err, CALX_ERR_CANCELED, "the SQLite statement was interrupted");
    err->driver_code = SQLITE_INTERRUPT;
    return CALX_ERR_CANCELED;
}

/* ---- transactions SQLite ends by itself ---- */

/* SQLite rolls a whole transaction back on its own after some failures: a
 * write interrupted mid-way, a full disk or an I/O error once the page
 * cache has spilled into the file, ON CONFLICT ROLLBACK, RAISE(ROLLBACK);
 * and the driver rolls it back itself when a request that had begun
 * running is cancelled (cancel_ends_tx), as PostgreSQL aborts it.
 * Left alone, the next statement would run in autocommit mode and commit at
 * once, and the COMMIT would find nothing to do and succeed: the program
 * would believe in a transaction of which only the later half exists. So
 * after a failure, when a transaction was open before the statement and is
 * gone after it, remember why; from then on every statement and the COMMIT
 * fail (tx_lost_error), as PostgreSQL fails them in an aborted
 * transaction, until the program rolls back. */
static void lose_tx_if_ended(calx_sqlite_conn *c, bool was_in_tx, calx_error *err)
{
    if (!was_in_tx || !c->db || !sqlite3_get_autocommit(c->db))
        return;
    c->tx_lost = true;
    c->tx_lost_code = err->driver_code;
    snprintf(c->tx_lost_why, sizeof c->tx_lost_why, "%.200s", err->message);
    calx__error_note(err, "the whole transaction was rolled back: roll back before "
                     "running more statements");
}

/* The error every statement and COMMIT get in a transaction SQLite ended:
 * InternalError with PostgreSQL's SQLSTATE for the same state (25P02,
 * in_failed_sql_transaction), so that a program tests one condition on
 * both databases. */
static int tx_lost_error(const calx_sqlite_conn *c, calx_error *err)
{
    calx_error_set(err, CALX_ERR_INTERNAL,
                   "the transaction was rolled back when an earlier statement failed (%s); "
                   "every statement and the COMMIT fail until the program rolls back",
                   c->tx_lost_why);
    err->driver_code = c->tx_lost_code;
    memcpy(err->sqlstate, "25P02", sizeof "25P02");
    return err->code;
}

/* A lock another connection held for the whole busy timeout: say so, and
 * how long was waited, since "database is locked" alone does not. The time
 * is read back from the handle: what SQLite really waited. */
static void note_lock_held(const calx_sqlite_conn *c, calx_error *err)
{
    if ((err->driver_code & 0xff) != SQLITE_BUSY)
        return;
    int ms = -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, "PRAGMA busy_timeout", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ms = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    calx__error_note(err, "another connection held the lock for longer than the timeout of "
                     "%d ms", ms);
}

/* True for ROLLBACK [TRANSACTION] without TO: the statement that ends a
 * transaction, as opposed to rolling back to a savepoint. */
static bool is_whole_rollback(const char *sql)
{
    sql = calx__sql_skip_space(sql, false);
    if (!calx__sql_starts_with_word(sql, "ROLLBACK"))
        return false;
    sql = calx__sql_skip_space(sql + strlen("ROLLBACK"), false);
    if (calx__sql_starts_with_word(sql, "TRANSACTION"))
        sql = calx__sql_skip_space(sql + strlen("TRANSACTION"), false);
    return !calx__sql_starts_with_word(sql, "TO");
}

/* ---- the statement cache (worker thread) ---- */

/* The prepared statement for sql, from the cache or newly prepared into
 * it; owned by the cache. *out is NULL for SQL with no statement in it. */
static int prepare_cached(calx_sqlite_conn *c, const char *sql, sqlite3_stmt **out,
                          calx_error *err)
{
    uint64_t h = calx__hash_str(CALX_HASH_INIT, sql);
    for (size_t i = 0; i < c->ncached; i++) {
        calx_sqlite_cached *e = &c->cache[i];
        if (e->hash == h && strcmp(e->sql, sql) == 0) {
            e->used = ++c->tick;
            *out = e->stmt;
            return 0;
        }
    }

    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK)
        return db_error(c, rc, err);
    *out = stmt;
    if (!stmt)
        return 0;
    c->stats.prepares++;
    if (*calx__sql_skip_space(tail, true)) {
        /* SQLite would silently ignore the rest; say so instead, as
         * Python's sqlite3 does. */
        sqlite3_finalize(stmt);
        return calx_error_set(err, CALX_ERR_PROGRAMMING,
                              "only one SQL statement can be executed at a time; "
                              "found more after the first: '%.60s'",
                              calx__sql_skip_space(tail, true));
    }
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(stmt);
        return calx__nomem(err, "caching a statement");
    }

    calx_sqlite_cached *slot;
    if (c->ncached < CALX_SQLITE_CACHE_SIZE) {
        slot = &c->cache[c->ncached++];
    } else {
        slot = &c->cache[0];
        for (size_t i = 1; i < c->ncached; i++)
            if (c->cache[i].used < slot->used)
                slot = &c->cache[i];
        /* Statements in use were touched after anything evictable. */
        assert(slot->stmt != c->cursor);
        sqlite3_finalize(slot->stmt);
        free(slot->sql);
    }
    slot->hash = h;
    slot->used = ++c->tick;
    slot->sql = copy;
    slot->stmt = stmt;
    return 0;
}

static void cache_clear(calx_sqlite_conn *c)
{
    for (size_t i = 0; i < c->ncached; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
    }
    c->ncached = 0;
}

/* Runs a parameterless statement through the cache, dropping any rows. */
static int run_simple(calx_sqlite_conn *c, const char *sql, calx_error *err)
{
    sqlite3_stmt *stmt;
    int rc = prepare_cached(c, sql, &stmt, err);
    if (rc)
        return rc;
    if (!stmt)
        return 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        db_error(c, rc, err);
        sqlite3_reset(stmt);
        return err->code;
    }
    sqlite3_reset(stmt);
    return 0;
}

/* Runs a statement once, outside the cache (connect-time setup). */
static int run_once(calx_sqlite_conn *c, const char *sql, calx_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return db_error(c, rc, err);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        db_error(c, rc, err);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : err->code;
}

/* A cancel that stopped a request part-way inside a transaction (a write
 * SQLite did not undo itself, a read, a batch or execute-many between two
 * statements) leaves a transaction the program cannot reason about: end it,
 * so that a cancel means the same on SQLite as on PostgreSQL. A cancel that
 * came before anything ran changes nothing. */
static void cancel_ends_tx(calx_sqlite_conn *c, calx_error *err)
{
    if (err->code != CALX_ERR_CANCELED || !c->request_ran || c->tx_lost ||
        sqlite3_get_autocommit(c->db))
        return;
    calx_error rollback_err;
    if (run_simple(c, "ROLLBACK", &rollback_err) == 0)
        lose_tx_if_ended(c, true, err);
}

/* ---- running statements (worker thread) ---- */

static void close_cursor(calx_sqlite_conn *c)
{
    if (!c->cursor)
        return;
    sqlite3_reset(c->cursor);
    c->cursor = NULL;
    c->cursor_row = false;
}

/* Binds one parameter set. STATIC is safe when the statement is reset
 * before the callback (the request's memory outlives it); a streamed
 * statement outlives the request, so its values are copied. */
static int bind_params(calx_sqlite_conn *c, sqlite3_stmt *stmt, const calx_value *vals,
                       size_t n, bool copy, calx_error *err)
{
    sqlite3_destructor_type how = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
    for (size_t i = 0; i < n; i++) {
        const calx_value *v = &vals[i];
        int col = (int)i + 1, rc;
        switch (v->type) {
        case CALX_INT:
            rc = sqlite3_bind_int64(stmt, col, v->u.i);
            break;
        case CALX_REAL:
            rc = sqlite3_bind_double(stmt, col, v->u.d);
            break;
        case CALX_BOOL:
            rc = sqlite3_bind_int(stmt, col, v->u.b ? 1 : 0);
            break;
        case CALX_TEXT:
            /* A NULL pointer would bind SQL NULL; empty text is still text. */
            rc = sqlite3_bind_text64(stmt, col, v->u.s.ptr ? v->u.s.ptr : "",
                                     v->u.s.len, how, SQLITE_UTF8);
            break;
        case CALX_BLOB:
            rc = v->u.s.ptr ? sqlite3_bind_blob64(stmt, col, v->u.s.ptr, v->u.s.len, how)
                            : sqlite3_bind_zeroblob(stmt, col, 0);
            break;
        case CALX_NULL:
            rc = sqlite3_bind_null(stmt, col);
            break;
        default:
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "parameter %zu has an unknown value type %d", i + 1,
                                  (int)v->type);
        }
        if (rc != SQLITE_OK) {
            db_error(c, rc, err);
            calx__error_note(err, "binding parameter %zu", i + 1);
            return err->code;
        }
    }
    return 0;
}

/* Appends the row stmt is on to rs. */
static int add_row(calx_rowset *rs, sqlite3_stmt *stmt, calx_error *err)
{
    calx_value *row = calx__rowset_add_row(rs);
    if (!row)
        return calx__nomem(err, "reading a row");
    for (size_t i = 0; i < rs->ncols; i++) {
        int col = (int)i;
        calx_value *v = &row[i];
        switch (sqlite3_column_type(stmt, col)) {
        case SQLITE_INTEGER:
            *v = calx_int(sqlite3_column_int64(stmt, col));
            break;
        case SQLITE_FLOAT:
            *v = calx_real(sqlite3_column_double(stmt, col));
            break;
        case SQLITE_TEXT:
        case SQLITE_BLOB: {
            bool text = sqlite3_column_type(stmt, col) == SQLITE_TEXT;
            const void *p = text ? (const void *)sqlite3_column_text(stmt, col)
                                 : sqlite3_column_blob(stmt, col);
            size_t n = (size_t)sqlite3_column_bytes(stmt, col);
            /* SQLite returns NULL for an empty blob, and for text only when
             * converting it ran out of memory. */
            if (!p && (text || n))
                return calx__nomem(err, "reading a value");
            const char *copy = calx__rowset_copy(rs, p, n);
            if (!copy)
                return calx__nomem(err, "reading a row");
            v->type = text ? CALX_TEXT : CALX_BLOB;
            v->u.s.ptr = copy;
            v->u.s.len = n;
            break;
        }
        default:
            *v = calx_null();
            break;
        }
    }
    return 0;
}

/* Steps stmt into rs (starting with the current row when pending). With
 * a limit, stops with *more set when a row beyond it is waiting: stmt is
 * left on that row for the next fetch. */
static int collect(calx_sqlite_conn *c, sqlite3_stmt *stmt, calx_rowset *rs, size_t limit,
                   bool pending, bool *more, calx_error *err)
{
    *more = false;
    int rc = pending ? SQLITE_ROW : sqlite3_step(stmt);
    while (rc == SQLITE_ROW) {
        if (limit && rs->nrows == limit) {
            *more = true;
            return 0;
        }
        if (add_row(rs, stmt, err))
            return err->code;
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE)
        return db_error(c, rc, err);
    return 0;
}

static calx_rowset *rowset_for(sqlite3_stmt *stmt, calx_error *err)
{
    size_t ncols = stmt ? (size_t)sqlite3_column_count(stmt) : 0;
    calx_rowset *rs = calx__rowset_new(ncols);
    if (!rs) {
        calx__nomem(err, "making a rowset");
        return NULL;
    }
    for (size_t i = 0; i < ncols; i++) {
        const char *name = sqlite3_column_name(stmt, (int)i);
        if (!name || calx__rowset_set_colname(rs, i, name) != 0) {
            calx__rowset_free(rs);
            calx__nomem(err, "making a rowset");
            return NULL;
        }
    }
    return rs;
}

/* Starts the transaction a BEGIN asked for, just before stmt runs. A
 * writer takes the write lock up front (BEGIN IMMEDIATE): in WAL mode a
 * deferred transaction that reads and then writes cannot wait for the
 * lock and fails with SQLITE_BUSY, while IMMEDIATE waits busy_timeout. */
static int begin_if_wanted(calx_sqlite_conn *c, sqlite3_stmt *stmt, calx_error *err)
{
    if (!c->tx_wanted || !sqlite3_get_autocommit(c->db))
        return 0;
    const char *sql = calx__sql_skip_space(sqlite3_sql(stmt), true);
    const char *begin;
    if (calx__sql_starts_with_word(sql, "SAVEPOINT")) {
        /* Else the outermost RELEASE would commit on its own. */
        begin = "BEGIN";
    } else if (calx__sql_starts_with_word(sql, "BEGIN") || calx__sql_starts_with_word(sql, "COMMIT") ||
               calx__sql_starts_with_word(sql, "END") || calx__sql_starts_with_word(sql, "ROLLBACK") ||
               calx__sql_starts_with_word(sql, "RELEASE")) {
        return 0;  /* the SQL steers the transaction itself */
    } else {
        begin = sqlite3_stmt_readonly(stmt) ? "BEGIN" : "BEGIN IMMEDIATE";
    }
    if (c->begin_sql)
        begin = c->begin_sql;
    int rc = run_simple(c, begin, err);
    if (rc)
        note_lock_held(c, err);
    return rc;
}

/* Runs one statement over its parameter sets into a new rowset. stream is
 * the chunk size when this statement may be streamed, else 0. On failure
 * *failed_set is the set that failed. */
static int exec_stmt(calx_sqlite_conn *c, const calx_dstmt *st, size_t stream,
                     calx_rowset **out, size_t *failed_set, calx_error *err)
{
    *failed_set = 0;
    if (atomic_load(&c->interrupted))
        return canceled(err);
    if (!st->sql)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "a statement has no SQL text");
    if (c->tx_lost) {
        if (!is_whole_rollback(st->sql))
            return tx_lost_error(c, err);
        /* The program's own ROLLBACK ends the lost transaction; SQLite has
         * none left to roll back, so there is nothing to run. */
        c->tx_lost = false;
        c->tx_wanted = false;
        *out = calx__rowset_new(0);
        return *out ? 0 : calx__nomem(err, "making a rowset");
    }

    sqlite3_stmt *stmt;
    int rc = prepare_cached(c, st->sql, &stmt, err);
    if (rc)
        return rc;
    size_t want = stmt ? (size_t)sqlite3_bind_parameter_count(stmt) : 0;
    if (want != st->nparams)
        return calx_error_set(err, CALX_ERR_PROGRAMMING,
                              "incorrect number of bindings supplied: the statement "
                              "uses %zu, and there are %zu supplied",
                              want, st->nparams);
    /* A write in a transaction that began by reading cannot wait for the
     * write lock (SQLite would deadlock): note it for the error below. */
    bool began_reading = stmt && !sqlite3_get_autocommit(c->db);
    if (stmt && (rc = begin_if_wanted(c, stmt, err)) != 0)
        return rc;
    bool was_in_tx = !sqlite3_get_autocommit(c->db);

    bool rowids = st->rowids && stmt && sqlite3_column_count(stmt) == 0;
    calx_rowset *rs = rowids ? calx__rowset_new(1) : rowset_for(stmt, err);
    if (rowids && (!rs || calx__rowset_set_colname(rs, 0, "rowid") != 0)) {
        calx__rowset_free(rs);
        return calx__nomem(err, "making a rowset");
    }
    if (!rs)
        return err->code;
    if (!stmt) {
        *out = rs;  /* only comments: nothing to run */
        return 0;
    }

    bool readonly = sqlite3_stmt_readonly(stmt) != 0;
    /* Only a read runs lazily: a write's changes and rowcount must be
     * complete by the callback, and a set list cannot pause mid-way. */
    bool streaming = stream > 0 && readonly && st->nsets == 1;
    rs->rowcount = readonly ? -1 : 0;
    c->request_ran = true;
    for (size_t set = 0; set < st->nsets; set++) {
        *failed_set = set;
        if (set > 0 && atomic_load(&c->interrupted)) {
            rc = canceled(err);
            break;
        }
        const calx_value *vals = st->nparams ? st->params + set * st->nparams : NULL;
        rc = bind_params(c, stmt, vals, st->nparams, streaming, err);
        if (rc)
            break;
        sqlite3_int64 before = sqlite3_total_changes64(c->db);
        bool more;
        rc = collect(c, stmt, rs, streaming ? stream : 0, false, &more, err);
        if (rc)
            break;
        if (more) {
            c->cursor = stmt;
            c->cursor_row = true;
            rs->more = true;
            rs->lastrowid = sqlite3_last_insert_rowid(c->db);
            *out = rs;
            return 0;
        }
        /* sqlite3_changes keeps the last INSERT/UPDATE/DELETE's count
         * through statements that change no rows (DDL): count it only
         * when this run changed something. */
        if (!readonly && sqlite3_total_changes64(c->db) != before)
            rs->rowcount += sqlite3_changes64(c->db);
        if (rowids) {
            /* Each set's own rowid, read right after its execution. */
            calx_value *row = calx__rowset_add_row(rs);
            if (!row) {
                rc = calx__nomem(err, "collecting rowids");
                break;
            }
            row[0] = calx_int(sqlite3_last_insert_rowid(c->db));
        }
        sqlite3_reset(stmt);
    }
    if (rc) {
        if (began_reading && !readonly && (err->driver_code & 0xff) == SQLITE_BUSY)
            calx__error_note(err, "this transaction began by reading, and SQLite cannot take "
                             "the write lock while another connection writes: roll back "
                             "and retry, or connect with begin=immediate");
        else
            note_lock_held(c, err);
        sqlite3_reset(stmt);
        lose_tx_if_ended(c, was_in_tx, err);
        calx__rowset_free(rs);
        return rc;
    }
    rs->lastrowid = sqlite3_last_insert_rowid(c->db);
    *out = rs;
    return 0;
}

static int exec_batch(calx_sqlite_conn *c, const calx_dreq *req, calx_rowset **out,
                      calx_error *err)
{
    calx_rowset *head = NULL, **tail = &head;
    for (size_t i = 0; i < req->nstmts; i++) {
        const calx_dstmt *st = &req->stmts[i];
        bool last = i + 1 == req->nstmts;
        calx_rowset *rs = NULL;
        size_t set;
        int rc = exec_stmt(c, st, last ? req->stream_rows : 0, &rs, &set, err);
        if (rc) {
            calx__error_note_where(err, req, i, set);
            calx__rowset_free(head);
            return rc;
        }
        *tail = rs;
        tail = &rs->next;
    }
    *out = head;
    return 0;
}

static int fetch(calx_sqlite_conn *c, size_t limit, calx_rowset **out, calx_error *err)
{
    if (!c->cursor)
        return calx_error_set(err, CALX_ERR_STATE,
                              "no streamed result is open to fetch from");
    calx_rowset *rs = rowset_for(c->cursor, err);
    if (!rs) {
        close_cursor(c);
        return err->code;
    }
    bool more;
    bool was_in_tx = !sqlite3_get_autocommit(c->db);
    c->request_ran = true;
    int rc = collect(c, c->cursor, rs, limit, c->cursor_row, &more, err);
    if (rc || !more)
        close_cursor(c);
    if (rc) {
        lose_tx_if_ended(c, was_in_tx, err);
        calx__rowset_free(rs);
        return rc;
    }
    rs->more = more;
    rs->lastrowid = sqlite3_last_insert_rowid(c->db);
    *out = rs;
    return 0;
}

/* COMMIT or ROLLBACK: sent only when SQLite really is in a transaction (a
 * lazy BEGIN may never have started one). A transaction SQLite ended by
 * itself cannot be committed; rolling it back is what clears that state. */
static int end_tx(calx_sqlite_conn *c, bool commit, calx_error *err)
{
    c->tx_wanted = false;
    if (c->tx_lost) {
        if (commit)
            return tx_lost_error(c, err);
        c->tx_lost = false;
        return 0;
    }
    if (sqlite3_get_autocommit(c->db))
        return 0;
    int rc = run_simple(c, commit ? "COMMIT" : "ROLLBACK", err);
    if (rc && commit) {
        note_lock_held(c, err);
        lose_tx_if_ended(c, true, err);  /* a COMMIT that failed writing */
    }
    return rc;
}

static int ping(calx_sqlite_conn *c, calx_error *err)
{
    int rc = run_simple(c, "SELECT 1", err);
    if (rc)
        return rc;
    if (c->have_id) {
        /* SQLite keeps using an unlinked file without complaint: a pooled
         * connection would go on writing into a file nobody else sees. */
        struct stat st;
        if (stat(c->dbfile, &st) != 0 || st.st_dev != c->dev || st.st_ino != c->ino)
            return calx_error_set(err, CALX_ERR_DISCONNECT,
                                  "the database file '%s' was removed or replaced "
                                  "since the connection opened",
                                  c->filename);
    }
    return 0;
}

static void run_request(calx_sqlite_conn *c, const calx_dreq *req)
{
    calx_error *err = &c->res_err;
    calx_rowset *rs = NULL;
    int rc = 0;
    calx_error_clear(err);
    c->request_ran = false;
    if (c->pre_ready && req->op != CALX_DOP_FETCH) {
        calx__rowset_free(c->pre_rs);
        c->pre_rs = NULL;
        c->pre_ready = false;
    }
    if (req->op != CALX_DOP_FETCH && req->op != CALX_DOP_CLOSE_CURSOR)
        close_cursor(c);
    switch (req->op) {
    case CALX_DOP_EXEC:
        if (req->begin && c->iso != CALX_SQLITE_AUTOCOMMIT)
            c->tx_wanted = true;
        rc = exec_batch(c, req, &rs, err);
        if (!rc && req->commit) {
            rc = end_tx(c, true, err);
            if (rc) {
                calx__rowset_free(rs);
                rs = NULL;
            }
        }
        break;
    case CALX_DOP_BEGIN:
        if (c->iso != CALX_SQLITE_AUTOCOMMIT)
            c->tx_wanted = true;
        break;
    case CALX_DOP_COMMIT:
        rc = end_tx(c, true, err);
        break;
    case CALX_DOP_ROLLBACK:
        rc = end_tx(c, false, err);
        break;
    case CALX_DOP_PING:
        rc = ping(c, err);
        break;
    case CALX_DOP_FETCH:
        if (c->pre_ready) {
            rc = c->pre_rc;
            rs = c->pre_rs;
            *err = c->pre_err;
            c->pre_rs = NULL;
            c->pre_ready = false;
        } else {
            rc = fetch(c, req->stream_rows, &rs, err);
        }
        /* A read-ahead chunk that was interrupted counts as this fetch's. */
        if (rc)
            c->request_ran = true;
        break;
    case CALX_DOP_CLOSE_CURSOR:
        close_cursor(c);
        break;
    }

    pthread_mutex_lock(&c->mu);
    c->executing = false;
    bool interrupted = atomic_load(&c->interrupted);
    pthread_mutex_unlock(&c->mu);
    /* An interrupt that came as the request finished may have latched in
     * SQLite while a streamed statement stays open, failing the next fetch
     * for no visible reason: end the stream now instead. */
    if (!rc && interrupted && c->cursor) {
        close_cursor(c);
        calx__rowset_free(rs);
        rs = NULL;
        rc = canceled(err);
    }
    if (rc)
        cancel_ends_tx(c, err);
    c->res_ok = rc == 0;
    c->res_rs = rs;
}

/* ---- opening and closing (worker thread) ---- */

static int on_progress(void *arg)
{
    calx_sqlite_conn *c = arg;
    return atomic_load_explicit(&c->interrupted, memory_order_relaxed) ? 1 : 0;
}

static int apply_pragmas(calx_sqlite_conn *c, calx_error *err)
{
    int rc = calx__sqlite_check_pragma_names(c, c->db, err);
    for (size_t i = 0; i < c->npragmas && !rc; i++) {
        const calx_sqlite_pragma *p = &c->pragmas[i];
        /* Pragmas take no bound parameters; both parts were checked
         * against a strict character set in connect. */
        char *sql = sqlite3_mprintf("PRAGMA %s = %s", p->key, p->value);
        if (!sql) {
            rc = calx__nomem(err, "setting pragmas");
            break;
        }
        rc = run_once(c, sql, err);
        sqlite3_free(sql);
        if (rc)
            calx__error_note(err, "setting PRAGMA %s = %s", p->key, p->value);
    }
    return rc;
}

static void close_db(calx_sqlite_conn *c)
{
    calx__rowset_free(c->pre_rs);
    c->pre_rs = NULL;
    c->pre_ready = false;
    close_cursor(c);
    cache_clear(c);
    sqlite3_close_v2(c->db);
    c->db = NULL;
}

/* A file database is put in WAL mode unless the options chose a journal
 * mode: in the default rollback-journal mode a transaction that has only
 * read holds a shared lock to its end, and another connection's COMMIT
 * waits the whole busy timeout, then fails, behind a mere reader (the
 * commonest web pattern: one request reads while another writes). In WAL
 * readers never block the writer, nor the writer the readers, and each
 * transaction still reads one snapshot. (WAL needs shared memory between
 * the connections: not for a database on a network filesystem; choose
 * journal_mode=delete there.) The mode is stored in the file, so this
 * changes nothing for a database already in WAL. */
static int use_wal_by_default(calx_sqlite_conn *c, calx_error *err)
{
    if (c->journal_set || (c->open_flags & SQLITE_OPEN_READONLY) ||
        strcmp(c->filename, ":memory:") == 0)
        return 0;
    int rc = run_once(c, "PRAGMA journal_mode = WAL", err);
    if (rc)
        calx__error_note(err, "setting PRAGMA journal_mode = WAL, calx's default for a file "
                         "database (choose another with journal_mode=...)");
    return rc;
}

static bool open_db(calx_sqlite_conn *c, calx_error *err)
{
    calx_error_clear(err);
    int rc = sqlite3_open_v2(c->filename, &c->db, c->open_flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        calx_error_set(err, CALX_ERR_OPERATIONAL, "cannot open the SQLite database '%s': %s",
                       c->filename, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        err->driver_code = c->db ? sqlite3_extended_errcode(c->db) : rc;
        sqlite3_close_v2(c->db);
        c->db = NULL;
        return false;
    }
    sqlite3_extended_result_codes(c->db, 1);
    /* The timeout the options asked for holds from the first statement:
     * setting the pragmas below may already wait for a lock. */
    sqlite3_busy_timeout(c->db, c->busy_ms);
    sqlite3_progress_handler(c->db, CALX_SQLITE_PROGRESS_OPS, on_progress, c);
    if (run_once(c, "PRAGMA foreign_keys = ON", err) ||
        (c->iso == CALX_SQLITE_READ_UNCOMMITTED &&
         run_once(c, "PRAGMA read_uncommitted = 1", err)) ||
        apply_pragmas(c, err) || use_wal_by_default(c, err)) {
        note_lock_held(c, err);
        close_db(c);
        return false;
    }

    c->dbfile = sqlite3_db_filename(c->db, "main");
    struct stat st;
    if (c->dbfile && *c->dbfile && stat(c->dbfile, &st) == 0) {
        c->have_id = true;
        c->dev = st.st_dev;
        c->ino = st.st_ino;
    }
    return true;
}

static void on_connected(calx_work *w);
static void on_request_done(calx_work *w);
static void on_closed(calx_work *w);

/* Reads the next chunk of the open stream while the loop thread handles
 * the last one, so a large SELECT costs the slower of the two sides, not
 * their sum. The next FETCH takes it. Interruptible like a request. */
static void read_ahead(calx_sqlite_conn *c, size_t chunk)
{
    pthread_mutex_lock(&c->mu);
    bool stop = c->quit;
    c->executing = !stop;
    pthread_mutex_unlock(&c->mu);
    if (stop)
        return;
    calx_error_clear(&c->pre_err);
    c->pre_rs = NULL;
    c->pre_rc = fetch(c, chunk, &c->pre_rs, &c->pre_err);
    c->pre_ready = true;
    pthread_mutex_lock(&c->mu);
    c->executing = false;
    pthread_mutex_unlock(&c->mu);
}

static void *worker_main(void *arg)
{
    calx_sqlite_conn *c = arg;
    calx_loop *loop = c->base.loop;

    bool ok = open_db(c, &c->res_err);
    c->res_ok = ok;
    c->done.fn = on_connected;
    calx__loop_post(loop, &c->done);
    if (!ok)
        return NULL;  /* the loop thread joins and frees c */

    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->job && !c->quit)
            pthread_cond_wait(&c->cv, &c->mu);
        const calx_dreq *req = c->job;
        c->job = NULL;
        c->executing = req != NULL;
        pthread_mutex_unlock(&c->mu);
        if (!req)
            break;
        run_request(c, req);
        /* Decided before the post: from then on req and res_* are the
         * loop thread's. */
        size_t chunk = req->stream_rows;
        bool ahead = c->res_ok && c->res_rs && c->res_rs->more && c->cursor;
        c->done.fn = on_request_done;
        calx__loop_post(loop, &c->done);
        if (ahead)
            read_ahead(c, chunk);
    }

    close_db(c);
    c->done.fn = on_closed;
    calx__loop_post(loop, &c->done);
    return NULL;
}

/* ---- the loop thread's side ---- */

static void conn_free(calx_sqlite_conn *c)
{
    calx__sqlite_options_free(c);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static calx_sqlite_conn *conn_of_work(calx_work *w)
{
    return (calx_sqlite_conn *)((char *)w - offsetof(calx_sqlite_conn, done));
}

static void on_connected(calx_work *w)
{
    calx_sqlite_conn *c = conn_of_work(w);
    calx__loop_unhold(c->base.loop);
    if (c->res_ok) {
        c->connect_cb(c->udata, &c->base, NULL);
        return;
    }
    /* The worker has returned or is returning: the join is short. */
    pthread_join(c->thread, NULL);
    calx_error err = c->res_err;
    calx_dconnect_cb cb = c->connect_cb;
    void *udata = c->udata;
    conn_free(c);
    cb(udata, NULL, &err);
}

static void on_request_done(calx_work *w)
{
    calx_sqlite_conn *c = conn_of_work(w);
    calx_rowset *rs = c->res_rs;
    bool ok = c->res_ok;
    /* A copy: the callback may queue the next request, whose result the
     * worker would write over this one. */
    calx_error err = c->res_err;
    c->res_rs = NULL;
    c->busy = false;
    calx__loop_unhold(c->base.loop);
    if (!ok && err.code == CALX_ERR_DISCONNECT)
        c->dead = true;
    if (c->closing) {
        calx__rowset_free(rs);  /* closed under a running request: nobody waits */
        return;
    }
    c->cb(c->udata, ok ? rs : NULL, ok ? NULL : &err);
}

static void on_closed(calx_work *w)
{
    calx_sqlite_conn *c = conn_of_work(w);
    calx_loop *loop = c->base.loop;
    pthread_join(c->thread, NULL);
    conn_free(c);
    calx__loop_unhold(loop);
}

static int sqlite_connect(calx_loop *loop, const calx_url *url, const calx_kv *args,
                          size_t nargs, const char *isolation_level, calx_dconnect_cb cb,
                          void *udata, calx_error *err)
{
    if (!loop || !url || !cb || (nargs && !args))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "sqlite connect: loop, url and callback are required");
    calx_sqlite_conn *c = calloc(1, sizeof *c);
    if (!c)
        return calx__nomem(err, "making a connection");
    c->base.driver = &calx__sqlite_driver;
    c->base.loop = loop;
    c->connect_cb = cb;
    c->udata = udata;
    atomic_init(&c->interrupted, false);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    int rc = calx__sqlite_parse_options(c, url, args, nargs, isolation_level, err);
    if (rc) {
        conn_free(c);
        return rc;
    }
    calx__loop_hold(loop);
    rc = pthread_create(&c->thread, NULL, worker_main, c);
    if (rc) {
        calx__loop_unhold(loop);
        conn_free(c);
        return calx_error_set(err, CALX_ERR_OPERATIONAL,
                              "cannot start a thread for the SQLite connection: %s",
                              strerror(rc));
    }
    return 0;
}

/* inline_reads: a single read-only statement runs on the loop thread
 * itself when the worker is idle, saving the two thread wake-ups a
 * request costs (most of a primary-key get's time). It never waits: the
 * busy timeout is 0 for it, and a read that finds the database locked goes
 * to the worker after all. It does block the loop for the read itself:
 * microseconds for a page-cache hit, a disk read on a miss, which is why
 * it is an option (for local files read much more than written). True
 * when the request ran here; its callback is then deferred as usual. */
static bool try_inline(calx_sqlite_conn *c, const calx_dreq *req)
{
    if (!c->inline_reads || req->op != CALX_DOP_EXEC || req->nstmts != 1 ||
        req->stream_rows || req->commit || req->stmts[0].nsets != 1)
        return false;
    pthread_mutex_lock(&c->mu);
    bool idle = !c->executing && !c->job && !c->quit;
    pthread_mutex_unlock(&c->mu);
    if (!idle || c->cursor || c->pre_ready || !c->db)
        return false;
    sqlite3_stmt *stmt = NULL;
    calx_error err;
    if (prepare_cached(c, req->stmts[0].sql, &stmt, &err) != 0 || !stmt ||
        !sqlite3_stmt_readonly(stmt))
        return false;
    sqlite3_busy_timeout(c->db, 0);
    run_request(c, req);
    sqlite3_busy_timeout(c->db, c->busy_ms);
    if (!c->res_ok && (c->res_err.driver_code & 0xff) == SQLITE_BUSY) {
        /* Locked: the worker waits for the lock instead. */
        calx__rowset_free(c->res_rs);
        c->res_rs = NULL;
        return false;
    }
    c->done.fn = on_request_done;
    calx__loop_defer(c->base.loop, &c->done);
    return true;
}

static int sqlite_request(calx_dconn *base, const calx_dreq *req, calx_dreq_cb cb,
                          void *udata, calx_error *err)
{
    calx_sqlite_conn *c = (calx_sqlite_conn *)base;
    int rc = calx__dreq_check("sqlite", base, req, cb, err);
    if (rc)
        return rc;
    if (c->closing)
        return calx_error_set(err, CALX_ERR_CLOSED, "the SQLite connection is closed");
    if (c->busy)
        return calx_error_set(err, CALX_ERR_BUSY,
                              "the SQLite connection is already running a request");
    c->busy = true;
    c->cb = cb;
    c->udata = udata;
    calx__loop_hold(c->base.loop);
    atomic_store(&c->interrupted, false);
    c->stats.requests++;
    if (try_inline(c, req)) {
        c->stats.inline_runs++;
        return 0;
    }
    pthread_mutex_lock(&c->mu);
    c->job = req;
    atomic_store(&c->interrupted, false);
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static void sqlite_interrupt(calx_dconn *base)
{
    calx_sqlite_conn *c = (calx_sqlite_conn *)base;
    if (!c)
        return;
    /* Only a request that is queued or running is stopped: an interrupt
     * reaching SQLite between requests would hit an open stream later. */
    pthread_mutex_lock(&c->mu);
    if (c->job || c->executing) {
        atomic_store(&c->interrupted, true);
        if (c->executing)
            sqlite3_interrupt(c->db);
    }
    pthread_mutex_unlock(&c->mu);
}

/* Also false when the database file was deleted or replaced since the
 * connection opened it: SQLite would go on using the unlinked file without
 * a word, and a pooled connection would write where nobody reads. One stat,
 * at every checkout. (dbfile and the identity were recorded by the worker
 * before the connect's completion was posted, and never change.) */
static bool sqlite_alive(const calx_dconn *base)
{
    const calx_sqlite_conn *c = (const calx_sqlite_conn *)base;
    if (!c || c->dead || c->closing)
        return false;
    struct stat st;
    return !c->have_id ||
           (stat(c->dbfile, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino);
}

static void sqlite_close(calx_dconn *base)
{
    calx_sqlite_conn *c = (calx_sqlite_conn *)base;
    if (!c || c->closing)
        return;
    /* The engine never closes under a running request. Should it happen,
     * stop the request and drop its result rather than leave the thread
     * behind. */
    assert(!c->busy);
    c->closing = true;
    if (c->busy)
        sqlite_interrupt(base);
    calx__loop_hold(c->base.loop);
    pthread_mutex_lock(&c->mu);
    c->quit = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void calx__sqlite_conn_stats(const calx_dconn *base, calx_sqlite_stats *out)
{
    const calx_sqlite_conn *c = (const calx_sqlite_conn *)base;
    if (c && c->base.driver == &calx__sqlite_driver)
        *out = c->stats;
    else
        memset(out, 0, sizeof *out);
}

const calx_driver calx__sqlite_driver = {
    .name = "sqlite",
    .check_options = calx__sqlite_check_options,
    .describe = calx__sqlite_describe,
    .connect = sqlite_connect,
    .request = sqlite_request,
    .interrupt = sqlite_interrupt,
    .alive = sqlite_alive,
    .close = sqlite_close,
};

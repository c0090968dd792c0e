/* SPDX-License-Identifier: MIT */
/* The SQLite driver: statements, on the worker thread.
 *
 * The connection's cache of prepared statements (least recently used out,
 * CALX_SQLITE_CACHE_SIZE of them), calx values bound as parameters,
 * statements stepped into rowsets (each parameter set of an execute-many,
 * each INSERT's rowid when asked), the lazy BEGIN just before the first
 * statement, and the chunks of a streamed statement. It is a file of its
 * own because it is where calx values meet sqlite3_bind_* and
 * sqlite3_column_*: how a value goes into SQLite and how a row comes out.
 * What a request is (statements, COMMIT, ping, fetch) is sqlite_worker.c's.
 */
#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/hash.h"
#include "core/nomem.h"
#include "driver/rowset.h"
#include "driver/sqlite_int.h"
#include "driver/sqlscan.h"

/* ---- the statement cache ---- */

/* The prepared statement for sql, from the cache or newly prepared into
 * it; owned by the cache. *out is NULL for SQL with no statement in it.
 * The last statement found is checked first, by its text: a flush's run
 * of one INSERT, a loop of gets, need no hash. */
int calx__sqlite_prepare_cached(calx_sqlite_conn *c, const char *sql, uint64_t sql_hash,
                                sqlite3_stmt **out, calx_error *err)
{
    if (c->last_found < c->ncached && strcmp(c->cache[c->last_found].sql, sql) == 0) {
        calx_sqlite_cached *e = &c->cache[c->last_found];
        e->used = ++c->tick;
        *out = e->stmt;
        return 0;
    }
    uint64_t h = sql_hash ? sql_hash : calx__hash_str(CALX_HASH_INIT, sql);
    for (size_t i = 0; i < c->ncached; i++) {
        calx_sqlite_cached *e = &c->cache[i];
        if (e->hash == h && strcmp(e->sql, sql) == 0) {
            e->used = ++c->tick;
            c->last_found = i;
            *out = e->stmt;
            return 0;
        }
    }

    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK)
        return calx__sqlite_db_error(c, rc, err);
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
        calx__colnames_release(slot->names);
    }
    slot->hash = h;
    slot->used = ++c->tick;
    slot->sql = copy;
    slot->stmt = stmt;
    slot->names = NULL;
    c->last_found = (size_t)(slot - c->cache);
    return 0;
}

void calx__sqlite_cache_clear(calx_sqlite_conn *c)
{
    for (size_t i = 0; i < c->ncached; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
        calx__colnames_release(c->cache[i].names);
    }
    c->ncached = 0;
}

/* Runs a parameterless statement through the cache, dropping any rows. */
int calx__sqlite_run_simple(calx_sqlite_conn *c, const char *sql, calx_error *err)
{
    sqlite3_stmt *stmt;
    int rc = calx__sqlite_prepare_cached(c, sql, 0, &stmt, err);
    if (rc)
        return rc;
    if (!stmt)
        return 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        calx__sqlite_db_error(c, rc, err);
        sqlite3_reset(stmt);
        return err->code;
    }
    sqlite3_reset(stmt);
    return 0;
}

/* Runs a statement once, outside the cache (connect-time setup). */
int calx__sqlite_run_once(calx_sqlite_conn *c, const char *sql, calx_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return calx__sqlite_db_error(c, rc, err);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        calx__sqlite_db_error(c, rc, err);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : err->code;
}

int calx__sqlite_pragma_int(sqlite3 *db, const char *sql, int otherwise)
{
    sqlite3_stmt *st = NULL;
    int v = otherwise;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ---- running statements ---- */

void calx__sqlite_close_cursor(calx_sqlite_conn *c)
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
        case CALX_ARRAY:
            return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                                  "parameter %zu is an ARRAY: SQLite has no arrays "
                                  "(they are PostgreSQL's); bind JSON text instead", i + 1);
        default:
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "parameter %zu has an unknown value type %d", i + 1,
                                  (int)v->type);
        }
        if (rc != SQLITE_OK) {
            calx__sqlite_db_error(c, rc, err);
            calx__error_note(err, "binding parameter %zu", i + 1);
            return err->code;
        }
    }
    return 0;
}

/* Reads the ncols values of the row stmt is on into row, each text and
 * blob copied by copy(ctx, bytes, n) (a rowset's arena, a caller's
 * buffer). 0, or -1 when a copy came back NULL (out of memory, out of
 * room: the caller says which) or SQLite ran out of memory converting a
 * text. Inlined into each caller, copy with it. */
static inline int read_columns(sqlite3_stmt *stmt, calx_value *row, size_t ncols,
                               const char *(*copy)(void *, const void *, size_t), void *ctx)
{
    for (size_t i = 0; i < ncols; i++) {
        /* One call into the statement a column, its value read through
         * the sqlite3_value: the column functions each check the
         * statement and its error state again, three calls for a text. The
         * value is unprotected, which is safe here: a connection runs on
         * one thread at a time (SQLITE_OPEN_NOMUTEX). */
        sqlite3_value *sv = sqlite3_column_value(stmt, (int)i);
        calx_value *v = &row[i];
        int type = sqlite3_value_type(sv);
        switch (type) {
        case SQLITE_INTEGER:
            *v = calx_int(sqlite3_value_int64(sv));
            break;
        case SQLITE_FLOAT:
            *v = calx_real(sqlite3_value_double(sv));
            break;
        case SQLITE_TEXT:
        case SQLITE_BLOB: {
            bool text = type == SQLITE_TEXT;
            const void *p = text ? (const void *)sqlite3_value_text(sv) : sqlite3_value_blob(sv);
            size_t n = (size_t)sqlite3_value_bytes(sv);
            /* SQLite returns NULL for an empty blob, and for text only when
             * converting it ran out of memory. */
            if (!p && (text || n))
                return -1;
            const char *copied = copy(ctx, p, n);
            if (!copied)
                return -1;
            v->type = text ? CALX_TEXT : CALX_BLOB;
            v->u.s.ptr = copied;
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

static const char *copy_to_rowset(void *rs, const void *p, size_t n)
{
    return calx__rowset_copy(rs, p, n);
}

/* Appends the row stmt is on to rs. */
static int add_row(calx_rowset *rs, sqlite3_stmt *stmt, calx_error *err)
{
    calx_value *row = calx__rowset_add_row(rs);
    if (!row || read_columns(stmt, row, rs->ncols, copy_to_rowset, rs) != 0)
        return calx__nomem(err, "reading a row");
    return 0;
}

static int share_names(calx_sqlite_cached *entry, sqlite3_stmt *stmt, size_t ncols,
                       calx_error *err);

/* Steps stmt into rs (starting with the current row when pending). With
 * a limit, stops with *more set when a row beyond it is waiting: stmt is
 * left on that row for the next fetch. With entry (rs's names are its),
 * a first step that made SQLite prepare the statement anew for a schema
 * change gives rs the new statement's columns before any row is read. */
static int collect(calx_sqlite_conn *c, sqlite3_stmt *stmt, calx_sqlite_cached *entry,
                   calx_rowset *rs, size_t limit, bool pending, bool *more, calx_error *err)
{
    *more = false;
    int rc = pending ? SQLITE_ROW : sqlite3_step(stmt);
    if (entry && rs->nrows == 0 &&
        sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0) != entry->names_reprepares) {
        if (share_names(entry, stmt, (size_t)sqlite3_column_count(stmt), err))
            return err->code;
        calx__rowset_set_names(rs, entry->names);
    }
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
        return calx__sqlite_db_error(c, rc, err);
    return 0;
}

static const char *column_name(void *stmt, size_t i)
{
    return sqlite3_column_name(stmt, (int)i);
}

/* Makes entry's names stmt's current ones (read again only after SQLite
 * re-prepared the statement for a schema change). 0 or CALX_ERR_NOMEM. */
static int share_names(calx_sqlite_cached *entry, sqlite3_stmt *stmt, size_t ncols,
                       calx_error *err)
{
    int reprepares = sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0);
    if (entry->names && entry->names_reprepares == reprepares)
        return 0;
    calx_colnames *names = calx__colnames_new(ncols, column_name, stmt);
    if (!names)
        return calx__nomem(err, "reading column names");
    calx__colnames_release(entry->names);
    entry->names = names;
    entry->names_reprepares = reprepares;
    return 0;
}

/* A new rowset for stmt's columns. With the cache entry stmt came from,
 * the names are the entry's, read once and shared by every run (a get by
 * primary key runs the same statement over and over); else they are
 * copied into the rowset. */
static calx_rowset *rowset_for(sqlite3_stmt *stmt, calx_sqlite_cached *entry, calx_error *err)
{
    size_t ncols = stmt ? (size_t)sqlite3_column_count(stmt) : 0;
    if (entry) {
        if (share_names(entry, stmt, ncols, err))
            return NULL;
        calx_rowset *rs = calx__rowset_new_named(entry->names);
        if (!rs)
            calx__nomem(err, "making a rowset");
        return rs;
    }
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
        begin = sqlite3_stmt_readonly(stmt) && !c->tx_writes ? "BEGIN" : "BEGIN IMMEDIATE";
    }
    if (c->begin_sql)
        begin = c->begin_sql;
    int rc = calx__sqlite_run_simple(c, begin, err);
    if (rc)
        calx__sqlite_note_lock_held(c, err);
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
        return calx__sqlite_canceled(err);
    if (!st->sql)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "a statement has no SQL text");
    if (c->tx_lost) {
        if (!calx__sqlite_is_whole_rollback(st->sql))
            return calx__sqlite_tx_lost_error(c, err);
        /* The program's own ROLLBACK ends the lost transaction; SQLite has
         * none left to roll back, so there is nothing to run. */
        c->tx_lost = false;
        c->tx_wanted = false;
        c->tx_writes = false;
        *out = calx__rowset_new(0);
        return *out ? 0 : calx__nomem(err, "making a rowset");
    }

    /* A read run inline: try_inline found the statement a moment ago, and
     * it is still the cache's last found (its only statement). */
    sqlite3_stmt *stmt = c->inline_stmt;
    int rc = stmt ? 0 : calx__sqlite_prepare_cached(c, st->sql, st->sql_hash, &stmt, err);
    if (rc)
        return rc;
    calx_sqlite_cached *entry = stmt ? &c->cache[c->last_found] : NULL;
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
    if (rowids || !stmt || entry->stmt != stmt)
        entry = NULL;  /* (BEGIN cannot evict the newest entry; this is a guard) */
    calx_rowset *rs = rowids ? calx__rowset_new(1) : rowset_for(stmt, entry, err);
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
            rc = calx__sqlite_canceled(err);
            break;
        }
        const calx_value *vals = st->nparams ? st->params + set * st->nparams : NULL;
        rc = bind_params(c, stmt, vals, st->nparams, streaming, err);
        if (rc)
            break;
        sqlite3_int64 before = sqlite3_total_changes64(c->db);
        bool more;
        rc = collect(c, stmt, entry, rs, streaming ? stream : 0, false, &more, err);
        if (rc)
            break;
        if (more) {
            c->cursor = stmt;
            c->cursor_row = true;
            c->cursor_chunk = stream;
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
            calx__sqlite_note_lock_held(c, err);
        sqlite3_reset(stmt);
        calx__sqlite_lose_tx_if_ended(c, was_in_tx, err);
        calx__rowset_free(rs);
        return rc;
    }
    rs->lastrowid = sqlite3_last_insert_rowid(c->db);
    *out = rs;
    return 0;
}

int calx__sqlite_exec_batch(calx_sqlite_conn *c, const calx_dreq *req, calx_rowset **out,
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

/* A caller's buffer that read_row copies a row's bytes into. */
typedef struct row_bytes {
    char *next;
    size_t left;
} row_bytes;

static const char *copy_to_buffer(void *ctx, const void *p, size_t n)
{
    row_bytes *b = ctx;
    if (n > b->left)
        return NULL;
    char *at = b->next;
    if (n)
        memcpy(at, p, n);
    b->next += n;
    b->left -= n;
    return at;
}

calx_dread calx__sqlite_read_row(calx_sqlite_conn *c, sqlite3_stmt *stmt, const calx_dstmt *st,
                                 calx_value *row, size_t maxcols, size_t *ncols, char *buf,
                                 size_t size, calx_error *err)
{
    size_t want = (size_t)sqlite3_bind_parameter_count(stmt);
    if (want != st->nparams || (size_t)sqlite3_column_count(stmt) > maxcols)
        return CALX_DREAD_DECLINED;  /* request() says what is wrong, or reads it */
    if (begin_if_wanted(c, stmt, err))
        return CALX_DREAD_FAILED;
    bool was_in_tx = !sqlite3_get_autocommit(c->db);
    if (bind_params(c, stmt, st->params, st->nparams, false, err)) {
        sqlite3_reset(stmt);
        return CALX_DREAD_FAILED;
    }
    calx_dread got = CALX_DREAD_NONE;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        /* Counted now: a statement SQLite prepared anew for a schema
         * change may have other columns than before its first step. */
        size_t n = (size_t)sqlite3_column_count(stmt);
        row_bytes b = { buf, size };
        if (n > maxcols || read_columns(stmt, row, n, copy_to_buffer, &b) != 0 ||
            (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            /* Out of room, or a second row: nothing read is kept, and the
             * statement is ready to run again. */
            sqlite3_reset(stmt);
            return CALX_DREAD_DECLINED;
        }
        *ncols = n;
        got = CALX_DREAD_ROW;
    }
    if (rc != SQLITE_DONE) {
        calx__sqlite_db_error(c, rc, err);
        calx__sqlite_note_lock_held(c, err);
        sqlite3_reset(stmt);
        calx__sqlite_lose_tx_if_ended(c, was_in_tx, err);
        return CALX_DREAD_FAILED;
    }
    sqlite3_reset(stmt);
    return got;
}

calx_rowset *calx__sqlite_take_spare(calx_sqlite_conn *c)
{
    pthread_mutex_lock(&c->mu);
    calx_rowset *rs = c->spare_rs;
    c->spare_rs = NULL;
    pthread_mutex_unlock(&c->mu);
    return rs;
}

int calx__sqlite_fetch(calx_sqlite_conn *c, size_t limit, calx_rowset **out, calx_error *err)
{
    if (!c->cursor)
        return calx_error_set(err, CALX_ERR_STATE,
                              "no streamed result is open to fetch from");
    /* A chunk the program is done with is this one's memory: a large
     * load's rows then land in pages already faulted in (SQLite B2, the
     * worker: ~770 page faults fewer of 100,000 rows). It is of this
     * stream (any other request frees it first: sqlite_worker.c). */
    calx_rowset *rs = calx__sqlite_take_spare(c);
    if (rs && rs->ncols == (size_t)sqlite3_column_count(c->cursor)) {
        calx__rowset_refill(rs);
        c->stats.refills++;
    } else {
        calx__rowset_free(rs);
        rs = rowset_for(c->cursor, NULL, err);
    }
    if (!rs) {
        calx__sqlite_close_cursor(c);
        return err->code;
    }
    bool more;
    bool was_in_tx = !sqlite3_get_autocommit(c->db);
    c->request_ran = true;
    /* The chunk before was full, so this one likely is: its rows made at
     * once, not grown by doubling (each doubling a copy of the rows so
     * far). No more than the chunk before had: a fetch may ask for more
     * rows than are left. */
    size_t expect = limit && limit < c->cursor_chunk ? limit : c->cursor_chunk;
    int rc = calx__rowset_reserve(rs, expect) ? calx__nomem(err, "reading rows") : 0;
    if (!rc)
        rc = collect(c, c->cursor, NULL, rs, limit, c->cursor_row, &more, err);
    if (!rc && more)
        c->cursor_chunk = limit;
    if (rc || !more)
        calx__sqlite_close_cursor(c);
    if (rc) {
        calx__sqlite_lose_tx_if_ended(c, was_in_tx, err);
        calx__rowset_free(rs);
        return rc;
    }
    rs->more = more;
    rs->lastrowid = sqlite3_last_insert_rowid(c->db);
    *out = rs;
    return 0;
}

/* SPDX-License-Identifier: MIT */
/* The SQLite driver: the worker thread.
 *
 * Each connection's worker opens the database (busy timeout first, then
 * foreign keys, the pragmas of the options, WAL for a file unless a
 * journal mode was chosen), then waits for jobs: a request, run by its op
 * (statements, BEGIN, COMMIT, ROLLBACK, ping, fetch, closing the cursor),
 * its completion posted back, and the next chunk of a stream read ahead
 * meanwhile, or the WAL checkpointed after a commit that asked for one;
 * at quit it closes the handle and posts that too. It is a file
 * of its own because everything here runs on the worker and may block,
 * while sqlite.c runs on the loop thread and must not; the one exception
 * is a short read that sqlite.c runs inline through
 * calx__sqlite_run_request while the worker is idle.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/evloop.h"
#include "core/nomem.h"
#include "driver/rowset.h"
#include "driver/sqlite_int.h"

/* ---- opening and closing ---- */

/* Stops a statement the program interrupted, and an inline read that has
 * run its budget (on the loop thread: try_inline hands it to the worker). */
static int on_progress(void *arg)
{
    calx_sqlite_conn *c = arg;
    if (c->inline_steps_left > 0 && --c->inline_steps_left == 0) {
        c->inline_too_long = true;
        return 1;
    }
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
        rc = calx__sqlite_run_once(c, sql, err);
        sqlite3_free(sql);
        if (rc)
            calx__error_note(err, "setting PRAGMA %s = %s", p->key, p->value);
    }
    return rc;
}

static void close_db(calx_sqlite_conn *c)
{
    calx__rowset_free(calx__sqlite_take_spare(c));
    calx__rowset_free(c->pre_rs);
    c->pre_rs = NULL;
    c->pre_ready = false;
    calx__sqlite_close_cursor(c);
    calx__sqlite_cache_clear(c);
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
    int rc = calx__sqlite_run_once(c, "PRAGMA journal_mode = WAL", err);
    if (rc)
        calx__error_note(err, "setting PRAGMA journal_mode = WAL, calx's default for a file "
                         "database (choose another with journal_mode=...)");
    return rc;
}

/* ---- checkpoints ---- */

/* In WAL mode SQLite checkpoints inside the COMMIT that takes its log
 * past wal_autocheckpoint frames (1,000 by default): that COMMIT copies
 * the log into the database before it returns (100,000 heroes inserted:
 * COMMIT 49 ms, of which the checkpoint 25 ms). calx takes that threshold
 * over: SQLite's own checkpoint is replaced by a hook that records the
 * log's length at each commit, and the worker runs the same PASSIVE
 * checkpoint once it has answered the request that committed, while the
 * program goes on (run_checkpoint). The log grows no longer than before,
 * and a crash before the checkpoint loses nothing (SQLite replays the log
 * at the next open). A wal_autocheckpoint the options set is the
 * threshold; 0 turns checkpoints off, as in SQLite. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    calx_sqlite_conn *c = arg;
    if (frames > c->wal_frames)
        c->wal_frames = frames;
    return SQLITE_OK;
}

static void take_over_checkpoints(calx_sqlite_conn *c)
{
    /* 1,000: SQLite's default, should the pragma not answer. */
    int frames = calx__sqlite_pragma_int(c->db, "PRAGMA wal_autocheckpoint", 1000);
    c->checkpoint_frames = frames > 0 ? frames : 0;
    sqlite3_wal_hook(c->db, on_wal_commit, c);
}

/* Whether the request just run left a checkpoint to do: then the worker
 * is marked executing before its completion is posted, so that the loop
 * thread runs nothing inline on the handle while it checkpoints. */
static bool checkpoint_due(calx_sqlite_conn *c)
{
    if (!c->checkpoint_frames || c->wal_frames < c->checkpoint_frames)
        return false;
    c->wal_frames = 0;
    pthread_mutex_lock(&c->mu);
    bool run = !c->quit;
    c->executing = run;
    pthread_mutex_unlock(&c->mu);
    return run;
}

static void run_checkpoint(calx_sqlite_conn *c)
{
    /* PASSIVE, as SQLite's own: it waits for no reader or writer, and
     * what it cannot copy now the next one does. */
    (void)sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->executing = false;
    pthread_mutex_unlock(&c->mu);
}

static bool open_db(calx_sqlite_conn *c, calx_error *err)
{
    calx_error_clear(err);
    /* calx's VFS (sqlite_vfs.c) unless the options name one: reads run
     * inline only where it can keep them from blocking. */
    const char *vfs = c->vfs ? c->vfs : calx__sqlite_vfs_for_open();
    int rc = sqlite3_open_v2(c->filename, &c->db, c->open_flags | SQLITE_OPEN_NOMUTEX, vfs);
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
    sqlite3_progress_handler(c->db, CALX_SQLITE_PROGRESS_STEPS, on_progress, c);
    if (calx__sqlite_run_once(c, "PRAGMA foreign_keys = ON", err) ||
        (c->iso == CALX_SQLITE_READ_UNCOMMITTED &&
         calx__sqlite_run_once(c, "PRAGMA read_uncommitted = 1", err)) ||
        apply_pragmas(c, err) || use_wal_by_default(c, err)) {
        calx__sqlite_note_lock_held(c, err);
        close_db(c);
        return false;
    }

    take_over_checkpoints(c);
    if (c->inline_reads && !calx__sqlite_vfs_inline_ok(c->db))
        c->inline_reads = false;
    c->dbfile = sqlite3_db_filename(c->db, "main");
    struct stat st;
    if (c->dbfile && *c->dbfile && stat(c->dbfile, &st) == 0) {
        c->have_id = true;
        c->dev = st.st_dev;
        c->ino = st.st_ino;
    }
    return true;
}

/* ---- requests ---- */

/* COMMIT or ROLLBACK: sent only when SQLite really is in a transaction (a
 * lazy BEGIN may never have started one). A transaction SQLite ended by
 * itself cannot be committed; rolling it back is what clears that state. */
static int end_tx(calx_sqlite_conn *c, bool commit, calx_error *err)
{
    c->tx_wanted = false;
    c->tx_writes = false;
    if (c->tx_lost) {
        if (commit)
            return calx__sqlite_tx_lost_error(c, err);
        c->tx_lost = false;
        return 0;
    }
    if (sqlite3_get_autocommit(c->db))
        return 0;
    int rc = calx__sqlite_run_simple(c, commit ? "COMMIT" : "ROLLBACK", err);
    if (rc && commit) {
        calx__sqlite_note_lock_held(c, err);
        calx__sqlite_lose_tx_if_ended(c, true, err);  /* a COMMIT that failed writing */
    }
    return rc;
}

static int ping(calx_sqlite_conn *c, calx_error *err)
{
    int rc = calx__sqlite_run_simple(c, "SELECT 1", err);
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

void calx__sqlite_run_request(calx_sqlite_conn *c, const calx_dreq *req)
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
        calx__sqlite_close_cursor(c);
    /* A chunk given back belongs to the stream just ended. */
    if (req->op != CALX_DOP_FETCH)
        calx__rowset_free(calx__sqlite_take_spare(c));
    switch (req->op) {
    case CALX_DOP_EXEC:
        calx__sqlite_want_tx(c, req);
        rc = calx__sqlite_exec_batch(c, req, &rs, err);
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
            rc = calx__sqlite_fetch(c, req->stream_rows, &rs, err);
        }
        /* A read-ahead chunk that was interrupted counts as this fetch's. */
        if (rc)
            c->request_ran = true;
        break;
    case CALX_DOP_CLOSE_CURSOR:
        calx__sqlite_close_cursor(c);
        break;
    }

    /* A read run inline (on the loop thread, inline_stmt set) never set
     * executing, and sqlite_interrupt, which reads it under mu, runs on
     * this same thread: no lock to take. */
    bool interrupted;
    if (c->inline_stmt) {
        interrupted = atomic_load(&c->interrupted);
    } else {
        pthread_mutex_lock(&c->mu);
        c->executing = false;
        interrupted = atomic_load(&c->interrupted);
        pthread_mutex_unlock(&c->mu);
    }
    /* An interrupt that came as the request finished may have latched in
     * SQLite while a streamed statement stays open, failing the next fetch
     * for no visible reason: end the stream now instead. */
    if (!rc && interrupted && c->cursor) {
        calx__sqlite_close_cursor(c);
        calx__rowset_free(rs);
        rs = NULL;
        rc = calx__sqlite_canceled(err);
    }
    if (rc)
        calx__sqlite_cancel_ends_tx(c, err);
    c->res_ok = rc == 0;
    c->res_rs = rs;
}

/* ---- the run loop ---- */

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
    c->pre_rc = calx__sqlite_fetch(c, chunk, &c->pre_rs, &c->pre_err);
    c->pre_ready = true;
    pthread_mutex_lock(&c->mu);
    c->executing = false;
    pthread_mutex_unlock(&c->mu);
}

void *calx__sqlite_worker_main(void *arg)
{
    calx_sqlite_conn *c = arg;
    calx_loop *loop = c->base.loop;

    bool ok = open_db(c, &c->res_err);
    c->res_ok = ok;
    c->done.fn = calx__sqlite_on_connected;
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
        calx__sqlite_run_request(c, req);
        /* Decided before the post: from then on req and res_* are the
         * loop thread's. The chunk read ahead is the next FETCH's. */
        size_t chunk = req->stream_next_rows ? req->stream_next_rows : req->stream_rows;
        bool ahead = c->res_ok && c->res_rs && c->res_rs->more && c->cursor;
        bool checkpoint = !ahead && checkpoint_due(c);
        c->done.fn = calx__sqlite_on_request_done;
        calx__loop_post(loop, &c->done);
        if (ahead)
            read_ahead(c, chunk);
        else if (checkpoint)
            run_checkpoint(c);
    }

    close_db(c);
    c->done.fn = calx__sqlite_on_closed;
    calx__loop_post(loop, &c->done);
    return NULL;
}

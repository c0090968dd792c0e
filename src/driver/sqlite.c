/* SPDX-License-Identifier: MIT */
/* The SQLite driver: the loop thread's side.
 *
 * SQLite calls block, so each connection owns a worker thread that opens,
 * uses and closes the sqlite3 handle (sqlite_worker.c); the loop thread
 * only hands it jobs and gets completions back through calx__loop_post.
 * libuv's shared threadpool is left alone on purpose: a long query must
 * not starve DNS and file work queued there. This file is the driver
 * interface (driver.h) as the loop thread runs it -- connect starts the
 * worker, request hands it a job (or runs a short read inline), interrupt,
 * alive, close -- and the completions the worker posts back. Nothing here
 * blocks: the inline read runs on calx's VFS, which refuses whatever would
 * wait (sqlite_vfs.c), and the worker then runs it instead.
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
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/evloop.h"
#include "core/nomem.h"
#include "driver/driver.h"
#include "driver/rowset.h"
#include "driver/sqlite.h"
#include "driver/sqlite_int.h"

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

void calx__sqlite_on_connected(calx_work *w)
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

void calx__sqlite_on_request_done(calx_work *w)
{
    calx_sqlite_conn *c = conn_of_work(w);
    calx_rowset *rs = c->res_rs;
    bool ok = c->res_ok;
    /* A copy: the callback may queue the next request, whose result the
     * worker would write over this one. Only an error's: the struct is
     * half a kilobyte, a tenth of a get by key to copy. */
    calx_error err;
    if (!ok)
        err = c->res_err;
    c->res_rs = NULL;
    c->busy = false;
    if (c->held)
        calx__loop_unhold(c->base.loop);
    c->held = false;
    if (!ok && err.code == CALX_ERR_DISCONNECT)
        c->dead = true;
    if (c->closing) {
        calx__rowset_free(rs);  /* closed under a running request: nobody waits */
        return;
    }
    c->cb(c->udata, ok ? rs : NULL, ok ? NULL : &err);
}

void calx__sqlite_on_closed(calx_work *w)
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
    rc = pthread_create(&c->thread, NULL, calx__sqlite_worker_main, c);
    if (rc) {
        calx__loop_unhold(loop);
        conn_free(c);
        return calx_error_set(err, CALX_ERR_OPERATIONAL,
                              "cannot start a thread for the SQLite connection: %s",
                              strerror(rc));
    }
    return 0;
}

static bool end_inline(calx_sqlite_conn *c, const calx_dreq *req);

/* Whether the loop thread may run a read now: inline reads on, the worker
 * idle (no job, nothing executing), no stream open or read ahead, no lost
 * transaction. A chunk given back for the stream that has ended is freed
 * (under the same lock, which the worker is then not inside). */
static bool inline_ready(calx_sqlite_conn *c)
{
    if (!c->inline_reads || !c->db || c->cursor || c->pre_ready || c->tx_lost)
        return false;
    pthread_mutex_lock(&c->mu);
    bool idle = !c->executing && !c->job && !c->quit;
    calx_rowset *spare = idle ? c->spare_rs : NULL;
    if (spare)
        c->spare_rs = NULL;
    pthread_mutex_unlock(&c->mu);
    calx__rowset_free(spare);
    return idle;
}

/* Ends the VFS's watch over an inline read; what it refused. */
static calx_sqlite_refusal watch_end(calx_sqlite_conn *c)
{
    calx_sqlite_refusal refused = calx__sqlite_vfs_inline_end();
    c->inline_steps_left = 0;
    if (refused == CALX_SQLITE_REFUSED_FOR_GOOD)
        c->inline_reads = false;  /* no RWF_NOWAIT here: stop trying */
    return refused;
}

/* Starts an inline read of sql: its budget set, the VFS's watch on, and
 * the statement prepared (preparing may read the schema: inside the watch
 * too). NULL, with the watch off again, when sql is not a query (read-only
 * and giving rows: SQLite calls BEGIN, COMMIT, ATTACH and the like
 * read-only too, and none of them belongs here) or cannot be prepared
 * (the worker then reports why). */
static sqlite3_stmt *inline_begin(calx_sqlite_conn *c, const calx_dstmt *st)
{
    c->inline_steps_left = CALX_SQLITE_INLINE_STEPS / CALX_SQLITE_PROGRESS_STEPS;
    c->inline_too_long = false;
    calx__sqlite_vfs_inline_begin();
    sqlite3_stmt *stmt = NULL;
    calx_error err;
    if (calx__sqlite_prepare_cached(c, st->sql, st->sql_hash, &stmt, &err) == 0 && stmt &&
        sqlite3_stmt_readonly(stmt) && sqlite3_column_count(stmt) > 0)
        return stmt;
    watch_end(c);
    return NULL;
}

/* Ends an inline read that ran (ok, or failing with err): true when its
 * outcome stands, false when it is thrown away and the worker runs the
 * read -- the VFS refused something, the lock was held, or the budget ran
 * out. A read-only statement's BUSY or INTERRUPT leaves an open
 * transaction and its snapshot as they were; should SQLite have ended the
 * transaction after all, rerunning the read would silently read another
 * snapshot, so the outcome stands as the lost transaction's error. */
static bool inline_end(calx_sqlite_conn *c, bool was_in_tx, bool *ok, calx_error *err)
{
    calx_sqlite_refusal refused = watch_end(c);
    bool locked = !*ok && (err->driver_code & 0xff) == SQLITE_BUSY;
    if (refused || locked || c->inline_too_long) {
        c->stats.inline_refusals++;
        if (!was_in_tx || !sqlite3_get_autocommit(c->db) || c->tx_lost)
            return false;  /* the worker runs it */
        c->tx_lost = true;
        c->tx_lost_code = *ok ? SQLITE_BUSY : err->driver_code;
        snprintf(c->tx_lost_why, sizeof c->tx_lost_why,
                 "SQLite ended it when a read on the loop thread was stopped");
        *ok = false;
        calx__sqlite_tx_lost_error(c, err);
    }
    c->stats.inline_runs++;
    return true;
}

/* inline_reads (on unless the options say false): a single query (a
 * read-only statement giving rows) runs on the loop thread itself when
 * the worker is idle, saving the two thread wake-ups a request costs (most
 * of a primary-key get's time). It never waits: calx's VFS (sqlite_vfs.c) refuses whatever could
 * block -- a page not in the OS page cache, a lock above SHARED, a sleep
 * (the busy handler's: a lock someone holds), a write, a temporary file. Nor
 * does it run long: past CALX_SQLITE_INLINE_STEPS virtual-machine steps
 * the progress handler stops it. A refused, locked or stopped read is
 * thrown away and goes to the worker, which runs it as if the loop had
 * never tried: nothing the try changed is visible (a lazy BEGIN it ran is
 * the one the worker would run; the statement is reset; a read-only
 * statement's BUSY or INTERRUPT leaves an open transaction and its
 * snapshot as they were, which is checked: inline_end). True when the
 * request ran here (or ended in an error to report); its callback is then
 * deferred as usual. A COMMIT or ROLLBACK of a transaction that has not
 * written runs here too (end_inline). */
static bool try_inline(calx_sqlite_conn *c, const calx_dreq *req)
{
    bool read = req->op == CALX_DOP_EXEC && req->nstmts == 1 && !req->stream_rows &&
                !req->commit && !req->writes && req->stmts[0].nsets == 1;
    bool end = req->op == CALX_DOP_COMMIT || req->op == CALX_DOP_ROLLBACK;
    if (!(read || end) || !inline_ready(c))
        return false;
    if (end)
        return end_inline(c, req);
    bool was_in_tx = !sqlite3_get_autocommit(c->db);
    sqlite3_stmt *stmt = inline_begin(c, &req->stmts[0]);
    if (!stmt)
        return false;
    c->inline_stmt = stmt;
    calx__sqlite_run_request(c, req);
    c->inline_stmt = NULL;
    bool kept = inline_end(c, was_in_tx, &c->res_ok, &c->res_err);
    if (!kept || !c->res_ok) {
        calx__rowset_free(c->res_rs);
        c->res_rs = NULL;
    }
    if (!kept)
        return false;
    c->done.fn = calx__sqlite_on_request_done;
    calx__loop_defer(c->base.loop, &c->done);
    return true;
}

/* The driver's read_row (driver.h): a get by key run as try_inline runs a
 * read, its one row handed back at once. */
static calx_dread sqlite_read_row(calx_dconn *base, const calx_dreq *req, calx_value *row,
                                  size_t maxcols, size_t *ncols, char *buf, size_t size,
                                  calx_error *err)
{
    calx_sqlite_conn *c = (calx_sqlite_conn *)base;
    if (c->busy || c->closing || c->dead || req->op != CALX_DOP_EXEC || req->nstmts != 1 ||
        req->stream_rows || req->commit || req->writes || req->stmts[0].nsets != 1 ||
        !inline_ready(c))
        return CALX_DREAD_DECLINED;
    bool was_in_tx = !sqlite3_get_autocommit(c->db);
    sqlite3_stmt *stmt = inline_begin(c, &req->stmts[0]);
    if (!stmt)
        return CALX_DREAD_DECLINED;
    atomic_store(&c->interrupted, false);
    calx__sqlite_want_tx(c, req);
    calx_error_clear(err);
    calx_dread got = calx__sqlite_read_row(c, stmt, &req->stmts[0], row, maxcols, ncols, buf,
                                           size, err);
    if (got == CALX_DREAD_DECLINED) {
        watch_end(c);
        return got;
    }
    bool ok = got != CALX_DREAD_FAILED;
    if (!inline_end(c, was_in_tx, &ok, err)) {
        c->inline_gave_up = true;
        return CALX_DREAD_DECLINED;
    }
    c->stats.requests++;
    c->stats.read_rows++;
    return ok ? got : CALX_DREAD_FAILED;
}

/* The COMMIT or ROLLBACK of a transaction that has not written (or of
 * none) on the loop thread, as try_inline's reads: it only lets go of a
 * read snapshot, which waits for no lock and no disk, and a web handler's
 * session ends that way after every read-only request (without it, each
 * such request handed its end to the worker and waited for the hand-over
 * back; the service's GET did a quarter of its fixed body). Under the
 * VFS's watch all the same; should the transaction still be open after
 * (nothing here should stop it), the worker runs the request. */
static bool end_inline(calx_sqlite_conn *c, const calx_dreq *req)
{
    if (sqlite3_txn_state(c->db, NULL) == SQLITE_TXN_WRITE)
        return false;
    calx__sqlite_vfs_inline_begin();
    calx__sqlite_run_request(c, req);
    calx_sqlite_refusal refused = calx__sqlite_vfs_inline_end();
    if (!sqlite3_get_autocommit(c->db)) {
        c->stats.inline_refusals++;
        return false;
    }
    if (refused) {
        /* Ended all the same: what was refused was not needed. */
        c->res_ok = true;
        calx_error_clear(&c->res_err);
    }
    c->stats.inline_ends++;
    c->done.fn = calx__sqlite_on_request_done;
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
    atomic_store(&c->interrupted, false);
    c->stats.requests++;
    bool gave_up = c->inline_gave_up;
    c->inline_gave_up = false;
    if (!gave_up && try_inline(c, req))
        return 0;   /* counted there: inline_runs or inline_ends */
    /* The worker's completion comes through calx__loop_post: the loop
     * must wait for it. */
    c->held = true;
    calx__loop_hold(c->base.loop);
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

/* A chunk of the stream comes back: kept for the worker's next read
 * (calx__sqlite_take_spare), one at a time; freed when the connection is
 * going. */
static void sqlite_recycle(calx_dconn *base, calx_rowset *rs)
{
    calx_sqlite_conn *c = (calx_sqlite_conn *)base;
    if (rs && !c->closing && !c->dead) {
        pthread_mutex_lock(&c->mu);
        if (!c->spare_rs) {
            c->spare_rs = rs;
            rs = NULL;
        }
        pthread_mutex_unlock(&c->mu);
    }
    calx__rowset_free(rs);
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
    .recycle = sqlite_recycle,
    .read_row = sqlite_read_row,
    .runs_off_loop = true,   /* the worker thread, or inline within request() */
};

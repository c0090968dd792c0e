/* SPDX-License-Identifier: MIT */
/* The SQLite driver driven through its vtable on a calx loop, shared by
 * the programs that test it (test_sqlite_driver.c, test_sqlite_loop_reads.c):
 * a URL by hand, connecting, closing, and running a request to its
 * callback. A wait for a callback turns the loop once at a time until the
 * callback fired, not until the loop has nothing left to do: a timer the
 * test keeps ticking on the loop meanwhile does not make it wait forever.
 * The including program's main sets loop and tmp. */
#ifndef CALX_SQLITE_DRIVER_TEST_H
#define CALX_SQLITE_DRIVER_TEST_H

#include <stdbool.h>
#include <uv.h>

#include "driver/driver.h"
#include "driver/sqlite.h"
#include "test.h"

static calx_loop *loop;
static const char *tmp;
static const calx_driver *drv = &calx__sqlite_driver;

/* Runs the loop until it has nothing left to do. */
static void run_loop(void)
{
    uv_run(calx_loop_uv(loop), UV_RUN_DEFAULT);
}

/* Turns the loop once at a time until *done is set, or until nothing is
 * left on the loop that could set it (the caller's CHECK then fails). */
static void run_until(const int *done)
{
    while (!*done && uv_run(calx_loop_uv(loop), UV_RUN_ONCE) != 0)
        ;
}

/* A path in the scratch directory (a static buffer per slot, 0 to 3). */
static char *path_in_tmp(int slot, const char *name)
{
    static char bufs[4][600];
    snprintf(bufs[slot], sizeof bufs[slot], "%s/%s", tmp, name);
    return bufs[slot];
}

/* A URL built by hand: path NULL for memory. */
static calx_url make_url(char *path, calx_url_param *query, size_t nquery)
{
    calx_url u;
    memset(&u, 0, sizeof u);
    u.dialect = "sqlite";
    u.database = path;
    u.memory = path == NULL;
    u.query = query;
    u.nquery = nquery;
    return u;
}

/* ---- connecting ---- */

typedef struct connect_wait {
    int done;
    calx_dconn *conn;
    calx_error err;
} connect_wait;

static void on_connect(void *udata, calx_dconn *conn, const calx_error *err)
{
    connect_wait *w = udata;
    w->done++;
    w->conn = conn;
    if (err)
        w->err = *err;
    CHECK((conn == NULL) != (err == NULL));
}

/* Connects and runs the loop until the callback. NULL with err on failure;
 * *sync (when not NULL) says whether it failed in the call itself. */
static calx_dconn *connect_ex(const calx_url *url, const calx_kv *args, size_t nargs,
                              const char *iso, calx_error *err, bool *sync)
{
    connect_wait w;
    memset(&w, 0, sizeof w);
    calx_error_clear(err);
    if (sync)
        *sync = false;
    if (drv->connect(loop, url, args, nargs, iso, on_connect, &w, err) != 0) {
        if (sync)
            *sync = true;
        CHECK(err->code != 0);
        return NULL;
    }
    CHECK_INT(w.done, 0);  /* never from inside the call */
    run_until(&w.done);
    CHECK_INT(w.done, 1);
    if (!w.conn)
        *err = w.err;
    return w.conn;
}

/* Connects and must succeed: the connection, or NULL (the case failed). */
static calx_dconn *connect_url(const calx_url *url)
{
    calx_error err;
    calx_dconn *c = connect_ex(url, NULL, 0, NULL, &err, NULL);
    if (!c)
        fprintf(stderr, "  connect failed: %s\n", err.message);
    CHECK(c != NULL);
    return c;
}

/* Closes c (NULL: nothing) and runs the loop until its worker is joined
 * and c freed. */
static void close_conn(calx_dconn *c)
{
    if (!c)
        return;
    drv->close(c);
    run_loop();
}

/* ---- requests ---- */

typedef struct req_wait {
    int done;
    calx_rowset *rs;
    calx_error err;
} req_wait;

static void on_req(void *udata, calx_rowset *rs, const calx_error *err)
{
    req_wait *w = udata;
    w->done++;
    w->rs = rs;
    if (err)
        w->err = *err;
    else
        calx_error_clear(&w->err);
}

/* Sends req without waiting: the call's error code (w->err says why). */
static int submit(calx_dconn *c, const calx_dreq *req, req_wait *w)
{
    memset(w, 0, sizeof *w);
    calx_error err;
    int rc = drv->request(c, req, on_req, w, &err);
    if (rc) {
        w->err = err;
        return rc;
    }
    CHECK_INT(w->done, 0);  /* never from inside the call */
    return 0;
}

/* Runs req to its callback: the error code (0 on success), *err (when not
 * NULL) why; *rs gets the rowsets when rs is not NULL, else they are freed. */
static int request(calx_dconn *c, const calx_dreq *req, calx_rowset **rs, calx_error *err)
{
    req_wait w;
    int rc = submit(c, req, &w);
    if (!rc) {
        run_until(&w.done);
        CHECK_INT(w.done, 1);
        rc = w.err.code;
    }
    if (err)
        *err = w.err;
    if (rs)
        *rs = w.rs;
    else
        calx__rowset_free(w.rs);
    return rc;
}

static int exec_p(calx_dconn *c, const char *sql, const calx_value *params, size_t nparams,
                  calx_rowset **rs, calx_error *err)
{
    calx_dstmt st = { .sql = sql, .nparams = nparams, .nsets = 1, .params = params };
    calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st };
    return request(c, &req, rs, err);
}

static int exec(calx_dconn *c, const char *sql, calx_error *err)
{
    return exec_p(c, sql, NULL, 0, NULL, err);
}

/* Runs sql and must succeed. */
static void must(calx_dconn *c, const char *sql)
{
    calx_error err;
    int rc = exec(c, sql, &err);
    if (rc)
        fprintf(stderr, "  %s: %s\n", sql, err.message);
    CHECK_INT(rc, 0);
}

/* Runs a transaction op (BEGIN, COMMIT, ...): the error code. */
static int op(calx_dconn *c, calx_dop o, calx_error *err)
{
    calx_dreq req = { .op = o };
    calx_rowset *rs = NULL;
    int rc = request(c, &req, &rs, err);
    CHECK(rs == NULL);
    calx__rowset_free(rs);
    return rc;
}

#endif

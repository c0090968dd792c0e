/* SPDX-License-Identifier: MIT */
/* A driver driven through its vtable on a calx loop, shared by the
 * programs that test a driver (test_postgres.c, and through
 * sqlite_driver_test.h test_sqlite_driver.c and test_sqlite_loop_reads.c):
 * waiting for a connect, closing, running a request to its callback and
 * the shortcuts over it. A wait for a callback turns the loop once at a
 * time until the callback fired, not until the loop has nothing left to
 * do: a timer the test keeps ticking on the loop meanwhile does not make
 * it wait forever. The including program defines `loop` and `drv` (the
 * driver under test) before it includes this. */
#ifndef CALX_DRIVER_TEST_H
#define CALX_DRIVER_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>

#include "driver/driver.h"
#include "driver/rowset.h"
#include "test.h"

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

/* Closes c (NULL: nothing) and runs the loop until the driver is done
 * with it (a worker joined) and c freed. */
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

/* The first column of the first row as an integer; -999 on failure. */
static inline int64_t scalar(calx_dconn *c, const char *sql)
{
    calx_rowset *rs = NULL;
    calx_error err;
    int64_t v = -999;
    if (exec_p(c, sql, NULL, 0, &rs, &err) != 0)
        fprintf(stderr, "  %s: %s\n", sql, err.message);
    else if (rs && rs->nrows >= 1 && rs->ncols >= 1 && rs->vals[0].type == CALX_INT)
        v = rs->vals[0].u.i;
    calx__rowset_free(rs);
    return v;
}

#endif

/* SPDX-License-Identifier: MIT */
/* The SQLite driver driven through its vtable on a calx loop, shared by
 * the programs that test it (test_sqlite_driver.c, test_sqlite_loop_reads.c):
 * a URL by hand and connecting to it, over driver_test.h's requests. The
 * including program's main sets loop and tmp. */
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

#include "driver_test.h"

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

#endif

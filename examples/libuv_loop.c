/* SPDX-License-Identifier: MIT */
/* calx inside a libuv program: the engine runs on the program's own
 * uv_loop_t, a query's future completes in a callback while uv_run runs
 * the loop, and shutdown leaves nothing of calx in it (uv_loop_close
 * succeeds). The README's "Lifecycle and shutdown" shows this code.
 *
 *     build/libuv_loop                  (an in-memory SQLite database)
 *     DATABASE_URL=postgresql://... build/libuv_loop
 */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "calx.h"

static int status = 1;

static void on_result(calx_future *f, void *udata)
{
    (void)udata;
    calx_error err;
    calx_result *r = NULL;
    if (CALX_FUTURE_TAKE(f, calx_result *, &r, &err)) {
        fprintf(stderr, "libuv_loop: %s\n", err.message);
        return;
    }
    printf("1 + 1 = %lld, computed while uv_run ran the program's loop\n",
           (long long)calx_result_scalar(r).u.i);
    calx_result_free(r);
    status = 0;
}

/* A task: connect, run one statement, hand its future to a callback. */
static void *query(void *arg)
{
    calx_engine *engine = arg;
    calx_error err;
    calx_connection *conn;
    if (calx_await(calx_engine_connect(engine, &err), &conn, &err)) {
        fprintf(stderr, "libuv_loop: %s\n", err.message);
        return NULL;
    }
    calx_result *r = NULL;
    if (calx_await(calx_conn_execute(conn, "SELECT 1 + 1", NULL, &err), &r, &err) == 0) {
        printf("1 + 1 = %lld, awaited in a task\n", (long long)calx_result_scalar(r).u.i);
        calx_result_free(r);
        calx_future_then(calx_conn_execute(conn, "SELECT 1 + 1", NULL, &err), on_result, NULL);
    }
    calx_conn_close(conn);
    return NULL;
}

int main(void)
{
    calx_error err;
    const char *url = getenv("DATABASE_URL");
    if (!url || !*url)
        url = "sqlite://";
    uv_loop_t uv;
    uv_loop_init(&uv);
    calx_loop *loop = calx_loop_new(&uv, &err);
    calx_engine *engine = calx_create_engine(url, &(calx_engine_opts){ .loop = loop }, &err);
    if (!loop || !engine) {
        fprintf(stderr, "libuv_loop: %s\n", err.message);
        return 1;
    }
    calx_future_release(calx_spawn(loop, query, engine, NULL, &err));
    /* ... uv_run(&uv, UV_RUN_DEFAULT) runs calx's work with the program's ... */
    uv_run(&uv, UV_RUN_DEFAULT);
    calx_engine_free(engine);
    calx_loop_free(loop);      /* runs uv until nothing of calx is left in it */
    int closed = uv_loop_close(&uv);        /* 0: it succeeds */
    if (closed != 0)
        fprintf(stderr, "libuv_loop: uv_loop_close: %s\n", uv_strerror(closed));
    return status || closed ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/* Compiled, not run, by scripts/check-typed-out.sh: the typed forms of
 * calx/session.h (CALX_GET, CALX_ONE, ...) take a Hero ** and the typed
 * forms of calx/future.h (CALX_AWAIT, CALX_WAIT, CALX_FUTURE_TAKE) a
 * pointer to the future's value type, and refuse anything else at compile
 * time. Built as is it must compile; with -DWRONG=N, for each case N
 * below, it must not. */
#include "calx.h"

#ifndef WRONG
#define WRONG 0
#endif

#define Hero_FIELDS(F, M)                                                     \
    F(M, id,    OPT_INT64, NONE,     .primary_key = true)                     \
    F(M, name,  TEXT,      REQUIRED)
CALX_MODEL(Hero, "hero")

#define Team_FIELDS(F, M)                                                     \
    F(M, id,    OPT_INT64, NONE,     .primary_key = true)
CALX_MODEL(Team, "team")

int get_one(calx_session *s, const calx_select *q, calx_error *err);
int get_one(calx_session *s, const calx_select *q, calx_error *err)
{
    Hero *h = NULL;
    Team *t = NULL;
    (void)t;
#if WRONG == 1
    /* The pointer itself, not its address: the struct would be written. */
    return CALX_GET(s, Hero, calx_int(1), h, err) || CALX_ONE(s, Hero, q, h, err);
#elif WRONG == 2
    /* Another model's pointer. */
    return CALX_GET(s, Hero, calx_int(1), &t, err);
#else
    return CALX_GET(s, Hero, calx_int(1), &h, err) || CALX_ONE(s, Hero, q, &h, err);
#endif
}

int connect_and_query(calx_engine *e, calx_error *err);
int connect_and_query(calx_engine *e, calx_error *err)
{
    calx_connection *conn = NULL;
    calx_result *r = NULL;
    (void)r;
#if WRONG == 3
    /* The connection pointer, not its address. */
    return CALX_AWAIT(calx_engine_connect(e, err), calx_connection *, conn, err);
#elif WRONG == 4
    /* A result's address for a connection. */
    return CALX_AWAIT(calx_engine_connect(e, err), calx_connection *, &r, err);
#elif WRONG == 5
    /* Right address, wrong type named. */
    return CALX_WAIT(calx_engine_connect(e, err), calx_result *, &conn, err);
#else
    if (CALX_AWAIT(calx_engine_connect(e, err), calx_connection *, &conn, err))
        return err->code;
    int rc = CALX_AWAIT(calx_conn_execute(conn, "SELECT 1", NULL, err), calx_result *, &r, err);
    calx_result_free(r);
    calx_conn_close(conn);
    return rc;
#endif
}

int run_task(calx_loop *loop, calx_task_fn fn, calx_error *err);
int run_task(calx_loop *loop, calx_task_fn fn, calx_error *err)
{
    void *value = NULL;
    int n = 0;
    (void)n;
#if WRONG == 6
    /* An int's address for a task's void * value. */
    return CALX_WAIT(calx_spawn(loop, fn, NULL, NULL, err), void *, &n, err);
#else
    return CALX_WAIT(calx_spawn(loop, fn, NULL, NULL, err), void *, &value, err);
#endif
}

void on_result(calx_future *f, void *udata);
void on_result(calx_future *f, void *udata)
{
    calx_result *r = NULL;
    calx_error err;
    (void)udata;
#if WRONG == 7
    /* A const row's address where the value is a result. */
    const calx_row *row = NULL;
    CALX_FUTURE_TAKE(f, calx_result *, &row, &err);
#else
    if (CALX_FUTURE_TAKE(f, calx_result *, &r, &err) == 0)
        calx_result_free(r);
#endif
}

/* SPDX-License-Identifier: MIT */
/* Core execution of a select: compile it for the connection's dialect and
 * run the text as calx_conn_execute runs any SQL (plan cache, echo,
 * autobegin). The compiled text and parameters are dropped as soon as the
 * statement has started: calx_conn_execute copies what it keeps. */
#include "calx/connection.h"
#include "calx/sql.h"
#include "engine/engine_int.h"
#include "sql/compiler.h"

calx_future *calx_conn_execute_select(calx_connection *c, const calx_select *q,
                                      calx_error *err)
{
    if (!c) {
        calx_error_set(err, CALX_ERR_CLOSED, "this connection is closed");
        return NULL;
    }
    calx_compiled comp;
    if (calx__select_compile(q, calx_conn_engine(c)->dialect, 0, &comp, err))
        return NULL;
    calx_params params = { comp.params, comp.nparams };
    calx_future *f = calx_conn_execute(c, comp.sql, comp.nparams ? &params : NULL, err);
    calx__compiled_free(&comp);
    return f;
}

/* SPDX-License-Identifier: MIT */
/* Core execution of INSERT, UPDATE and DELETE: compile for the
 * connection's dialect and run the text as calx_conn_execute runs any SQL
 * (plan cache, echo, autobegin). A many-row INSERT that the compiler split
 * at the dialect's parameter limit goes as one batch (one request, one
 * round trip where the driver pipelines) whose result reads as one
 * statement's. The compiled texts and parameters are dropped as soon as
 * the statement has started: the connection copies what it keeps. */
#include <stdlib.h>

#include "calx/connection.h"
#include "calx/sql.h"
#include "engine/engine_int.h"
#include "sql/compiler.h"

static calx_future *run_one(calx_connection *c, calx_compiled *comp, calx_error *err)
{
    calx_params params = { comp->params, comp->nparams };
    calx_future *f = calx_conn_execute(c, comp->sql, comp->nparams ? &params : NULL, err);
    calx__compiled_free(comp);
    return f;
}

static bool closed(const calx_connection *c, calx_error *err)
{
    if (c)
        return false;
    calx_error_set(err, CALX_ERR_CLOSED, "this connection is closed");
    return true;
}

calx_future *calx_conn_execute_insert(calx_connection *c, const calx_insert *s,
                                      calx_error *err)
{
    calx_compiled_list l;
    if (closed(c, err) || calx__insert_compile(s, calx_conn_engine(c)->dialect, &l, err))
        return NULL;
    if (l.n == 1 && l.parts[0].nsets == 1) {
        calx_future *f = run_one(c, &l.parts[0].c, err);
        calx__compiled_list_free(&l);
        return f;
    }
    /* The parts of a split insert: each a text with its parameter sets. */
    size_t nsets = 0;
    for (size_t i = 0; i < l.n; i++)
        nsets += l.parts[i].nsets;
    calx_stmt *stmts = malloc(l.n * sizeof *stmts);
    calx_params *sets = malloc(nsets * sizeof *sets);
    calx_future *f = NULL;
    if (!stmts || !sets) {
        calx_error_set(err, CALX_ERR_NOMEM, "out of memory running an insert");
    } else {
        calx_params *set = sets;
        for (size_t i = 0; i < l.n; i++) {
            const calx_compiled_part *p = &l.parts[i];
            size_t per = p->c.nparams / p->nsets;
            stmts[i] = (calx_stmt){ p->c.sql, set, p->nsets, false };
            for (size_t k = 0; k < p->nsets; k++)
                *set++ = (calx_params){ p->c.params + k * per, per };
        }
        f = calx__conn_execute_parts(c, stmts, l.n, err);
    }
    free(stmts);
    free(sets);
    calx__compiled_list_free(&l);
    return f;
}

calx_future *calx_conn_execute_update(calx_connection *c, const calx_update *s,
                                      calx_error *err)
{
    calx_compiled comp;
    if (closed(c, err) || calx__update_compile(s, calx_conn_engine(c)->dialect, &comp, err))
        return NULL;
    return run_one(c, &comp, err);
}

calx_future *calx_conn_execute_delete(calx_connection *c, const calx_delete *s,
                                      calx_error *err)
{
    calx_compiled comp;
    if (closed(c, err) || calx__delete_compile(s, calx_conn_engine(c)->dialect, &comp, err))
        return NULL;
    return run_one(c, &comp, err);
}

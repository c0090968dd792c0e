/* SPDX-License-Identifier: MIT */
/* Core execution of SELECT, INSERT, UPDATE and DELETE: ready the
 * statement through the engine's statement cache (stmt_cache.c: compiled
 * once per shape, then only bound) and run the text as calx_conn_execute
 * runs any SQL (plan cache, autobegin), echo saying whether it was
 * compiled now or taken from the cache. A many-row INSERT that the
 * compiler split at the dialect's parameter limit goes as one batch (one
 * request, one round trip where the driver pipelines) whose result reads
 * as one statement's. What was readied is dropped as soon as the
 * statement has started: the connection copies what it keeps. */
#include <stdlib.h>

#include "calx/connection.h"
#include "calx/sql.h"
#include "core/nomem.h"
#include "engine/engine_int.h"
#include "engine/stmt_cache.h"
#include "sql/convert.h"
#include "sql/dml_int.h"
#include "sql/select_int.h"

/* Up to this many result columns, a select's column types are looked at
 * on the stack. */
#define TYPES_ON_STACK 32

/* Runs st on c; a select streams in chunks of stream_rows when that is not
 * zero (the ORM's queries), its first of first_rows (calx__conn_stream_typed). */
static calx_future *run_ex(calx_connection *c, calx__stmt_ref st, size_t first_rows,
                           size_t stream_rows, calx_error *err)
{
    if (!c) {
        calx_error_set(err, CALX_ERR_CLOSED, "this connection is closed");
        return NULL;
    }
    const calx_engine *e = calx_conn_engine(c);
    /* onupdate values are the execution's, not the build's. The statement
     * is the caller's and stays logically unchanged: only those literals
     * are made anew. */
    if (st.kind == CALX__STMT_UPDATE &&
        calx__update_refresh((calx_update *)st.u.update, err) != CALX_OK)
        return NULL;
    calx__stmt_ready r;
    calx_future *f = NULL;
    const calx_column *stack[TYPES_ON_STACK], **types = stack;
    size_t ntypes = 0;
    /* The result's columns that come back in a stored form: a select's,
     * or the RETURNING list of a statement that writes. */
    const calx__dml *dml = st.kind == CALX__STMT_INSERT && st.u.insert   ? &st.u.insert->base
                           : st.kind == CALX__STMT_UPDATE && st.u.update ? &st.u.update->base
                           : st.kind == CALX__STMT_DELETE && st.u.del    ? &st.u.del->base
                                                                         : NULL;
    size_t ncols = st.kind == CALX__STMT_SELECT && st.u.select ? calx__select_ncols(st.u.select)
                   : dml                                       ? dml->nreturning
                                                               : 0;
    if (ncols > TYPES_ON_STACK && !(types = malloc(ncols * sizeof *types)))
        return calx__nomem(err, "running a statement"), NULL;
    if (ncols)
        ntypes = dml ? calx__returning_stored_columns(dml, types, ncols)
                     : calx__select_stored_columns(st.u.select, types, ncols);
    if (calx__stmt_cache_ready(e->stmts, e->dialect, st, &r, err) == CALX_OK) {
        r.note.result_types = ntypes ? types : NULL;
        r.note.nresult_types = ntypes;
        if (r.n == 1 && r.stmts[0].nsets == 1 && stream_rows)
            f = calx__conn_stream_noted(c, r.stmts[0].sql, r.sets[0].n ? &r.sets[0] : NULL,
                                        first_rows, stream_rows, &r.note, err);
        else if (r.n == 1 && r.stmts[0].nsets == 1)
            f = calx__conn_execute_noted(c, r.stmts[0].sql, r.sets[0].n ? &r.sets[0] : NULL,
                                         &r.note, err);
        else
            f = calx__conn_execute_parts(c, r.stmts, r.n, &r.note, err);
    }
    calx__stmt_ready_free(&r);
    if (types != stack)
        free(types);
    return f;
}

static calx_future *run(calx_connection *c, calx__stmt_ref st, calx_error *err)
{
    return run_ex(c, st, 0, 0, err);
}

calx_future *calx__conn_stream_select(calx_connection *c, const calx_select *q,
                                      size_t first_rows, size_t chunk_rows, calx_error *err)
{
    return run_ex(c, (calx__stmt_ref){ CALX__STMT_SELECT, { .select = q } }, first_rows,
                  chunk_rows ? chunk_rows : 1000, err);
}

calx_future *calx_conn_execute_select(calx_connection *c, const calx_select *q,
                                      calx_error *err)
{
    return run(c, (calx__stmt_ref){ CALX__STMT_SELECT, { .select = q } }, err);
}

calx_future *calx_conn_execute_insert(calx_connection *c, const calx_insert *s,
                                      calx_error *err)
{
    return run(c, (calx__stmt_ref){ CALX__STMT_INSERT, { .insert = s } }, err);
}

calx_future *calx_conn_execute_update(calx_connection *c, const calx_update *s,
                                      calx_error *err)
{
    return run(c, (calx__stmt_ref){ CALX__STMT_UPDATE, { .update = s } }, err);
}

calx_future *calx_conn_execute_delete(calx_connection *c, const calx_delete *s,
                                      calx_error *err)
{
    return run(c, (calx__stmt_ref){ CALX__STMT_DELETE, { .del = s } }, err);
}

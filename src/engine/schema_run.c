/* SPDX-License-Identifier: MIT */
/* create_all / drop_all: SQLAlchemy's SchemaGenerator and SchemaDropper
 * over one connection. First every table of the metadata is checked, in
 * the order added (checkfirst: PRAGMA table_info on SQLite); then the DDL
 * runs in foreign-key order (reversed to drop), only for the tables that
 * are missing (create) or present (drop). Each step is a statement on the
 * connection, chained by callbacks, so it runs from a task, a callback or
 * calx_wait alike. */
#include <stdlib.h>
#include <string.h>

#include "calx/schema.h"
#include "core/nomem.h"
#include "core/promise.h"
#include "engine/engine_int.h"
#include "sql/ddl.h"

typedef struct job_table {
    const calx_table *t;
    char *check[CALX_DDL_HAS_TABLE_MAX];  /* run in turn until one finds it */
    size_t ncheck;
    char **ddl;            /* CREATE TABLE + CREATE INDEX..., or DROP TABLE */
    size_t nddl;
    bool exists;
} job_table;

typedef struct schema_job {
    calx_future *f;           /* the caller's future */
    calx_engine *engine;      /* set for calx_engine_*_all: the job owns conn */
    calx_connection *conn;
    const calx_dialect *dialect;
    bool drop;
    job_table *tables;        /* in the order added: checked in this order */
    size_t n;                 /* prepared (freed by job_free) */
    size_t total;
    size_t *order;            /* indexes into tables, in foreign-key order */
    size_t at, sub;           /* checks: tables[at].check[sub]; DDL: order[at], ddl[sub] */
    bool checked, committing;
} schema_job;

static void job_free(schema_job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        job_table *jt = &j->tables[i];
        for (size_t k = 0; k < jt->ncheck; k++)
            free(jt->check[k]);
        for (size_t k = 0; k < jt->nddl; k++)
            free(jt->ddl[k]);
        free(jt->ddl);
    }
    free(j->tables);
    free(j->order);
    free(j);
}

/* Whether table t is where enum type e is made (create: the first table
 * using it in the order tables are created) or dropped (drop: the last
 * one dropped). Types are told apart by name: two declarations of one
 * name are one SQL type. */
static bool enum_owner(const schema_job *j, const calx_table *t, const calx_enum *e)
{
    for (size_t k = 0; k < j->total; k++) {
        /* create: first in order[]; drop: last dropped, also first in order[] */
        const calx_table *u = j->tables[j->order[k]].t;
        for (size_t i = 0; i < u->ncolumns; i++)
            if (calx__column_enum(&u->columns[i]) &&
                strcmp(u->columns[i].enum_type->name, e->name) == 0)
                return u == t;
    }
    return false;
}

/* Whether column i of t is the first of t of its enum type (a table with
 * two columns of one type makes and drops it once). */
static bool enum_first_in_table(const calx_table *t, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (calx__column_enum(&t->columns[k]) &&
            strcmp(t->columns[k].enum_type->name, t->columns[i].enum_type->name) == 0)
            return false;
    return true;
}

/* Renders everything up front, so a table the dialect cannot express fails
 * the call before any SQL runs. */
static int prepare_table(schema_job *j, job_table *jt, calx_error *err)
{
    const calx_table *t = jt->t;
    jt->ncheck = calx__ddl_has_table(j->dialect, t->name, jt->check, err);
    if (!jt->ncheck)
        return err->code;
    size_t max = 1;
    for (size_t i = 0; i < t->ncolumns; i++)
        max += (!j->drop && t->columns[i].index) + (calx__column_enum(&t->columns[i]) != NULL);
    if (!(jt->ddl = calloc(max, sizeof *jt->ddl)))
        return calx__nomem(err, NULL);
    bool enums = j->dialect->native_enum;
    if (j->drop) {
        if (!(jt->ddl[jt->nddl++] = calx__ddl_drop_table(j->dialect, t, err)))
            return err->code;
        for (size_t i = 0; enums && i < t->ncolumns; i++) {
            const calx_enum *e = t->columns[i].enum_type;
            if (calx__column_enum(&t->columns[i]) && enum_first_in_table(t, i) &&
                enum_owner(j, t, e) &&
                !(jt->ddl[jt->nddl++] = calx__ddl_drop_enum(j->dialect, e, err)))
                return err->code;
        }
        return 0;
    }
    for (size_t i = 0; enums && i < t->ncolumns; i++) {
        const calx_enum *e = t->columns[i].enum_type;
        if (calx__column_enum(&t->columns[i]) && enum_first_in_table(t, i) &&
            enum_owner(j, t, e) &&
            !(jt->ddl[jt->nddl++] = calx__ddl_create_enum(j->dialect, e, err)))
            return err->code;
    }
    if (!(jt->ddl[jt->nddl++] = calx__ddl_create_table(j->dialect, t, err)))
        return err->code;
    /* Index order is column order (SQLAlchemy walks a set; for a table
     * declared in one go that comes out in column order too). */
    for (size_t i = 0; i < t->ncolumns; i++)
        if (t->columns[i].index &&
            !(jt->ddl[jt->nddl++] = calx__ddl_create_index(j->dialect, t, &t->columns[i], err)))
            return err->code;
    return 0;
}

static schema_job *job_new(const calx_dialect *d, const calx_metadata *md, bool drop,
                           calx_error *err)
{
    if (!md) {
        calx_error_set(err, CALX_ERR_ARGUMENT, "the metadata is NULL");
        return NULL;
    }
    schema_job *j = calloc(1, sizeof *j);
    size_t n = calx_metadata_ntables(md);
    const calx_table **sorted = calloc(n ? n : 1, sizeof *sorted);
    if (!j || !sorted || !(j->tables = calloc(n ? n : 1, sizeof *j->tables)) ||
        !(j->order = calloc(n ? n : 1, sizeof *j->order))) {
        calx__nomem(err, NULL);
        goto fail;
    }
    j->dialect = d;
    j->drop = drop;
    if (calx_metadata_sorted(md, sorted, err))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        j->tables[i].t = calx_metadata_table(md, i);
        for (size_t k = 0; k < n; k++)
            if (sorted[k] == j->tables[i].t)
                j->order[k] = i;
    }
    /* The order first: enum types go with the first table created. */
    j->total = n;
    for (size_t i = 0; i < n; i++) {
        j->n++;
        if (prepare_table(j, &j->tables[i], err))
            goto fail;
    }
    free(sorted);
    return j;
fail:
    free(sorted);
    if (j)
        job_free(j);
    return NULL;
}

/* Ends the job: the connection it owns goes back to the pool (rolled back
 * if it failed: the pool's reset echoes ROLLBACK, as SQLAlchemy's does). */
static void job_end(schema_job *j, const calx_error *err)
{
    if (j->engine)
        calx_conn_close(j->conn);
    if (err)
        calx__future_reject(j->f, err);
    else
        calx__future_resolve(j->f, NULL);
    job_free(j);
}

static void on_checked(calx_future *f, void *udata);
static void on_ddl(calx_future *f, void *udata);
static void on_committed(calx_future *f, void *udata);

/* Starts the job's next statement, or ends the job when there is none.
 * Returns nonzero (j untouched) only when a statement could not start. */
static int advance(schema_job *j, calx_error *err)
{
    calx_future *f;
    if (!j->checked && j->at < j->n) {
        /* The checks read before the DDL writes: on SQLite a transaction
         * begun by a read cannot wait for the write lock later, so it is
         * taken at the start (and waits the busy timeout there). */
        if (j->at == 0 && j->sub == 0)
            calx__conn_tx_will_write(j->conn);
        job_table *jt = &j->tables[j->at];
        calx_param items[CALX_DDL_HAS_TABLE_PARAMS];
        size_t np = calx__ddl_has_table_params(j->dialect, jt->t->name, items);
        calx_params params = { items, np };
        f = calx__conn_execute_badge(j->conn, jt->check[j->sub], np ? &params : NULL,
                                     CALX_BADGE_RAW, err);
        if (!f)
            return err->code;
        calx_future_then(f, on_checked, j);
        return 0;
    }
    if (!j->checked) {
        j->checked = true;
        j->at = j->sub = 0;
    }
    for (; j->at < j->n; j->at++, j->sub = 0) {
        job_table *jt = &j->tables[j->order[j->drop ? j->n - 1 - j->at : j->at]];
        if (jt->exists != j->drop || j->sub == jt->nddl)
            continue;
        f = calx__conn_execute_badge(j->conn, jt->ddl[j->sub], NULL, CALX_BADGE_NO_KEY, err);
        if (!f)
            return err->code;
        j->sub++;
        calx_future_then(f, on_ddl, j);
        return 0;
    }
    if (j->engine && !j->committing) {
        j->committing = true;
        if (!(f = calx_conn_commit(j->conn, err)))
            return err->code;
        calx_future_then(f, on_committed, j);
        return 0;
    }
    job_end(j, NULL);
    return 0;
}

/* The next step from a completion callback, where errors end the job. */
static void step(schema_job *j)
{
    calx_error err;
    if (calx__future_cancelled(j->f)) {
        calx_error_set(&err, CALX_ERR_CANCELED, "the operation was cancelled");
        job_end(j, &err);
    } else if (advance(j, &err)) {
        job_end(j, &err);
    }
}

static void on_checked(calx_future *f, void *udata)
{
    schema_job *j = udata;
    calx_result *r = NULL;
    calx_error err;
    if (calx_future_take(f, &r, &err)) {
        job_end(j, &err);
        return;
    }
    bool found = calx_result_nrows(r) > 0;
    calx_result_free(r);
    job_table *jt = &j->tables[j->at];
    jt->exists = found;
    if (found || ++j->sub == jt->ncheck) {
        j->at++;
        j->sub = 0;
    }
    step(j);
}

static void on_ddl(calx_future *f, void *udata)
{
    schema_job *j = udata;
    calx_result *r = NULL;
    calx_error err;
    if (calx_future_take(f, &r, &err)) {
        job_end(j, &err);
        return;
    }
    calx_result_free(r);
    step(j);
}

static void on_committed(calx_future *f, void *udata)
{
    schema_job *j = udata;
    calx_error err;
    if (calx_future_take(f, NULL, &err))
        job_end(j, &err);
    else
        step(j);
}

/* The public calls work on a local error (err may be NULL) and copy it. */
static calx_future *failed(calx_error *err, const calx_error *e)
{
    if (err)
        *err = *e;
    return NULL;
}

static calx_future *conn_all(calx_connection *conn, const calx_metadata *md, bool drop,
                             calx_error *err)
{
    calx_error e;
    if (!conn)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the connection is NULL"), NULL;
    calx_engine *engine = calx_conn_engine(conn);
    schema_job *j = job_new(engine->dialect, md, drop, &e);
    if (!j)
        return failed(err, &e);
    j->conn = conn;
    if (!(j->f = calx__future_new(engine->loop))) {
        job_free(j);
        return calx__nomem(err, NULL), NULL;
    }
    /* A cancel completes the future once the statement running has
     * landed, so the connection is free again when the caller hears. */
    calx__future_cancel_waits(j->f);
    calx_future *f = j->f;
    if (advance(j, &e)) {
        calx_future_release(f);
        calx__future_reject(f, &e);
        job_free(j);
        return failed(err, &e);
    }
    return f;
}

calx_future *calx_metadata_create_all(calx_connection *conn, const calx_metadata *md,
                                      calx_error *err)
{
    return conn_all(conn, md, false, err);
}

calx_future *calx_metadata_drop_all(calx_connection *conn, const calx_metadata *md,
                                    calx_error *err)
{
    return conn_all(conn, md, true, err);
}

/* ---- engine level: checkout, run, commit, check in ---- */

static void on_connected(calx_future *f, void *udata)
{
    schema_job *j = udata;
    calx_error err;
    if (calx_future_take(f, &j->conn, &err)) {
        job_end(j, &err);   /* j->conn is NULL: nothing to give back */
        return;
    }
    step(j);
}

static calx_future *engine_all(calx_engine *e, const calx_metadata *md, bool drop,
                               calx_error *err)
{
    calx_error e2;
    if (!e)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the engine is NULL"), NULL;
    schema_job *j = job_new(e->dialect, md, drop, &e2);
    if (!j)
        return failed(err, &e2);
    j->engine = e;
    if (!(j->f = calx__future_new(e->loop))) {
        job_free(j);
        return calx__nomem(err, NULL), NULL;
    }
    calx__future_cancel_waits(j->f);
    calx_future *f = j->f;
    calx_future *connect = calx_engine_connect(e, &e2);
    if (!connect) {
        calx_future_release(f);
        calx__future_reject(f, &e2);
        job_free(j);
        return failed(err, &e2);
    }
    calx_future_then(connect, on_connected, j);
    return f;
}

calx_future *calx_engine_create_all(calx_engine *e, const calx_metadata *md,
                                    calx_error *err)
{
    return engine_all(e, md, false, err);
}

calx_future *calx_engine_drop_all(calx_engine *e, const calx_metadata *md,
                                  calx_error *err)
{
    return engine_all(e, md, true, err);
}

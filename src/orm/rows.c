/* SPDX-License-Identifier: MIT */
/* ORM-enabled selects of several entities and columns: the rows of
 * select(Hero, Team).join(Team) as SQLAlchemy's Session.execute gives
 * them, each entity an object through the identity map (one object per
 * key, the one the session already holds when it has it), each other
 * column a value. An outer join's missing side (every key column NULL) is
 * a NULL object, as SQLAlchemy's None. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/nomem.h"
#include "orm/session_int.h"
#include "sql/compiler.h"
#include "sql/select_int.h"

typedef struct rows_item {
    const calx_model *m;     /* an entity: an object of m; NULL: a value */
    size_t first;            /* its first column in the result */
} rows_item;

struct calx_entity_rows {
    calx_result *result;     /* the rows, kept: the values point into it */
    rows_item *items;
    size_t width, nrows;
    void **objects;          /* nrows * width; NULL for a value item */
};

/* The items of q's columns clause: an entity of a model's table (or an
 * alias of it) is one item, any other column one item each. */
static int plan_items(const calx_select *q, calx_entity_rows *r, calx_error *err)
{
    size_t ncols = calx__select_ncols(q), nspans, span = 0, cap = 0;
    const calx__entity_span *e = calx__select_entity(q, 0, &nspans);
    for (size_t col = 0; col < ncols;) {
        rows_item it = { NULL, col };
        size_t width = 1;
        if (e && e->first == col) {
            if (e->t->model) {
                it.m = e->t->model;
                width = e->n;
            }
            e = calx__select_entity(q, ++span, &nspans);
        }
        if (!calx__grow(&r->items, &cap, r->width + 1, sizeof *r->items))
            return calx__nomem(err, "planning the rows of a select");
        r->items[r->width++] = it;
        col += width;
    }
    return 0;
}

/* The object of an entity item in row, or NULL when every key column is
 * NULL (the missing side of an outer join). */
static int entity_of(calx_session *s, const rows_item *it, const calx_row *row, void **out,
                     calx_error *err)
{
    const calx_model *m = it->m;
    const calx_value *vals = calx_row_value(row, (int)it->first);
    bool any_key = false;
    for (size_t i = 0; i < m->nfields && !any_key; i++)
        any_key = m->table.columns[i].primary_key && vals[i].type != CALX_NULL;
    *out = NULL;
    if (!any_key)
        return 0;
    calx_obj *o;
    int rc = calx__load_row(s, m, vals, false, &o, err);
    if (!rc)
        *out = calx__obj_ptr(o);
    return rc;
}

/* The models' .lazy for the objects of entity item k (each once). */
static int entity_defaults(calx_session *s, const calx_entity_rows *r, size_t k, calx_error *err)
{
    calx_objvec objs = { 0 };
    calx__ptrset seen = { 0 };
    int rc = 0;
    for (size_t i = 0; i < r->nrows && !rc; i++) {
        void *p = r->objects[i * r->width + k];
        bool added = false;
        if (p && (calx__ptrset_add(&seen, p, &added) ||
                  (added && calx__objvec_push(&objs, calx__obj_hdr(p)))))
            rc = calx__nomem(err, "loading relationships");
    }
    if (!rc)
        rc = calx__rel_after_load_objs(s, r->items[k].m, objs.v, objs.n, NULL, false, err);
    calx__ptrset_free(&seen);
    calx__objvec_free(&objs);
    return rc;
}

static int run(calx_session *s, const calx_select *q, calx_entity_rows *r, calx_error *err)
{
    calx_connection *c = NULL;
    int rc = calx_select_error(q, err);
    if (!rc)
        rc = plan_items(q, r, err);
    if (!rc)
        rc = calx__session_autoflush(s, err);
    if (!rc)
        rc = calx__session_read_conn(s, &c, err);
    if (rc)
        return rc;
    /* Through the engine's statement cache: compiled once per shape. */
    rc = calx_await(calx_conn_execute_select(c, q, err), &r->result, err);
    if (rc)
        return rc;
    r->nrows = calx_result_nrows(r->result);
    if (r->nrows && !(r->objects = calloc(r->nrows * r->width, sizeof *r->objects)))
        return calx__nomem(err, "holding %zu rows", r->nrows);
    for (size_t i = 0; i < r->nrows && !rc; i++) {
        const calx_row *row = calx_result_row(r->result, i);
        for (size_t k = 0; k < r->width && !rc; k++)
            if (r->items[k].m)
                rc = entity_of(s, &r->items[k], row, &r->objects[i * r->width + k], err);
    }
    /* Each entity's objects get the relationships their model loads
     * eagerly (.lazy), as a query of that model alone would. */
    for (size_t k = 0; k < r->width && !rc; k++)
        if (r->items[k].m)
            rc = entity_defaults(s, r, k, err);
    return rc;
}

int calx_session_rows(calx_session *s, const calx_select *q, calx_entity_rows **out,
                      calx_error *err)
{
    if (!out)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_session_rows: out is NULL");
    *out = NULL;
    if (!q)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_session_rows: the select is NULL");
    calx_entity_rows *r = calloc(1, sizeof *r);
    if (!r)
        return calx__nomem(err, "running a select");
    int rc = calx__session_enter(s, true, err);
    if (rc) {
        free(r);
        return rc;
    }
    rc = calx__session_leave(s, run(s, q, r, err), err);
    if (rc)
        calx_entity_rows_free(r);
    else
        *out = r;
    return rc;
}

size_t calx_entity_rows_count(const calx_entity_rows *r)
{
    return r ? r->nrows : 0;
}

size_t calx_entity_rows_width(const calx_entity_rows *r)
{
    return r ? r->width : 0;
}

void *calx_entity_rows_object(const calx_entity_rows *r, size_t row, size_t item)
{
    if (!r || row >= r->nrows || item >= r->width || !r->items[item].m)
        return NULL;
    return r->objects[row * r->width + item];
}

const calx_value *calx_entity_rows_value(const calx_entity_rows *r, size_t row, size_t item)
{
    if (!r || row >= r->nrows || item >= r->width || r->items[item].m)
        return NULL;
    return calx_row_value(calx_result_row(r->result, row), (int)r->items[item].first);
}

void calx_entity_rows_free(calx_entity_rows *r)
{
    if (!r)
        return;
    calx_result_free(r->result);
    free(r->items);
    free(r->objects);
    free(r);
}

/* SPDX-License-Identifier: MIT */
/* ORM-enabled UPDATE and DELETE statements: session.execute(update(Hero)
 * .where(...).values(...)) with SQLAlchemy 2.0's synchronize_session, so
 * that the objects the session already holds show what the statement did
 * to their rows.
 *
 *   evaluate  the condition and the new values are computed in memory
 *             (sql/evaluate.c) over each object of the table, before the
 *             statement runs, and applied once it succeeded;
 *   fetch     the statement returns the rows it changed (UPDATE: every
 *             column; DELETE: the key), in the same round trip, and those
 *             rows are applied to the objects with their keys;
 *   auto      evaluate when the statement can be evaluated exactly in
 *             memory, else fetch (SQLAlchemy's default);
 *   none      objects are left as they are.
 *
 * Whatever the mode, pending changes are flushed first (autoflush), so the
 * statement sees them and no object has unflushed values to lose. An
 * object the statement deleted is DELETED, as after a flush that deleted
 * it; an updated one holds the new values as loaded (not as changes). */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/nomem.h"
#include "engine/engine_int.h"
#include "core/value_int.h"
#include "orm/session_int.h"
#include "sql/compiler.h"
#include "sql/dml_int.h"
#include "sql/evaluate.h"

#define MAX_FIELDS 64

/* A change evaluate will make: field i of o gets v. */
typedef struct change {
    calx_obj *o;
    size_t field;
    calx_value v;
} change;

typedef struct plan {
    change *changes;          /* UPDATE: the new values; texts and blobs are
                                 copies (their own malloc'd bytes), since an
                                 object's own text may be replaced before
                                 another change reads it (SET a = b, b = a) */
    size_t nchanges, cap;
    calx_obj **matched;       /* DELETE: the objects it deletes */
    size_t nmatched, matched_cap;
} plan;

static bool copied(const calx_value *v)
{
    return calx__value_is_bytes(v) && v->u.s.ptr;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->nchanges; i++)
        if (copied(&p->changes[i].v))
            free((void *)p->changes[i].v.u.s.ptr);
    free(p->changes);
    free(p->matched);
}

static bool push_change(plan *p, change c)
{
    if (!calx__grow(&p->changes, &p->cap, p->nchanges + 1, sizeof *p->changes))
        return false;
    if (copied(&c.v)) {
        char *bytes = malloc(c.v.u.s.len + 1);
        if (!bytes)
            return false;
        memcpy(bytes, c.v.u.s.ptr, c.v.u.s.len);
        bytes[c.v.u.s.len] = '\0';
        c.v.u.s.ptr = bytes;
    }
    p->changes[p->nchanges++] = c;
    return true;
}

static bool push_matched(plan *p, calx_obj *o)
{
    if (!calx__grow(&p->matched, &p->matched_cap, p->nmatched + 1, sizeof *p->matched))
        return false;
    p->matched[p->nmatched++] = o;
    return true;
}

/* Evaluates the statement over every loaded object of m: 0 with the plan
 * made, 1 when some part cannot be evaluated in memory (*why says which),
 * or an error. set is the UPDATE's new values (NULL for a DELETE). */
static int evaluate(calx_session *s, const calx_model *m, const calx_expr *where,
                    calx_expr *const *set, plan *p, const char **why, calx_error *err)
{
    const calx_table *t = &m->table;
    calx_value row[MAX_FIELDS];
    if (m->nfields > MAX_FIELDS) {
        *why = "the table has too many columns to evaluate";
        return 1;
    }
    for (calx_obj *o = s->owned; o; o = o->next) {
        /* An expired object's values are unknown here, and reload anyway. */
        if (o->model != m || calx__obj_session(o) != s || o->state != CALX_OBJ_PERSISTENT ||
            !o->in_map || o->expired)
            continue;
        const void *obj = calx__obj_ptr(o);
        for (size_t i = 0; i < m->nfields; i++)
            row[i] = calx__field_value(m, &m->fields[i], obj);
        bool matched = true;
        if (where && calx__expr_matches(where, t, row, &matched)) {
            *why = "the WHERE clause";
            return 1;
        }
        if (!matched)
            continue;
        if (!set) {
            if (!push_matched(p, o))
                return calx__nomem(err, "evaluating a DELETE");
            continue;
        }
        for (size_t i = 0; i < m->nfields; i++) {
            calx_value v;
            if (!set[i])
                continue;
            if (calx__expr_eval(set[i], t, row, &v)) {
                *why = "a SET value";
                return 1;
            }
            if (!push_change(p, (change){ o, i, v }))
                return calx__nomem(err, "evaluating an UPDATE");
        }
    }
    return 0;
}

/* Applies an evaluated UPDATE: every change is loaded into its object (and
 * its snapshot: the values are the row's now, not changes to flush). */
static int apply_changes(const plan *p, calx_error *err)
{
    for (size_t i = 0; i < p->nchanges; i++) {
        const change *c = &p->changes[i];
        if (calx__obj_load_field(c->o, c->field, &c->v, err))
            return err->code;
    }
    return 0;
}

/* Applies the rows a fetch returned: an UPDATE's full rows refresh the
 * objects with their keys; a DELETE's keys mark them deleted. Rows of
 * objects the session does not hold are skipped, as SQLAlchemy does. */
static int apply_fetched(calx_session *s, const calx_model *m, bool is_delete, calx_result *r,
                         calx_error *err)
{
    for (size_t i = 0; i < calx_result_nrows(r); i++) {
        const calx_value *vals = calx_row_value(calx_result_row(r, i), 0);
        calx_value key[MAX_FIELDS];
        size_t nkey = 0;
        if (is_delete) {
            nkey = calx_result_ncols(r);
            if (nkey > MAX_FIELDS)
                nkey = MAX_FIELDS;
            memcpy(key, vals, nkey * sizeof *key);
        } else {
            for (size_t f = 0; f < m->nfields && nkey < MAX_FIELDS; f++)
                if (m->table.columns[f].primary_key)
                    key[nkey++] = vals[f];
        }
        for (size_t k = 0; k < nkey; k++)
            if (key[k].type == CALX_BOOL)
                key[k] = calx_int(key[k].u.b);
        calx_obj *o = calx__map_find(s, m, key, nkey);
        if (!o)
            continue;
        int rc = is_delete ? calx__session_deleted(s, o, err)
                           : calx__load_row(s, m, vals, true, &o, err);
        if (rc)
            return rc;
    }
    return 0;
}

typedef struct bulk {
    const calx__dml *base;
    calx_expr *const *set;    /* UPDATE's values by column, NULL for DELETE */
    const void *stmt;
    bool is_delete;
    const char *name;         /* "calx_session_execute_update" */
} bulk;

static int compile(const bulk *b, const calx_dialect *d, bool fetch, calx_compiled *c,
                   calx_error *err)
{
    if (b->is_delete)
        return calx__delete_compile_ex(b->stmt, d, fetch, c, err);
    return calx__update_compile_ex(b->stmt, d, fetch, c, err);
}

static int run(calx_session *s, const bulk *b, calx_sync sync, int64_t *rowcount,
               calx_error *err)
{
    const calx_model *m = b->base->t->model;
    plan p = { 0 };
    int rc = calx__session_autoflush(s, err);
    if (!rc)
        rc = calx__session_conn(s, err);
    if (rc)
        return rc;
    /* A table no model declares has no objects to keep in step. */
    if (!m)
        sync = CALX_SYNC_NONE;
    if (sync == CALX_SYNC_AUTO || sync == CALX_SYNC_EVALUATE) {
        const char *why = NULL;
        rc = evaluate(s, m, b->base->where, b->set, &p, &why, err);
        if (rc < 0 || rc > 1 || (rc == 1 && sync == CALX_SYNC_EVALUATE)) {
            if (rc == 1)
                rc = calx_error_set(err, CALX_ERR_ARGUMENT,
                                    "%s: synchronize_session 'evaluate' cannot compute %s of "
                                    "this %s in memory exactly as the database would (it "
                                    "names another table, orders text, uses LIKE, division "
                                    "or a function); use CALX_SYNC_FETCH or CALX_SYNC_AUTO",
                                    b->name, why, b->is_delete ? "DELETE" : "UPDATE");
            plan_free(&p);
            return rc;
        }
        sync = rc == 1 ? CALX_SYNC_FETCH : CALX_SYNC_EVALUATE;
    }
    calx_compiled c = { 0 };
    calx_result *r = NULL;
    rc = compile(b, s->dialect, sync == CALX_SYNC_FETCH, &c, err);
    if (!rc) {
        calx_params params = { c.params, c.nparams };
        rc = calx_await(calx__conn_execute_typed(s->conn, c.sql, &params, c.types, err), &r,
                        err);
    }
    calx__compiled_free(&c);
    if (!rc && rowcount)
        *rowcount = calx_result_rowcount(r);
    if (!rc && sync == CALX_SYNC_EVALUATE) {
        rc = apply_changes(&p, err);
        for (size_t i = 0; i < p.nmatched && !rc; i++)
            rc = calx__session_deleted(s, p.matched[i], err);
    } else if (!rc && sync == CALX_SYNC_FETCH) {
        rc = apply_fetched(s, m, b->is_delete, r, err);
    }
    calx_result_free(r);
    plan_free(&p);
    return rc;
}

static int execute(calx_session *s, const bulk *b, calx_sync sync, int64_t *rowcount,
                   calx_error *err)
{
    if (rowcount)
        *rowcount = 0;
    if (!b->stmt)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "%s: the statement is NULL", b->name);
    if ((unsigned)sync > CALX_SYNC_NONE)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "%s: unknown synchronize_session %d",
                              b->name, (int)sync);
    if (b->base->failed) {
        if (err)
            *err = b->base->err;
        return b->base->err.code;
    }
    if (b->base->nreturning)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s: the statement has RETURNING; run it with "
                              "calx_conn_execute_%s to read its rows",
                              b->name, b->is_delete ? "delete" : "update");
    int rc = calx__session_enter(s, true, err);
    if (rc)
        return rc;
    return calx__session_leave(s, run(s, b, sync, rowcount, err), err);
}

int calx_session_execute_update(calx_session *s, const calx_update *u, calx_sync sync,
                                int64_t *rowcount, calx_error *err)
{
    bulk b = { u ? &u->base : NULL, u ? u->set : NULL, u, false,
               "calx_session_execute_update" };
    /* onupdate values are the execution's (calx__update_refresh). */
    if (u && calx__update_refresh((calx_update *)u, err))
        return err->code;
    return execute(s, &b, sync, rowcount, err);
}

int calx_session_execute_delete(calx_session *s, const calx_delete *d, calx_sync sync,
                                int64_t *rowcount, calx_error *err)
{
    bulk b = { d ? &d->base : NULL, NULL, d, true, "calx_session_execute_delete" };
    return execute(s, &b, sync, rowcount, err);
}

/* SPDX-License-Identifier: MIT */
/* The statement cache key: one walk over a select, insert, update or
 * delete that writes what the compiler will read of it (its shape) as
 * bytes and lists its bound values in the order met, much cheaper than
 * compiling (no text, no quoting, no FROM inference, no names to number).
 * The key is exact, not a digest: every part of variable length is
 * preceded by its count or length, so two different shapes never write
 * the same bytes, and the cache compares whole keys. Whatever the
 * compilers (compile_expr.c, compile_select.c, compile_dml.c) come to read
 * must be written here too; calx__cache_key_sources is the safety net for
 * the values: a value the compiler binds that the walk did not list makes
 * the statement uncacheable rather than bound wrong. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/nomem.h"
#include "sql/cache_key.h"
#include "sql/convert.h"
#include "sql/dml_int.h"
#include "sql/from_int.h"
#include "sql/select_int.h"

/* ---- writing ---- */

static void put_bytes(calx__cache_key *k, const void *p, size_t n)
{
    calx__buf_put(&k->bytes, p, n);
}

/* An unsigned number, 7 bits a byte (LEB128): counts, indices, enums. */
static void put_u(calx__cache_key *k, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        b[n++] |= v ? 0x80 : 0;
    } while (v);
    put_bytes(k, b, n);
}

/* A name: its length + 1, then its bytes; 0 for NULL. */
static void put_str(calx__cache_key *k, const char *s)
{
    if (!s) {
        put_u(k, 0);
        return;
    }
    size_t n = strlen(s);
    put_u(k, n + 1);
    put_bytes(k, s, n);
}

/* A value the compiler binds: its type is shape, the value is listed. */
static void put_value(calx__cache_key *k, const calx_value *v)
{
    put_u(k, (uint64_t)v->type);
    if (!calx__grow(&k->vals, &k->vals_cap, k->nvals + 1, sizeof *k->vals)) {
        k->oom = true;
        return;
    }
    k->vals[k->nvals++] = v;
}

static void put_table(calx__cache_key *k, const calx_table *t)
{
    put_str(k, t ? t->name : NULL);
}

/* ---- the walk ---- */

static void key_select(calx__cache_key *k, const calx_select *q);

/* A FROM item other than a table: written in full where first met, and
 * as its number after that, since the compiler tells two aliases of one
 * table (or two equal subqueries) apart by identity. Numbered before its
 * body is written: a recursive CTE meets itself there. */
static void key_from(calx__cache_key *k, const calx_from *f)
{
    for (size_t i = 0; i < k->nfroms; i++) {
        if (k->froms[i] == f) {
            put_u(k, 1);
            put_u(k, i);
            return;
        }
    }
    if (!calx__grow(&k->froms, &k->froms_cap, k->nfroms + 1, sizeof *k->froms)) {
        k->oom = true;
        return;
    }
    k->froms[k->nfroms++] = f;
    put_u(k, 2);
    put_u(k, (uint64_t)f->kind);
    put_str(k, f->name);
    put_u(k, (uint64_t)f->recursive << 2 | (uint64_t)f->has_recursive_part << 1 |
                 (uint64_t)f->failed);
    if (f->kind == CALX__FROM_ALIAS)
        put_table(k, f->t);
    else
        key_select(k, f->q);
}

static void key_fromref(calx__cache_key *k, calx__fromref r)
{
    if (r.f) {
        key_from(k, r.f);
    } else {
        put_u(k, 0);
        put_table(k, r.t);
    }
}

static void key_expr(calx__cache_key *k, const calx_expr *e);

static void key_opt_expr(calx__cache_key *k, const calx_expr *e)
{
    put_u(k, e != NULL);
    if (e)
        key_expr(k, e);
}

static void key_exprs(calx__cache_key *k, calx_expr *const *items, size_t n)
{
    put_u(k, n);
    for (size_t i = 0; i < n; i++)
        key_expr(k, items[i]);
}

static void key_expr(calx__cache_key *k, const calx_expr *e)
{
    put_u(k, (uint64_t)e->kind << 4 | (uint64_t)e->type << 1 | e->negated);
    switch (e->kind) {
    case CALX_X_COL:
    case CALX_X_EXCLUDED:
        key_fromref(k, calx__col_fromref(e));
        put_u(k, e->u.col.index);
        put_str(k, e->u.col.t ? e->u.col.t->columns[e->u.col.index].name : NULL);
        /* What an IN list's values meet: two tables of one name may
         * differ in it. */
        put_u(k, (uint64_t)calx__column_dtype(calx__expr_column(e), false));
        return;
    case CALX_X_LIT:
        /* NULL is written inline ("NULL"), anything else bound, as the
         * type of the column it meets. */
        if (e->u.lit.v.type == CALX_NULL) {
            put_u(k, CALX_NULL);
        } else {
            put_u(k, (uint64_t)e->u.lit.dtype);
            put_value(k, &e->u.lit.v);
        }
        return;
    case CALX_X_TRUTH:
        put_u(k, e->u.lit.v.u.b);      /* written inline: true / false, 1 / 0 */
        return;
    case CALX_X_BINOP:
        put_u(k, (uint64_t)e->u.bin.op);
        put_u(k, (unsigned char)e->u.bin.escape);
        put_u(k, e->u.bin.wrap);
        key_expr(k, e->u.bin.a);
        key_expr(k, e->u.bin.b);
        return;
    case CALX_X_ISNULL:
    case CALX_X_NOT:
        key_expr(k, e->u.a);
        return;
    case CALX_X_IN:
        key_expr(k, e->u.in.a);
        put_u(k, e->u.in.n);
        for (size_t i = 0; i < e->u.in.n; i++) {
            if (e->u.in.vals[i].type == CALX_NULL)
                put_u(k, CALX_NULL);   /* inline, as a NULL literal */
            else
                put_value(k, &e->u.in.vals[i]);
        }
        return;
    case CALX_X_AND:
    case CALX_X_OR:
        key_exprs(k, e->u.list.items, e->u.list.n);
        return;
    case CALX_X_SUBQUERY:
    case CALX_X_EXISTS:
        key_select(k, e->u.sub.q);
        return;
    case CALX_X_IN_SELECT:
        key_expr(k, e->u.sub.a);
        key_select(k, e->u.sub.q);
        return;
    case CALX_X_BETWEEN:
        key_expr(k, e->u.between.a);
        key_expr(k, e->u.between.lo);
        key_expr(k, e->u.between.hi);
        return;
    case CALX_X_FUNC:
        put_str(k, e->u.func.name);
        put_u(k, (uint64_t)e->u.func.form);
        key_exprs(k, e->u.func.args, e->u.func.n);
        return;
    case CALX_X_CASE:
        key_exprs(k, e->u.kase.items, 2 * e->u.kase.n);
        key_opt_expr(k, e->u.kase.else_);
        return;
    case CALX_X_CAST:
        key_expr(k, e->u.cast.a);
        put_u(k, (uint64_t)e->u.cast.to);
        return;
    case CALX_X_JSON:
        put_u(k, (uint64_t)e->u.json.as);
        key_expr(k, e->u.json.a);
        key_expr(k, e->u.json.step);
        return;
    case CALX_X_ARRAY:
        put_u(k, (uint64_t)e->u.arr.op);
        key_expr(k, e->u.arr.a);
        key_opt_expr(k, e->u.arr.b);
        return;
    case CALX_X_LABEL:
        key_expr(k, e->u.label.a);
        put_str(k, e->u.label.name);
        return;
    case CALX_X_ERROR:
        return;   /* a statement holding one never compiles */
    }
}

static void key_select(calx__cache_key *k, const calx_select *q)
{
    put_u(k, (uint64_t)q->op);
    if (q->op != CALX__SET_NONE) {
        put_u(k, q->nparts);
        for (size_t i = 0; i < q->nparts; i++)
            key_select(k, q->parts[i]);
    } else {
        key_exprs(k, q->cols, q->ncols);
        put_u(k, q->nfrom);
        for (size_t i = 0; i < q->nfrom; i++) {
            const calx__from_entry *en = &q->from[i];
            key_fromref(k, en->base);
            put_u(k, en->nsteps);
            for (size_t s = 0; s < en->nsteps; s++) {
                key_fromref(k, en->steps[s].right);
                put_u(k, (uint64_t)en->steps[s].kind);
                key_opt_expr(k, en->steps[s].on);
            }
        }
        key_opt_expr(k, q->where);
        key_exprs(k, q->group, q->ngroup);
        key_opt_expr(k, q->having);
        put_u(k, q->distinct);
    }
    put_u(k, q->norder);
    for (size_t i = 0; i < q->norder; i++) {
        key_expr(k, q->order[i].e);
        put_u(k, (uint64_t)q->order[i].dir);
    }
    /* LIMIT and OFFSET are bound on both dialects: only whether there is
     * one is shape. */
    put_u(k, (uint64_t)q->has_limit << 1 | q->has_offset);
    if (q->has_limit)
        put_value(k, &q->limit);
    if (q->has_offset)
        put_value(k, &q->offset);
}

/* A SET or VALUES value, as compile_dml.c's put_value renders it: a
 * literal is bound even when NULL. */
static void key_assigned(calx__cache_key *k, const calx_expr *e)
{
    if (e->kind == CALX_X_LIT) {
        put_u(k, 0);
        put_value(k, &e->u.lit.v);
    } else {
        put_u(k, 1);
        key_expr(k, e);
    }
}

/* The value slots of t's columns (an UPDATE's SET, one row of VALUES, DO
 * UPDATE SET): which are given, by index and name, and their values. */
static void key_slots(calx__cache_key *k, const calx_table *t, calx_expr *const *slots)
{
    for (size_t i = 0; slots && i < t->ncolumns; i++) {
        if (!slots[i])
            continue;
        put_u(k, i + 1);
        put_str(k, t->columns[i].name);
        put_u(k, (uint64_t)calx__column_dtype(&t->columns[i], false));
        key_assigned(k, slots[i]);
    }
    put_u(k, 0);
}

static void key_column_list(calx__cache_key *k, const calx_table *t, const size_t *cols,
                            size_t n)
{
    put_u(k, n);
    for (size_t i = 0; i < n; i++) {
        put_u(k, cols[i]);
        put_str(k, t->columns[cols[i]].name);
        put_u(k, (uint64_t)calx__column_dtype(&t->columns[cols[i]], false));
    }
}

static void key_dml(calx__cache_key *k, const calx__dml *s)
{
    put_table(k, s->t);
    put_u(k, s->t->ncolumns);
    key_opt_expr(k, s->where);
    key_exprs(k, s->returning, s->nreturning);
    put_u(k, s->nfroms);
    for (size_t i = 0; i < s->nfroms; i++)
        put_table(k, s->froms[i]);
}

static void key_insert(calx__cache_key *k, const calx_insert *s)
{
    const calx_table *t = s->base.t;
    key_dml(k, &s->base);
    put_u(k, (uint64_t)(s->cols != NULL) << 1 | (s->select != NULL));
    if (s->cols)
        key_column_list(k, t, s->cols, s->ncols);
    if (s->select) {
        key_select(k, s->select);
    } else if (s->cols) {
        /* Many rows: every value bound (NULL too) and converted to its
         * column's type when given, so the row count is the shape; it
         * decides how the rows split at the dialect's max_params. */
        put_u(k, s->nrows);
        size_t n = s->nrows * s->ncols;
        if (!calx__grow(&k->vals, &k->vals_cap, k->nvals + n, sizeof *k->vals)) {
            k->oom = true;
            return;
        }
        for (size_t i = 0; i < n; i++)
            k->vals[k->nvals++] = &s->rows[i];
    } else {
        key_slots(k, t, s->values);
    }
    put_u(k, (uint64_t)s->conflict);
    if (s->conflict) {
        key_column_list(k, t, s->conflict_cols, s->nconflict);
        key_slots(k, t, s->conflict == CALX__CONFLICT_UPDATE ? s->conflict_set : NULL);
        key_opt_expr(k, s->conflict_where);
    }
}

bool calx__cache_key_make(calx__cache_key *k, calx__stmt_ref st)
{
    k->bytes.len = 0;
    k->bytes.oom = false;
    k->nvals = k->nfroms = 0;
    k->oom = false;
    put_u(k, (uint64_t)st.kind);
    switch (st.kind) {
    case CALX__STMT_SELECT: key_select(k, st.u.select); break;
    case CALX__STMT_INSERT: key_insert(k, st.u.insert); break;
    case CALX__STMT_UPDATE:
        key_dml(k, &st.u.update->base);
        key_slots(k, st.u.update->base.t, st.u.update->set);
        break;
    case CALX__STMT_DELETE: key_dml(k, &st.u.del->base); break;
    }
    return !k->oom && !k->bytes.oom;
}

void calx__cache_key_free(calx__cache_key *k)
{
    calx__buf_free(&k->bytes);
    free(k->vals);
    free(k->froms);
    memset(k, 0, sizeof *k);
}

/* ---- parameter sources ---- */

typedef struct val_pos {
    const calx_value *v;
    size_t i;
} val_pos;

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const val_pos *)a)->v, y = (uintptr_t)((const val_pos *)b)->v;
    return (x > y) - (x < y);
}

int calx__cache_key_sources(const calx__cache_key *k, const calx_value *const *srcs, size_t n,
                            size_t *idx, calx_error *err)
{
    /* Sorted by address once (a miss only), so a many-row insert's
     * thousands of values are found by bisection. */
    val_pos *pos = k->nvals ? malloc(k->nvals * sizeof *pos) : NULL;
    if (k->nvals && !pos)
        return calx__nomem(err, "caching a statement");
    for (size_t i = 0; i < k->nvals; i++)
        pos[i] = (val_pos){ k->vals[i], i };
    if (pos)   /* qsort's array must not be NULL, even for none */
        qsort(pos, k->nvals, sizeof *pos, by_address);
    int rc = CALX_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!srcs[i]) {
            idx[i] = CALX__SRC_CONST;
            continue;
        }
        val_pos want = { srcs[i], 0 };
        const val_pos *hit = k->nvals ? bsearch(&want, pos, k->nvals, sizeof *pos, by_address)
                                      : NULL;
        if (hit)
            idx[i] = hit->i;
        else
            rc = calx_error_set(err, CALX_ERR_INTERNAL,
                                "parameter %zu of the compiled statement is no value its cache "
                                "key lists; it is compiled each time",
                                i + 1);
    }
    free(pos);
    return rc;
}

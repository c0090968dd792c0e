/* SPDX-License-Identifier: MIT */
/* SELECT statements, built as SQLAlchemy 2.0's select() builds them: a
 * columns clause of entities and expressions, explicit FROM entries with
 * their joins (the left side and the ON clause inferred from foreign keys
 * as select.join() infers them), WHERE, GROUP BY, HAVING, ORDER BY, LIMIT,
 * OFFSET, DISTINCT, and the compound selects (UNION ...). The first error
 * is kept (sticky) so that a chain of calls is checked once, when it is
 * compiled or run. The FROM clause itself is worked out when the select
 * compiles (compile_select.c), from what is here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/nomem.h"
#include "sql/select_int.h"

static void fail(calx_select *q, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the error unless q has one already: the first wins. */
static void fail(calx_select *q, int code, const char *fmt, ...)
{
    if (q->failed)
        return;
    q->failed = true;
    q->err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->err.message, sizeof q->err.message, fmt, ap);
    va_end(ap);
}

static void fail_with(calx_select *q, const calx_error *e)
{
    if (q->failed)
        return;
    q->failed = true;
    q->err = *e;
}

/* ---- FROM lists ---- */

bool calx__fromlist_has(const calx__fromlist *l, calx__fromref r)
{
    for (size_t i = 0; i < l->n; i++)
        if (calx__fromref_eq(l->items[i], r))
            return true;
    return false;
}

void calx__fromlist_add(calx__fromlist *l, calx__fromref r)
{
    if (calx__fromlist_has(l, r))
        return;
    if (l->n == l->cap) {
        /* Out of the inline room: onto the heap, then grown there. */
        calx__fromref *heap = l->items == l->inl ? NULL : l->items;
        size_t cap = heap ? l->cap : 0;
        if (!calx__grow(&heap, &cap, l->n + 1, sizeof *heap)) {
            l->oom = true;
            return;
        }
        if (l->items == l->inl)
            memcpy(heap, l->inl, l->n * sizeof *heap);
        l->items = heap;
        l->cap = cap;
    }
    l->items[l->n++] = r;
}

void calx__fromlist_free(calx__fromlist *l)
{
    if (l->items != l->inl)
        free(l->items);
    calx__fromlist_init(l);
}

static void add_froms(const calx_expr *e, void *arg)
{
    calx__expr_froms(e, arg);
}

void calx__expr_froms(const calx_expr *e, calx__fromlist *l)
{
    if (e->kind == CALX_X_COL)
        calx__fromlist_add(l, calx__col_fromref(e));
    else
        calx__expr_each_child(e, add_froms, l);
}

/* ---- the columns of a select ---- */

const calx_select *calx__select_first(const calx_select *q)
{
    while (q->op != CALX__SET_NONE)
        q = q->parts[0];
    return q;
}

size_t calx__select_ncols(const calx_select *q)
{
    return calx__select_first(q)->ncols;
}

const calx_expr *calx__select_col(const calx_select *q, size_t i)
{
    return calx__select_first(q)->cols[i];
}

/* The name the column node e has: its table's column's name, or the name
 * the subquery or CTE it belongs to gives it (anonymous too). */
static void column_name(const calx_expr *e, calx__colname *out)
{
    if (e->u.col.t) {
        *out = (calx__colname){ .base = e->u.col.t->columns[e->u.col.index].name };
        return;
    }
    calx__select_colname(e->u.col.f->q, e->u.col.index, true, out);
}

/* The very same column: one column of one FROM item. */
static bool same_column(const calx_expr *a, const calx_expr *b)
{
    return a->u.col.index == b->u.col.index &&
           calx__fromref_eq(calx__col_fromref(a), calx__col_fromref(b));
}

void calx__select_colname(const calx_select *q, size_t i, bool asfrom, calx__colname *out)
{
    q = calx__select_first(q);
    const calx_expr *e = q->cols[i];
    switch (e->kind) {
    case CALX_X_COL: break;
    case CALX_X_LABEL:
        /* Its own name, even when an earlier column has it. */
        *out = (calx__colname){ .base = e->u.label.name, .label = true };
        return;
    case CALX_X_FUNC:
        /* count(hero.id) AS count_1. */
        *out = (calx__colname){ .base = e->u.func.name, .key = e, .label = true };
        return;
    default:
        /* Any other expression: AS anon_1. */
        *out = (calx__colname){ .base = "anon", .key = e, .label = true };
        return;
    }
    column_name(e, out);
    out->label = asfrom;
    if (out->key)
        return;   /* a subquery's anonymous name is unique already */
    /* A name an earlier column or label has: that one keeps it and this
     * one gets an anonymous name, as SQLAlchemy's columns-plus-names does. */
    for (size_t j = 0; j < i; j++) {
        const calx_expr *p = q->cols[j];
        calx__colname prev;
        if (p->kind == CALX_X_LABEL)
            prev = (calx__colname){ .base = p->u.label.name };
        else if (p->kind == CALX_X_COL)
            column_name(p, &prev);
        else
            continue;
        if (prev.key || strcmp(prev.base, out->base) != 0)
            continue;
        out->key = e;
        out->dedupe = p->kind == CALX_X_COL && same_column(p, e);
        out->label = true;
        return;
    }
}

/* ---- building ---- */

static calx_select *new_select(void)
{
    return calloc(1, sizeof(calx_select));
}

/* Checks e for clause (error node, NULL). Returns true when q keeps it;
 * otherwise e is freed and q holds the error. */
static bool accept(calx_select *q, calx_expr *e, const char *clause)
{
    if (q->failed) {
        calx_expr_free(e);
        return false;
    }
    if (!e) {
        fail(q, CALX_ERR_NOMEM, "out of memory building an SQL expression (%s got NULL)",
             clause);
        return false;
    }
    if (e->kind == CALX_X_ERROR) {
        fail_with(q, e->u.error);
        calx_expr_free(e);
        return false;
    }
    return true;
}

/* A compound select takes only ORDER BY, LIMIT and OFFSET. False (with
 * the error) for a compound. */
static bool plain(calx_select *q, const char *what)
{
    if (q->op == CALX__SET_NONE)
        return true;
    static const char *const names[] = { "", "UNION", "UNION ALL", "INTERSECT", "EXCEPT" };
    fail(q, CALX_ERR_ARGUMENT,
         "%s on a compound select (%s): it takes only ORDER BY, LIMIT and OFFSET; select from "
         "it as a subquery (calx_subquery_new) to filter or join it",
         what, names[q->op]);
    return false;
}

static bool check_table(calx_select *q, const calx_table *t, const char *fn)
{
    if (!t) {
        fail(q, CALX_ERR_ARGUMENT, "%s: the table is NULL", fn);
        return false;
    }
    if (!t->name || !t->columns || t->ncolumns == 0) {
        fail(q, CALX_ERR_ARGUMENT, "%s: table %s has no %s", fn,
             t->name ? t->name : "(unnamed)", t->name ? "columns" : "name");
        return false;
    }
    for (size_t i = 0; i < t->ncolumns; i++)
        if (!t->columns[i].name) {
            fail(q, CALX_ERR_ARGUMENT, "%s: column %zu of table %s has no name", fn, i,
                 t->name);
            return false;
        }
    return true;
}

/* A FROM item from f (an alias, subquery or CTE): false, with q holding
 * the error, for f NULL or failed. */
static bool check_from(calx_select *q, const calx_from *f, calx__fromref *out)
{
    if (q->failed)
        return false;
    if (!f) {
        fail(q, CALX_ERR_NOMEM, "out of memory building a FROM item (it is NULL)");
        return false;
    }
    if (f->failed) {
        fail_with(q, &f->err);
        return false;
    }
    *out = (calx__fromref){ f->kind == CALX__FROM_ALIAS ? f->t : NULL, f };
    return true;
}

static void add_col(calx_select *q, calx_expr *e)
{
    if (!accept(q, e, "the columns clause"))
        return;
    if (!calx__grow(&q->cols, &q->cols_cap, q->ncols + 1, sizeof *q->cols)) {
        fail(q, CALX_ERR_NOMEM, "out of memory adding a column to a select");
        calx_expr_free(e);
        return;
    }
    q->cols[q->ncols++] = e;
}

/* Every column of r, after those already there. */
static void add_entity(calx_select *q, calx__fromref r)
{
    size_t n = calx__fromref_ncolumns(r), first = q->ncols;
    if (q->ncols == 0 && !r.f)
        q->entity = r.t;
    /* Room for all of them at once: one allocation, not a doubling. */
    if (!calx__grow(&q->cols, &q->cols_cap, q->ncols + n, sizeof *q->cols)) {
        fail(q, CALX_ERR_NOMEM, "out of memory adding columns to a select");
        return;
    }
    for (size_t i = 0; i < n && !q->failed; i++)
        add_col(q, calx__fromref_col(r, i));
    /* A table's (or its alias's) columns are an entity; a subquery's are
     * columns. */
    if (q->failed || !r.t)
        return;
    if (!calx__grow(&q->spans, &q->spans_cap, q->nspans + 1, sizeof *q->spans)) {
        fail(q, CALX_ERR_NOMEM, "out of memory adding an entity to a select");
        return;
    }
    q->spans[q->nspans++] = (calx__entity_span){ r.t, first, n };
}

const calx__entity_span *calx__select_entity(const calx_select *q, size_t i, size_t *n)
{
    q = calx__select_first(q);
    *n = q->nspans;
    return i < q->nspans ? &q->spans[i] : NULL;
}

calx_select *calx_select_new(const calx_table *t)
{
    calx_select *q = new_select();
    if (!q)
        return NULL;
    if (check_table(q, t, "calx_select_new"))
        add_entity(q, (calx__fromref){ t, NULL });
    return q;
}

calx_select *calx_select_columns_n(calx_expr *const *cols, size_t n)
{
    calx_select *q = new_select();
    if (!q) {
        for (size_t i = 0; cols && i < n; i++)
            calx_expr_free(cols[i]);
        return NULL;
    }
    if (n && !cols)
        fail(q, CALX_ERR_NOMEM, "out of memory building a select (%zu columns but cols is NULL)",
             n);
    for (size_t i = 0; cols && i < n; i++)
        add_col(q, cols[i]);
    return q;
}

calx_select *calx_select_add_entity(calx_select *q, const calx_table *t)
{
    if (q && plain(q, "calx_select_add_entity") && !q->failed &&
        check_table(q, t, "calx_select_add_entity"))
        add_entity(q, (calx__fromref){ t, NULL });
    return q;
}

calx_select *calx_select_add_entity_from(calx_select *q, const calx_from *f)
{
    calx__fromref r;
    if (q && plain(q, "calx_select_add_entity_from") && check_from(q, f, &r))
        add_entity(q, r);
    return q;
}

calx_select *calx_select_add_column(calx_select *q, calx_expr *e)
{
    if (!q || !plain(q, "calx_select_add_column")) {
        calx_expr_free(e);
        return q;
    }
    add_col(q, e);
    return q;
}

calx_select *calx_select_distinct(calx_select *q)
{
    if (q && plain(q, "DISTINCT"))
        q->distinct = true;
    return q;
}

/* ---- FROM entries and joins ---- */

static bool entry_has(const calx__from_entry *en, calx__fromref r)
{
    for (size_t k = 0; k <= en->nsteps; k++)
        if (calx__fromref_eq(calx__entry_member(en, k), r))
            return true;
    return false;
}

static calx__from_entry *add_entry(calx_select *q, calx__fromref base)
{
    if (!calx__grow(&q->from, &q->from_cap, q->nfrom + 1, sizeof *q->from)) {
        fail(q, CALX_ERR_NOMEM, "out of memory adding a FROM item");
        return NULL;
    }
    calx__from_entry *en = &q->from[q->nfrom++];
    *en = (calx__from_entry){ .base = base };
    return en;
}

static void select_from(calx_select *q, calx__fromref r)
{
    for (size_t i = 0; i < q->nfrom; i++)
        if (entry_has(&q->from[i], r))
            return;
    add_entry(q, r);
}

calx_select *calx_select_from(calx_select *q, const calx_table *t)
{
    if (q && plain(q, "calx_select_from") && !q->failed && check_table(q, t, "calx_select_from"))
        select_from(q, (calx__fromref){ t, NULL });
    return q;
}

calx_select *calx_select_from_from(calx_select *q, const calx_from *f)
{
    calx__fromref r;
    if (q && plain(q, "calx_select_from_from") && check_from(q, f, &r))
        select_from(q, r);
    return q;
}

/* The members of the candidate left sides describe them in messages:
 * "hero JOIN heromissionlink". */
static void describe_entry(const calx__from_entry *en, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t k = 0; k <= en->nsteps && n < size; k++) {
        char one[160];
        calx__fromref_describe(calx__entry_member(en, k), one, sizeof one);
        n += (size_t)snprintf(buf + n, size - n, "%s%s", k ? " JOIN " : "", one);
    }
}

/* A foreign key between two FROM items: referent.column <- parent.column
 * ("team.id <- hero.team_id"); the ON clause is "referent = parent". */
typedef struct fk_pair {
    calx__fromref referent, parent;
    size_t rcol, pcol;
} fk_pair;

enum { FK_SHOWN = 4 };    /* foreign keys a message lists */

typedef struct fk_found {
    fk_pair pairs[FK_SHOWN];
    size_t n;
} fk_found;

static void fk_add(fk_found *fk, calx__fromref referent, size_t rcol, calx__fromref parent,
                   size_t pcol)
{
    if (fk->n < FK_SHOWN)
        fk->pairs[fk->n] = (fk_pair){ referent, parent, rcol, pcol };
    fk->n++;
}

/* The table column that column k of r is: its own for a table or an alias,
 * and through a subquery or CTE the one its select shows there, when that
 * is a column (SQLAlchemy's column proxies carry their foreign keys). NULL
 * for an expression; *table gets the column's table. */
static const calx_column *base_column(calx__fromref r, size_t k, const calx_table **table)
{
    for (;;) {
        const calx_table *t = calx__fromref_table(r);
        if (t) {
            *table = t;
            return &t->columns[k];
        }
        const calx_expr *e = calx__select_col(r.f->q, k);
        if (e->kind != CALX_X_COL)
            return NULL;
        r = calx__col_fromref(e);
        k = e->u.col.index;
    }
}

/* The column of to that is the column "table.column" (spec) names, or -1. */
static long fk_target(const char *spec, calx__fromref to)
{
    const char *dot = spec ? strrchr(spec, '.') : NULL;
    if (!dot)
        return -1;
    size_t tlen = (size_t)(dot - spec);
    size_t n = calx__fromref_ncolumns(to);
    for (size_t k = 0; k < n; k++) {
        const calx_table *t;
        const calx_column *c = base_column(to, k, &t);
        if (c && c->name && t->name && strlen(t->name) == tlen &&
            strncmp(spec, t->name, tlen) == 0 && strcmp(c->name, dot + 1) == 0)
            return (long)k;
    }
    return -1;
}

/* Each foreign key column of from that references a column of to. */
static void fks_from_to(fk_found *fk, calx__fromref from, calx__fromref to)
{
    size_t n = calx__fromref_ncolumns(from);
    for (size_t k = 0; k < n; k++) {
        const calx_table *t;
        const calx_column *c = base_column(from, k, &t);
        long r = c ? fk_target(c->foreign_key, to) : -1;
        if (r >= 0)
            fk_add(fk, to, (size_t)r, from, k);
    }
}

/* Column k's name in r, for messages. */
static const char *ref_colname(calx__fromref r, size_t k)
{
    const calx_table *t = calx__fromref_table(r);
    if (t)
        return t->columns[k].name;
    calx__colname n;
    calx__select_colname(r.f->q, k, true, &n);
    return n.key ? "(unnamed)" : n.base;
}

/* The foreign keys between members [from, en->nsteps] of en and right:
 * right's keys to them first, then theirs to right (SQLAlchemy's
 * _joincond_scan_left_right). */
static void fks_between(fk_found *fk, const calx__from_entry *en, size_t from,
                        calx__fromref right)
{
    for (size_t k = from; k <= en->nsteps; k++)
        fks_from_to(fk, right, calx__entry_member(en, k));
    for (size_t k = from; k <= en->nsteps; k++)
        fks_from_to(fk, calx__entry_member(en, k), right);
}

/* The ON clause of en JOIN right from their one foreign key: the key to
 * en's last joined item first, then to any member. NULL (q holding the
 * error) when there is none or more than one. */
static calx_expr *infer_on(calx_select *q, const calx__from_entry *en, calx__fromref right)
{
    fk_found fk = { .n = 0 };
    if (en->nsteps)
        fks_between(&fk, en, en->nsteps, right);
    if (fk.n == 0)
        fks_between(&fk, en, 0, right);
    if (fk.n == 1) {
        const fk_pair *p = &fk.pairs[0];
        return calx_binop(CALX_OP_EQ, calx__fromref_col(p->referent, p->rcol),
                          calx__fromref_col(p->parent, p->pcol));
    }
    char left[400], rname[160];
    describe_entry(en, left, sizeof left);
    calx__fromref_describe(right, rname, sizeof rname);
    if (fk.n == 0) {
        fail(q, CALX_ERR_ARGUMENT,
             "cannot join %s to %s: no foreign key links them; give the ON clause", rname, left);
        return NULL;
    }
    char list[700];
    size_t n = 0;
    list[0] = '\0';
    for (size_t i = 0; i < fk.n && i < FK_SHOWN && n < sizeof list; i++) {
        const fk_pair *p = &fk.pairs[i];
        char pn[160], rn[160];
        calx__fromref_describe(p->parent, pn, sizeof pn);
        calx__fromref_describe(p->referent, rn, sizeof rn);
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s.%s -> %s.%s", i ? ", " : "", pn,
                              ref_colname(p->parent, p->pcol), rn,
                              ref_colname(p->referent, p->rcol));
    }
    fail(q, CALX_ERR_ARGUMENT,
         "cannot join %s to %s: more than one foreign key links them (%s%s); give the ON "
         "clause",
         rname, left, list, fk.n > FK_SHOWN ? ", ..." : "");
    return NULL;
}

/* Whether on names only columns of en's members and right: with several
 * candidates for the left side, the ON clause picks (SQLAlchemy's
 * find_left_clause_to_join_from). */
static bool on_fits(const calx_expr *on, const calx__from_entry *en, calx__fromref right,
                    bool *oom)
{
    calx__fromlist cols;
    calx__fromlist_init(&cols);
    calx__expr_froms(on, &cols);
    *oom = cols.oom;
    bool fits = true;
    for (size_t i = 0; i < cols.n && fits; i++)
        fits = calx__fromref_eq(cols.items[i], right) || entry_has(en, cols.items[i]);
    calx__fromlist_free(&cols);
    return fits;
}

static bool can_join(const calx__from_entry *en, calx__fromref right)
{
    fk_found fk = { .n = 0 };
    fks_between(&fk, en, 0, right);
    return fk.n > 0;
}

static void join(calx_select *q, calx__fromref right, calx_expr *on, calx_join_kind kind)
{
    if (on && !accept(q, on, "ON"))
        return;
    if (on && on->type != CALX_XT_BOOL) {
        char what[200];
        calx__expr_describe(on, what, sizeof what);
        fail(q, CALX_ERR_TYPE, "ON takes a BOOLEAN expression, not %s", what);
        calx_expr_free(on);
        return;
    }
    if ((unsigned)kind > CALX_JOIN_FULL) {
        fail(q, CALX_ERR_ARGUMENT, "calx_select_join: unknown join kind %d", (int)kind);
        calx_expr_free(on);
        return;
    }
    /* The candidates for the left side: the FROM entries made so far, or,
     * when there are none, the FROM items the columns and WHERE name, each
     * as an entry of its own. */
    calx__from_entry *cands = q->from;
    size_t ncands = q->nfrom;
    calx__fromlist named;
    calx__fromlist_init(&named);
    calx__from_entry *tmp = NULL;
    if (!ncands) {
        for (size_t i = 0; i < q->ncols; i++)
            calx__expr_froms(q->cols[i], &named);
        if (q->where)
            calx__expr_froms(q->where, &named);
        if (named.n && !(tmp = calloc(named.n, sizeof *tmp)))
            named.oom = true;
        for (size_t i = 0; tmp && i < named.n; i++)
            tmp[i].base = named.items[i];
        cands = tmp;
        ncands = named.n;
    }
    bool oom = named.oom;
    size_t pick = 0, npicked = 0;
    char rname[160];
    calx__fromref_describe(right, rname, sizeof rname);
    for (size_t i = 0; i < ncands && !oom; i++) {
        const calx__from_entry *en = &cands[i];
        if (en->nsteps == 0 && calx__fromref_eq(en->base, right))
            continue;     /* not a left side for itself */
        bool ok = on ? (ncands == 1 || on_fits(on, en, right, &oom)) : can_join(en, right);
        if (ok && !npicked++)
            pick = i;
    }
    if (!npicked && on && ncands && !oom) {
        /* An ON clause that fits none: any one candidate will do. */
        for (size_t i = 0; i < ncands; i++)
            if (!(cands[i].nsteps == 0 && calx__fromref_eq(cands[i].base, right)) && !npicked++)
                pick = i;
    }
    if (oom) {
        fail(q, CALX_ERR_NOMEM, "out of memory joining %s", rname);
    } else if (!ncands || !npicked) {
        char names[400] = "";
        size_t n = 0;
        for (size_t i = 0; i < ncands && n < sizeof names; i++) {
            char one[160];
            describe_entry(&cands[i], one, sizeof one);
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", one);
        }
        if (!ncands || (ncands == 1 && cands[0].nsteps == 0 &&
                        calx__fromref_eq(cands[0].base, right)))
            fail(q, CALX_ERR_ARGUMENT,
                 "cannot join %s: the select has nothing else to join it to; select a column "
                 "of the left side, or name it first with calx_select_from",
                 rname);
        else if (ncands == 1)
            fail(q, CALX_ERR_ARGUMENT,
                 "cannot join %s to %s: no foreign key links them; give the ON clause", rname,
                 names);
        else
            fail(q, CALX_ERR_ARGUMENT,
                 "cannot join %s: none of %s has a foreign key to or from it; give the ON "
                 "clause, and the left side with calx_select_from",
                 rname, names);
    } else if (npicked > 1) {
        char names[400] = "";
        size_t n = 0, shown = 0;
        for (size_t i = 0; i < ncands && n < sizeof names; i++) {
            const calx__from_entry *en = &cands[i];
            if (en->nsteps == 0 && calx__fromref_eq(en->base, right))
                continue;
            char one[160];
            describe_entry(en, one, sizeof one);
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", shown++ ? ", " : "", one);
        }
        fail(q, CALX_ERR_ARGUMENT,
             "cannot join %s: several FROM items could be its left side (%s); name the left "
             "side first with calx_select_from%s",
             rname, names, on ? "" : ", and give the ON clause");
    } else if (entry_has(&cands[pick], right)) {
        fail(q, CALX_ERR_ARGUMENT,
             "cannot join %s: it is already in this FROM clause; join an alias of it "
             "(calx_alias_new) to use a table twice",
             rname);
    }
    if (q->failed) {
        free(tmp);
        calx__fromlist_free(&named);
        calx_expr_free(on);
        return;
    }
    if (!on)
        on = infer_on(q, &cands[pick], right);    /* NULL: q holds why */
    if (!on || !accept(q, on, "ON")) {            /* accept frees what it refuses */
        free(tmp);
        calx__fromlist_free(&named);
        return;
    }
    calx__from_entry *en = tmp ? add_entry(q, tmp[pick].base) : &q->from[pick];
    free(tmp);
    calx__fromlist_free(&named);
    if (!en) {
        calx_expr_free(on);
        return;
    }
    if (!calx__grow(&en->steps, &en->steps_cap, en->nsteps + 1, sizeof *en->steps)) {
        fail(q, CALX_ERR_NOMEM, "out of memory joining %s", rname);
        calx_expr_free(on);
        return;
    }
    en->steps[en->nsteps++] = (calx__join_step){ right, on, kind };
}

calx_select *calx_select_join(calx_select *q, const calx_table *t, calx_expr *on,
                              calx_join_kind kind)
{
    if (!q || !plain(q, "calx_select_join") || q->failed ||
        !check_table(q, t, "calx_select_join")) {
        calx_expr_free(on);
        return q;
    }
    join(q, (calx__fromref){ t, NULL }, on, kind);
    return q;
}

calx_select *calx_select_join_from(calx_select *q, const calx_from *f, calx_expr *on,
                                   calx_join_kind kind)
{
    calx__fromref r;
    if (!q || !plain(q, "calx_select_join_from") || !check_from(q, f, &r)) {
        calx_expr_free(on);
        return q;
    }
    join(q, r, on, kind);
    return q;
}

/* ---- WHERE, GROUP BY, HAVING, ORDER BY ---- */

/* cond ANDed into *slot (WHERE or HAVING), flattened like and_(). */
static void and_into(calx_select *q, calx_expr **slot, calx_expr *cond, const char *clause)
{
    if (!accept(q, cond, clause))
        return;
    if (cond->type != CALX_XT_BOOL) {
        char what[200];
        calx__expr_describe(cond, what, sizeof what);
        fail(q, CALX_ERR_TYPE, "%s takes a BOOLEAN expression, not %s", clause, what);
        calx_expr_free(cond);
        return;
    }
    if (!*slot) {
        *slot = cond;
        return;
    }
    calx_expr *both = calx_and(*slot, cond);
    *slot = NULL;
    if (both->kind == CALX_X_ERROR) {
        fail_with(q, both->u.error);
        calx_expr_free(both);
        return;
    }
    *slot = both;
}

/* An extension shares q's WHERE, GROUP BY and HAVING: it may not change
 * them. False (with the error) for an extension. */
static bool own_clauses(calx_select *q, const char *what)
{
    if (!q->base)
        return true;
    fail(q, CALX_ERR_ARGUMENT, "%s on an extended select: it adds only columns, joins and "
         "ORDER BY terms", what);
    return false;
}

calx_select *calx_select_where(calx_select *q, calx_expr *cond)
{
    if (!q || !plain(q, "WHERE") || !own_clauses(q, "WHERE")) {
        calx_expr_free(cond);
        return q;
    }
    and_into(q, &q->where, cond, "WHERE");
    return q;
}

calx_select *calx_select_having(calx_select *q, calx_expr *cond)
{
    if (!q || !plain(q, "HAVING") || !own_clauses(q, "HAVING")) {
        calx_expr_free(cond);
        return q;
    }
    and_into(q, &q->having, cond, "HAVING");
    return q;
}

calx_select *calx_select_group_by(calx_select *q, calx_expr *e)
{
    if (!q || !plain(q, "GROUP BY") || !own_clauses(q, "GROUP BY")) {
        calx_expr_free(e);
        return q;
    }
    if (!accept(q, e, "GROUP BY"))
        return q;
    if (!calx__grow(&q->group, &q->group_cap, q->ngroup + 1, sizeof *q->group)) {
        fail(q, CALX_ERR_NOMEM, "out of memory adding a GROUP BY term");
        calx_expr_free(e);
        return q;
    }
    q->group[q->ngroup++] = e;
    return q;
}

calx_select *calx_select_order_by(calx_select *q, calx_expr *e, calx_order dir)
{
    if (!q) {
        calx_expr_free(e);
        return NULL;
    }
    if (!accept(q, e, "ORDER BY"))
        return q;
    unsigned d = (unsigned)dir;
    if (d & ~7u || (d & (CALX_NULLS_FIRST | CALX_NULLS_LAST)) ==
                       (CALX_NULLS_FIRST | CALX_NULLS_LAST)) {
        fail(q, CALX_ERR_ARGUMENT,
             "ORDER BY: unknown direction %d (CALX_ASC or CALX_DESC, with one of "
             "CALX_NULLS_FIRST and CALX_NULLS_LAST OR-ed in)",
             (int)dir);
        calx_expr_free(e);
        return q;
    }
    if (!calx__grow(&q->order, &q->order_cap, q->norder + 1, sizeof *q->order)) {
        fail(q, CALX_ERR_NOMEM, "out of memory adding an ORDER BY term");
        calx_expr_free(e);
        return q;
    }
    q->order[q->norder++] = (calx_order_term){ e, dir };
    return q;
}

calx_select *calx_select_limit(calx_select *q, long long n)
{
    if (!q || q->failed)
        return q;
    if (n < 0) {
        fail(q, CALX_ERR_ARGUMENT, "LIMIT must not be negative (got %lld)", n);
        return q;
    }
    q->has_limit = true;
    q->limit = calx_int((int64_t)n);
    return q;
}

calx_select *calx_select_offset(calx_select *q, long long n)
{
    if (!q || q->failed)
        return q;
    if (n < 0) {
        fail(q, CALX_ERR_ARGUMENT, "OFFSET must not be negative (got %lld)", n);
        return q;
    }
    q->has_offset = true;
    q->offset = calx_int((int64_t)n);
    return q;
}

/* ---- compound selects ---- */

static calx_select *compound(calx__setop op, calx_select *a, calx_select *b)
{
    static const char *const names[] = { "", "UNION", "UNION ALL", "INTERSECT", "EXCEPT" };
    if (!a || !b) {
        calx_select_free(a);
        calx_select_free(b);
        return NULL;
    }
    if (a->failed || b->failed) {
        calx_select *keep = a->failed ? a : b;
        calx_select_free(keep == a ? b : a);
        return keep;
    }
    /* union(union(a, b), c) is union(a, b, c) when nothing of the inner
     * one (ORDER BY, LIMIT) would be lost: the same rows, and a text
     * SQLite takes. */
    bool flatten = a->op == op && !a->norder && !a->has_limit && !a->has_offset;
    size_t na = calx__select_ncols(a), nb = calx__select_ncols(b);
    if (na != nb) {
        fail(a, CALX_ERR_ARGUMENT,
             "%s: select 1 has %zu column%s, select %zu has %zu; the selects of a compound "
             "must have as many columns each",
             names[op], na, na == 1 ? "" : "s", flatten ? a->nparts + 1 : (size_t)2, nb);
        calx_select_free(b);
        return a;
    }
    calx_select *q = flatten ? a : new_select();
    if (!q || !calx__grow(&q->parts, &q->parts_cap, q->nparts + (flatten ? 1 : 2),
                          sizeof *q->parts)) {
        if (q && q != a)
            calx_select_free(q);
        fail(a, CALX_ERR_NOMEM, "out of memory making a %s", names[op]);
        calx_select_free(b);
        return a;
    }
    if (!flatten) {
        q->op = op;
        q->parts[q->nparts++] = a;
    }
    q->parts[q->nparts++] = b;
    return q;
}

calx_select *calx_union(calx_select *a, calx_select *b)
{
    return compound(CALX__SET_UNION, a, b);
}

calx_select *calx_union_all(calx_select *a, calx_select *b)
{
    return compound(CALX__SET_UNION_ALL, a, b);
}

calx_select *calx_intersect(calx_select *a, calx_select *b)
{
    return compound(CALX__SET_INTERSECT, a, b);
}

calx_select *calx_except(calx_select *a, calx_select *b)
{
    return compound(CALX__SET_EXCEPT, a, b);
}

/* ---- the rest ---- */

const calx_table *calx_select_table(const calx_select *q)
{
    return q ? q->entity : NULL;
}

int calx_select_error(const calx_select *q, calx_error *err)
{
    if (!q)
        return calx__nomem(err, "creating a select");
    if (q->failed) {
        if (err)
            *err = q->err;
        return q->err.code;
    }
    calx_error_clear(err);
    return CALX_OK;
}

/* ---- extending a select the caller may not change ---- */

/* A copy of n items of size each, or NULL (also for n 0). *cap gets n. */
static void *dup_array(const void *p, size_t n, size_t size, size_t *cap, bool *oom)
{
    *cap = 0;
    if (!n)
        return NULL;
    void *d = malloc(n * size);
    if (!d) {
        *oom = true;
        return NULL;
    }
    memcpy(d, p, n * size);
    *cap = n;
    return d;
}

calx_select *calx__select_extend(const calx_select *q)
{
    calx_select *x = new_select();
    if (!x)
        return NULL;
    if (!q) {
        fail(x, CALX_ERR_NOMEM, "out of memory extending a select (it is NULL)");
        return x;
    }
    x->base = q;
    if (q->op != CALX__SET_NONE) {
        fail(x, CALX_ERR_ARGUMENT, "a compound select cannot be extended with joins: select "
             "from it as a subquery (calx_subquery_new)");
        return x;
    }
    if (q->failed) {
        fail_with(x, &q->err);
        return x;
    }
    bool oom = false;
    x->entity = q->entity;
    x->where = q->where;
    x->group = q->group;
    x->ngroup = q->ngroup;
    x->having = q->having;
    x->distinct = q->distinct;
    x->has_limit = q->has_limit;
    x->has_offset = q->has_offset;
    x->limit = q->limit;
    x->offset = q->offset;
    x->cols = dup_array(q->cols, q->ncols, sizeof *q->cols, &x->cols_cap, &oom);
    x->ncols = x->cols ? q->ncols : 0;
    x->spans = dup_array(q->spans, q->nspans, sizeof *q->spans, &x->spans_cap, &oom);
    x->nspans = x->spans ? q->nspans : 0;
    x->order = dup_array(q->order, q->norder, sizeof *q->order, &x->order_cap, &oom);
    x->norder = x->order ? q->norder : 0;
    x->from = dup_array(q->from, q->nfrom, sizeof *q->from, &x->from_cap, &oom);
    x->nfrom = x->from ? q->nfrom : 0;
    for (size_t i = 0; i < x->nfrom; i++) {
        calx__from_entry *en = &x->from[i];
        en->steps = dup_array(q->from[i].steps, q->from[i].nsteps, sizeof *en->steps,
                              &en->steps_cap, &oom);
        en->nsteps = en->steps ? q->from[i].nsteps : 0;
    }
    if (oom)
        fail(x, CALX_ERR_NOMEM, "out of memory extending a select");
    return x;
}

/* Frees what extension x owns: what was added after q's own. */
static void free_extension(calx_select *x)
{
    const calx_select *q = x->base;
    for (size_t i = q->ncols; i < x->ncols; i++)
        calx_expr_free(x->cols[i]);
    for (size_t i = 0; i < x->nfrom; i++) {
        size_t mine = i < q->nfrom ? q->from[i].nsteps : 0;
        for (size_t k = mine; k < x->from[i].nsteps; k++)
            calx_expr_free(x->from[i].steps[k].on);
        free(x->from[i].steps);
    }
    for (size_t i = q->norder; i < x->norder; i++)
        calx_expr_free(x->order[i].e);
    free(x->cols);
    free(x->spans);
    free(x->from);
    free(x->order);
    free(x);
}

void calx_select_free(calx_select *q)
{
    if (!q)
        return;
    if (q->base) {
        free_extension(q);
        return;
    }
    for (size_t i = 0; i < q->nparts; i++)
        calx_select_free(q->parts[i]);
    free(q->parts);
    for (size_t i = 0; i < q->ncols; i++)
        calx_expr_free(q->cols[i]);
    free(q->cols);
    free(q->spans);
    for (size_t i = 0; i < q->nfrom; i++) {
        for (size_t k = 0; k < q->from[i].nsteps; k++)
            calx_expr_free(q->from[i].steps[k].on);
        free(q->from[i].steps);
    }
    free(q->from);
    calx_expr_free(q->where);
    for (size_t i = 0; i < q->ngroup; i++)
        calx_expr_free(q->group[i]);
    free(q->group);
    calx_expr_free(q->having);
    for (size_t i = 0; i < q->norder; i++)
        calx_expr_free(q->order[i].e);
    free(q->order);
    free(q);
}

/* SPDX-License-Identifier: MIT */
/* The SELECT compiler, following SQLAlchemy's SQLCompiler.visit_select
 * and its SQLite and PostgreSQL dialects: the same clause separators
 * (" \nFROM ", " \nWHERE ", " GROUP BY ", " \nHAVING ", " ORDER BY ",
 * each dialect's LIMIT / OFFSET), the same FROM clause (what the columns
 * and WHERE name, less what a join holds, less what a subquery's
 * enclosing select has: auto-correlation), the same labels in the columns
 * clause and the same anonymous names (team_1, count_1, anon_1, counted
 * per name through the statement in the order first written), and CTEs
 * hoisted into one WITH clause in front, so a calx log and a SQLAlchemy
 * log of the same query read the same. Expressions are compile_expr.c's;
 * a statement's select state (names, CTEs) lives in calx__sqlc. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "sql/compiler_int.h"
#include "sql/ident.h"
#include "sql/select_int.h"

/* An anonymous name given in this statement: base_N (base__N for a
 * column repeated), the same for the same (key, base). */
typedef struct anon_name {
    const void *key;
    const char *base;        /* points into the statement's nodes and tables */
    bool dedupe;
    char *name;
} anon_name;

/* The next N of a base. */
typedef struct anon_count {
    const char *base;
    bool dedupe;
    unsigned next;
} anon_count;

/* A CTE the statement uses, rendered; sql NULL while its body is being
 * rendered (a recursive CTE meets itself there). */
typedef struct cte_out {
    const calx_from *f;
    char *sql;
    calx_param *params;
    const calx_value **srcs;
    calx_dtype *types;
    size_t nparams;
} cte_out;

struct calx__selstate {
    anon_name *names;
    size_t nnames, names_cap;
    anon_count *counts;
    size_t ncounts, counts_cap;
    cte_out *ctes;           /* in WITH order: each after the CTEs it uses */
    size_t nctes, ctes_cap;
    unsigned depth;          /* selects being rendered: > 0 inside one */
};

/* Where a select stands, which decides its labels and correlation. */
enum ctx {
    CTX_TOP,     /* a statement (or a member of a compound that is one) */
    CTX_FROM,    /* a derived table or CTE body: every column labelled */
    CTX_EXPR     /* a subquery in an expression: correlated */
};

static const char *const setop_sql[] = { "", " UNION ", " UNION ALL ", " INTERSECT ",
                                         " EXCEPT " };
static const char *const setop_names[] = { "", "UNION", "UNION ALL", "INTERSECT", "EXCEPT" };
static const char *const join_sql[] = { " JOIN ", " LEFT OUTER JOIN ", " FULL OUTER JOIN " };

static void render_query(calx__sqlc *c, const calx_select *q, enum ctx ctx, unsigned flags);

/* ---- the statement's state ---- */

static struct calx__selstate *state(calx__sqlc *c)
{
    if (!c->sel) {
        if (!(c->sel = calloc(1, sizeof *c->sel))) {
            c->oom = true;
            return NULL;
        }
        c->own_sel = true;
    }
    return c->sel;
}

static void free_ctes(struct calx__selstate *st, size_t from)
{
    for (size_t i = from; i < st->nctes; i++) {
        free(st->ctes[i].sql);
        free(st->ctes[i].params);
        free(st->ctes[i].srcs);
        free(st->ctes[i].types);
    }
    st->nctes = from;
}

/* Frees what st holds (not st). */
static void state_free(struct calx__selstate *st)
{
    for (size_t i = 0; i < st->nnames; i++)
        free(st->names[i].name);
    free(st->names);
    free(st->counts);
    free_ctes(st, 0);
    free(st->ctes);
}

void calx__sqlc_release(calx__sqlc *c)
{
    if (c->sel && c->own_sel) {
        state_free(c->sel);
        free(c->sel);
    }
    c->sel = NULL;
    c->own_sel = false;
}

/* The anonymous name of (key, base): SQLAlchemy's anon_map, numbering per
 * base from 1 in the order names are first written. "" when out of
 * memory (c->oom set). */
static const char *anon(calx__sqlc *c, const void *key, const char *base, bool dedupe)
{
    struct calx__selstate *st = state(c);
    if (!st)
        return "";
    for (size_t i = 0; i < st->nnames; i++) {
        const anon_name *a = &st->names[i];
        if (a->key == key && a->dedupe == dedupe && strcmp(a->base, base) == 0)
            return a->name;
    }
    size_t k = 0;
    while (k < st->ncounts &&
           !(st->counts[k].dedupe == dedupe && strcmp(st->counts[k].base, base) == 0))
        k++;
    if (k == st->ncounts) {
        if (!calx__grow(&st->counts, &st->counts_cap, k + 1, sizeof *st->counts)) {
            c->oom = true;
            return "";
        }
        st->counts[st->ncounts++] = (anon_count){ base, dedupe, 1 };
    }
    calx_buf name = { 0 };
    calx__buf_printf(&name, "%s%s_%u", base, dedupe ? "_" : "", st->counts[k].next);
    char *s = calx__buf_take(&name);
    if (!s || !calx__grow(&st->names, &st->names_cap, st->nnames + 1, sizeof *st->names)) {
        free(s);
        c->oom = true;
        return "";
    }
    st->counts[k].next++;
    st->names[st->nnames++] = (anon_name){ key, base, dedupe, s };
    return s;
}

static const char *colname_str(calx__sqlc *c, const calx__colname *n)
{
    return n->key ? anon(c, n->key, n->base, n->dedupe) : n->base;
}

/* What f is called in this statement: its name, or an anonymous one
 * ("team_1" for an alias of team, "anon_1" for a subquery or CTE). */
static const char *from_name(calx__sqlc *c, const calx_from *f)
{
    if (f->name)
        return f->name;
    return anon(c, f, f->kind == CALX__FROM_ALIAS ? f->t->name : "anon", false);
}

static void put_name(calx__sqlc *c, const char *name)
{
    calx__sql_put_ident(&c->b, c->d, name, false);
}

/* The name of the column node col, as its FROM item calls it. */
static const char *col_name(calx__sqlc *c, const calx_expr *col)
{
    if (col->u.col.t)
        return col->u.col.t->columns[col->u.col.index].name;
    calx__colname n;
    calx__select_colname(col->u.col.f->q, col->u.col.index, true, &n);
    return colname_str(c, &n);
}

void calx__sqlc_colref(calx__sqlc *c, const calx_expr *col)
{
    /* The column's name is named first, then its FROM item's, as
     * SQLAlchemy's visit_column does: "anon_2.anon_1". */
    const char *name = col_name(c, col);
    const calx_from *f = col->u.col.f;
    put_name(c, f ? from_name(c, f) : col->u.col.t->name);
    calx__sqlc_put(c, ".");
    put_name(c, name);
}

/* Moves sub's text and parameters into c at text offset at and parameter
 * index pat (in front of what c has from there on), and its failures; sub
 * is emptied. */
static void insert(calx__sqlc *c, size_t at, size_t pat, calx__sqlc *sub)
{
    size_t len = sub->b.len, tail = c->b.len - at, np = sub->nparams;
    if (len) {
        calx__buf_put(&c->b, sub->b.p, len);   /* room at the end, moved below */
        if (!c->b.oom && tail) {
            memmove(c->b.p + at + len, c->b.p + at, tail);
            memcpy(c->b.p + at, sub->b.p, len);
        }
    }
    if (sub->b.oom || sub->oom)
        c->oom = true;
    if (sub->failed)
        calx__sqlc_fail(c, sub->err.code, "%s", sub->err.message);
    calx__sqlc_params_insert(c, pat, sub->params, sub->srcs, sub->types, np);
    calx__buf_free(&sub->b);
    free(sub->params);
    free(sub->srcs);
    free(sub->types);
    sub->params = NULL;
    sub->srcs = NULL;
    sub->types = NULL;
    sub->nparams = sub->cap = sub->srcs_cap = sub->types_cap = 0;
}

static void append(calx__sqlc *c, calx__sqlc *sub)
{
    insert(c, c->b.len, c->nparams, sub);
}

/* ---- CTEs ---- */

/* Renders f's body once per statement, after the CTEs it uses itself
 * (SQLAlchemy's order), for the WITH clause. */
static void use_cte(calx__sqlc *c, const calx_from *f)
{
    struct calx__selstate *st = state(c);
    if (!st)
        return;
    for (size_t i = 0; i < st->nctes; i++)
        if (st->ctes[i].f == f)
            return;      /* done, or being done: a recursive CTE's own name */
    if (!calx__grow(&st->ctes, &st->ctes_cap, st->nctes + 1, sizeof *st->ctes)) {
        c->oom = true;
        return;
    }
    size_t at = st->nctes++;
    st->ctes[at] = (cte_out){ .f = f };
    calx__sqlc body = { .d = c->d, .sel = st };
    render_query(&body, f->q, CTX_FROM, 0);
    if (body.b.oom || body.oom)
        c->oom = true;
    if (body.failed)
        calx__sqlc_fail(c, body.err.code, "%s", body.err.message);
    /* The CTEs its body used came after it: it moves behind them. */
    cte_out done = { f, calx__buf_take(&body.b), body.params, body.srcs, body.types,
                     body.nparams };
    if (!done.sql)
        c->oom = true;
    memmove(&st->ctes[at], &st->ctes[at + 1], (st->nctes - at - 1) * sizeof *st->ctes);
    st->ctes[st->nctes - 1] = done;
}

/* "WITH [RECURSIVE] a AS \n(...), \nb(x, y) AS \n(...)\n " for the CTEs
 * st->ctes[from ..), which it then drops. */
static void with_clause(calx__sqlc *c, struct calx__selstate *st, size_t from)
{
    bool recursive = false;
    for (size_t i = from; i < st->nctes; i++)
        recursive |= st->ctes[i].f->recursive;
    calx__sqlc_put(c, recursive ? "WITH RECURSIVE " : "WITH ");
    for (size_t i = from; i < st->nctes; i++) {
        cte_out *o = &st->ctes[i];
        if (i > from)
            calx__sqlc_put(c, ", \n");
        put_name(c, from_name(c, o->f));
        if (o->f->recursive) {
            calx__sqlc_put(c, "(");
            for (size_t k = 0; k < calx__select_ncols(o->f->q); k++) {
                calx__colname n;
                calx__select_colname(o->f->q, k, true, &n);
                if (k)
                    calx__sqlc_put(c, ", ");
                put_name(c, colname_str(c, &n));
            }
            calx__sqlc_put(c, ")");
        }
        calx__sqlc_put(c, " AS \n(");
        calx__sqlc sub = { .b = { .p = o->sql, .len = o->sql ? strlen(o->sql) : 0 },
                           .params = o->params, .srcs = o->srcs, .types = o->types,
                           .nparams = o->nparams };
        append(c, &sub);
        o->sql = NULL;
        o->params = NULL;
        o->srcs = NULL;
        o->types = NULL;
        calx__sqlc_put(c, ")");
    }
    calx__sqlc_put(c, "\n ");
    free_ctes(st, from);
}

/* q as a statement of its own at c's end: its WITH clause (the CTEs used
 * anywhere in it) in front of it, put there once the body has found them. */
static void statement(calx__sqlc *c, const calx_select *q, enum ctx ctx, unsigned flags)
{
    struct calx__selstate *st = state(c);
    if (!st)
        return;
    size_t from = st->nctes, at = c->b.len, pat = c->nparams;
    render_query(c, q, ctx, flags);
    if (st->nctes > from) {
        calx__sqlc with = { .d = c->d, .sel = st };
        with_clause(&with, st, from);
        insert(c, at, pat, &with);
    }
}

void calx__sqlc_subselect(calx__sqlc *c, const calx_select *q)
{
    if (c->sel && c->sel->depth)
        render_query(c, q, CTX_EXPR, 0);   /* its CTEs go to the statement's WITH */
    else
        statement(c, q, CTX_EXPR, 0);
}

/* ---- FROM ---- */

/* A select's FROM clause (SQLAlchemy's _get_display_froms): the items its
 * columns and WHERE name, then its entries; an item a join holds only
 * there; when correlated, less the items of the select around it. The
 * candidates are numbered: named items first, then entries. */
typedef struct from_clause {
    const calx_select *q;
    calx__fromlist named, hidden;
    const struct calx__scope *around;   /* correlate to it; NULL: not */
} from_clause;

/* One item of the FROM clause: a FROM item, or an entry with joins. */
typedef struct from_item {
    const calx__from_entry *joins;   /* NULL: item alone */
    calx__fromref item;
} from_item;

static void from_clause_init(from_clause *fc, const calx_select *q)
{
    fc->q = q;
    fc->around = NULL;
    calx__fromlist_init(&fc->named);
    calx__fromlist_init(&fc->hidden);
    for (size_t i = 0; i < q->ncols; i++)
        calx__expr_froms(q->cols[i], &fc->named);
    if (q->where)
        calx__expr_froms(q->where, &fc->named);
    for (size_t i = 0; i < q->nfrom; i++)
        for (size_t k = 0; q->from[i].nsteps && k <= q->from[i].nsteps; k++)
            calx__fromlist_add(&fc->hidden, calx__entry_member(&q->from[i], k));
}

static void from_clause_free(from_clause *fc)
{
    calx__fromlist_free(&fc->named);
    calx__fromlist_free(&fc->hidden);
}

static size_t ncandidates(const from_clause *fc)
{
    return fc->named.n + fc->q->nfrom;
}

/* Whether candidate i is in the FROM clause, as *it. */
static bool shown(const from_clause *fc, size_t i, from_item *it)
{
    const calx__from_entry *en = i < fc->named.n ? NULL : &fc->q->from[i - fc->named.n];
    if (en && en->nsteps) {
        *it = (from_item){ en, en->base };
        return true;
    }
    *it = (from_item){ NULL, en ? en->base : fc->named.items[i] };
    if (calx__fromlist_has(&fc->hidden, it->item))
        return false;
    if (en && calx__fromlist_has(&fc->named, it->item))
        return false;    /* named already, earlier */
    for (size_t k = 0; fc->around && k < fc->around->n; k++)
        if (calx__fromref_eq(it->item, fc->around->items[k]))
            return false;
    return true;
}

static size_t nshown(const from_clause *fc)
{
    size_t n = 0;
    from_item it;
    for (size_t i = 0; i < ncandidates(fc); i++)
        n += shown(fc, i, &it);
    return n;
}

static void describe_scope(const calx__fromref *items, size_t n, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        char one[160];
        calx__fromref_describe(items[i], one, sizeof one);
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", one);
    }
}

/* Works out q's FROM clause into fc, correlated to the select around it
 * when correlate and that leaves at least one item (SQLAlchemy correlates
 * only a select of two items or more). members gets every item shown,
 * joins' members each: what the select's clauses may name. False when c
 * failed: correlation left nothing, or memory ran out. */
static bool from_clause_make(calx__sqlc *c, const calx_select *q, bool correlate,
                             from_clause *fc, calx__fromlist *members)
{
    from_clause_init(fc, q);
    bool ok = !fc->named.oom && !fc->hidden.oom;
    if (ok && correlate && c->scope && nshown(fc) > 1) {
        fc->around = c->scope;
        if (!nshown(fc)) {
            char names[400];
            describe_scope(fc->named.items, fc->named.n, names, sizeof names);
            calx__sqlc_fail(c, CALX_ERR_ARGUMENT,
                            "a subquery names only FROM items of the select around it (%s), "
                            "so auto-correlation leaves it no FROM clause; select from an "
                            "alias of one (calx_alias_new)",
                            names);
            return false;
        }
    }
    from_item it;
    for (size_t i = 0; ok && i < ncandidates(fc); i++) {
        if (!shown(fc, i, &it))
            continue;
        if (!it.joins)
            calx__fromlist_add(members, it.item);
        for (size_t k = 0; it.joins && k <= it.joins->nsteps; k++)
            calx__fromlist_add(members, calx__entry_member(it.joins, k));
    }
    if (!ok || members->oom) {
        c->oom = true;
        return false;
    }
    return true;
}

static void render_item(calx__sqlc *c, calx__fromref r)
{
    const calx_from *f = r.f;
    if (!f) {
        put_name(c, r.t->name);
        return;
    }
    switch (f->kind) {
    case CALX__FROM_ALIAS:
        put_name(c, f->t->name);
        calx__sqlc_put(c, " AS ");
        break;
    case CALX__FROM_SUBQUERY:
        calx__sqlc_put(c, "(");
        render_query(c, f->q, CTX_FROM, 0);
        calx__sqlc_put(c, ") AS ");
        break;
    case CALX__FROM_CTE:
        use_cte(c, f);
        break;
    }
    put_name(c, from_name(c, f));
}

/* ---- checks ---- */

typedef struct visible_check {
    calx__sqlc *c;
    const char *clause;
} visible_check;

/* Fails c when a column of e (outside its subqueries) belongs to a FROM
 * item neither this select nor one around it has: SQLAlchemy would write
 * it and the database refuse it ("no such column"). */
static void check_visible(const calx_expr *e, void *arg)
{
    visible_check *v = arg;
    if (v->c->failed)
        return;
    if (e->kind != CALX_X_COL) {
        calx__expr_each_child(e, check_visible, v);
        return;
    }
    calx__fromref r = calx__col_fromref(e);
    for (const struct calx__scope *s = v->c->scope; s; s = s->up)
        for (size_t i = 0; i < s->n; i++)
            if (calx__fromref_eq(s->items[i], r))
                return;
    char item[160], names[400];
    calx__fromref_describe(r, item, sizeof item);
    describe_scope(v->c->scope->items, v->c->scope->n, names, sizeof names);
    calx__sqlc_fail(v->c, CALX_ERR_ARGUMENT,
                    "%s refers to %s.%s, but %s is not in the FROM clause of its select (%s%s); "
                    "join it, add it with calx_select_from, or select a column of it",
                    v->clause, item, col_name(v->c, e), item, *names ? "FROM " : "no FROM",
                    names);
}

static void visible(calx__sqlc *c, const calx_expr *e, const char *clause)
{
    visible_check v = { c, clause };
    check_visible(e, &v);
}

/* ---- SELECT ---- */

/* LIMIT / OFFSET, each dialect's limit_clause (its limit_offset hook),
 * values bound. */
static void limit_clause(calx__sqlc *c, const calx_select *q)
{
    if (q->has_limit || q->has_offset)
        c->d->limit_offset(c, q->has_limit ? &q->limit : NULL,
                           q->has_offset ? &q->offset : NULL);
}

/* An ORDER BY term: name (a result column's, written alone), or else e,
 * grouped when it binds no tighter than DESC; then its direction. */
static void order_term(calx__sqlc *c, const calx_order_term *o, const char *name)
{
    bool desc = o->dir & CALX_DESC;
    bool nulls = o->dir & (CALX_NULLS_FIRST | CALX_NULLS_LAST);
    if (name)
        put_name(c, name);
    else
        calx__sqlc_operand(c, o->e, desc || nulls ? CALX__PREC_DESC : CALX__PREC_TOP - 1, false);
    if (desc)
        calx__sqlc_put(c, " DESC");
    if (o->dir & CALX_NULLS_FIRST)
        calx__sqlc_put(c, " NULLS FIRST");
    if (o->dir & CALX_NULLS_LAST)
        calx__sqlc_put(c, " NULLS LAST");
}

/* The name of e when e is a label the columns clause of q has too (by
 * name): ORDER BY writes it alone, as SQLAlchemy writes "ORDER BY n" for
 * the label it selects. NULL otherwise. */
static const char *selected_label(const calx_select *q, const calx_expr *e)
{
    if (e->kind != CALX_X_LABEL)
        return NULL;
    for (size_t i = 0; i < q->ncols; i++)
        if (q->cols[i]->kind == CALX_X_LABEL &&
            strcmp(q->cols[i]->u.label.name, e->u.label.name) == 0)
            return e->u.label.name;
    return NULL;
}

/* The label "hero_id" (LABEL_STYLE_TABLENAME_PLUS_COL) of a column node. */
static void tablename_label(calx__sqlc *c, const calx_expr *col)
{
    const calx_from *f = col->u.col.f;
    calx_buf label = { 0 };
    calx__buf_printf(&label, "%s_%s", f ? from_name(c, f) : col->u.col.t->name,
                     col_name(c, col));
    calx__sqlc_put(c, " AS ");
    if (label.oom)
        c->oom = true;
    else
        put_name(c, label.p);
    calx__buf_free(&label);
}

static void render_plain(calx__sqlc *c, const calx_select *q, enum ctx ctx, unsigned flags)
{
    if (!q->ncols) {
        calx__sqlc_fail(c, CALX_ERR_ARGUMENT,
                        "the select has no columns (add some with calx_select_add_column or "
                        "calx_select_add_entity)");
        return;
    }
    from_clause fc;
    calx__fromlist members;
    calx__fromlist_init(&members);
    if (!from_clause_make(c, q, ctx == CTX_EXPR, &fc, &members)) {
        from_clause_free(&fc);
        calx__fromlist_free(&members);
        return;
    }
    const struct calx__scope *around = c->scope;
    struct calx__scope scope = { members.items, members.n, ctx == CTX_FROM ? NULL : around };
    c->scope = &scope;

    calx__sqlc_put(c, q->distinct ? "SELECT DISTINCT " : "SELECT ");
    for (size_t i = 0; i < q->ncols; i++) {
        const calx_expr *e = q->cols[i];
        if (i)
            calx__sqlc_put(c, ", ");
        calx__sqlc_expr(c, e, false);
        if ((flags & CALX_COMPILE_LABELS) && e->kind == CALX_X_COL) {
            tablename_label(c, e);
            continue;
        }
        calx__colname n;
        calx__select_colname(q, i, ctx == CTX_FROM, &n);
        if (n.label) {
            calx__sqlc_put(c, " AS ");
            put_name(c, colname_str(c, &n));
        }
    }
    from_item it;
    for (size_t i = 0, n = 0; i < ncandidates(&fc); i++) {
        if (!shown(&fc, i, &it))
            continue;
        calx__sqlc_put(c, n++ ? ", " : " \nFROM ");
        render_item(c, it.item);
        for (size_t k = 0; it.joins && k < it.joins->nsteps; k++) {
            const calx__join_step *j = &it.joins->steps[k];
            calx__sqlc_put(c, join_sql[j->kind]);
            render_item(c, j->right);
            calx__sqlc_put(c, " ON ");
            visible(c, j->on, "ON");
            calx__sqlc_expr(c, j->on, true);
        }
    }
    if (q->where) {
        calx__sqlc_put(c, " \nWHERE ");
        calx__sqlc_expr(c, q->where, true);
    }
    for (size_t i = 0; i < q->ngroup; i++) {
        calx__sqlc_put(c, i ? ", " : " GROUP BY ");
        visible(c, q->group[i], "GROUP BY");
        calx__sqlc_expr(c, q->group[i], false);
    }
    if (q->having) {
        calx__sqlc_put(c, " \nHAVING ");
        visible(c, q->having, "HAVING");
        calx__sqlc_expr(c, q->having, true);
    }
    for (size_t i = 0; i < q->norder; i++) {
        calx__sqlc_put(c, i ? ", " : " ORDER BY ");
        const char *label = selected_label(q, q->order[i].e);
        if (!label)
            visible(c, q->order[i].e, "ORDER BY");
        order_term(c, &q->order[i], label);
    }
    limit_clause(c, q);
    c->scope = around;
    from_clause_free(&fc);
    calx__fromlist_free(&members);
}

/* A compound's ORDER BY term. A column or a label is the result column
 * of its name (written alone: "ORDER BY name"), which the compound must
 * have. */
static void compound_order_term(calx__sqlc *c, const calx_select *q, const calx_order_term *o)
{
    const calx_expr *e = o->e;
    if (e->kind != CALX_X_COL && e->kind != CALX_X_LABEL) {
        order_term(c, o, NULL);
        return;
    }
    const char *name = e->kind == CALX_X_LABEL ? e->u.label.name : col_name(c, e);
    bool found = false;
    for (size_t i = 0; i < calx__select_ncols(q) && !found; i++) {
        calx__colname n;
        calx__select_colname(q, i, false, &n);
        found = strcmp(colname_str(c, &n), name) == 0;
    }
    if (!found) {
        char what[200];
        calx__expr_describe(e, what, sizeof what);
        calx__sqlc_fail(c, CALX_ERR_ARGUMENT,
                        "ORDER BY of a %s refers to %s, but the compound has no column named "
                        "'%s' (it is ordered by the names of its first select's columns)",
                        setop_names[q->op], what, name);
        return;
    }
    order_term(c, o, name);
}

static void render_query(calx__sqlc *c, const calx_select *q, enum ctx ctx, unsigned flags)
{
    struct calx__selstate *st = state(c);
    if (!st)
        return;
    st->depth++;
    if (q->op == CALX__SET_NONE) {
        render_plain(c, q, ctx, flags);
        st->depth--;
        return;
    }
    for (size_t i = 0; i < q->nparts; i++) {
        const calx_select *p = q->parts[i];
        /* A member that is a compound itself, or has its own ORDER BY or
         * LIMIT, is parenthesized, as SQLAlchemy does. */
        bool group = p->op != CALX__SET_NONE || p->norder || p->has_limit || p->has_offset;
        if (i)
            calx__sqlc_put(c, setop_sql[q->op]);
        if (group)
            calx__sqlc_put(c, "(");
        render_query(c, p, ctx, flags);
        if (group)
            calx__sqlc_put(c, ")");
    }
    for (size_t i = 0; i < q->norder; i++) {
        calx__sqlc_put(c, i ? ", " : " ORDER BY ");
        compound_order_term(c, q, &q->order[i]);
    }
    limit_clause(c, q);
    st->depth--;
}

int calx__select_compile(const calx_select *q, const calx_dialect *d, unsigned flags,
                         calx_compiled *out, calx_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !d)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx__select_compile: %s is NULL",
                              out ? "the dialect" : "out");
    int rc = calx_select_error(q, err);
    if (rc)
        return rc;
    /* The statement's state on the stack: nothing to allocate for a select
     * without anonymous names or CTEs (the ORM compiles one per load). */
    struct calx__selstate st = { 0 };
    calx__sqlc c = { .d = d, .sel = &st, .keep_srcs = flags & CALX_COMPILE_SOURCES };
    statement(&c, q, CTX_TOP, flags);
    state_free(&st);
    c.sel = NULL;
    return calx__sqlc_finish(&c, out, "a select", err);
}

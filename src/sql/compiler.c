/* The SELECT compiler, following SQLAlchemy's SQLCompiler.visit_select and
 * its SQLite and PostgreSQL dialects (sqlalchemy/sql/compiler.py,
 * dialects/.../base.py): the same clause separators (" \nFROM ",
 * " \nWHERE ", " ORDER BY ", each dialect's LIMIT / OFFSET), the same
 * parentheses (only where precedence needs them), the same negations and
 * the same empty IN, so a calx log and a SQLAlchemy log of the same query
 * read the same. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "sql/compiler.h"
#include "sql/expr_int.h"
#include "sql/ident.h"

/* Operator precedence, SQLAlchemy's numbers (sql/operators.py _PRECEDENCE):
 * a child is parenthesized when it binds no tighter than its parent. */
enum {
    PREC_TOP = 0,
    PREC_OR = 2,
    PREC_AND = 3,
    PREC_DESC = 3,     /* ORDER BY x DESC */
    PREC_NOT = 4,
    PREC_CMP = 5,      /* = != < <= > >= LIKE IN IS */
    PREC_ATOM = 100
};

typedef struct compiler {
    calx_buf b;
    const calx_dialect *d;
    calx_param *params;
    size_t nparams, cap;
    bool oom;
} compiler;

static void put(compiler *c, const char *s)
{
    calx__buf_puts(&c->b, s);
}

static void bind(compiler *c, calx_value v)
{
    if (c->nparams == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        calx_param *p = realloc(c->params, cap * sizeof *p);
        if (!p) {
            c->oom = true;
            return;
        }
        c->params = p;
        c->cap = cap;
    }
    c->params[c->nparams++] = (calx_param){ NULL, v };
    put(c, "?");
}

static bool native_bool(const compiler *c)
{
    return c->d->supports_native_boolean;
}

/* How tightly e's rendering binds, to decide its parentheses. */
static int prec(const compiler *c, const calx_expr *e)
{
    switch (e->kind) {
    case CALX_X_COL:
    case CALX_X_LIT: return PREC_ATOM;
    case CALX_X_BINOP:
    case CALX_X_ISNULL: return PREC_CMP;
    case CALX_X_IN:
        if (e->negated)
            return PREC_ATOM;      /* NOT IN brings its own parentheses */
        if (e->u.in.n == 0 && c->d->id == CALX_DIALECT_POSTGRESQL)
            return PREC_AND;       /* "a IN (NULL) AND (1 != 1)" */
        return PREC_CMP;
    case CALX_X_AND: return PREC_AND;
    case CALX_X_OR: return PREC_OR;
    case CALX_X_NOT:
        /* Without native booleans NOT col is "col = 0", a comparison. */
        if (calx__expr_is_bool_atom(e->u.a) && !native_bool(c))
            return PREC_CMP;
        return PREC_NOT;
    case CALX_X_ERROR: break;
    }
    return PREC_ATOM;
}

static void render(compiler *c, const calx_expr *e, bool as_condition);

/* e as an operand of an operator of precedence p. */
static void operand(compiler *c, const calx_expr *e, int p, bool as_condition)
{
    bool group = prec(c, e) <= p;
    if (group)
        put(c, "(");
    render(c, e, as_condition);
    if (group)
        put(c, ")");
}

static void column(compiler *c, const calx_table *t, size_t index)
{
    calx__sql_put_ident(&c->b, c->d, t->name, false);
    put(c, ".");
    calx__sql_put_ident(&c->b, c->d, t->columns[index].name, false);
}

static void in_list(compiler *c, const calx_expr *e)
{
    bool neg = e->negated;
    if (neg)
        put(c, "(");
    operand(c, e->u.in.a, PREC_CMP, false);
    put(c, neg ? " NOT IN (" : " IN (");
    if (e->u.in.n == 0) {
        /* SQLAlchemy's empty IN: a set that is empty on each dialect.
         * PostgreSQL wants an alias on a FROM subquery, so it gets
         * NULL and a false (or, negated, true) condition instead. */
        if (c->d->id == CALX_DIALECT_POSTGRESQL)
            put(c, neg ? "NULL) OR (1 = 1" : "NULL) AND (1 != 1");
        else
            put(c, "SELECT 1 FROM (SELECT 1) WHERE 1!=1");
    } else {
        for (size_t i = 0; i < e->u.in.n; i++) {
            if (i)
                put(c, ", ");
            /* None in an IN list renders NULL in SQLAlchemy, unbound. */
            if (e->u.in.vals[i].type == CALX_NULL)
                put(c, "NULL");
            else
                bind(c, e->u.in.vals[i]);
        }
    }
    put(c, ")");
    if (neg)
        put(c, ")");
}

/* Renders e. as_condition: e stands alone as a condition (WHERE, an item
 * of AND / OR, under NOT), where a boolean column without native booleans
 * must be compared ("hero.active = 1"), as SQLAlchemy renders it. */
static void render(compiler *c, const calx_expr *e, bool as_condition)
{
    switch (e->kind) {
    case CALX_X_COL:
        column(c, e->u.col.t, e->u.col.index);
        break;
    case CALX_X_LIT:
        if (e->u.lit.v.type == CALX_NULL)
            put(c, "NULL");
        else
            bind(c, e->u.lit.v);
        break;
    case CALX_X_BINOP: {
        static const char *const ops[] = { " = ", " != ", " < ", " <= ",
                                           " > ", " >= ", " LIKE ", " NOT LIKE " };
        operand(c, e->u.bin.a, PREC_CMP, false);
        put(c, ops[e->u.bin.op]);
        operand(c, e->u.bin.b, PREC_CMP, false);
        return;
    }
    case CALX_X_ISNULL:
        operand(c, e->u.a, PREC_CMP, false);
        put(c, e->negated ? " IS NOT NULL" : " IS NULL");
        return;
    case CALX_X_IN:
        in_list(c, e);
        return;
    case CALX_X_AND:
    case CALX_X_OR: {
        int p = e->kind == CALX_X_AND ? PREC_AND : PREC_OR;
        for (size_t i = 0; i < e->u.list.n; i++) {
            if (i)
                put(c, e->kind == CALX_X_AND ? " AND " : " OR ");
            /* Same-precedence children need none: AND is flattened, and
             * PostgreSQL's empty IN is an AND itself. */
            operand(c, e->u.list.items[i], p - 1, true);
        }
        return;
    }
    case CALX_X_NOT:
        if (calx__expr_is_bool_atom(e->u.a)) {
            if (native_bool(c)) {
                put(c, "NOT ");
                render(c, e->u.a, false);
            } else {
                render(c, e->u.a, false);
                put(c, " = 0");
            }
            return;
        }
        put(c, "NOT (");
        render(c, e->u.a, true);
        put(c, ")");
        return;
    case CALX_X_ERROR:
        return;
    }
    /* A column or literal. */
    if (as_condition && e->type == CALX_XT_BOOL && !native_bool(c))
        put(c, " = 1");
}

/* LIMIT / OFFSET, each dialect's limit_clause, values bound. */
static void limit_clause(compiler *c, const calx_select *q)
{
    if (!q->has_limit && !q->has_offset)
        return;
    if (c->d->id == CALX_DIALECT_POSTGRESQL) {
        if (q->has_limit) {
            put(c, " \n LIMIT ");
            bind(c, q->limit);
        }
        if (q->has_offset) {
            if (!q->has_limit)
                put(c, "\n LIMIT ALL");
            put(c, " OFFSET ");
            bind(c, q->offset);
        }
        return;
    }
    /* SQLite: OFFSET needs a LIMIT (-1 is none), and a LIMIT alone gets
     * OFFSET 0, both bound as SQLAlchemy binds them. */
    if (q->has_limit) {
        put(c, "\n LIMIT ");
        bind(c, q->limit);
    }
    if (q->has_offset) {
        if (!q->has_limit) {
            put(c, "\n LIMIT ");
            bind(c, calx_int(-1));
        }
        put(c, " OFFSET ");
        bind(c, q->offset);
    } else {
        put(c, " OFFSET ");
        bind(c, calx_int(0));
    }
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
    compiler c = { .d = d };
    const calx_table *t = q->t;
    put(&c, "SELECT ");
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (i)
            put(&c, ", ");
        column(&c, t, i);
        if (flags & CALX_COMPILE_LABELS) {
            /* SQLAlchemy's label is "<table>_<column>", quoted by the same
             * rule as any name. */
            calx_buf label = { 0 };
            calx__buf_printf(&label, "%s_%s", t->name, t->columns[i].name);
            put(&c, " AS ");
            if (label.oom)
                c.oom = true;
            else
                calx__sql_put_ident(&c.b, d, label.p, false);
            calx__buf_free(&label);
        }
    }
    put(&c, " \nFROM ");
    calx__sql_put_ident(&c.b, d, t->name, false);
    if (q->where) {
        put(&c, " \nWHERE ");
        render(&c, q->where, true);
    }
    for (size_t i = 0; i < q->norder; i++) {
        put(&c, i ? ", " : " ORDER BY ");
        const calx_order_term *o = &q->order[i];
        operand(&c, o->e, o->dir == CALX_DESC ? PREC_DESC : PREC_TOP - 1, false);
        if (o->dir == CALX_DESC)
            put(&c, " DESC");
    }
    limit_clause(&c, q);
    char *sql = calx__buf_take(&c.b);
    if (!sql || c.oom) {
        free(sql);
        free(c.params);
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory compiling a select");
    }
    out->sql = sql;
    out->params = c.params;
    out->nparams = c.nparams;
    return CALX_OK;
}

void calx__compiled_free(calx_compiled *c)
{
    if (!c)
        return;
    free(c->sql);
    free(c->params);
    memset(c, 0, sizeof *c);
}

/* SPDX-License-Identifier: MIT */
/* The builders of functions, CASE, CAST and labels (SQLAlchemy's func.*,
 * case(), cast() and .label()), typed and with sticky errors as the
 * operators in expr.c, whose node helpers they share. A function node keeps
 * its name and a label its name, so the select compiler can render
 * SQLAlchemy's "count(hero.id) AS count_1" and "... AS next_age". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/expr_int.h"

void calx__func_free_parts(calx_expr *e)
{
    switch (e->kind) {
    case CALX_X_FUNC:
        calx__expr_free_all(e->u.func.args, e->u.func.n);
        free(e->u.func.args);
        free(e->u.func.name);
        break;
    case CALX_X_CASE:
        calx__expr_free_all(e->u.kase.items, 2 * e->u.kase.n);
        free(e->u.kase.items);
        calx_expr_free(e->u.kase.else_);
        break;
    case CALX_X_CAST: calx_expr_free(e->u.cast.a); break;
    case CALX_X_LABEL:
        calx_expr_free(e->u.label.a);
        free(e->u.label.name);
        break;
    default: break;
    }
}

/* A malloc'd copy of s (not strdup: its allocation would escape the test
 * suite's out-of-memory sweep). */
static char *copy(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* ---- functions ---- */

/* A name rendered as written must not be able to smuggle SQL in. */
static bool plain_name(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* The node name(args), owning the args; the checks are the caller's. */
static calx_expr *func_node(const char *name, calx_xtype type, calx_funcform form,
                            calx_expr *const *args, size_t n)
{
    calx_expr *e = calx__expr_new(CALX_X_FUNC, type);
    if (!e || !(e->u.func.name = copy(name)) ||
        (n && !(e->u.func.args = malloc(n * sizeof *args)))) {
        if (e)
            free(e->u.func.name);
        free(e);
        calx__expr_free_all(args, n);
        return calx__expr_oom();
    }
    if (n)
        memcpy(e->u.func.args, args, n * sizeof *args);
    e->u.func.n = n;
    e->u.func.form = form;
    return e;
}

calx_expr *calx_func_n(const char *name, calx_coltype result, calx_expr *const *args, size_t n)
{
    if (n && !args)
        return calx__expr_take_error((calx_expr *const[]){ NULL }, 1);
    calx_expr *bad = calx__expr_take_error(args, n);
    if (bad)
        return bad;
    calx_xtype type = CALX_XT_ANY;
    if (!plain_name(name) || (result && !calx__xtype_of_col(result, &type))) {
        calx__expr_free_all(args, n);
        if (!plain_name(name))
            return calx__expr_errorf(CALX_ERR_ARGUMENT,
                                    "calx_func_n: '%s' is not a plain SQL function name "
                                    "(letters, digits, '_' and '.', not starting with a digit)",
                                    name ? name : "(null)");
        return calx__expr_errorf(CALX_ERR_ARGUMENT, "calx_func_n: unknown result type %d for %s()",
                                (int)result, name);
    }
    return func_node(name, type, CALX_FUNC_CALL, args, n);
}

/* Which argument types a typed function takes. */
enum {
    TAKES_ANY = 0,
    TAKES_NUMBER,      /* INTEGER, REAL */
    TAKES_TEXT,
    TAKES_TEXT_BLOB,
    TAKES_SUMMABLE     /* INTEGER, REAL, DECIMAL: sum() (SQLite sums the scaled
                          integers of one column's decimals exactly) */
};

/* name(e), typed: result is the argument's type when as_arg. */
static calx_expr *func1(const char *name, calx_expr *e, int takes, bool as_arg, calx_xtype result)
{
    if (!e || e->kind == CALX_X_ERROR)
        return calx__expr_take_error(&e, 1);
    calx_xtype t = e->type;
    bool ok = t == CALX_XT_ANY || (takes == TAKES_ANY && t != CALX_XT_NULL) ||
              (takes == TAKES_NUMBER && (t == CALX_XT_INT || t == CALX_XT_REAL)) ||
              (takes == TAKES_TEXT && t == CALX_XT_TEXT) ||
              (takes == TAKES_TEXT_BLOB && (t == CALX_XT_TEXT || t == CALX_XT_BLOB)) ||
              (takes == TAKES_SUMMABLE &&
               (t == CALX_XT_INT || t == CALX_XT_REAL || t == CALX_XT_DECIMAL));
    if (!ok) {
        static const char *const wants[] = { "a typed value", "INTEGER or REAL", "TEXT",
                                             "TEXT or BLOB", "INTEGER, REAL or DECIMAL" };
        char what[200];
        calx__expr_describe(e, what, sizeof what);
        calx_expr_free(e);
        return calx__expr_errorf(CALX_ERR_TYPE, "%s() takes %s, not %s", name, wants[takes], what);
    }
    return func_node(name, as_arg ? t : result, CALX_FUNC_CALL, &e, 1);
}

calx_expr *calx_count(calx_expr *e)
{
    /* count(NULL) is valid SQL (always 0): anything goes. */
    if (e && e->kind != CALX_X_ERROR && e->type == CALX_XT_NULL)
        return func_node("count", CALX_XT_INT, CALX_FUNC_CALL, &e, 1);
    return func1("count", e, TAKES_ANY, false, CALX_XT_INT);
}

calx_expr *calx_count_all(void)
{
    return func_node("count", CALX_XT_INT, CALX_FUNC_STAR, NULL, 0);
}

calx_expr *calx_sum(calx_expr *e)
{
    return func1("sum", e, TAKES_SUMMABLE, true, 0);
}

calx_expr *calx_avg(calx_expr *e)
{
    return func1("avg", e, TAKES_NUMBER, false, CALX_XT_REAL);
}

calx_expr *calx_min(calx_expr *e)
{
    return func1("min", e, TAKES_ANY, true, 0);
}

calx_expr *calx_max(calx_expr *e)
{
    return func1("max", e, TAKES_ANY, true, 0);
}

calx_expr *calx_lower(calx_expr *e)
{
    return func1("lower", e, TAKES_TEXT, false, CALX_XT_TEXT);
}

calx_expr *calx_upper(calx_expr *e)
{
    return func1("upper", e, TAKES_TEXT, false, CALX_XT_TEXT);
}

calx_expr *calx_length(calx_expr *e)
{
    return func1("length", e, TAKES_TEXT_BLOB, false, CALX_XT_INT);
}

calx_expr *calx_abs(calx_expr *e)
{
    return func1("abs", e, TAKES_NUMBER, true, 0);
}

calx_expr *calx_now(void)
{
    /* Named "now" as SQLAlchemy's func.now(): its anonymous label is now_1. */
    return func_node("now", CALX_XT_TIMESTAMP, CALX_FUNC_NOW, NULL, 0);
}

/* ---- typing a list of values (coalesce, CASE results) ---- */

/* The common type of items[0..n) (NULL entries are skipped): the first
 * non-literal's type, or else the first non-NULL literal's; the literals
 * are converted to it, INTEGER and REAL mix as REAL. NULL when they agree
 * (the type in *out), else an error node naming what[i] (" (coalesce
 * argument 2)"); nothing is freed. */
static calx_expr *common_type(calx_expr *const *items, size_t n, const char *what,
                              calx_xtype *out)
{
    const calx_expr *base = NULL;
    for (size_t i = 0; i < n && !base; i++)
        if (items[i] && items[i]->kind != CALX_X_LIT)
            base = items[i];
    for (size_t i = 0; i < n && !base; i++)
        if (items[i] && items[i]->type != CALX_XT_NULL)
            base = items[i];
    *out = base ? base->type : CALX_XT_NULL;
    if (!base)
        return NULL;
    bool real = false;
    for (size_t i = 0; i < n; i++) {
        calx_expr *it = items[i];
        if (!it || it == base)
            continue;
        char where[64];
        snprintf(where, sizeof where, " (%s %zu)", what, i + 1);
        if (it->kind == CALX_X_LIT) {
            calx_expr *fail = calx__expr_coerce(it, base->type, base, where);
            if (fail)
                return fail;
        } else if (!calx__xtype_comparable(base->type, it->type)) {
            char wb[200], wi[200];
            calx__expr_describe(base, wb, sizeof wb);
            calx__expr_describe(it, wi, sizeof wi);
            return calx__expr_errorf(CALX_ERR_TYPE, "cannot mix %s with %s%s", wb, wi, where);
        }
        real |= it->type == CALX_XT_REAL;
    }
    if (real && *out == CALX_XT_INT)
        *out = CALX_XT_REAL;
    return NULL;
}

calx_expr *calx_coalesce_n(calx_expr *const *args, size_t n)
{
    if (n && !args)
        return calx__expr_take_error((calx_expr *const[]){ NULL }, 1);
    calx_expr *bad = calx__expr_take_error(args, n);
    if (bad)
        return bad;
    if (n == 0)
        return calx__expr_errorf(CALX_ERR_ARGUMENT, "coalesce() needs at least one argument");
    calx_xtype type;
    calx_expr *fail = common_type(args, n, "coalesce argument", &type);
    if (fail) {
        calx__expr_free_all(args, n);
        return fail;
    }
    return func_node("coalesce", type, CALX_FUNC_CALL, args, n);
}

/* ---- CASE ---- */

/* The i-th argument of CASE in reading order: when[0], then[0], ..., else. */
static calx_expr *case_arg(calx_expr *const *conds, calx_expr *const *results, size_t n,
                           calx_expr *else_, size_t i)
{
    return i == 2 * n ? else_ : i % 2 ? results[i / 2] : conds[i / 2];
}

calx_expr *calx_case_n(calx_expr *const *conds, calx_expr *const *results, size_t n,
                       calx_expr *else_)
{
    if (n && (!conds || !results)) {
        if (conds)
            calx__expr_free_all(conds, n);
        if (results)
            calx__expr_free_all(results, n);
        calx_expr_free(else_);
        return calx__expr_take_error((calx_expr *const[]){ NULL }, 1);
    }
    /* The first error in reading order wins (a NULL else_ is no ELSE). */
    size_t nargs = 2 * n + 1, bad = nargs;
    for (size_t i = 0; i < nargs && bad == nargs; i++) {
        calx_expr *a = case_arg(conds, results, n, else_, i);
        if ((!a && i < 2 * n) || (a && a->kind == CALX_X_ERROR))
            bad = i;
    }
    calx_expr *fail = NULL;
    if (bad < nargs) {
        fail = case_arg(conds, results, n, else_, bad);
        fail = fail ? fail : calx__expr_take_error((calx_expr *const[]){ NULL }, 1);
    } else if (n == 0) {
        fail = calx__expr_errorf(CALX_ERR_ARGUMENT, "CASE needs at least one WHEN ... THEN pair");
    }
    for (size_t i = 0; i < n && !fail; i++) {
        if (conds[i]->type != CALX_XT_BOOL) {
            char what[200];
            calx__expr_describe(conds[i], what, sizeof what);
            fail = calx__expr_errorf(CALX_ERR_TYPE, "CASE condition %zu is %s, not BOOLEAN", i + 1,
                                    what);
        }
    }
    /* The results and ELSE are typed together, as coalesce's arguments. */
    calx_expr **items = fail ? NULL : malloc((2 * n + 1) * sizeof *items);
    calx_xtype type = CALX_XT_NULL;
    if (items) {
        for (size_t i = 0; i < n; i++)
            items[i] = results[i];
        items[n] = else_;
        fail = common_type(items, n + 1, "CASE result", &type);
    }
    calx_expr *e = fail || !items ? NULL : calx__expr_new(CALX_X_CASE, type);
    if (!e) {
        for (size_t i = 0; i < nargs; i++)
            if (i != bad)
                calx_expr_free(case_arg(conds, results, n, else_, i));
        free(items);
        return fail ? fail : calx__expr_oom();
    }
    for (size_t i = 0; i < n; i++) {
        items[2 * i] = conds[i];
        items[2 * i + 1] = results[i];
    }
    e->u.kase.items = items;
    e->u.kase.n = n;
    e->u.kase.else_ = else_;
    return e;
}

calx_expr *calx_case_pairs_(calx_expr *const *pairs, size_t npairs_x2, calx_expr *else_)
{
    if (npairs_x2 && !pairs) {
        calx_expr_free(else_);
        return calx__expr_take_error((calx_expr *const[]){ NULL }, 1);
    }
    if (npairs_x2 % 2) {
        calx__expr_free_all(pairs, npairs_x2);
        calx_expr_free(else_);
        return calx__expr_errorf(CALX_ERR_ARGUMENT,
                                "calx_case: %zu arguments after ELSE; it takes condition, "
                                "result pairs",
                                npairs_x2);
    }
    size_t n = npairs_x2 / 2;
    calx_expr **conds = malloc((n ? n : 1) * 2 * sizeof *conds);
    if (!conds) {
        calx__expr_free_all(pairs, npairs_x2);
        calx_expr_free(else_);
        return calx__expr_oom();
    }
    calx_expr **results = conds + n;
    for (size_t i = 0; i < n; i++) {
        conds[i] = pairs[2 * i];
        results[i] = pairs[2 * i + 1];
    }
    calx_expr *e = calx_case_n(conds, results, n, else_);
    free(conds);
    return e;
}

/* ---- CAST, labels ---- */

calx_expr *calx_cast(calx_expr *e, calx_coltype type)
{
    if (!e || e->kind == CALX_X_ERROR)
        return calx__expr_take_error(&e, 1);
    calx_xtype t;
    if (!calx__xtype_of_col(type, &t) || type == CALX_COL_ENUM) {
        calx_expr_free(e);
        return type == CALX_COL_ENUM
                   ? calx__expr_errorf(CALX_ERR_ARGUMENT,
                                       "calx_cast: an ENUM is a type of its own on each "
                                       "database; compare its names as text instead")
                   : calx__expr_errorf(CALX_ERR_ARGUMENT, "calx_cast: unknown column type %d",
                                       (int)type);
    }
    calx_expr *c = calx__expr_new(CALX_X_CAST, t);
    if (!c) {
        calx_expr_free(e);
        return calx__expr_oom();
    }
    c->u.cast.a = e;
    c->u.cast.to = type;
    return c;
}

calx_expr *calx_label(calx_expr *e, const char *name)
{
    if (!e || e->kind == CALX_X_ERROR)
        return calx__expr_take_error(&e, 1);
    if (!name || !*name) {
        calx_expr_free(e);
        return calx__expr_errorf(CALX_ERR_ARGUMENT, "calx_label: the name is %s",
                                name ? "empty" : "NULL");
    }
    calx_expr *l = calx__expr_new(CALX_X_LABEL, e->type);
    if (!l || !(l->u.label.name = copy(name))) {
        free(l);
        calx_expr_free(e);
        return calx__expr_oom();
    }
    l->u.label.a = e;
    return l;
}
